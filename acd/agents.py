"""Where the ACD learns which agents are ready: an injected AgentDirectory.

CTI provides the real one (agent states over AMI and the agent desktop); until it is wired in,
``InMemoryAgentDirectory`` serves config/agents.yaml with every agent ready. ``attach`` feeds a
directory's current states and later changes into the ACD service.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol

from acd.config import AgentProfile
from acd.state import AgentState

READY, NOT_READY, LOGGED_OUT, WRAPUP_ENDED = "ready", "not-ready", "logged-out", "wrap-up-ended"


@dataclass(frozen=True)
class AgentStateChange:
    agent_id: str
    state: str                 # ready | not-ready | logged-out | wrap-up-ended
    reason: str = ""


class AgentDirectory(Protocol):
    def profiles(self) -> list[AgentProfile]: ...
    def states(self) -> dict[str, AgentStateChange]: ...
    def subscribe(self, listener: Callable[[AgentStateChange], None]) -> Callable[[], None]: ...


class InMemoryAgentDirectory:
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


def apply_change(service, change: AgentStateChange) -> None:
    agent = service.engine.agent(change.agent_id)
    if apply_cti_busy(service, change):
        return
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
    else:
        raise ValueError(f"unknown agent state {change.state!r}")


def attach(service, directory: AgentDirectory) -> Callable[[], None]:
    """Apply the directory's current states, then follow its changes. Returns the unsubscribe."""
    known = set(service.engine.agents)
    for change in directory.states().values():
        if change.agent_id in known:
            apply_change(service, change)
    return directory.subscribe(lambda change: apply_change(service, change) if change.agent_id in known else None)


# CTI's states that mean "on a call the ACD did not place" when the ACD still sees the agent ready
_CTI_BUSY = {"reserved", "ringing", "talking", "on-hold", "transferring"}


class CtiAgentDirectory:
    """Agent states from CTI's AgentService (cti.agents): ready / not-ready / logged-out / end of wrap-up.

    CTI's in-call states are the PBX's view of calls the ACD placed itself (ignored), or of calls the ACD
    did not place — an outbound call, a transfer to the agent — which make a ready agent unavailable
    (not-ready ``on-call``) until CTI says ready again."""

    def __init__(self, agent_service: Any, profiles: Iterable[AgentProfile]) -> None:
        self.cti = agent_service
        self._profiles = list(profiles)
        self._listeners: list[Callable[[AgentStateChange], None]] = []
        self._service = None
        agent_service.listeners.append(self._on_cti_change)

    def profiles(self) -> list[AgentProfile]:
        return list(self._profiles)

    def _change_for(self, agent: Any, previous: str | None = None) -> AgentStateChange | None:
        state = getattr(agent.state, "value", agent.state)
        if state == READY:
            return AgentStateChange(agent.id, WRAPUP_ENDED if previous == "wrap-up" else READY)
        if state == NOT_READY:
            return AgentStateChange(agent.id, NOT_READY, agent.reason or "")
        if state == LOGGED_OUT:
            return AgentStateChange(agent.id, LOGGED_OUT)
        if state in _CTI_BUSY:
            return AgentStateChange(agent.id, "on-call")
        return None                                    # wrap-up: the ACD runs its own

    def states(self) -> dict[str, AgentStateChange]:
        out = {}
        for agent in self.cti.agents.values():
            change = self._change_for(agent)
            if change is not None and change.state != "on-call":
                out[agent.id] = change
        return out

    def subscribe(self, listener):
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _on_cti_change(self, agent: Any, change: dict) -> None:
        item = self._change_for(agent, change.get("previous"))
        if item is None:
            return
        for listener in list(self._listeners):
            listener(item)


def apply_cti_busy(service, change: AgentStateChange) -> bool:
    """An ``on-call`` change: only a ready agent the ACD did not ring becomes not-ready."""
    if change.state != "on-call":
        return False
    agent = service.engine.agent(change.agent_id)
    if agent.state is AgentState.READY:
        service.agent_not_ready(change.agent_id, "on-call")
    return True
