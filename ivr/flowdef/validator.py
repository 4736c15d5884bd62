"""Every check a flow file must pass before a call may run it; each problem is `file:line:column: reason`.

Per file: YAML syntax and duplicate keys, the top-level shape, node types and their parameters (schema.py),
dangling targets, digits used twice in a menu, bad expressions and regex patterns (with the column inside
the text), prompts missing in a language the flow offers, unreachable nodes and loops that can never end
the call. Across files: `subflow`/`goto flow:node` targets and the languages the called flow offers.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import schema
from .expr import CALENDAR_FUNCTIONS, ExprError, compile_expr, is_template, parse_template
from .source import Document, MarkedDict, MarkedList, Pos, flow_files, read_yaml
from .model import Flow, FlowProblem, Node
from .reachability import check_graph

TOP_LEVEL = ("flow", "languages", "default_language", "start", "variables", "nodes")
KEYS = frozenset("0123456789*#")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
RETURN = "return"        # the target that ends the flow without hanging up (ivr.runtime.engine)
_NODE_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
DIAL_LITERAL = re.compile(r"[0-9*#+]+|[A-Za-z0-9]+/[^\s]+")  # as the runtime's transfer reads `to`


@dataclass
class _Checked:
    doc: Document
    flow: Flow | None = None
    name: str | None = None  # what the file declares, even when it has problems: other flows can still refer to it
    languages: tuple[str, ...] = ()
    node_pos: dict[str, Pos] = field(default_factory=dict)
    cross_refs: list[tuple[Pos, str, str | None]] = field(default_factory=list)  # (where, flow, node or None)


def validate_files(paths: Iterable[Path], catalogue=None, *, calendars: Mapping[str, Any] | None = None,
                   queues: Iterable[str] | None = None) -> tuple[dict[str, Flow], list[FlowProblem]]:
    """Validate the given flow files. Cross-flow targets are resolved against these files and the other
    flows in the same directories (whose own problems are not reported here)."""
    paths = [Path(p) for p in paths]
    checked = [_check_document(read_yaml(p, report_duplicates=False), catalogue, calendars, queues) for p in paths]
    problems = [p for c in checked for p in c.doc.problems]

    known: dict[str, _Checked] = {}
    given = {p.resolve() for p in paths}
    for directory in sorted({p.resolve().parent for p in paths}):
        for sibling in flow_files(directory):
            if sibling.resolve() not in given:
                c = _check_document(read_yaml(sibling, report_duplicates=False), None, None, None)
                if c.name is not None:
                    known.setdefault(c.name, c)
    flows: dict[str, Flow] = {}
    for c in checked:
        if c.flow is None:
            continue
        if c.flow.name in flows:
            other = flows[c.flow.name]
            c.doc.problem(c.doc.data.where_value("flow"), f"flow name {c.flow.name!r} is also used by {other.path}")
            problems.append(c.doc.problems[-1])
            continue
        flows[c.flow.name] = c.flow
        known[c.flow.name] = c
    for c in checked:
        if c.name is not None and c.flow is None:
            known.setdefault(c.name, c)
    for c in checked:
        if c.name is None:
            continue
        before = len(c.doc.problems)
        _check_cross_refs(c, known)
        problems.extend(c.doc.problems[before:])
    if problems:
        bad = {p.path for p in problems}
        flows = {name: f for name, f in flows.items() if f.path not in bad}
    return flows, sorted(problems, key=lambda p: (str(p.path), p.line, p.column))


def _check_cross_refs(c: _Checked, known: Mapping[str, _Checked]) -> None:
    for where, flow_name, node_id in c.cross_refs:
        target = known.get(flow_name)
        if target is None:
            c.doc.problem(where, f"unknown flow {flow_name!r}" + _suggest(flow_name, known))
            continue
        if node_id is not None and node_id not in target.node_pos:
            c.doc.problem(where, f"flow {flow_name!r} has no node {node_id!r}" + _suggest(node_id, target.node_pos))
            continue
        missing = [lang for lang in c.languages if lang not in target.languages]
        if missing:
            c.doc.problem(where, f"flow {flow_name!r} does not offer {', '.join(missing)}, which {c.name!r} offers")


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- one document ----------------------------------------------------------------------------------

def _check_document(doc: Document, catalogue, calendars, queues) -> _Checked:
    checked = _Checked(doc)
    data = doc.data
    if doc.problems and data is None:
        return checked
    _report_duplicates(doc, data)
    if not isinstance(data, MarkedDict):
        doc.problem(data.start if isinstance(data, MarkedList) else Pos(1, 1),
                    "a flow file is a mapping with flow, languages, start and nodes")
        return checked
    for key in data:
        if key not in TOP_LEVEL:
            doc.problem(data.where(key), f"unknown top-level key {key!r} (expected {', '.join(TOP_LEVEL)})")
    for key in ("flow", "languages", "start", "nodes"):
        if key not in data:
            doc.problem(data.start, f"missing required top-level key {key!r}")
    name = data.get("flow")
    if "flow" in data and (not isinstance(name, str) or not _NAME.match(name)):
        doc.problem(data.where_value("flow"), f"flow name must be a word (letters, digits, _), not {name!r}")
    languages = _languages(doc, data)
    if isinstance(name, str) and _NAME.match(name):
        checked.name, checked.languages = name, languages
    default_language = data.get("default_language", languages[0] if languages else None)
    if "default_language" in data and languages and default_language not in languages:
        doc.problem(data.where_value("default_language"),
                    f"default_language {default_language!r} is not one of the flow's languages {list(languages)}")
    variables = data.get("variables") or MarkedDict()
    if not isinstance(variables, MarkedDict):
        doc.problem(data.where_value("variables"), "variables must be a mapping of name → initial value")
        variables = MarkedDict()
    for var in variables:
        if not isinstance(var, str) or not _NAME.match(var):
            doc.problem(variables.where(var), f"bad variable name {var!r}")
    raw_nodes = data.get("nodes")
    if "nodes" in data and (not isinstance(raw_nodes, MarkedDict) or not raw_nodes):
        doc.problem(data.where_value("nodes"), "nodes must be a non-empty mapping of node id → node")
        raw_nodes = None

    nodes: dict[str, Node] = {}
    if raw_nodes:
        for node_id, body in raw_nodes.items():
            where = raw_nodes.where(node_id)
            if not isinstance(node_id, str) or not _NODE_ID.match(node_id):
                doc.problem(where, f"bad node id {node_id!r}: use letters, digits, _ . - (quote it if it is a number)")
                continue
            checked.node_pos[node_id] = where
            if not isinstance(body, MarkedDict):
                doc.problem(raw_nodes.where_value(node_id), f"node {node_id!r} must be a mapping with a type")
                continue
            node_type = body.get("type")
            if node_type is None:
                doc.problem(where, f"node {node_id!r} has no type")
                continue
            if not isinstance(node_type, str):
                doc.problem(body.where_value("type"), f"type of node {node_id!r} must be a node type name, "
                            f"not {node_type!r} (known: {', '.join(schema.NODE_TYPES)})")
                continue
            if node_type not in schema.NODE_TYPES:
                doc.problem(body.where_value("type"), f"unknown node type {node_type!r}"
                            + _suggest(str(node_type), schema.NODE_TYPES)
                            + f" (known: {', '.join(schema.NODE_TYPES)})")
                continue
            params = _without_type(body)
            if node_type in ("menu", "queue") and isinstance(params.get("options"), MarkedDict):
                params["options"] = _normalise_options(doc, node_id, params["options"],
                                                       "menu" if node_type == "menu" else "the waiting options of")
            nodes[node_id] = Node(node_id, node_type, params, where.line, where.column)

    start = data.get("start")
    if "start" in data and not isinstance(start, str):
        doc.problem(data.where_value("start"), f"start must be a node id, not {start!r}")
    elif "start" in data and raw_nodes and start not in checked.node_pos:
        doc.problem(data.where_value("start"), f"start node {start!r} does not exist" + _suggest(str(start), nodes))

    ctx = _NodeContext(doc, checked, set(checked.node_pos), languages, catalogue, calendars,
                       None if queues is None else set(queues))
    for node in nodes.values():
        ctx.check_node(node)
    # the graph checks only once every node and edge is sound: a single typo in a `next` would otherwise
    # bury its own message under "unreachable" for everything behind it
    if isinstance(start, str) and start in nodes and not doc.problems:
        check_graph(doc, nodes, start)
    if doc.problems:
        return checked
    # no problems: the checks above made these strings (default_language one of the languages)
    assert isinstance(name, str) and isinstance(start, str) and isinstance(default_language, str)
    checked.flow = Flow(name=name, path=doc.path, languages=tuple(languages), default_language=default_language,
                        start=start, nodes=nodes, variables=dict(variables))
    return checked


def _languages(doc: Document, data: MarkedDict) -> tuple[str, ...]:
    languages = data.get("languages")
    if "languages" not in data:
        return ()
    if not isinstance(languages, MarkedList) or not languages or not all(isinstance(x, str) and x for x in languages):
        doc.problem(data.where_value("languages"), "languages must be a non-empty list like [zh-CN, en]")
        return ()
    seen: set[str] = set()
    for i, lang in enumerate(languages):
        if lang in seen:
            doc.problem(languages.where(i), f"language {lang!r} listed twice")
        seen.add(lang)
    return tuple(dict.fromkeys(languages))


def _report_duplicates(doc: Document, data: Any) -> None:
    """Duplicate YAML keys; under a menu's `options` they are digits used twice."""
    options_maps: set[int] = set()
    nodes = data.get("nodes") if isinstance(data, MarkedDict) else None
    if isinstance(nodes, MarkedDict):
        for node_id, body in nodes.items():
            if isinstance(body, MarkedDict) and isinstance(body.get("options"), MarkedDict):
                options_maps.add(id(body["options"]))
                kind = "menu" if body.get("type") == "menu" else "the waiting options of"
                for key, where, first in body["options"].duplicates:
                    doc.problem(where, f"digit {str(key)!r} used twice in {kind} {node_id!r} (first at line {first.line})")
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, MarkedDict):
            if id(value) not in options_maps:
                for key, where, first in value.duplicates:
                    doc.problem(where, f"duplicate key {key!r} (first defined at line {first.line})")
            stack.extend(value.values())
        elif isinstance(value, MarkedList):
            stack.extend(value)


def _without_type(body: MarkedDict) -> MarkedDict:
    params = MarkedDict((k, v) for k, v in body.items() if k != "type")
    params.start, params.duplicates = body.start, []
    params.key_pos = {k: p for k, p in body.key_pos.items() if k != "type"}
    params.value_pos = {k: p for k, p in body.value_pos.items() if k != "type"}
    return params


def _normalise_options(doc: Document, node_id: str, options: MarkedDict, kind: str = "menu") -> MarkedDict:
    """Digits as text: an unquoted `1:` arrives as the integer 1 and must clash with a quoted "1"."""
    out = MarkedDict()
    out.start, out.key_pos, out.value_pos, out.duplicates = options.start, {}, {}, []
    for key, target in options.items():
        digit = str(key) if isinstance(key, int) and not isinstance(key, bool) else key
        where = options.where(key)
        if digit in out:
            doc.problem(where, f"digit {digit!r} used twice in {kind} {node_id!r} (first at line {out.key_pos[digit].line})")
            continue
        out[digit] = target
        out.key_pos[digit], out.value_pos[digit] = where, options.where_value(key)
    return out


class _NodeContext:
    def __init__(self, doc, checked, node_ids, languages, catalogue, calendars, queues):
        self.doc, self.checked, self.node_ids, self.languages = doc, checked, node_ids, languages
        self.catalogue, self.calendars, self.queues = catalogue, calendars, queues

    def problem(self, where: Pos, reason: str) -> None:
        self.doc.problem(where, reason)

    def check_node(self, node: Node) -> None:
        spec = schema.NODE_TYPES[node.type]
        params: MarkedDict = node.params  # type: ignore[assignment]
        node_where = Pos(node.line, node.column)
        for name in params:
            if name not in spec:
                self.problem(params.where(name), f"unknown parameter {name!r} for {node.type} node {node.id!r}"
                             + _suggest(str(name), spec) + f" (expected: {', '.join(spec)})")
        for name, param in spec.items():
            if param.required and name not in params:
                self.problem(node_where, f"{node.type} node {node.id!r} is missing required parameter {name!r}")
        for group in [schema.ONE_OF.get(node.type)]:
            if group and sum(g in params for g in group) != 1:
                self.problem(node_where, f"{node.type} node {node.id!r} needs exactly one of {' or '.join(group)}")
        group = schema.AT_LEAST_ONE.get(node.type)
        if group and not any(g in params for g in group):
            self.problem(node_where, f"{node.type} node {node.id!r} needs at least one of {', '.join(group)}")
        for (node_type, name), (other, value) in schema.REQUIRED_IF.items():
            if node.type == node_type and params.get(other) == value and name not in params:
                self.problem(node_where, f"{node.type} node {node.id!r} with {other}: {value} needs {name!r}")
        for name, value in params.items():
            if name in spec:
                self.check_value(node, spec[name].kind, name, value, params.where_value(name))
        if node.type == "menu":
            self.check_menu(node, params)
        if node.type == "collect":
            lo, hi = params.get("min_digits", 1), params.get("max_digits")
            if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
                self.problem(params.where_value("min_digits"), f"min_digits {lo} is more than max_digits {hi}")

    def check_menu(self, node: Node, params: MarkedDict) -> None:
        repeat = params.get("repeat_key")
        options = params.get("options")
        if repeat is not None and isinstance(options, Mapping) and str(repeat) in options:
            self.problem(params.where_value("repeat_key"),
                         f"digit {str(repeat)!r} used twice in menu {node.id!r}: it is the repeat_key and an option")

    # -- values -------------------------------------------------------------------------------------
    def check_value(self, node: Node, kind: str, name: str, value: Any, where: Pos) -> None:
        what = f"{name!r} of {node.type} node {node.id!r}"
        if kind == "node":
            self.target(value, where, what)
        elif kind == "goto_target":
            if not isinstance(value, str) or not value:
                self.problem(where, f"{what} must be a node id or flow:node")
            elif ":" in value:
                flow, _, target = value.partition(":")
                if not flow or not target:
                    self.problem(where, f"{what} must be a node id or flow:node, not {value!r}")
                else:
                    self.checked.cross_refs.append((where, flow, target))
            else:
                self.target(value, where, what)
        elif kind == "flow":
            if not isinstance(value, str) or not _NAME.match(value):
                self.problem(where, f"{what} must be a flow name")
            else:
                self.checked.cross_refs.append((where, value, None))
        elif kind == "prompt":
            self.prompt(value, where, what)
        elif kind in ("prompt_list", "prompt_pair"):
            pair = kind == "prompt_pair"
            if not isinstance(value, MarkedList) or not value or (pair and len(value) != 2):
                self.problem(where, f"{what} must be a list of {'two prompt ids [before, after]' if pair else 'prompt ids'}")
                return
            for i, item in enumerate(value):
                self.prompt(item, value.where(i), what)
        elif kind == "digits":
            text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
            if not isinstance(text, str) or not text or set(text) - KEYS:
                self.problem(where, f"{what} must be keypad keys (0-9 * #), not {value!r}")
        elif kind == "digit":
            text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
            if not isinstance(text, str) or len(text) != 1 or text not in KEYS:
                self.problem(where, f"{what} must be one keypad key (0-9 * #, quoted), not {value!r}")
        elif kind in ("posint", "number"):
            ok = isinstance(value, int) if kind == "posint" else isinstance(value, (int, float))
            if not ok or isinstance(value, bool) or value <= 0:
                noun = "a positive whole number" if kind == "posint" else "a positive number (seconds)"
                self.problem(where, f"{what} must be {noun}, not {value!r}")
        elif kind == "bool":
            if not isinstance(value, bool):
                self.problem(where, f"{what} must be true or false, not {value!r}")
        elif kind == "str":
            if not isinstance(value, str) or not value:
                self.problem(where, f"{what} must be a non-empty text")
            elif name == "queue" and self.queues is not None and value not in self.queues:
                self.problem(where, f"unknown queue {value!r}" + _suggest(value, self.queues)
                             + " (queues come from config/queues.yaml)")
        elif kind == "str_list":
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                self.problem(where, f"{what} must be a list of names")
        elif kind == "name":
            if not isinstance(value, str) or not _NAME.match(value):
                self.problem(where, f"{what} must be a variable name (letters, digits, _), not {value!r}")
        elif kind.startswith("enum:"):
            choices = kind[5:].split("|")
            if value not in choices:
                self.problem(where, f"{what} must be one of {', '.join(choices)}, not {value!r}"
                             + _suggest(str(value), choices))
        elif kind == "expr":
            if isinstance(value, bool) or isinstance(value, (int, float)):
                return
            self.expression(value, where, what)
        elif kind == "int_or_expr":
            if isinstance(value, int) and not isinstance(value, bool):
                return
            self.expression(value, where, what)
        elif kind in ("value", "dial_target"):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return
            if kind == "dial_target" and isinstance(value, str) and DIAL_LITERAL.fullmatch(value):
                return  # a number, an extension or Tech/resource as written
            if is_template(value):
                self.template(value, where, what)
            else:
                self.expression(value, where, what)
        elif kind == "regex":
            if not isinstance(value, str):
                self.problem(where, f"{what} must be a regular expression text")
                return
            try:
                re.compile(value)
            except re.error as exc:
                self.problem(where.shifted(exc.pos or 0), f"bad regular expression in {what}: {exc.msg}")
        elif kind == "options":
            self.options(node, value, where, what)
        elif kind == "conditions":
            self.conditions(value, where, what)
        elif kind == "vars":
            if not isinstance(value, MarkedDict) or not value:
                self.problem(where, f"{what} must be a mapping of name → expression")
                return
            for var, expr in value.items():
                if not isinstance(var, str) or not _NAME.match(var):
                    self.problem(value.where(var), f"bad variable name {var!r} in {what}")
                elif isinstance(expr, str):
                    self.template(expr, value.where_value(var), what) if is_template(expr) else \
                        self.expression(expr, value.where_value(var), what)
        elif kind == "language":
            if isinstance(value, str) and value in self.languages:
                return
            self.expression(value, where, what)
        elif kind.startswith("keys:"):
            actions = kind[5:].split("|")
            if not isinstance(value, MarkedDict):
                self.problem(where, f"{what} must map {', '.join(actions)} to keypad keys")
                return
            used: dict[str, str] = {}
            for action, key in value.items():
                if action not in actions:
                    self.problem(value.where(action), f"unknown action {action!r} in {what} (expected {', '.join(actions)})")
                    continue
                text = str(key) if isinstance(key, int) and not isinstance(key, bool) else key
                if not isinstance(text, str) or len(text) != 1 or text not in KEYS:
                    self.problem(value.where_value(action), f"{what}: {action} must be one keypad key, not {key!r}")
                elif text in used:
                    self.problem(value.where_value(action), f"digit {text!r} used twice in {what} ({used[text]} and {action})")
                else:
                    used[text] = action

    def target(self, value: Any, where: Pos, what: str) -> None:
        if not isinstance(value, str) or not value:
            self.problem(where, f"{what} must be a node id, not {value!r}")
        elif value == RETURN and value not in self.node_ids:
            return              # leave the flow: back to the dialplan, or to the flow that ran it as a subflow
        elif value not in self.node_ids:
            self.problem(where, f"{what} points to node {value!r}, which does not exist" + _suggest(value, self.node_ids))

    def options(self, node: Node, value: Any, where: Pos, what: str) -> None:
        if not isinstance(value, MarkedDict) or not value:
            self.problem(where, f"{what} must map keypad keys (\"1\", \"*\" …) to node ids")
            return
        for digit, target in value.items():
            if not isinstance(digit, str) or len(digit) != 1 or digit not in KEYS:
                self.problem(value.where(digit), f"{digit!r} in {what} is not one keypad key (0-9 * #, quoted)")
            self.target(target, value.where_value(digit), f"option {digit!s} of {node.type} node {node.id!r}")

    def conditions(self, value: Any, where: Pos, what: str) -> None:
        if not isinstance(value, MarkedList) or not value:
            self.problem(where, f"{what} must be a list of {{if: expression, next: node}}")
            return
        for i, cond in enumerate(value):
            if not isinstance(cond, MarkedDict):
                self.problem(value.where(i), f"each condition in {what} is {{if: expression, next: node}}")
                continue
            for key in cond:
                if key not in ("if", "next"):
                    self.problem(cond.where(key), f"unknown key {key!r} in a condition (expected if, next)")
            for key in ("if", "next"):
                if key not in cond:
                    self.problem(cond.start, f"condition {i + 1} of {what} has no {key!r}")
            if "if" in cond and not isinstance(cond["if"], bool):
                self.expression(cond["if"], cond.where_value("if"), what)
            if "next" in cond:
                self.target(cond["next"], cond.where_value("next"), f"condition {i + 1} of {what}")

    def expression(self, value: Any, where: Pos, what: str) -> None:
        if not isinstance(value, str):
            self.problem(where, f"{what} must be an expression, not {value!r}")
            return
        try:
            expr = compile_expr(value)
        except ExprError as exc:
            self.problem(where.shifted(exc.column or 0), f"bad expression in {what}: {exc.message}")
            return
        self.calendar_calls(expr, where, what, 0)

    def template(self, value: str, where: Pos, what: str) -> None:
        try:
            parts = parse_template(value)
        except ExprError as exc:
            self.problem(where.shifted(exc.column or 0), f"bad ${{...}} in {what}: {exc.message}")
            return
        for part in parts:
            if not isinstance(part, str):
                self.calendar_calls(part[0], where, what, part[1])

    def calendar_calls(self, expr, where: Pos, what: str, offset: int) -> None:
        if self.calendars is None:
            return
        for function, args, column in expr.calls:
            if function in CALENDAR_FUNCTIONS and args and isinstance(args[0], str) and args[0] not in self.calendars:
                self.problem(where.shifted(offset + column), f"unknown calendar {args[0]!r} in {what}"
                             + _suggest(args[0], self.calendars) + " (calendars come from flows/calendars.yaml)")

    def prompt(self, value: Any, where: Pos, what: str) -> None:
        if not isinstance(value, str) or not value:
            self.problem(where, f"{what} must be a prompt id, not {value!r}")
            return
        if is_template(value):
            self.template(value, where, what)
            return
        if self.catalogue is None:
            return
        if not self.catalogue.has_id(value):
            self.problem(where, f"unknown prompt {value!r} in {what}" + _suggest(value, self.catalogue.ids())
                         + " (not in the prompt catalogue)")
            return
        for lang in self.languages:
            if not self.catalogue.has(value, lang):
                self.problem(where, f"prompt {value!r} has no {lang} text, and the flow offers {lang}")
