"""config/recording.yaml: what is recorded, how files are processed and kept, and the QA scorecard."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hotline.config import unknown_key

POLICY_MODES = ("all", "numbers", "agents", "queues")
FORMATS = ("wav", "mp3", "ogg")
TIERS = ("primary", "archive")


class RecordingConfigError(ValueError):
    """A bad recording.yaml: the message names the file, the key and the reason (one line per problem)."""


# section -> key -> kind; checked as a whole before parsing so that every problem is reported at once
_SCHEMA: dict[str, dict[str, str]] = {
    "policy": {"mode": "str", "numbers": "list", "agents": "list", "queues": "list"},
    "announcement": {"enabled": "bool", "prompt": "str"},
    "mixmonitor": {"stereo": "bool", "bridged_only": "bool"},
    "postprocess": {"format": "str", "normalise": "bool", "headroom_db": "number", "mp3_bitrate": "str",
                    "duration_tolerance_s": "number"},
    "storage": {"primary": "optstr", "archive": "optstr"},
    "retention": {"primary": "days", "archive": "days"},
    "scorecard": {"scale": "int", "good_at_least": "number", "poor_at_most": "number", "items": "list"},
}
_KINDS: dict[str, tuple[tuple[type, ...], str]] = {
    "str": ((str,), "a string"), "optstr": ((str, type(None)), "a string"), "list": ((list, type(None)), "a list"),
    "bool": ((bool,), "true or false"), "number": ((int, float), "a number"), "int": ((int,), "a whole number"),
    "days": ((int, type(None)), "a positive number of days or null"),
}


def recording_config_problems(raw: object, source: str = "recording.yaml") -> list[str]:
    """Unknown sections/keys (with "did you mean") and wrongly typed values, one `source: key: reason` each."""
    if raw is None:
        return []
    if not isinstance(raw, dict):
        return [f"{source}: (top level): expected a mapping"]
    problems = []
    for name, section in raw.items():
        if name not in _SCHEMA:
            problems.append(f"{source}: {name}: {unknown_key(name, list(_SCHEMA), 'section')}")
            continue
        if section is None:
            continue
        if not isinstance(section, dict):
            problems.append(f"{source}: {name}: expected a mapping")
            continue
        for key, value in section.items():
            kind = _SCHEMA[name].get(key)
            if kind is None:
                problems.append(f"{source}: {name}.{key}: {unknown_key(key, list(_SCHEMA[name]))}")
                continue
            types, what = _KINDS[kind]
            if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
                problems.append(f"{source}: {name}.{key}: must be {what}, got {value!r}")
            elif kind == "days" and isinstance(value, int) and value <= 0:
                problems.append(f"{source}: {name}.{key}: must be a positive number of days or null, got {value!r}")
    return problems


@dataclass(frozen=True)
class PolicyConfig:
    mode: str = "all"
    numbers: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnnouncementConfig:
    enabled: bool = False
    prompt: str = "recording_notice"


@dataclass(frozen=True)
class MixMonitorConfig:
    stereo: bool = False
    bridged_only: bool = True


@dataclass(frozen=True)
class PostprocessConfig:
    format: str = "wav"
    normalise: bool = True
    headroom_db: float = 1.0
    mp3_bitrate: str = "32k"
    duration_tolerance_s: float = 0.5


@dataclass(frozen=True)
class StorageConfig:
    primary: str = ""
    archive: str = ""


@dataclass(frozen=True)
class ScoreItem:
    id: str
    label: str
    weight: float


@dataclass(frozen=True)
class ScorecardConfig:
    scale: int = 10
    good_at_least: float = 8
    poor_at_most: float = 6
    items: tuple[ScoreItem, ...] = ()

    def total(self, scores: dict[str, float]) -> float:
        """Weighted mean on the scorecard scale; every item must be scored within 0..scale."""
        known = {item.id for item in self.items}
        unknown = sorted(set(scores) - known)
        if unknown:
            raise ValueError(f"unknown scorecard item(s): {', '.join(unknown)}")
        missing = [item.id for item in self.items if item.id not in scores]
        if missing:
            raise ValueError(f"missing score for item(s): {', '.join(missing)}")
        for key, value in scores.items():
            if not 0 <= float(value) <= self.scale:
                raise ValueError(f"score for {key} must be between 0 and {self.scale}, got {value}")
        weight_sum = sum(item.weight for item in self.items)
        return round(sum(item.weight * float(scores[item.id]) for item in self.items) / weight_sum, 2)

    def to_dict(self) -> dict:
        return {
            "scale": self.scale,
            "good_at_least": self.good_at_least,
            "poor_at_most": self.poor_at_most,
            "items": [{"id": i.id, "label": i.label, "weight": i.weight} for i in self.items],
        }


@dataclass(frozen=True)
class RecordingConfig:
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    announcement: AnnouncementConfig = field(default_factory=AnnouncementConfig)
    mixmonitor: MixMonitorConfig = field(default_factory=MixMonitorConfig)
    postprocess: PostprocessConfig = field(default_factory=PostprocessConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    retention: dict[str, int | None] = field(default_factory=lambda: {"primary": None, "archive": None})
    scorecard: ScorecardConfig = field(default_factory=ScorecardConfig)


def load_recording_config(path: Path) -> RecordingConfig:
    """Parse and validate recording.yaml; a missing file means the defaults (record all, WAV)."""
    path = Path(path)
    if not path.exists():
        return RecordingConfig()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise RecordingConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse_recording_config(raw, source=str(path))


def parse_recording_config(raw: dict, source: str = "recording.yaml") -> RecordingConfig:
    problems = recording_config_problems(raw, source)
    if problems:
        raise RecordingConfigError("\n".join(problems))

    def fail(key: str, reason: str):
        raise RecordingConfigError(f"{source}: {key}: {reason}")

    if not isinstance(raw, dict):
        fail("(top level)", "expected a mapping")

    def section(name: str) -> dict:
        value = raw.get(name) or {}
        if not isinstance(value, dict):
            fail(name, "expected a mapping")
        return value

    def str_list(sec: dict, name: str, key: str) -> tuple[str, ...]:
        value = sec.get(key) or []
        if not isinstance(value, list):
            fail(f"{name}.{key}", "expected a list")
        return tuple(str(v) for v in value)

    pol = section("policy")
    mode = str(pol.get("mode", "all"))
    if mode not in POLICY_MODES:
        fail("policy.mode", f"must be one of {', '.join(POLICY_MODES)}, got {mode!r}")
    policy = PolicyConfig(
        mode=mode,
        numbers=str_list(pol, "policy", "numbers"),
        agents=str_list(pol, "policy", "agents"),
        queues=str_list(pol, "policy", "queues"),
    )
    if mode != "all" and not getattr(policy, mode):
        fail(f"policy.{mode}", f"mode {mode!r} needs at least one entry")

    ann = section("announcement")
    announcement = AnnouncementConfig(enabled=bool(ann.get("enabled", False)), prompt=str(ann.get("prompt", "recording_notice")))

    mm = section("mixmonitor")
    mixmonitor = MixMonitorConfig(stereo=bool(mm.get("stereo", False)), bridged_only=bool(mm.get("bridged_only", True)))

    pp = section("postprocess")
    fmt = str(pp.get("format", "wav")).lower()
    if fmt not in FORMATS:
        fail("postprocess.format", f"must be one of {', '.join(FORMATS)}, got {fmt!r}")
    try:
        postprocess = PostprocessConfig(
            format=fmt,
            normalise=bool(pp.get("normalise", True)),
            headroom_db=float(pp.get("headroom_db", 1.0)),
            mp3_bitrate=str(pp.get("mp3_bitrate", "32k")),
            duration_tolerance_s=float(pp.get("duration_tolerance_s", 0.5)),
        )
    except (TypeError, ValueError) as exc:
        fail("postprocess", f"bad number: {exc}")

    st = section("storage")
    storage = StorageConfig(primary=str(st.get("primary") or ""), archive=str(st.get("archive") or ""))

    ret = section("retention")
    retention: dict[str, int | None] = {"primary": None, "archive": None}
    for tier, days in ret.items():
        if tier not in TIERS:
            fail(f"retention.{tier}", f"unknown storage tier (known: {', '.join(TIERS)})")
        if days is None:
            continue
        if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
            fail(f"retention.{tier}", f"must be a positive number of days or null, got {days!r}")
        retention[tier] = days

    sc = section("scorecard")
    items = []
    seen = set()
    for index, item in enumerate(sc.get("items") or []):
        if not isinstance(item, dict) or "id" not in item:
            fail(f"scorecard.items[{index}]", "expected a mapping with id, label, weight")
        item_id = str(item["id"])
        if item_id in seen:
            fail(f"scorecard.items[{index}].id", f"duplicate item {item_id!r}")
        seen.add(item_id)
        try:
            weight = float(item.get("weight", 1))
        except (TypeError, ValueError):
            fail(f"scorecard.items[{index}].weight", f"not a number: {item.get('weight')!r}")
        if weight <= 0:
            fail(f"scorecard.items[{index}].weight", "must be positive")
        items.append(ScoreItem(id=item_id, label=str(item.get("label", item_id)), weight=weight))
    scorecard = ScorecardConfig(
        scale=int(sc.get("scale", 10)),
        good_at_least=float(sc.get("good_at_least", 8)),
        poor_at_most=float(sc.get("poor_at_most", 6)),
        items=tuple(items),
    )
    return RecordingConfig(policy, announcement, mixmonitor, postprocess, storage, retention, scorecard)
