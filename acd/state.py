"""The engine's live records of agents and calls (mutable; owned by acd.engine)."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Hashable, Mapping

from acd.config import AgentProfile


# not-ready reason of an agent the directory (CTI) sees on a call the ACD did not place (outbound, transfer...)
ON_CALL_REASON = "on-call"
# ENTERQUEUE's url field for an outbound task: the queue figures (offered, ASA, AHT) leave such calls out
OUTBOUND_URL = "outbound"


class AgentState(str, enum.Enum):
    LOGGED_OUT = "logged-out"
    NOT_READY = "not-ready"
    READY = "ready"
    RINGING = "ringing"          # reserved: an offer rings the agent's phone
    BUSY = "busy"                # talking (including hold)
    WRAPUP = "wrap-up"


class CallState(str, enum.Enum):
    WAITING = "waiting"
    RINGING = "ringing"
    CONNECTED = "connected"
    DONE = "done"


class Outcome(str, enum.Enum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    VOICEMAIL = "voicemail"
    CALLBACK = "callback"
    OVERFLOW = "overflow"


@dataclass(eq=False, slots=True)
class AgentRecord:
    profile: AgentProfile
    order: int                               # position in agents.yaml: the sequential order and final tie-break
    queues: tuple[str, ...] = ()             # queues this agent serves
    state: AgentState = AgentState.LOGGED_OUT
    reason: str = ""                         # not-ready reason code
    idle_since: float = 0.0                  # end of the last wrap-up (or when the agent became ready)
    calls_taken: int = 0
    talk_time: float = 0.0
    misses: int = 0                          # consecutive ring-no-answers
    call_id: str | None = None
    after_call: AgentState | None = None     # state the directory asked for while ringing/busy/wrap-up
    after_reason: str = ""
    wrapup_token: int = 0
    wrapup_queue: str | None = None          # queue of the call being wrapped up
    wrapup_started: float = 0.0
    wrapup_talk: float = 0.0                 # talk time of that call (for the queue's AHT)
    # bumped whenever the agent enters or leaves ready: pool entries carrying an older stamp are stale
    ready_stamp: int = 0
    id: str = field(init=False)

    def __post_init__(self) -> None:
        self.id = self.profile.id

    @property
    def logged_in(self) -> bool:
        return self.state is not AgentState.LOGGED_OUT

    def proficiency(self, skill: str | None) -> int:
        return int(self.profile.skills.get(skill, 0)) if skill else 0


@dataclass
class CallRequest:
    """What the IVR hands over (see acd.handoff for the mapping from the IVR's call object)."""
    call_id: str                             # linkedid
    queue: str
    caller: str = ""
    language: str = "zh-CN"
    skill: str | None = None
    priority: int = 0
    vip_level: int = 0
    key_account: bool = False
    data: Mapping[str, Any] = field(default_factory=dict)
    callback_number: str | None = None       # set for callback entries
    outbound: bool = False                   # a task the ACD calls out for (a follow-up, 回访): it waits as a
                                             # callback from the start and is not an inbound call in the figures


@dataclass(eq=False, slots=True)
class CallRecord:
    request: CallRequest
    queue: str
    priority: int
    seq: int                                 # arrival order (FCFS within a priority; callbacks keep it)
    entered_at: float                        # entered the current queue
    orig_position: int
    state: CallState = CallState.WAITING
    callback: bool = False                   # caller hung up and waits for a call back
    agent_id: str | None = None
    offer_id: int = 0
    ring_started: float = 0.0
    answered_at: float = 0.0
    tried: set[str] = field(default_factory=set)
    timer_token: int = 0
    timed_out: bool = False                  # max wait passed while an offer was ringing
    hops: int = 0                            # overflows into other queues
    outcome: Outcome | None = None
    wait_key: int = 0                        # place in the waiting order: (-priority, seq) as one integer
    route_class: Hashable = None             # the queue strategy's class of the call (who may take it)
    id: str = field(init=False)

    def __post_init__(self) -> None:
        self.id = self.request.call_id

    @property
    def skill(self) -> str | None:
        return self.request.skill
