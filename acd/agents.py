"""Where the ACD learns which agents are ready: an injected AgentDirectory.

CTI provides the real one (``CtiAgentDirectory``: its agent state machine is the source of truth, wrap-up
included); ``InMemoryAgentDirectory`` (every agent ready, the engine timing wrap-up) is the stand-in for the
ACD's own tests. ``attach`` feeds a directory's current states and later changes into the ACD
service; ``link_cti`` wires the ACD to a running CTI both ways (states in, autopause and wrap-up out).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol

if TYPE_CHECKING:
    from acd.service import AcdService

from acd.config import AgentProfile
from acd.ports import CtiAgent, CtiAgents
from acd.state import ON_CALL_REASON, AgentState

READY, NOT_READY, LOGGED_OUT, WRAPUP_ENDED = "ready", "not-ready", "logged-out", "wrap-up-ended"
ON_CALL, OFF_CALL = "on-call", "off-call"      # CTI only: a call the ACD did not place starts / ends


@dataclass(frozen=True)
class AgentStateChange:
    agent_id: str
    state: str                 # ready | not-ready | logged-out | wrap-up-ended | on-call | off-call
    reason: str = ""


class AgentDirectory(Protocol):
    times_wrapup: bool         # True: the directory ends wrap-up (the engine runs no wrap-up timer)

    def profiles(self) -> list[AgentProfile]: ...
    def states(self) -> dict[str, AgentStateChange]: ...
    def subscribe(self, listener: Callable[[AgentStateChange], None]) -> Callable[[], None]: ...


class InMemoryAgentDirectory:
    times_wrapup = False

    def __init__(self, agents: Iterable[AgentProfile], initial: str = READY) -> None:
        self._profiles = list(agents)
        self._states = {a.id: AgentStateChange(a.id, initial) for a in self._profiles}
        self._listeners: list[Callable[[AgentStateChange], None]] = []

    def profiles(self) -> list[AgentProfile]:
        return list(self._profiles)

    def states(self) -> dict[str, AgentStateChange]:
        return dict(self._states)

    def subscribe(self, listener):
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def set_state(self, agent_id: str, state: str, reason: str = "") -> None:
        if agent_id not in self._states:
            raise KeyError(f"unknown agent ID {agent_id!r}")
        if state not in (READY, NOT_READY, LOGGED_OUT, WRAPUP_ENDED):
            raise ValueError(f"unknown agent state {state!r}")
        change = AgentStateChange(agent_id, state, reason)
        if state != WRAPUP_ENDED:
            self._states[agent_id] = change
        for listener in list(self._listeners):
            listener(change)


def apply_change(service: "AcdService", change: AgentStateChange) -> None:
    agent = service.engine.agent(change.agent_id)
    if change.state == READY:
        if agent.state is AgentState.WRAPUP:        # "ready" during wrap-up ends it early
            service.wrapup_ended(change.agent_id)
        else:
            service.agent_ready(change.agent_id)
    elif change.state == NOT_READY:
        service.agent_not_ready(change.agent_id, change.reason)
    elif change.state == LOGGED_OUT:
        service.agent_logged_out(change.agent_id)
    elif change.state == WRAPUP_ENDED:
        if agent.state is AgentState.WRAPUP:
            service.wrapup_ended(change.agent_id)
        else:
            service.agent_ready(change.agent_id)
    elif change.state == ON_CALL:     # only an agent the ACD did not ring becomes unavailable (logged out: at attach)
        if agent.state in (AgentState.READY, AgentState.LOGGED_OUT):
            service.agent_not_ready(change.agent_id, ON_CALL_REASON)
    elif change.state == OFF_CALL:                  # ... and only such an agent comes back with the call's end
        if agent.state is AgentState.NOT_READY and agent.reason == ON_CALL_REASON:
            service.agent_ready(change.agent_id)
    else:
        raise ValueError(f"unknown agent state {change.state!r}")


def attach(service: "AcdService", directory: AgentDirectory) -> Callable[[], None]:
    """Apply the directory's current states, then follow its changes. Returns the unsubscribe."""
    service.engine.own_wrapup_timer = not directory.times_wrapup
    known = set(service.engine.agents)
    for change in directory.states().values():
        if change.agent_id in known:
            apply_change(service, change)
    return directory.subscribe(lambda change: apply_change(service, change) if change.agent_id in known else None)


# CTI's states of an agent on a call (CTI's wrap-up included: the ACD waits for its end)
_CTI_BUSY = {"reserved", "ringing", "talking", "on-hold", "transferring", "wrap-up"}
# CTI requests that put an agent back where it was before a ring (the ring ended unanswered)
_CTI_RING_ENDED = {"ring-no-answer", "abandon"}


class CtiAgentDirectory:
    """Agent states from CTI's AgentService (cti.agents), the source of truth for an agent's state.

    CTI's in-call states and wrap-up are the PBX's view of calls the ACD placed itself (ignored: the ACD
    knows them from its own offers) or of calls it did not place — an outbound call, a transfer to the agent —
    which make a ready agent unavailable (not-ready ``on-call``) until that call ends. The end of CTI's
    wrap-up (CTI times it, per queue or per agent, or the agent ends it) ends the ACD's wrap-up."""

    times_wrapup = True

    def __init__(self, agent_service: CtiAgents, profiles: Iterable[AgentProfile]) -> None:
        self.cti = agent_service
        self._profiles = list(profiles)
        self._listeners: list[Callable[[AgentStateChange], None]] = []
        agent_service.listeners.append(self._on_cti_change)

    def close(self) -> None:
        if self._on_cti_change in self.cti.listeners:
            self.cti.listeners.remove(self._on_cti_change)

    def profiles(self) -> list[AgentProfile]:
        return list(self._profiles)

    def change_for(self, agent: CtiAgent, previous: str | None = None, request: str | None = None) -> AgentStateChange:
        state = getattr(agent.state, "value", agent.state)
        if state == READY:
            if previous == "wrap-up":
                return AgentStateChange(agent.id, WRAPUP_ENDED)
            return AgentStateChange(agent.id, OFF_CALL if request in _CTI_RING_ENDED else READY)
        if state == NOT_READY:
            return AgentStateChange(agent.id, NOT_READY, agent.reason or "")
        if state == LOGGED_OUT:
            return AgentStateChange(agent.id, LOGGED_OUT)
        if state in _CTI_BUSY:
            return AgentStateChange(agent.id, ON_CALL)
        raise ValueError(f"CTI agent {agent.id} in unknown state {state!r}")

    def states(self) -> dict[str, AgentStateChange]:
        return {agent.id: self.change_for(agent) for agent in self.cti.agents.values()}

    def subscribe(self, listener):
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _on_cti_change(self, agent: CtiAgent, change: dict[str, Any]) -> None:
        item = self.change_for(agent, change.get("previous"), change.get("request"))
        for listener in list(self._listeners):
            listener(item)

    def wrapup_started(self, service: "AcdService", agent_id: str) -> None:
        """The ACD's wrap-up began: if CTI already let the agent go (its wrap-up was shorter than the time
        the caller's Dial took to return, or it never saw the call), apply CTI's state now. Run on the next
        loop turn, outside the engine's event."""
        def check() -> None:
            agent = self.cti.agents.get(agent_id)
            if agent is not None and service.engine.agent(agent_id).state is AgentState.WRAPUP:
                change = self.change_for(agent)
                if change.state != ON_CALL:          # CTI still in a call or its wrap-up: its change will come
                    apply_change(service, AgentStateChange(agent_id, WRAPUP_ENDED) if change.state in
                                 (READY, OFF_CALL) else change)
        asyncio.get_running_loop().call_soon(check)


def link_cti(service: "AcdService", agents: CtiAgents) -> Callable[[], None]:
    """The ACD on a running CTI: agent states (wrap-up included) from CTI's state machine (``cti.agents``);
    the ACD's ring-no-answer policy (``max_no_answer``) tells CTI when to set an agent not-ready
    (``ring-no-answer``). Returns the unlink."""
    profiles = [a.profile for a in service.engine.agents.values()]
    directory = CtiAgentDirectory(agents, profiles)
    service.on_autopause = agents.autopause
    service.on_wrapup_started = lambda agent_id: directory.wrapup_started(service, agent_id)
    unsubscribe = attach(service, directory)

    def unlink() -> None:
        unsubscribe()
        directory.close()
        service.on_autopause = service.on_wrapup_started = None
    return unlink
