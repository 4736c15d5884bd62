"""AMI events as the simulated PBX emits them.

An Event carries its headers in Asterisk's order, without the ``Event:`` and
``Privilege:`` lines (the AMI server renders those from ``name``/``privilege``).
"""
from __future__ import annotations

from dataclasses import dataclass

CALL = "call,all"
DIALPLAN = "dialplan,all"
AGI = "agi,all"
SYSTEM = "system,all"
SECURITY = "security,all"
DTMF = "dtmf,all"


@dataclass(frozen=True)
class Event:
    name: str
    privilege: str
    headers: tuple[tuple[str, str], ...]

    def get(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.headers:
            if k == key:
                return v
        return default

    def keys(self) -> list[str]:
        return [k for k, _ in self.headers]


def make_event(name: str, privilege: str, headers) -> Event:
    return Event(name, privilege, tuple((str(k), str(v)) for k, v in headers))
