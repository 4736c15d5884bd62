"""A clock the tests move by hand, an MQTT stand-in that keeps what was published, a call directory."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from crm.requests import Staff


class Clock:
    def __init__(self, start: datetime = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@dataclass
class Published:
    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def publish(self, suffix: str, payload: dict[str, Any], retain: bool = False) -> bool:
        self.messages.append((suffix, payload))
        return True

    def events(self, request_id: int) -> list[str]:
        return [p["event"] for s, p in self.messages if s == f"requests/{request_id}"]


@dataclass
class Calls:
    callers: dict[str, str] = field(default_factory=dict)
    takers: set[str] = field(default_factory=lambda: {"1001"})    # the agents who took every call

    async def caller_of(self, linkedid: str) -> str | None:
        return self.callers.get(linkedid)

    async def agents_of(self, linkedid: str) -> set[str]:
        return set(self.takers) if linkedid in self.callers else set()


AGENT = Staff("1001")
OTHER = Staff("1004")
SUPERVISOR = Staff("9001", "supervisor")
