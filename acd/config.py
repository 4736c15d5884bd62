"""The ACD's reading of config/queues.yaml and config/agents.yaml.

FOUNDATION validates each queue's name, skills and members and keeps the whole YAML entry in
``QueueConfig.raw``; the fields below are parsed and checked here, each error naming the queue and key.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

import yaml

from hotline.config import unknown_key

OVERFLOW_KINDS = ("queue", "voicemail", "callback", "hangup")
# every key a queues.yaml entry may have; anything else is a misspelling ("wraup_time") and an error
QUEUE_KEYS = ("name", "skills", "members", "strategy", "strategy_options", "priorities", "max_wait", "overflow",
              "max_length", "service_level_threshold", "service_level_target", "announce_interval",
              "announce_position", "announce_wait", "music_on_hold", "wrapup_time", "ring_timeout",
              "max_no_answer", "join_when_empty", "leave_when_empty", "voicemail_key", "callback_key",
              "default_handle_time")


class QueueConfigError(ValueError):
    def __init__(self, queue: str, key: str, reason: str) -> None:
        super().__init__(f"queues.yaml: queue {queue!r}: {key}: {reason}")
        self.queue, self.key, self.reason = queue, key, reason


@dataclass(frozen=True)
class OverflowTarget:
    kind: str = "voicemail"          # queue | voicemail | callback | hangup (the IVR's fallback node)
    queue: str | None = None         # target queue when kind == "queue"


@dataclass(frozen=True)
class Priorities:
    """Priority of a caller: the larger runs first; FCFS within one priority."""
    default: int = 0
    key_account: int = 5
    vip: int = 10                    # VIP level n (1..3) gets vip + n - 1


@dataclass(frozen=True)
class QueueSettings:
    name: str
    skills: Mapping[str, int]                       # required skill -> minimum proficiency
    members: tuple[str, ...] = ()                   # pinned agents (in this order for sequential)
    strategy: str = "skill-based"
    strategy_options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    priorities: Priorities = Priorities()
    max_wait_s: float | None = 300.0                # None: wait forever
    overflow: OverflowTarget = OverflowTarget()
    max_length: int | None = None                   # None: unlimited waiting callers
    service_level_s: float = 20.0
    service_level_target: float = 0.8
    announce_interval_s: float = 30.0               # 0: no periodic position/wait announcements
    announce_position: bool = True
    announce_wait: bool = True
    music_on_hold: str = "default"
    wrapup_s: float = 10.0
    ring_timeout_s: float = 15.0
    max_no_answer: int = 3                          # consecutive misses -> not-ready; 0 disables autopause
    join_when_empty: bool = True                    # may a caller join while no member is logged in?
    leave_when_empty: bool = False                  # do waiting callers leave when the last member logs out?
    voicemail_key: str | None = "1"
    callback_key: str | None = "2"
    default_handle_s: float = 180.0                 # AHT assumed for the wait estimate before any call ended

    @property
    def primary_skill(self) -> str | None:
        return next(iter(self.skills), None)


@dataclass(frozen=True)
class AgentProfile:
    id: str
    endpoint: str                                   # PJSIP/1001
    skills: Mapping[str, int]
    languages: tuple[str, ...] = ()
    team: str = ""
    senior: bool = False
    name: str = ""


def _get(entry: Any, key: str, default: Any = None) -> Any:
    if isinstance(entry, Mapping):
        return entry.get(key, default)
    return getattr(entry, key, default)


def _number(queue: str, raw: Mapping, key: str, default: Any, *, allow_none: bool = False,
            minimum: float = 0, integer: bool = False) -> Any:
    value = raw.get(key, default)
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise QueueConfigError(queue, key, f"must be a number, got {value!r}")
    if integer and not isinstance(value, int):
        raise QueueConfigError(queue, key, f"must be a whole number, got {value!r}")
    if value < minimum:
        raise QueueConfigError(queue, key, f"must be >= {minimum}, got {value!r}")
    return value


def _bool(queue: str, raw: Mapping, key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise QueueConfigError(queue, key, f"must be true or false, got {value!r}")
    return value


def _key(queue: str, raw: Mapping, key: str, default: str | None) -> str | None:
    value = raw.get(key, default)
    if value is None or value is False:
        return None
    value = str(value)
    if len(value) != 1 or value not in "0123456789*#":
        raise QueueConfigError(queue, key, f"must be one DTMF key 0-9, * or #, got {value!r}")
    return value


def _overflow(queue: str, value: Any) -> OverflowTarget:
    if value is None:
        return OverflowTarget()
    if isinstance(value, str):
        if value in OVERFLOW_KINDS and value != "queue":
            return OverflowTarget(kind=value)
        if value.startswith("queue:"):
            return OverflowTarget(kind="queue", queue=value.split(":", 1)[1])
        raise QueueConfigError(queue, "overflow", f"must be voicemail, callback, hangup or queue:<name>, got {value!r}")
    if isinstance(value, Mapping):
        kind = value.get("kind", "queue" if "queue" in value else None)
        if kind not in OVERFLOW_KINDS:
            raise QueueConfigError(queue, "overflow.kind", f"must be one of {', '.join(OVERFLOW_KINDS)}, got {kind!r}")
        target = value.get("queue")
        if kind == "queue" and not isinstance(target, str):
            raise QueueConfigError(queue, "overflow.queue", "names the queue to overflow to")
        return OverflowTarget(kind=kind, queue=target if kind == "queue" else None)
    raise QueueConfigError(queue, "overflow", f"must be a string or a mapping, got {value!r}")


def _priorities(queue: str, value: Any) -> Priorities:
    if value is None:
        return Priorities()
    if not isinstance(value, Mapping):
        raise QueueConfigError(queue, "priorities", "must be a mapping of default/key_account/vip -> integer")
    unknown = set(value) - {"default", "key_account", "vip"}
    if unknown:
        raise QueueConfigError(queue, f"priorities.{sorted(unknown)[0]}", "unknown key (default, key_account, vip)")
    out = {}
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, int):
            raise QueueConfigError(queue, f"priorities.{k}", f"must be an integer, got {v!r}")
        out[k] = v
    return Priorities(**out)


def queue_settings(entry: Any) -> QueueSettings:
    """One queue from a ``hotline.config.QueueConfig`` (or a plain YAML mapping)."""
    raw: Mapping = _get(entry, "raw", None) or (entry if isinstance(entry, Mapping) else {})
    name = _get(entry, "name") or raw.get("name")
    if not isinstance(name, str) or not name:
        raise QueueConfigError(str(name), "name", "every queue needs a name")
    skills = dict(_get(entry, "skills", None) or raw.get("skills") or {})
    members = tuple(str(m) for m in (_get(entry, "members", None) or raw.get("members") or ()))
    strategy = _get(entry, "strategy", None) or raw.get("strategy", "skill-based")
    options = raw.get("strategy_options") or {}
    if not isinstance(options, Mapping):
        raise QueueConfigError(name, "strategy_options", "must be a mapping")
    target = _number(name, raw, "service_level_target", 0.8)
    if target > 1:
        target = target / 100.0                      # "80" means 80 %
    max_length = _number(name, raw, "max_length", None, allow_none=True, minimum=1, integer=True)
    return QueueSettings(
        name=name, skills=MappingProxyType(skills), members=members, strategy=str(strategy),
        strategy_options=MappingProxyType(dict(options)),
        priorities=_priorities(name, raw.get("priorities")),
        max_wait_s=_number(name, raw, "max_wait", 300, allow_none=True, minimum=1),
        overflow=_overflow(name, raw.get("overflow")),
        max_length=max_length,
        service_level_s=_number(name, raw, "service_level_threshold", 20, minimum=1),
        service_level_target=target,
        announce_interval_s=_number(name, raw, "announce_interval", 30),
        announce_position=_bool(name, raw, "announce_position", True),
        announce_wait=_bool(name, raw, "announce_wait", True),
        music_on_hold=str(raw.get("music_on_hold", "default")),
        wrapup_s=_number(name, raw, "wrapup_time", 10),
        ring_timeout_s=_number(name, raw, "ring_timeout", 15, minimum=1),
        max_no_answer=_number(name, raw, "max_no_answer", 3, integer=True),
        join_when_empty=_bool(name, raw, "join_when_empty", True),
        leave_when_empty=_bool(name, raw, "leave_when_empty", False),
        voicemail_key=_key(name, raw, "voicemail_key", "1"),
        callback_key=_key(name, raw, "callback_key", "2"),
        default_handle_s=_number(name, raw, "default_handle_time", 180, minimum=1),
    )


def agent_profile(entry: Any) -> AgentProfile:
    """One agent from a ``hotline.config.AgentConfig`` (or a plain YAML mapping)."""
    extra = _get(entry, "extra", None) or {}
    senior = _get(entry, "senior", None)
    if senior is None:
        senior = extra.get("senior", False) if isinstance(extra, Mapping) else False
    agent_id = str(_get(entry, "id"))
    endpoint = _get(entry, "endpoint", None) or f"PJSIP/{agent_id}"
    return AgentProfile(
        id=agent_id, endpoint=str(endpoint), skills=MappingProxyType(dict(_get(entry, "skills", None) or {})),
        languages=tuple(_get(entry, "languages", None) or ()), team=str(_get(entry, "team", "") or ""),
        senior=bool(senior), name=str(_get(entry, "name", "") or ""),
    )


def _cross_problems(q: QueueSettings, names: set[str]) -> list[QueueConfigError]:
    from acd.strategies import registered

    problems = []
    if q.overflow.kind == "queue":
        if q.overflow.queue not in names:
            problems.append(QueueConfigError(q.name, "overflow.queue", f"unknown queue {q.overflow.queue!r} "
                                                                       f"(known: {', '.join(sorted(names))})"))
        elif q.overflow.queue == q.name:
            problems.append(QueueConfigError(q.name, "overflow.queue", "a queue cannot overflow into itself"))
    if q.strategy not in registered():
        problems.append(QueueConfigError(q.name, "strategy",
                                         unknown_key(q.strategy, set(registered()), f"strategy {q.strategy!r}")))
    return problems


def check_queues(queues: Iterable[QueueSettings]) -> list[QueueSettings]:
    """Cross-queue checks: overflow targets exist and strategies are registered."""
    queues = list(queues)
    names = {q.name for q in queues}
    for q in queues:
        for problem in _cross_problems(q, names):
            raise problem
    return queues


def queue_problems(queues: Iterable[Any], file: str = "config/queues.yaml") -> list[str]:
    """Every problem of the ACD's queue keys, one `file: queues[i].<key>: reason` line each (none: valid).
    `queues`: the file's entries in order (QueueConfig or plain mappings; other entries are skipped)."""
    problems: list[str] = []
    entries = list(queues)
    names = {str(_get(e, "name")) for e in entries if isinstance(e, Mapping) or hasattr(e, "raw")}
    for i, entry in enumerate(entries):
        if not (isinstance(entry, Mapping) or hasattr(entry, "raw")):
            continue
        raw = dict(_get(entry, "raw", None) or (entry if isinstance(entry, Mapping) else {}))
        name = _get(entry, "name") or raw.get("name")
        for key in list(raw):
            if key not in QUEUE_KEYS:
                problems.append(f"{file}: queues[{i}].{key}: {unknown_key(key, QUEUE_KEYS)}")
                del raw[key]
        for _ in range(len(QUEUE_KEYS)):      # drop each bad key in turn so that every one is reported
            try:
                parsed = queue_settings({**raw, "name": name})
            except QueueConfigError as exc:
                problems.append(f"{file}: queues[{i}].{exc.key}: {exc.reason}")
                raw.pop(exc.key.split(".")[0], None)
                continue
            problems += [f"{file}: queues[{i}].{e.key}: {e.reason}" for e in _cross_problems(parsed, names)]
            break
    return problems


def load_queues(path: Path) -> list[QueueSettings]:
    """Parse config/queues.yaml directly (tools and tests; the service passes settings.queues)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return check_queues(queue_settings(entry) for entry in data.get("queues", []))


def load_agents(path: Path) -> list[AgentProfile]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return [agent_profile(entry) for entry in data.get("agents", []) if _get(entry, "role", "agent") == "agent"]


def queue_members(queue: QueueSettings, agents: Iterable[AgentProfile]) -> list[str]:
    """Who serves a queue: its ``members`` when it names them, else every agent with each of its skills at the
    minimum proficiency or above (the one rule, for the ACD's routing and the reports' staffing)."""
    agents = list(agents)
    if queue.members:
        known = {a.id for a in agents}
        return [m for m in queue.members if m in known]
    return [a.id for a in agents
            if queue.skills and all(int(a.skills.get(s, 0)) >= m for s, m in queue.skills.items())]


def from_settings(settings: Any) -> tuple[list[QueueSettings], list[AgentProfile]]:
    queues = check_queues(queue_settings(q) for q in settings.queues)
    agents = [agent_profile(a) for a in settings.agents if getattr(a, "role", "agent") == "agent"]
    return queues, agents
