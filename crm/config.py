"""config/requests.yaml: request types with their due rules, escalation, follow-up retries.

Checked as a whole when loaded; every problem is one `file: key: reason` line (`RequestConfigError.problems`).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import yaml

from hotline.config import Settings

REQUEST_TYPES = ("enquiry", "complaint", "suggestion", "praise", "business")
_TOP_KEYS = ("types", "escalate_before_due_hours", "followup")
_TYPE_KEYS = ("label", "due_hours", "satisfaction_followup")
_FOLLOWUP_KEYS = ("max_attempts", "retry_minutes", "queue", "satisfaction_after_hours")
MAX_FILE_BYTES = 256 * 1024


class RequestConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class TypeRule:
    name: str
    label: str
    due_hours: float
    satisfaction_followup: bool = False


@dataclass(frozen=True)
class FollowUpRule:
    max_attempts: int = 3
    retry_minutes: float = 30.0
    queue: str | None = None
    satisfaction_after_hours: float = 24.0     # a closed complaint's 满意度回访, this long after closing


@dataclass(frozen=True)
class RequestRules:
    types: Mapping[str, TypeRule]
    escalate_before_due_hours: float = 4.0
    followup: FollowUpRule = FollowUpRule()

    def rule(self, request_type: str) -> TypeRule:
        return self.types[request_type]


DEFAULT_RULES = RequestRules(types=MappingProxyType({
    "enquiry": TypeRule("enquiry", "咨询", 24), "complaint": TypeRule("complaint", "投诉", 48, True),
    "suggestion": TypeRule("suggestion", "建议", 72), "praise": TypeRule("praise", "表扬", 72),
    "business": TypeRule("business", "业务办理", 24)}))


def _unknown(file: str, where: str, key: Any, known: tuple[str, ...]) -> str:
    hint = difflib.get_close_matches(str(key), known, n=1)
    return f"{file}: {where}{key}: unknown key" + (f" (did you mean '{hint[0]}'?)" if hint else "")


def _number(value: Any, *, minimum: float, integer: bool = False) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return value >= minimum and (not integer or isinstance(value, int))


def load_request_rules(path: Path, queues: tuple[str, ...] = (), *, file: str | None = None) -> RequestRules:
    """Rules from `path`; a missing file gives the defaults (the hotline's own standards)."""
    name = file or str(path)
    if not path.is_file():
        return DEFAULT_RULES
    if path.stat().st_size > MAX_FILE_BYTES:
        raise RequestConfigError([f"{name}: file larger than {MAX_FILE_BYTES} bytes"])
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RequestConfigError([f"{name}: invalid YAML: {exc}".splitlines()[0]]) from None
    if not isinstance(doc, dict):
        raise RequestConfigError([f"{name}: must be a mapping with 'types:'"])
    problems = [_unknown(name, "", key, _TOP_KEYS) for key in doc if key not in _TOP_KEYS]
    types: dict[str, TypeRule] = {}
    raw_types = doc.get("types") or {}
    if not isinstance(raw_types, dict):
        problems.append(f"{name}: types: must be a mapping type -> {{label, due_hours}}")
        raw_types = {}
    for type_name, entry in raw_types.items():
        where = f"types.{type_name}"
        if type_name not in REQUEST_TYPES:
            hint = difflib.get_close_matches(str(type_name), REQUEST_TYPES, n=1)
            problems.append(f"{name}: {where}: unknown request type (one of {', '.join(REQUEST_TYPES)})"
                            + (f"; did you mean '{hint[0]}'?" if hint else ""))
            continue
        if not isinstance(entry, dict):
            problems.append(f"{name}: {where}: must be a mapping {{label, due_hours}}")
            continue
        problems += [_unknown(name, where + ".", key, _TYPE_KEYS) for key in entry if key not in _TYPE_KEYS]
        due = entry.get("due_hours", DEFAULT_RULES.types[type_name].due_hours)
        if not _number(due, minimum=0.01):
            problems.append(f"{name}: {where}.due_hours: must be a positive number of hours, got {due!r}")
            continue
        followup_flag = entry.get("satisfaction_followup", type_name == "complaint")
        if not isinstance(followup_flag, bool):
            problems.append(f"{name}: {where}.satisfaction_followup: must be true or false, got {followup_flag!r}")
            continue
        types[type_name] = TypeRule(type_name, str(entry.get("label", DEFAULT_RULES.types[type_name].label)),
                                    float(due), followup_flag)
    for type_name, rule in DEFAULT_RULES.types.items():
        types.setdefault(type_name, rule)
    escalate = doc.get("escalate_before_due_hours", 4)
    if not _number(escalate, minimum=0):
        problems.append(f"{name}: escalate_before_due_hours: must be a number of hours ≥ 0, got {escalate!r}")
        escalate = 4
    raw_follow = doc.get("followup") or {}
    followup = FollowUpRule()
    if not isinstance(raw_follow, dict):
        problems.append(f"{name}: followup: must be a mapping")
    else:
        problems += [_unknown(name, "followup.", key, _FOLLOWUP_KEYS) for key in raw_follow if key not in _FOLLOWUP_KEYS]
        attempts = raw_follow.get("max_attempts", 3)
        retry = raw_follow.get("retry_minutes", 30)
        queue = raw_follow.get("queue")
        after = raw_follow.get("satisfaction_after_hours", 24)
        if not _number(after, minimum=0):
            problems.append(f"{name}: followup.satisfaction_after_hours: must be a number of hours ≥ 0, got {after!r}")
        elif not _number(attempts, minimum=1, integer=True):
            problems.append(f"{name}: followup.max_attempts: must be an integer ≥ 1, got {attempts!r}")
        elif not _number(retry, minimum=0):
            problems.append(f"{name}: followup.retry_minutes: must be a number ≥ 0, got {retry!r}")
        elif queue is not None and queues and queue not in queues:
            hint = difflib.get_close_matches(str(queue), queues, n=1)
            problems.append(f"{name}: followup.queue: no queue {queue!r} in queues.yaml"
                            + (f" (did you mean '{hint[0]}'?)" if hint else ""))
        else:
            followup = FollowUpRule(int(attempts), float(retry), str(queue) if queue else None, float(after))
    if problems:
        raise RequestConfigError(problems)
    return RequestRules(MappingProxyType(types), float(escalate), followup)


def queues_of_agents(settings: Settings) -> dict[str, frozenset[str]]:
    """Which queues each agent serves (has every skill the queue asks for, at its level): an agent sees the
    requests of those queues."""
    return {agent.id: frozenset(q.name for q in settings.queues
                                if all(agent.skills.get(s, 0) >= level for s, level in q.skills.items()))
            for agent in settings.agents}
