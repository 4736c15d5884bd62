"""What the engine asks the outside world to do (drained by the service after every event)."""
from __future__ import annotations

from dataclasses import dataclass

from acd.state import Outcome


@dataclass(frozen=True)
class Offer:
    """Ring ``endpoint`` for this call (the live caller's AGI session dials; a callback rings agent first)."""
    call_id: str
    agent_id: str
    endpoint: str
    ring_timeout_s: float
    offer_id: int
    callback: bool = False
    callback_number: str = ""


@dataclass(frozen=True)
class CallerReleased:
    """The live caller's wait is over for an engine reason (overflow, exit, callback conversion)."""
    call_id: str
    outcome: Outcome
    target_queue: str | None = None


@dataclass(frozen=True)
class CallMoved:
    """The call overflowed into another queue and keeps waiting there."""
    call_id: str
    queue: str


@dataclass(frozen=True)
class CallFinished:
    """The call left the engine for good."""
    call_id: str
    outcome: Outcome


@dataclass(frozen=True)
class AgentAutoPaused:
    """Ring-no-answer limit reached: the agent is now not-ready (CTI should show it)."""
    agent_id: str
    reason: str


@dataclass(frozen=True)
class WrapupEnded:
    agent_id: str
    queue: str
    seconds: float


@dataclass(frozen=True)
class WrapupStarted:
    """The agent's ACD call is over and the agent directory times the wrap-up (engine without its own timer):
    the directory must say when it ends — at once if its agent already left wrap-up."""
    agent_id: str
    queue: str
