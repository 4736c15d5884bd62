"""Node types, their parameters, and the edges between nodes that those parameters make.

The table here is the contract in /work/brief/FLOWS_SPEC.md (+ FLOWS_SPEC_ADDENDUM.md): the validator checks
flows against it and graph.py draws the edges it yields.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .model import Node


@dataclass(frozen=True)
class Param:
    kind: str
    required: bool = False


P, R = Param, (lambda kind: Param(kind, True))

_MENU_COUNTERS = {"timeout": P("number"), "retries": P("posint"), "max_timeouts": P("posint")}
_QUEUE_WAITING = {
    "hold_prompt": P("prompt"), "wait_prompt": P("prompt"), "announce_interval": P("number"),
    "position_prompts": P("prompt_pair"), "wait_time_prompts": P("prompt_pair"), "options_prompt": P("prompt"),
    "options": P("options"), "max_wait": P("number"),
}

NODE_TYPES: dict[str, dict[str, Param]] = {
    "play": {"prompt": P("prompt"), "prompts": P("prompt_list"), "barge_in": P("digits"), "next": R("node")},
    "menu": {"prompt": R("prompt"), "options": R("options"), "repeat_key": P("digit"), **_MENU_COUNTERS,
             "invalid_prompt": P("prompt"), "timeout_prompt": P("prompt"), "fallback": P("node"),
             "timeout_fallback": P("node")},
    "collect": {"prompt": R("prompt"), "var": R("name"), "min_digits": P("posint"), "max_digits": R("posint"),
                "terminator": P("digit"), "pattern": P("regex"), "timeout": P("number"), "retries": P("posint"),
                "invalid_prompt": P("prompt"), "next": R("node"), "fallback": P("node")},
    "say": {"kind": R("enum:number|digits|money|date|time|percent"), "value": R("value"), "next": R("node")},
    "branch": {"conditions": R("conditions"), "else": R("node")},
    "set": {"vars": P("vars"), "data": P("vars"), "channel": P("vars"), "language": P("language"),
            "next": R("node")},
    "lookup": {"by": P("enum:caller|order"), "key": P("expr"), "var": P("name"), "next": R("node"),
               "not_found": P("node")},
    "queue": {"queue": R("str"), "skill": P("str"), "priority": P("int_or_expr"), "next": P("node"),
              "fallback": P("node"), **_QUEUE_WAITING},
    "transfer": {"to": R("dial_target"), "context": P("str"), "timeout": P("number"), "next": P("node")},
    "voicemail": {"prompt": P("prompt"), "max_length": P("number"), "silence": P("number"), "beep": P("bool"),
                  "next": P("node")},
    "callback": {"prompt": P("prompt"), "confirm_prompt": P("prompt"), "time_prompt": P("prompt"),
                 "next": R("node")},
    "survey": {"prompt": R("prompt"), "thanks_prompt": P("prompt"), "invalid_prompt": P("prompt"), "next": R("node")},
    "subflow": {"flow": R("flow"), "next": R("node")},
    "goto": {"target": R("goto_target")},
    "hangup": {"prompt": P("prompt")},
    # phone QA replay (FLOWS_SPEC_ADDENDUM.md)
    "qa_login": {"staff_prompt": R("prompt"), "pin_prompt": R("prompt"), "invalid_prompt": P("prompt"),
                 "locked_prompt": P("prompt"), "max_attempts": P("posint"), "lockout_minutes": P("posint"),
                 "roles": P("str_list"), "var": P("name"), "next": R("node"), "fallback": P("node")},
    "recordings_search": {"agent": R("expr"), "date": R("expr"), "from_time": P("expr"), "to_time": P("expr"),
                          "var": P("name"), "next": R("node"), "empty": R("node")},
    "recordings_play": {"list": P("name"), "intro_prompts": P("prompt_pair"), "prompt": R("prompt"),
                        "keys": P("keys:next|previous|repeat|menu"), "first_prompt": P("prompt"),
                        "last_prompt": P("prompt"), "timeout": P("number"), "max_timeouts": P("posint"),
                        "menu": R("node"), "next": R("node")},
}

ONE_OF: dict[str, tuple[str, ...]] = {"play": ("prompt", "prompts")}  # exactly one of these
AT_LEAST_ONE: dict[str, tuple[str, ...]] = {"set": ("vars", "data", "channel", "language")}
REQUIRED_IF = {("lookup", "key"): ("by", "order")}  # key is required when by == order

# Nodes that can end the call by themselves (or leave this flow for good).
EXIT_TYPES = frozenset({"hangup", "queue", "transfer", "voicemail"})
# ... and these do when their counter runs out and they have no fallback to go to.
HANGUP_WITHOUT_FALLBACK = frozenset({"menu", "collect", "qa_login"})

EDGE_LABELS = {"next": "", "fallback": "fallback", "timeout_fallback": "timeout", "else": "else",
               "not_found": "not found", "empty": "none found", "menu": "menu key"}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str  # a node id, or a flow name for subflow calls
    label: str
    flow: str | None = None  # set when the edge leaves this flow (goto flow:node, subflow call)


def node_edges(node: Node) -> list[Edge]:
    """Every transition out of a node, in parameter order (targets may be dangling; the validator checks)."""
    spec = NODE_TYPES.get(node.type, {})
    edges: list[Edge] = []
    for name, value in node.params.items():
        param = spec.get(name)
        if param is None:
            continue
        if param.kind == "node" and isinstance(value, str):
            edges.append(Edge(node.id, value, EDGE_LABELS.get(name, name)))
        elif param.kind == "options" and isinstance(value, Mapping):
            waiting = " (waiting)" if node.type == "queue" else ""
            edges.extend(Edge(node.id, t, f"{k}{waiting}") for k, t in value.items() if isinstance(t, str))
        elif param.kind == "conditions" and isinstance(value, list):
            for cond in value:
                if isinstance(cond, Mapping) and isinstance(cond.get("next"), str):
                    edges.append(Edge(node.id, cond["next"], f"if {cond.get('if')}"))
        elif param.kind == "goto_target" and isinstance(value, str):
            flow, _, target = value.rpartition(":")
            edges.append(Edge(node.id, target, "", flow or None))
        elif param.kind == "flow" and isinstance(value, str):
            edges.append(Edge(node.id, value, "call", value))
    return edges


def can_end_call(node: Node) -> bool:
    if node.type in EXIT_TYPES:
        return True
    if node.type in HANGUP_WITHOUT_FALLBACK and "fallback" not in node.params:
        return True
    if node.type == "goto" and isinstance(node.params.get("target"), str) and ":" in node.params["target"]:
        return True
    return False
