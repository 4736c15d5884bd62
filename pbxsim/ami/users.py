"""Manager users (manager.conf sections) and Asterisk's permission classes."""
from __future__ import annotations

from dataclasses import dataclass, field

# manager.c perms[] in order; "all" means every class.
PERMISSION_CLASSES = (
    "system", "call", "log", "verbose", "command", "agent", "user", "config", "dtmf",
    "reporting", "cdr", "dialplan", "originate", "agi", "cc", "aoc", "test", "security",
    "message",
)
ALL = frozenset(PERMISSION_CLASSES)

_TRUE = {"yes", "true", "y", "t", "1", "on"}
_FALSE = {"no", "false", "n", "f", "0", "off"}


def is_true(value: str) -> bool:
    return value.strip().lower() in _TRUE


def is_false(value: str) -> bool:
    return value.strip().lower() in _FALSE


def parse_classes(text: str) -> set[str]:
    """manager.conf ``read=``/``write=`` or an ``Events:`` value list: "call,agi" / "all"."""
    words = {w.strip().lower() for w in text.split(",") if w.strip()}
    if "all" in words:
        return set(ALL)
    return {w for w in words if w in ALL}


def event_mask(text: str) -> set[str] | None:
    """strings_to_mask(): the classes an ``Events:``/``EventMask:`` value selects, None if invalid."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        bits = int(text)
        return {name for i, name in enumerate(PERMISSION_CLASSES) if bits & (1 << i)}
    if is_false(text):
        return set()
    if is_true(text):
        return set(ALL)
    return parse_classes(text)


def privilege_classes(privilege: str) -> frozenset[str]:
    """Classes of an event from its ``Privilege:`` text ("call,all" -> {"call"})."""
    return frozenset(w.strip().lower() for w in privilege.split(",")
                     if w.strip() and w.strip().lower() != "all")


@dataclass
class AmiUser:
    username: str
    secret: str
    read: set[str] = field(default_factory=lambda: set(ALL))
    write: set[str] = field(default_factory=lambda: set(ALL))
    writetimeout: int = 100     # ms, manager.conf default
    displayconnects: bool = True

    def __post_init__(self) -> None:
        # manager.conf: a user without read=/write= lines gets every class (readperm = -1).
        if isinstance(self.read, str):
            self.read = parse_classes(self.read) if self.read.strip() else set(ALL)
        if isinstance(self.write, str):
            self.write = parse_classes(self.write) if self.write.strip() else set(ALL)
        self.read = {c.lower() for c in self.read}
        self.write = {c.lower() for c in self.write}
        if "all" in self.read:
            self.read = set(ALL)
        if "all" in self.write:
            self.write = set(ALL)
