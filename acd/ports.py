"""What the ACD needs from the rest of hotline, as Protocols it owns (implemented by the CTI, the AMI client and
the event bus; hotline/service.py passes the implementations in, mypy checks them there).

- ``CtiAgents``: the agent state machine that is the source of truth for ready / not-ready / wrap-up
  (cti.agents.AgentService): its agents, its change listeners, and the ring-no-answer autopause.
- ``AmiActions``: send one AMI action and get the reply (cti.ami.AmiSession): callbacks are originated with it.
- ``StatsPublisher``: publish ``queues/{name}/stats`` (hotline.bus.EventBus).
- ``QueuedCall``: the caller the IVR hands to ``acd.handoff.AcdHandoff.enqueue`` (ivr.runtime.call.Call).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ivr.agi.channel import AgiChannel
    from ivr.runtime.waiting import QueueWaiting


class CtiAgent(Protocol):
    """One agent as the CTI sees it: its id, its state (an enum whose value is the state's name, e.g.
    "wrap-up") and the not-ready reason."""

    @property
    def id(self) -> str: ...
    @property
    def state(self) -> Enum: ...
    @property
    def reason(self) -> str | None: ...


# (agent, change) -> None; change has "previous" (the state before) and "request" (what caused it).
# The agent is typed loosely here because the CTI's listener list holds its own Agent type (a list is invariant).
AgentListener = Callable[[Any, dict[str, Any]], Any]


class CtiAgents(Protocol):
    @property
    def agents(self) -> Mapping[str, CtiAgent]: ...
    @property
    def listeners(self) -> list[AgentListener]: ...
    def autopause(self, agent_id: str, reason: str = "ring-no-answer") -> None: ...


class AmiActions(Protocol):
    def send_action(self, action: dict[str, Any], as_list: bool | None = None, *,
                    timeout: float | None = None, check: bool = True) -> Awaitable[Any]: ...


class StatsPublisher(Protocol):
    def publish(self, topic_suffix: str, payload: dict[str, Any], retain: bool = False,
                qos: int = 0) -> Awaitable[Any]: ...


class QueuedCall(Protocol):
    """A caller the IVR puts in a queue: its AGI session, what routing looks at, and the flow's waiting
    messages (None: the queue's own) with the call's names for their sounds."""

    @property
    def channel(self) -> AgiChannel: ...
    @property
    def linkedid(self) -> str: ...
    @property
    def caller(self) -> str: ...
    @property
    def lang(self) -> str: ...
    @property
    def customer(self) -> Mapping[str, Any] | None: ...
    @property
    def data(self) -> Mapping[str, Any]: ...
    @property
    def waiting(self) -> QueueWaiting | None: ...
    def sound(self, prompt_id: str) -> str: ...
