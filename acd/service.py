"""The ACD service: the engine on the asyncio loop.

All engine events are applied from the loop's thread without awaiting in between, so concurrent
callers, agent-state changes and timers are serialised for free. ``run()`` is the one background loop
(timers and the queue-log writer) and belongs to the caller's TaskGroup. Each live caller waiting in a
queue holds a ``Ticket``: the engine's decisions about that call arrive on it (an offer to dial, or the
end of the wait).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable

from acd import actions as act
from acd.config import AgentProfile, QueueSettings, from_settings
from acd.engine import Engine
from acd.queue_log import QueueLogEntry, QueueLogStore
from acd.state import CallRequest, Outcome
from acd.stats import StatsCollector

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from hotline.config import Settings

log = logging.getLogger(__name__)

CallbackDialer = Callable[["AcdService", act.Offer], Awaitable[None]]


@dataclass
class Ticket:
    call_id: str
    queue: str
    inbox: asyncio.Queue = field(default_factory=asyncio.Queue)
    outcome: Outcome | None = None          # set when the engine ended the wait (overflow, exit, callback)


class AcdService:
    def __init__(self, queues: Iterable[QueueSettings], agents: Iterable[AgentProfile], *,
                 clock: Callable[[], float] = time.time, rng: random.Random | None = None,
                 log_store: QueueLogStore | None = None, time_zone: str = "Asia/Shanghai",
                 callback_dialer: CallbackDialer | None = None,
                 on_autopause: Callable[[str, str], Any] | None = None) -> None:
        self.clock = clock
        self.engine = Engine(queues, agents, rng=rng, start=clock())
        self.stats = StatsCollector(self.engine.queues, time_zone)
        self.engine.log.append(self.stats.observe)
        self.log_store = log_store
        if log_store is not None:
            self.engine.log.append(log_store.append)
        self._callback_dialer: CallbackDialer | None = None
        self.callback_dialer = callback_dialer
        self.on_autopause = on_autopause
        # the agent directory that times wrap-up (CTI) is told when an ACD call's wrap-up starts
        self.on_wrapup_started: Callable[[str], Any] | None = None
        self.tickets: dict[str, Ticket] = {}
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self.log_listeners: list[Callable[[QueueLogEntry], None]] = []
        self.engine.log.append(self._tell_listeners)

    @property
    def callback_dialer(self) -> CallbackDialer | None:
        return self._callback_dialer

    @callback_dialer.setter
    def callback_dialer(self, dialer: CallbackDialer | None) -> None:
        self._callback_dialer = dialer
        self.engine.keep_callbacks = dialer is not None

    # ------------------------------------------------------------ plumbing
    def _tell_listeners(self, item: QueueLogEntry) -> None:
        for listener in self.log_listeners:
            listener(item)

    def _apply(self, event: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        result = event(self.clock(), *args, **kw)
        self._drain()
        return result

    def _drain(self) -> None:
        eng = self.engine
        while eng.actions:
            a = eng.actions.popleft()
            if isinstance(a, act.Offer):
                ticket = self.tickets.get(a.call_id)
                if a.callback:
                    self._spawn(self._call_back(a))
                elif ticket is not None:
                    ticket.inbox.put_nowait(a)
                else:   # the caller's session is gone: nobody can dial, so the offer fails at once
                    log.warning("offer for call %s without a waiting session", a.call_id)
                    eng.caller_hung_up(self.clock(), a.call_id)
            elif isinstance(a, (act.CallerReleased, act.CallMoved)):
                ticket = self.tickets.get(a.call_id)
                if ticket is not None:
                    if isinstance(a, act.CallerReleased):
                        ticket.outcome = a.outcome
                    else:
                        ticket.queue = a.queue
                    ticket.inbox.put_nowait(a)
            elif isinstance(a, act.CallFinished):
                ticket = self.tickets.get(a.call_id)
                if ticket is not None and ticket.outcome is None:
                    ticket.outcome = a.outcome
            elif isinstance(a, act.AgentAutoPaused):
                self._tell(self.on_autopause, "autopause", a.agent_id, a.reason)
            elif isinstance(a, act.WrapupStarted):
                self._tell(self.on_wrapup_started, "wrap-up start", a.agent_id)
            elif isinstance(a, act.WrapupEnded):
                self.stats.wrapup(a.queue, a.seconds, self.engine.now)
        self._wake.set()

    @staticmethod
    def _tell(hook: Callable[..., Any] | None, what: str, agent_id: str, *args: Any) -> None:
        if hook is not None:
            try:
                hook(agent_id, *args)
            except Exception:
                log.exception("%s hook failed for agent %s", what, agent_id)

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _call_back(self, offer: act.Offer) -> None:
        if self.callback_dialer is None:
            log.error("callback %s offered to %s but no callback dialer is configured", offer.call_id, offer.agent_id)
            self.offer_failed(offer.call_id, offer.agent_id, "chanunavail", offer.offer_id)
            return
        try:
            await self.callback_dialer(self, offer)
        except Exception:
            log.exception("callback %s via agent %s failed", offer.call_id, offer.agent_id)
        finally:   # whatever the dialer did not report is settled here, so the agent is never stuck
            call = self.engine.calls.get(offer.call_id)
            if call is not None and call.agent_id == offer.agent_id and call.offer_id == offer.offer_id:
                if call.state.value == "ringing":
                    self.offer_failed(offer.call_id, offer.agent_id, "chanunavail", offer.offer_id)
                elif call.state.value == "connected":
                    self.call_ended(offer.call_id, "agent")

    async def run(self) -> None:
        """Timers (max wait, wrap-up) and the queue-log writer. Run it in the service's TaskGroup."""
        try:
            async with asyncio.TaskGroup() as tg:
                if self.log_store is not None:
                    tg.create_task(self.log_store.run())
                await self._timer_loop()
        finally:
            for task in list(self._tasks):       # callbacks in progress end with the service
                task.cancel()

    async def _timer_loop(self) -> None:
        while True:
            self._wake.clear()
            deadline = self.engine.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - self.clock())
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass
            self.engine.advance(self.clock())
            self._drain()

    # ------------------------------------------------------------ calls (used by the handoff)
    def join(self, request: CallRequest) -> Ticket:
        ticket = Ticket(request.call_id, request.queue)
        self.tickets[request.call_id] = ticket
        self._apply(self.engine.enqueue, request)
        return ticket

    def forget(self, call_id: str) -> None:
        self.tickets.pop(call_id, None)

    def offer_answered(self, call_id: str, agent_id: str, offer_id: int | None = None, at: float | None = None) -> bool:
        if at is not None:
            result = self.engine.offer_answered(at, call_id, agent_id, offer_id)
            self._drain()
            return result
        return self._apply(self.engine.offer_answered, call_id, agent_id, offer_id)

    def agent_answered(self, linkedid: str, agent_id: str) -> bool:
        """CTI saw the agent's leg answer (DialEnd ANSWER) for call ``linkedid``: the offer ringing that agent
        for that call is connected now, while the conversation runs (the caller's Dial only returns at its
        end). False when the agent rings for no ACD call of that linkedid (the report is then ignored)."""
        agent = self.engine.agents.get(agent_id)
        call_id = agent.call_id if agent is not None else None
        if call_id is None or call_id.split("#", 1)[0] != linkedid:
            return False
        return self.offer_answered(call_id, agent_id)

    def offer_failed(self, call_id: str, agent_id: str, reason: str = "noanswer", offer_id: int | None = None) -> bool:
        return self._apply(self.engine.offer_failed, call_id, agent_id, reason, offer_id)

    def caller_hung_up(self, call_id: str) -> bool:
        return self._apply(self.engine.caller_hung_up, call_id)

    def call_ended(self, call_id: str, by: str = "agent") -> bool:
        return self._apply(self.engine.call_ended, call_id, by)

    def transferred(self, call_id: str, extension: str, context: str = "") -> bool:
        return self._apply(self.engine.transferred, call_id, extension, context)

    def callback_failed(self, call_id: str) -> bool:
        return self._apply(self.engine.callback_failed, call_id)

    def leave_with_key(self, call_id: str, key: str) -> bool:
        return self._apply(self.engine.leave_with_key, call_id, key)

    def request_callback(self, call_id: str, number: str | None = None, key: str = "") -> bool:
        return self._apply(self.engine.request_callback, call_id, number, key)

    def position(self, call_id: str) -> int:
        return self.engine.position(call_id)

    def estimated_wait(self, call_id: str) -> float:
        return self.engine.estimated_wait(call_id)

    # ------------------------------------------------------------ agents (fed by the AgentDirectory)
    def agent_ready(self, agent_id: str) -> None:
        self._apply(self.engine.agent_ready, agent_id)

    def agent_not_ready(self, agent_id: str, reason: str = "") -> None:
        self._apply(self.engine.agent_not_ready, agent_id, reason)

    def agent_logged_out(self, agent_id: str) -> None:
        self._apply(self.engine.agent_logged_out, agent_id)

    def wrapup_ended(self, agent_id: str) -> bool:
        return self._apply(self.engine.wrapup_ended, agent_id)

    # ------------------------------------------------------------ figures
    def queue_names(self) -> list[str]:
        return list(self.engine.queues)

    def queue_stats(self, name: str) -> dict:
        """The live figures of one queue (the one source of ``queues/{name}/stats``, HTTP and the supervisor desk)."""
        if name not in self.engine.queues:
            raise KeyError(name)
        now = self.clock()
        self.engine.advance(now)
        self._drain()
        q = self.engine.queues[name]
        return {"queue": name, "time": round(now, 3), "strategy": q.strategy,
                **self.engine.snapshot(name), **self.stats.figures(name, now)}

    def overview(self) -> list[dict]:
        out = []
        for name, q in self.engine.queues.items():
            out.append({"name": name, "strategy": q.strategy, "skills": dict(q.skills),
                        "members": list(self.engine.members[name]), **self.engine.snapshot(name)})
        return out

    async def restore_today(self) -> int:
        """After a restart: today's figures from the stored queue log (wrap-up times are not stored)."""
        if self.log_store is None:
            return 0
        now = self.clock()
        day = self.stats.day(now)
        start = dt.datetime.combine(day, dt.time(0), self.stats.tz).timestamp()
        entries = await self.log_store.query(since=start, until=now + 1)
        self.stats.replay(entries)
        return len(entries)


def build_service(settings: "Settings", *, sessions: "async_sessionmaker[AsyncSession] | None" = None,
                  clock: Callable[[], float] = time.time, rng: random.Random | None = None,
                  callback_dialer: CallbackDialer | None = None) -> AcdService:
    """The ACD from hotline settings (queues.yaml + agents.yaml); queue log stored when ``sessions`` is given."""
    queues, agents = from_settings(settings)
    store = QueueLogStore(sessions) if sessions is not None else None
    return AcdService(queues, agents, clock=clock, rng=rng, log_store=store,
                      time_zone=settings.service.time_zone, callback_dialer=callback_dialer)
