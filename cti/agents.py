"""Agent states (坐席状态) as a state machine with legal transitions only, every transition stored.

States, in the field's words: logged-out, ready (准备就绪), reserved, ringing, talking (通话),
on-hold (呼叫保持), transferring (转接中), wrap-up (事后整理), not-ready (离席, with a reason).

Requests come from four places: the agent (login, ready, not-ready, end-wrap-up, logout), the PBX
(ring, answer, hangup, ... derived from AMI events), the supervisor (force) and the ACD (``autopause``: its
ring-no-answer policy). PBX-derived requests for a logged-out agent are ignored: the PBX is reality, the
state machine only follows agents who work. This state machine is the source of truth for agent states:
the ACD follows it (acd.agents.CtiAgentDirectory), wrap-up included.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Awaitable, Callable, Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from cti.models import AgentStateLog
from hotline.db import as_utc

log = logging.getLogger("hotline.cti.agents")


class AgentState(str, Enum):
    LOGGED_OUT = "logged-out"
    READY = "ready"
    RESERVED = "reserved"
    RINGING = "ringing"
    TALKING = "talking"
    ON_HOLD = "on-hold"
    TRANSFERRING = "transferring"
    WRAP_UP = "wrap-up"
    NOT_READY = "not-ready"


S = AgentState
STATE_LABELS_ZH = {S.LOGGED_OUT: "已签出", S.READY: "准备就绪", S.RESERVED: "预占", S.RINGING: "振铃",
                   S.TALKING: "通话", S.ON_HOLD: "呼叫保持", S.TRANSFERRING: "转接中",
                   S.WRAP_UP: "事后整理", S.NOT_READY: "离席"}
ON_CALL = frozenset({S.RINGING, S.TALKING, S.ON_HOLD, S.TRANSFERRING})

# Reasons an agent (or supervisor) may give for not-ready; the system adds its own.
AGENT_REASONS = frozenset({"break", "meal", "training", "meeting", "restroom", "coaching", "admin-work", "other"})
SYSTEM_REASONS = frozenset({"login", "unreachable", "ring-no-answer", "forced"})
NOT_READY_REASONS = AGENT_REASONS | SYSTEM_REASONS

_LOGGED_IN = [s for s in S if s is not S.LOGGED_OUT]

# request -> {from state: to state}
TRANSITIONS: dict[str, dict[AgentState, AgentState]] = {
    "login": {S.LOGGED_OUT: S.NOT_READY},
    "logout": {S.READY: S.LOGGED_OUT, S.NOT_READY: S.LOGGED_OUT, S.WRAP_UP: S.LOGGED_OUT},
    "ready": {S.NOT_READY: S.READY, S.WRAP_UP: S.READY},
    "not-ready": {S.READY: S.NOT_READY, S.NOT_READY: S.NOT_READY, S.WRAP_UP: S.NOT_READY,
                  S.RESERVED: S.NOT_READY},
    "reserve": {S.READY: S.RESERVED},
    "unreserve": {S.RESERVED: S.READY},
    "ring": {S.READY: S.RINGING, S.RESERVED: S.RINGING, S.NOT_READY: S.RINGING, S.WRAP_UP: S.RINGING},
    "answer": {S.RINGING: S.TALKING},
    # a ring that ends unanswered puts the agent back where they were; the ACD owns the ring-no-answer
    # policy (max_no_answer) and calls ``autopause`` when the agent must go not-ready
    "ring-no-answer": {S.RINGING: S.READY, S.RESERVED: S.READY},
    "abandon": {S.RINGING: S.READY, S.RESERVED: S.READY},
    "hold": {S.TALKING: S.ON_HOLD},
    "unhold": {S.ON_HOLD: S.TALKING},
    "transfer-start": {S.TALKING: S.TRANSFERRING, S.ON_HOLD: S.TRANSFERRING},
    "transfer-cancel": {S.TRANSFERRING: S.TALKING},
    "transfer-complete": {S.TRANSFERRING: S.WRAP_UP},
    "hangup": {S.TALKING: S.WRAP_UP, S.ON_HOLD: S.WRAP_UP, S.TRANSFERRING: S.WRAP_UP},
    "end-wrap-up": {S.WRAP_UP: S.READY},
    "unreachable": {s: S.NOT_READY for s in _LOGGED_IN},
}
PBX_REQUESTS = frozenset({"ring", "answer", "ring-no-answer", "abandon", "hangup", "unreachable",
                          "transfer-complete"})
RING_ENDED = frozenset({"ring-no-answer", "abandon"})
AVAILABILITY_REQUESTS = frozenset({"login", "logout", "ready", "not-ready", "end-wrap-up"})
AUTOMATIC = frozenset({"pbx", "timer"})        # ``by`` of transitions nobody asked for
FORCE_TARGETS = frozenset({S.LOGGED_OUT, S.NOT_READY, S.READY})


class CtiError(Exception):
    """A request the CTI refuses; ``status`` is the HTTP status that fits."""

    status = 400


class UnknownAgent(CtiError):
    status = 404

    def __init__(self, agent_id: str):
        self.agent_id = agent_id
        super().__init__(f"unknown agent ID {agent_id!r} (not in config/agents.yaml)")


class IllegalTransition(CtiError):
    status = 409

    def __init__(self, agent_id: str, state: AgentState, request: str, detail: str = ""):
        self.agent_id, self.state, self.request = agent_id, state, request
        allowed = sorted(r for r, table in TRANSITIONS.items() if state in table and r not in PBX_REQUESTS)
        text = f"agent {agent_id} is {state.value}; '{request}' is not allowed in that state"
        if detail:
            text += f" ({detail})"
        super().__init__(text + (f"; allowed: {', '.join(allowed)}" if allowed else ""))


class BadReason(CtiError):
    def __init__(self, reason: Any):
        super().__init__(f"not-ready reason {reason!r} is not one of: {', '.join(sorted(AGENT_REASONS))}")


@dataclass
class Agent:
    id: str
    name: str
    endpoint: str
    team: str
    role: str
    skills: dict[str, int]
    languages: tuple[str, ...]
    wrapup_seconds: float | None = None
    state: AgentState = S.LOGGED_OUT
    reason: str | None = None
    since: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    linkedid: str | None = None
    queue: str | None = None
    state_before_ring: AgentState | None = None
    reason_before_ring: str | None = None
    wrapup_until: datetime | None = None
    calls_handled: int = 0
    pause_pending: str | None = None    # the ACD's autopause, waiting for the ring (or wrap-up) to let go

    def view(self) -> dict[str, Any]:
        return {"v": 1, "agent_id": self.id, "name": self.name, "team": self.team, "role": self.role,
                "endpoint": self.endpoint, "state": self.state.value, "state_zh": STATE_LABELS_ZH[self.state],
                "reason": self.reason, "since": self.since.isoformat(), "linkedid": self.linkedid,
                "queue": self.queue, "skills": dict(self.skills), "languages": list(self.languages),
                "wrapup_until": self.wrapup_until.isoformat() if self.wrapup_until else None,
                "calls_handled": self.calls_handled}


Listener = Callable[[Agent, dict[str, Any]], Awaitable[None] | None]


class AgentService:
    """Owns every agent's state. ``transition`` is the only way a state changes."""

    def __init__(self, agents: Iterable[Any], sessions: async_sessionmaker, *,
                 default_wrapup_seconds: float = 30.0, queue_wrapup_seconds: dict[str, float] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.agents: dict[str, Agent] = {}
        for cfg in agents:
            extra = dict(getattr(cfg, "extra", {}) or {})
            self.agents[cfg.id] = Agent(
                id=cfg.id, name=cfg.name, endpoint=cfg.endpoint, team=cfg.team, role=cfg.role,
                skills=dict(cfg.skills), languages=tuple(cfg.languages),
                wrapup_seconds=float(extra["wrapup_seconds"]) if "wrapup_seconds" in extra else None)
        self.by_endpoint = {a.endpoint: a for a in self.agents.values()}
        self.sessions = sessions
        self.default_wrapup = default_wrapup_seconds
        self.queue_wrapup = dict(queue_wrapup_seconds or {})
        self.clock = clock
        self.listeners: list[Listener] = []
        self._locks: dict[str, asyncio.Lock] = {a: asyncio.Lock() for a in self.agents}
        self._wrapup_timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task] = set()        # wrap-up timer ends, autopauses

    # -- lookups -------------------------------------------------------------------------------
    def get(self, agent_id: str) -> Agent:
        agent = self.agents.get(str(agent_id))
        if agent is None:
            raise UnknownAgent(str(agent_id))
        return agent

    def for_endpoint(self, endpoint: str) -> Agent | None:
        return self.by_endpoint.get(endpoint)

    def views(self) -> list[dict[str, Any]]:
        return [a.view() for a in self.agents.values()]

    def wrapup_seconds_for(self, agent: Agent) -> float:
        if agent.wrapup_seconds is not None:
            return agent.wrapup_seconds
        if agent.queue and agent.queue in self.queue_wrapup:
            return self.queue_wrapup[agent.queue]
        return self.default_wrapup

    # -- transitions ---------------------------------------------------------------------------
    async def transition(self, agent_id: str, request: str, *, reason: str | None = None,
                         linkedid: str | None = None, queue: str | None = None, by: str = "agent") -> Agent:
        agent = self.get(agent_id)
        async with self._locks[agent.id]:
            table = TRANSITIONS.get(request)
            if table is None:
                raise CtiError(f"unknown agent request {request!r}; known: {', '.join(sorted(TRANSITIONS))}")
            if request == "not-ready":
                if reason not in NOT_READY_REASONS or (by == "agent" and reason in SYSTEM_REASONS):
                    raise BadReason(reason)
            if agent.state not in table:
                raise IllegalTransition(agent.id, agent.state, request)
            target = table[agent.state]
            if request in ("ring", "answer", "hangup", "ring-no-answer", "abandon") and linkedid and \
                    agent.linkedid and agent.linkedid != linkedid and agent.state in ON_CALL:
                raise IllegalTransition(agent.id, agent.state, request,
                                        f"busy with call {agent.linkedid}, event is for call {linkedid}")
            new_reason = None
            if target is S.NOT_READY:
                new_reason = {"login": "login", "unreachable": "unreachable"}.get(request, reason)
            if request in RING_ENDED and agent.state is S.RINGING and \
                    agent.state_before_ring in (S.NOT_READY, S.WRAP_UP):
                target, new_reason = S.NOT_READY, agent.reason_before_ring or "login"
            if agent.pause_pending:
                if by in AUTOMATIC and target is S.READY:
                    target, new_reason = S.NOT_READY, agent.pause_pending
                    agent.pause_pending = None
                elif request in AVAILABILITY_REQUESTS or target in (S.NOT_READY, S.LOGGED_OUT):
                    agent.pause_pending = None           # the agent (or the PBX) decided otherwise meanwhile
            await self._apply(agent, target, new_reason, request, linkedid=linkedid, queue=queue, by=by)
            return agent

    async def force(self, agent_id: str, target: str, *, by: str, reason: str | None = None) -> Agent:
        """Supervisor override: logged-out, not-ready or ready from any state."""
        agent = self.get(agent_id)
        try:
            state = AgentState(target)
        except ValueError:
            raise CtiError(f"cannot force agent {agent_id} to {target!r}; "
                           f"choose one of {', '.join(sorted(s.value for s in FORCE_TARGETS))}") from None
        if state not in FORCE_TARGETS:
            raise CtiError(f"cannot force agent {agent_id} to {target!r}; "
                           f"choose one of {', '.join(sorted(s.value for s in FORCE_TARGETS))}")
        async with self._locks[agent.id]:
            new_reason = (reason or "forced") if state is S.NOT_READY else None
            agent.pause_pending = None
            await self._apply(agent, state, new_reason, "force", by=by)
        return agent

    def autopause(self, agent_id: str, reason: str = "ring-no-answer") -> None:
        """The ACD's ring-no-answer policy paused the agent: show it as not-ready with ``reason``.

        Synchronous on purpose (the ACD calls it from its engine event): the pause is noted at once, so
        the end of the ring that CTI may process next already knows the agent must not go back to ready.
        Applied now if the agent is free; a ringing, talking or wrapping-up agent goes not-ready instead of
        ready when that is over, unless the agent chooses a state meanwhile."""
        agent = self.get(agent_id)
        if agent.state is S.LOGGED_OUT:
            return
        agent.pause_pending = reason
        self._spawn(self._apply_pending(agent.id))

    async def _apply_pending(self, agent_id: str) -> None:
        agent = self.agents[agent_id]
        async with self._locks[agent_id]:
            reason = agent.pause_pending
            if reason is None or agent.state in ON_CALL or agent.state is S.WRAP_UP:
                return
            agent.pause_pending = None
            if agent.state in (S.READY, S.RESERVED):
                await self._apply(agent, S.NOT_READY, reason, "autopause", by="acd")

    async def set_from_pbx(self, agent_id: str, target: AgentState, *, reason: str | None, linkedid: str | None,
                           request: str = "resync") -> None:
        """Resync: the PBX's picture wins (used after a reconnect or restart)."""
        agent = self.get(agent_id)
        async with self._locks[agent.id]:
            if agent.state is target and agent.linkedid == linkedid and agent.reason == reason:
                return
            await self._apply(agent, target, reason, request, linkedid=linkedid, by="pbx")

    async def _apply(self, agent: Agent, target: AgentState, reason: str | None, request: str, *,
                     linkedid: str | None = None, queue: str | None = None, by: str = "agent") -> None:
        previous = agent.state
        now = self.clock()
        if target is S.RINGING and previous is not S.RINGING:
            agent.state_before_ring, agent.reason_before_ring = previous, agent.reason
        if target in ON_CALL or target in (S.RESERVED, S.WRAP_UP):
            agent.linkedid = linkedid or agent.linkedid
            agent.queue = queue or agent.queue
        else:
            agent.linkedid = agent.queue = None
        if target is S.WRAP_UP and previous in ON_CALL:
            agent.calls_handled += 1
        self._cancel_wrapup_timer(agent.id)
        agent.wrapup_until = None
        if target is S.WRAP_UP:
            seconds = self.wrapup_seconds_for(agent)
            agent.wrapup_until = datetime.fromtimestamp(now.timestamp() + seconds, timezone.utc)
            self._start_wrapup_timer(agent, seconds)
        agent.state, agent.reason, agent.since = target, reason, now
        row = AgentStateLog(agent_id=agent.id, at=now, previous_state=previous.value, state=target.value,
                            reason=reason, request=request, linkedid=linkedid or agent.linkedid,
                            queue=agent.queue, by=by)
        log.info("agent %s: %s -> %s%s (%s by %s)", agent.id, previous.value, target.value,
                 f" [{reason}]" if reason else "", request, by)
        # listeners (the ACD, desktops) learn the change at the moment it happens, not after the write
        change = {"previous": previous.value, "request": request, "by": by}
        for listener in list(self.listeners):
            try:
                result = listener(agent, change)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("agent state listener failed")
        async with self.sessions() as session:
            session.add(row)
            await session.commit()

    # -- wrap-up timers --------------------------------------------------------------------------
    def _start_wrapup_timer(self, agent: Agent, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._wrapup_timers[agent.id] = loop.call_later(max(0.0, seconds), self._wrapup_expired, agent.id)

    def _cancel_wrapup_timer(self, agent_id: str) -> None:
        handle = self._wrapup_timers.pop(agent_id, None)
        if handle is not None:
            handle.cancel()

    def _wrapup_expired(self, agent_id: str) -> None:
        self._wrapup_timers.pop(agent_id, None)
        self._spawn(self._end_wrapup_by_timer(agent_id))

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _end_wrapup_by_timer(self, agent_id: str) -> None:
        try:
            if self.agents[agent_id].state is S.WRAP_UP:
                await self.transition(agent_id, "end-wrap-up", by="timer")
        except CtiError as exc:
            log.info("wrap-up timer for agent %s: %s", agent_id, exc)

    async def close(self) -> None:
        for agent_id in list(self._wrapup_timers):
            self._cancel_wrapup_timer(agent_id)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- recovery --------------------------------------------------------------------------------
    async def recover(self) -> None:
        """Load each agent's last stored state (after a restart). Call ``reconcile`` after the PBX resync."""
        latest = (select(AgentStateLog.agent_id, func.max(AgentStateLog.id).label("last_id"))
                  .group_by(AgentStateLog.agent_id).subquery())
        async with self.sessions() as session:
            rows = (await session.execute(
                select(AgentStateLog).join(latest, AgentStateLog.id == latest.c.last_id))).scalars().all()
        for row in rows:
            agent = self.agents.get(row.agent_id)
            if agent is None:
                continue
            agent.state, agent.reason, agent.since = AgentState(row.state), row.reason, as_utc(row.at)
            agent.linkedid, agent.queue = row.linkedid if AgentState(row.state) in ON_CALL | {S.WRAP_UP} else None, \
                row.queue
            if agent.state is S.WRAP_UP:
                seconds = self.wrapup_seconds_for(agent)
                agent.wrapup_until = datetime.fromtimestamp(agent.since.timestamp() + seconds, timezone.utc)
                remaining = agent.wrapup_until.timestamp() - self.clock().timestamp()
                self._start_wrapup_timer(agent, remaining)

    async def history(self, agent_id: str, limit: int = 100) -> list[dict[str, Any]]:
        self.get(agent_id)
        async with self.sessions() as session:
            rows = (await session.execute(select(AgentStateLog).where(AgentStateLog.agent_id == agent_id)
                                          .order_by(AgentStateLog.id.desc()).limit(limit))).scalars().all()
        return [{"at": as_utc(r.at).isoformat(), "from": r.previous_state, "to": r.state, "reason": r.reason,
                 "request": r.request, "linkedid": r.linkedid, "by": r.by} for r in reversed(rows)]
