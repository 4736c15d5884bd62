"""What the flow runtime needs from the rest of hotline, as Protocols injected at start (wazo-calld style).
hotline/service.py passes the implementations (mypy checks them there).

- CustomerDirectory: who is calling (CTI's customers table, read by ivr.customers_sql).
- QueueHandoff: hand the call to the ACD and wait for the outcome (acd.handoff.AcdHandoff).
- RecordingsSearch: the QA replay's search (recordings.service.RecordingsService).
- SurveyRatings: where the survey node copies a rating onto the call's recordings (the same service).
- StaffMember: a member of staff who may log in for the QA replay (hotline.config.AgentConfig).
- OrderDirectory: orders for the self-service readout (ivr.customers_sql.SqlOrderDirectory).
- CallerPreferences: what we remember about a number (the language chosen last time).
- Publisher: an MQTT publish callback ``publish(topic_suffix, payload_dict)`` (hotline.bus.EventBus.publish).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .call import Call

QUEUE_OUTCOMES = ("answered", "abandoned", "voicemail", "callback", "overflow")


@runtime_checkable
class CustomerDirectory(Protocol):
    async def by_number(self, number: str) -> Mapping[str, Any] | None:
        """The customer calling from ``number``: a mapping with at least id, name, vip_level (0..3),
        key_account (bool), blocked (bool), language (str or None); None when unknown."""


@runtime_checkable
class OrderDirectory(Protocol):
    async def by_number(self, number: str) -> Mapping[str, Any] | None:
        """An order: number, status, amount (Decimal 元), created (date), expected_delivery (date|None)."""


@dataclass(frozen=True)
class QueueOutcome:
    status: str                       # one of QUEUE_OUTCOMES
    agent_id: str = ""                # 工号 of the agent who answered
    wait_s: float = 0.0               # time in queue
    talk_s: float = 0.0               # conversation length (answered)
    detail: str = ""                  # e.g. DIALSTATUS, overflow target
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in QUEUE_OUTCOMES:
            raise ValueError(f"queue outcome must be one of {QUEUE_OUTCOMES}, not {self.status!r}")


@runtime_checkable
class QueueHandoff(Protocol):
    async def enqueue(self, call: "Call", queue: str, skill: str | None, priority: int) -> QueueOutcome:
        """Put the caller in ``queue`` and return when the call leaves it: answered (after the agent
        conversation ended; the caller may still be on the line), abandoned (caller hung up while
        waiting), voicemail / callback (the caller chose it while waiting), overflow (no agent, max wait)."""


@runtime_checkable
class CallerPreferences(Protocol):
    async def language(self, number: str) -> str | None: ...

    async def remember_language(self, number: str, language: str) -> None: ...


@runtime_checkable
class RecordingsSearch(Protocol):
    async def find(self, agent_id: str, start: datetime, end: datetime) -> list[Mapping[str, Any]]:
        """Recordings of ``agent_id`` that started in [start, end) (UTC), oldest first: mappings with id,
        agent_id, caller, start (datetime), duration (s), sound (what STREAM FILE plays: path without extension)."""

    async def audit_replay(self, staff_id: str, recording_id: int) -> None:
        """Record that ``staff_id`` is replaying a recording by phone (every replay is audit-logged)."""


@runtime_checkable
class SurveyRatings(Protocol):
    async def set_satisfaction(self, linkedid: str, rating: int) -> int:
        """Copy the caller's survey rating (1-5) onto the recordings of call ``linkedid``; how many were rated."""


@runtime_checkable
class StaffMember(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...           # agent | supervisor | qa | admin
    @property
    def pin(self) -> str: ...            # a PIN hash (hotline.security.pins) or the PIN itself


Publisher = Callable[[str, dict], Any | Awaitable[Any]]
