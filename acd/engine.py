"""The queue engine: a deterministic state machine driven by events.

Every public method is one event, takes the event time ``now`` (epoch seconds) and runs to completion
without awaiting, so events are applied one at a time in the order they arrive (the asyncio service
calls it from one task). What must happen outside — ring an agent, release a caller, pause an agent —
is appended to ``actions`` and drained by the caller. Queue log entries go to the ``log`` sinks.

The two decisions, and the rules they follow (``acd.linear_scan`` states them as a plain walk over every
agent / every waiting call; the randomized test checks the engine's choices against it):

- a caller arrives (or a ring fails and the call is back in its place): among the queue's ready members the
  strategy accepts for this call, the strategy's first choice that has not missed this call yet; if every
  one of them missed it, the strategy's first choice again (app_queue's retry).
- an agent becomes ready (not-ready → ready, end of wrap-up, a ring it did not answer): among the calls
  waiting in its queues that it may take (the queue strategy's ``accepts``), the first by priority
  (highest) then arrival that it has not missed yet; if it missed all of them, the first one.
  Otherwise it joins its queues' ready pools.

Neither decision walks the agents or the callers: ready agents sit in per-queue (per-skill) pools sorted
by the strategy (``acd.strategies.pools``), waiting calls in per-queue order with a per-class heap
(``acd.waiting``); entries leave lazily (an agent's ready stamp, a call's key), so a decision touches a few
entries at the front, O(log n) at most.

Invariants (``check_invariants``): an agent holds at most one call and a call at most one agent, and
both sides agree; every active call is in exactly one place (waiting in its queue, ringing, connected);
a waiting call never has a ready agent that may take it (so nothing waits while someone could answer);
ready agents are exactly the agents in the strategies' pools; the indexes are well formed.
"""
from __future__ import annotations

import heapq
import math
from functools import partial
import random
from collections import deque
from typing import Callable, Iterable

from acd import actions as act
from acd.config import AgentProfile, QueueSettings, check_queues, queue_members
from acd.queue_log import QueueLogEntry, entry
from acd.state import ON_CALL_REASON, OUTBOUND_URL, AgentRecord, AgentState, CallRecord, CallRequest, CallState, Outcome
from acd.strategies import Strategy, StrategyContext, strategy_class
from acd.waiting import ClassHeap, WaitingCalls, wait_key

MAX_OVERFLOW_HOPS = 3
IN_CALL = (AgentState.RINGING, AgentState.BUSY, AgentState.WRAPUP)


class AcdError(Exception):
    pass


class UnknownAgent(AcdError):
    def __init__(self, agent_id: str) -> None:
        super().__init__(f"unknown agent ID {agent_id!r}")


class UnknownQueue(AcdError):
    def __init__(self, queue: str) -> None:
        super().__init__(f"unknown queue {queue!r}")


class DuplicateCall(AcdError):
    def __init__(self, call_id: str) -> None:
        super().__init__(f"call {call_id!r} is already queued")


def _secs(value: float) -> int:
    return max(0, int(round(value)))


class Engine:
    def __init__(self, queues: Iterable[QueueSettings], agents: Iterable[AgentProfile], *,
                 rng: random.Random | None = None, start: float = 0.0, own_wrapup_timer: bool = True) -> None:
        # False when the agent directory (CTI's state machine) times wrap-up: an agent then leaves wrap-up only
        # when the directory says ready / not-ready / logged-out, never by a timer of the engine
        self.own_wrapup_timer = own_wrapup_timer
        self.queues: dict[str, QueueSettings] = {q.name: q for q in check_queues(queues)}
        self.now = start
        self.rng = rng or random.Random(0)
        self.actions: deque = deque()
        self.log: list[Callable[[QueueLogEntry], None]] = []
        self.agents: dict[str, AgentRecord] = {}
        for i, profile in enumerate(agents):
            self.agents[profile.id] = AgentRecord(profile=profile, order=i)
        self.members: dict[str, list[str]] = {}
        for q in self.queues.values():
            self.members[q.name] = queue_members(q, [a.profile for a in self.agents.values()])
        served: dict[str, list[str]] = {aid: [] for aid in self.agents}
        for qname, ids in self.members.items():
            for aid in ids:
                served[aid].append(qname)
        for a in self.agents.values():
            a.queues = tuple(served[a.id])
        self._last_served: dict[str, tuple[str, float]] = {}
        ctx = StrategyContext(rng=self.rng, last_served=self._last_served.get, now=lambda: self.now)
        self.strategies = {
            q.name: strategy_class(q.strategy)(q, {aid: i for i, aid in enumerate(self.members[q.name])}, ctx)
            for q in self.queues.values()}
        self.waiting: dict[str, WaitingCalls] = {q: WaitingCalls(s) for q, s in self.strategies.items()}
        # strategies that must hear ``remove`` when an agent stops being ready (lazy ones only need the stamp)
        self._eager = {aid: tuple(self.strategies[q] for q in a.queues if not self.strategies[q].lazy)
                       for aid, a in self.agents.items()}
        self._indexed = {q: w.indexed for q, w in self.waiting.items()}
        # queues whose strategy remembers offers (round robin's pointer)
        self._remembering = {q for q, s in self.strategies.items() if type(s).offered is not Strategy.offered}
        # where each agent's callers wait: the class heaps it may take from (kept up to date as heaps
        # appear), and the queues of filtering strategies, walked in order
        self._heaps: dict[str, list[ClassHeap]] = {aid: [] for aid in self.agents}
        self._walked = {aid: [self.waiting[q] for q in a.queues if self.waiting[q].filtering]
                        for aid, a in self.agents.items()}
        for qname, w in self.waiting.items():
            w.new_class = partial(self._new_class, qname)
        for qname, ids in self.members.items():      # each member's call classes, worked out once
            if self._indexed[qname]:
                for aid in ids:
                    self.strategies[qname].classes_for(self.agents[aid])
        self.calls: dict[str, CallRecord] = {}
        self._logged_in: dict[str, int] = {q: 0 for q in self.queues}
        self._timers: list[tuple[float, int, str, str, int]] = []
        self._timer_seq = 0
        self._seq = 0
        self._offer_seq = 0
        self._aht: dict[str, float | None] = {q: None for q in self.queues}
        self.finished: dict[Outcome, int] = {o: 0 for o in Outcome}
        # without a way to call back (no dialer), a callback request ends the entry instead of keeping it
        self.keep_callbacks = True

    # ---------------------------------------------------------------- helpers
    def _emit(self, time: float, callid, queue, agent, event, *data) -> None:
        if self.log:                                 # nobody listening: no entry to build
            item = entry(time, callid, queue, agent, event, *data)
            for sink in self.log:
                sink(item)

    def _at(self, now: float) -> float:
        """The engine clock only moves forward; an event reported late (an answer learnt when Dial
        returned) keeps its own time for the queue log and the figures."""
        if now > self.now:
            self.now = now
        return now

    def _timer(self, when: float, kind: str, key: str, token: int) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (when, self._timer_seq, kind, key, token))

    def agent(self, agent_id: str) -> AgentRecord:
        try:
            return self.agents[agent_id]
        except KeyError:
            raise UnknownAgent(agent_id) from None

    def position(self, call_id: str) -> int:
        """1-based place among the callers waiting in the call's queue (0 when not waiting)."""
        call = self.calls.get(call_id)
        if call is None or call.state is not CallState.WAITING:
            return 0
        return self.waiting[call.queue].position(call)

    def _live_position(self, call: CallRecord) -> int:
        return self.waiting[call.queue].position(call) if call.state is CallState.WAITING else 0

    def staffed(self, queue: str) -> int:
        return sum(1 for aid in self.members[queue]
                   if self.agents[aid].state in (AgentState.READY, *IN_CALL))

    def estimated_wait(self, call_id: str) -> float:
        """Seconds until an agent is likely free: callers ahead (and this one) ÷ staffed agents × AHT."""
        call = self.calls.get(call_id)
        if call is None:
            return 0.0
        q = self.queues[call.queue]
        aht = self._aht[call.queue] or q.default_handle_s
        position = max(self.position(call_id), 1)
        return math.ceil(position / max(self.staffed(call.queue), 1)) * aht

    def _priority(self, q: QueueSettings, req: CallRequest) -> int:
        p = max(req.priority, q.priorities.default)
        if req.key_account:
            p = max(p, q.priorities.key_account)
        if req.vip_level > 0:
            p = max(p, q.priorities.vip + req.vip_level - 1)
        return p

    # ---------------------------------------------------------------- calls
    def enqueue(self, now: float, request: CallRequest) -> CallRecord:
        """A caller arrives from the IVR. The returned record's ``outcome`` is set if it could not join."""
        if now > self.now:
            self.now = now
        if request.call_id in self.calls:
            raise DuplicateCall(request.call_id)
        q = self.queues.get(request.queue)
        if q is None:
            raise UnknownQueue(request.queue)
        self._seq += 1
        priority = self._priority(q, request)
        call = CallRecord(request=request, queue=q.name, priority=priority, seq=self._seq,
                          entered_at=now, orig_position=0, wait_key=wait_key(priority, self._seq),
                          callback=request.outbound)
        self.calls[call.id] = call
        self._join(call, q, now)
        return call

    def _join(self, call: CallRecord, q: QueueSettings, now: float) -> None:
        call.queue = q.name
        call.entered_at = now
        call.state = CallState.WAITING
        call.tried.clear()
        call.route_class = self.strategies[q.name].call_class(call) if self._indexed[q.name] else None
        reason = None
        if not q.join_when_empty and self._logged_in[q.name] == 0:
            reason = "joinempty"
        elif q.max_length is not None and len(self.waiting[q.name]) >= q.max_length:
            reason = "full"
        if reason:
            self._overflow(call, now, reason, entered=False)
            return
        waiting = self.waiting[q.name]
        call.orig_position = waiting.position(call)          # callers ahead + 1 (the call is not filed yet)
        self._emit(now, call.id, q.name, None, "ENTERQUEUE", OUTBOUND_URL if call.request.outbound else "",
                   call.request.caller, call.orig_position)
        call.timer_token += 1
        if q.max_wait_s is not None and not call.request.outbound:
            self._timer(now + q.max_wait_s, "maxwait", call.id, call.timer_token)
        # decision; a call that rings at once is never filed (no ready agent may take anyone waiting)
        agent = self._choose_agent(call)
        if agent is None:
            waiting.add(call)
        else:
            self._offer(call, agent, now, filed=False)

    def _choose_agent(self, call: CallRecord) -> AgentRecord | None:
        """Decision: the agent for a waiting caller (see the module docstring for the rule)."""
        return self.strategies[call.queue].pick(call, call.tried)

    def _dispatch_call(self, call: CallRecord, now: float) -> None:
        agent = self._choose_agent(call)
        if agent is not None:
            self._offer(call, agent, now)

    def _new_class(self, queue: str, cls, heap: ClassHeap) -> None:
        """A class heap appeared in a queue: it becomes a source of every member that may take its calls."""
        strat, indexed = self.strategies[queue], self._indexed[queue]
        for aid in self.members[queue]:
            if not indexed or strat.accepts_class(self.agents[aid], cls):
                self._heaps[aid].append(heap)

    def _dispatch_agent(self, agent: AgentRecord, now: float) -> None:
        """A ready agent takes a waiting caller, else joins its queues' pools."""
        call = self._choose_call(agent)
        if call is not None:
            self._offer(call, agent, now)
            return
        agent.ready_stamp += 1
        strategies = self.strategies
        for qname in agent.queues:
            strategies[qname].add(agent)

    def _choose_call(self, agent: AgentRecord) -> CallRecord | None:
        """Decision: the waiting caller for an agent that becomes ready (see the module docstring)."""
        agent_id = agent.id
        best = fallback = None                 # the best call it has not missed / the best call at all
        for ch in self._heaps[agent_id]:
            heap = ch.heap
            if not heap:
                continue
            key = heap[0]
            call = ch.by_key.get(key)
            if call is None:                   # stale top: drop what left
                head = ch.head()
                if head is None:
                    continue
                key, call = head, ch.by_key[head]
            if fallback is None or key < fallback.wait_key:
                fallback = call
            if best is not None and key > best.wait_key:
                continue
            if agent_id in call.tried:
                call = ch.first_untried(agent_id, best.wait_key if best is not None else None)
                if call is None:
                    continue
            best = call
        for w in self._walked[agent_id]:
            best, fallback = w.best_in_order(agent, best, fallback)
        return best or fallback

    def _unpool(self, agent: AgentRecord) -> None:
        """The agent stops being ready: every lazy pool entry of it goes stale at once."""
        agent.ready_stamp += 1
        for strat in self._eager[agent.id]:
            strat.remove(agent)

    def _offer(self, call: CallRecord, agent: AgentRecord, now: float, filed: bool = True) -> None:
        if filed:
            self.waiting[call.queue].remove(call)
        self._unpool(agent)
        self._offer_seq += 1
        agent.state = AgentState.RINGING
        agent.call_id = call.id
        call.state = CallState.RINGING
        call.agent_id = agent.id
        call.offer_id = self._offer_seq
        call.ring_started = now
        if call.queue in self._remembering:
            self.strategies[call.queue].offered(agent, call)
        self.actions.append(act.Offer(call.id, agent.id, agent.profile.endpoint, self.queues[call.queue].ring_timeout_s,
                                      call.offer_id, call.callback, call.request.callback_number or ""))

    def _ringing(self, call_id: str, agent_id: str, offer_id: int | None) -> CallRecord | None:
        call = self.calls.get(call_id)
        if (call is None or call.state is not CallState.RINGING or call.agent_id != agent_id
                or (offer_id is not None and call.offer_id != offer_id)):
            return None
        return call

    def offer_answered(self, now: float, call_id: str, agent_id: str, offer_id: int | None = None) -> bool:
        """The agent picked up. False if this offer is no longer current (stale report)."""
        now = self._at(now)
        self.agent(agent_id)
        call = self._ringing(call_id, agent_id, offer_id)
        if call is None:
            return False
        agent = self.agents[agent_id]
        call.state = CallState.CONNECTED
        call.answered_at = now
        call.timer_token += 1                        # max wait no longer applies
        agent.state = AgentState.BUSY
        agent.misses = 0
        if call.request.caller:
            self._last_served[call.request.caller] = (agent.id, now)
        self._emit(now, call.id, call.queue, agent.id, "CONNECT", _secs(now - call.entered_at), "",
                   _secs(now - call.ring_started))
        return True

    def offer_failed(self, now: float, call_id: str, agent_id: str, reason: str = "noanswer",
                     offer_id: int | None = None) -> bool:
        """No answer, busy, rejected or unreachable: the call goes back to its place, the next agent rings."""
        now = self._at(now)
        self.agent(agent_id)
        call = self._ringing(call_id, agent_id, offer_id)
        if call is None:
            return False
        agent = self.agents[agent_id]
        q = self.queues[call.queue]
        self._emit(now, call.id, call.queue, agent.id, "RINGNOANSWER", int((now - call.ring_started) * 1000),
                   reason.upper())
        agent.call_id = None
        agent.misses += 1
        call.tried.add(agent.id)
        call.state = CallState.WAITING
        call.agent_id = None
        self.waiting[call.queue].add(call)
        if call.timed_out:
            self._overflow(call, now, "timeout")
        else:
            self._dispatch_call(call, now)
        if q.max_no_answer and agent.misses >= q.max_no_answer and agent.after_call in (None, AgentState.READY):
            agent.after_call = None
            agent.misses = 0
            self._set_not_ready(agent, now, "ring-no-answer")
            self.actions.append(act.AgentAutoPaused(agent.id, "ring-no-answer"))
        else:
            self._free(agent, now, keep_idle=True)
        return True

    def caller_hung_up(self, now: float, call_id: str) -> bool:
        now = self._at(now)
        call = self.calls.get(call_id)
        if call is None:
            return False
        if call.state is CallState.CONNECTED:
            return self.call_ended(now, call_id, by="caller")
        if call.callback:
            return False                             # nobody is on the line of a callback entry
        if call.state is CallState.RINGING:
            agent = self._holder(call)
            self._emit(now, call.id, call.queue, agent.id, "RINGCANCELED", int((now - call.ring_started) * 1000))
            agent.call_id = None
            call.agent_id = None
            position = 1
            self._finish(call, Outcome.ABANDONED)
            self._emit(now, call.id, call.queue, None, "ABANDON", position, call.orig_position,
                       _secs(now - call.entered_at))
            self._free(agent, now, keep_idle=True)
            return True
        position = self._live_position(call)
        self.waiting[call.queue].remove(call)
        self._finish(call, Outcome.ABANDONED)
        self._emit(now, call.id, call.queue, None, "ABANDON", position, call.orig_position,
                   _secs(now - call.entered_at))
        return True

    def call_ended(self, now: float, call_id: str, by: str = "agent") -> bool:
        """A connected conversation ended (``by`` = caller | agent): COMPLETE*, then the agent's wrap-up."""
        now = self._at(now)
        call = self.calls.get(call_id)
        if call is None or call.state is not CallState.CONNECTED:
            return False
        event = "COMPLETECALLER" if by == "caller" else "COMPLETEAGENT"
        self._emit(now, call.id, call.queue, call.agent_id, event, _secs(call.answered_at - call.entered_at),
                   _secs(now - call.answered_at), call.orig_position)
        self._end_connected(call, now)
        return True

    def transferred(self, now: float, call_id: str, extension: str, context: str = "") -> bool:
        now = self._at(now)
        call = self.calls.get(call_id)
        if call is None or call.state is not CallState.CONNECTED:
            return False
        self._emit(now, call.id, call.queue, call.agent_id, "TRANSFER", extension, context,
                   _secs(call.answered_at - call.entered_at), _secs(now - call.answered_at), call.orig_position)
        self._end_connected(call, now)
        return True

    def callback_failed(self, now: float, call_id: str) -> bool:
        """The agent answered a callback but the customer did not: the entry ends, the agent wraps up."""
        now = self._at(now)
        call = self.calls.get(call_id)
        if call is None or call.state is not CallState.CONNECTED or not call.callback:
            return False
        self._emit(now, call.id, call.queue, call.agent_id, "CALLBACKFAILED", call.request.callback_number or "")
        agent = self._holder(call)
        agent.call_id = None
        self._finish(call, Outcome.CALLBACK)
        self._start_wrapup(agent, call.queue, now)
        return True

    def _holder(self, call: CallRecord) -> AgentRecord:
        """The agent a ringing or connected call is with."""
        assert call.agent_id is not None             # set while the call is RINGING or CONNECTED
        return self.agents[call.agent_id]

    def _end_connected(self, call: CallRecord, now: float) -> None:
        agent = self._holder(call)
        agent.calls_taken += 1
        agent.talk_time += now - call.answered_at
        agent.call_id = None
        self._finish(call, Outcome.ANSWERED)
        self._start_wrapup(agent, call.queue, now, talk=now - call.answered_at)

    def _start_wrapup(self, agent: AgentRecord, queue: str, now: float, talk: float = 0.0) -> None:
        agent.state = AgentState.WRAPUP
        agent.wrapup_token += 1
        agent.wrapup_queue = queue
        agent.wrapup_started = now
        agent.wrapup_talk = talk
        if not self.own_wrapup_timer:          # the directory ends it (it may have already: see WrapupStarted)
            self.actions.append(act.WrapupStarted(agent.id, queue))
            return
        wrapup = self.queues[queue].wrapup_s
        if wrapup <= 0:
            self._end_wrapup(agent, now)
        else:
            self._timer(now + wrapup, "wrapup", agent.id, agent.wrapup_token)

    def leave_with_key(self, now: float, call_id: str, key: str, outcome: Outcome = Outcome.VOICEMAIL) -> bool:
        """The waiting caller pressed a key to leave (e.g. for voicemail)."""
        now = self._at(now)
        call = self.calls.get(call_id)
        if call is None or call.state is not CallState.WAITING or call.callback:
            return False
        position = self._live_position(call)
        self.waiting[call.queue].remove(call)
        self._finish(call, outcome)
        self._emit(now, call.id, call.queue, None, "EXITWITHKEY", key, position, call.orig_position,
                   _secs(now - call.entered_at))
        return True

    def request_callback(self, now: float, call_id: str, number: str | None = None, key: str = "") -> bool:
        """The waiting caller asks to be called back: the entry keeps its place, the caller hangs up.
        (Without ``keep_callbacks`` the caller leaves with the key: the IVR takes the request.)"""
        now = self._at(now)
        call = self.calls.get(call_id)
        if call is None or call.state is not CallState.WAITING or call.callback:
            return False
        if not self.keep_callbacks:
            return self.leave_with_key(now, call_id, key, Outcome.CALLBACK)
        self._to_callback(call, now, number)
        return True

    def _to_callback(self, call: CallRecord, now: float, number: str | None) -> None:
        call.callback = True
        call.request.callback_number = number or call.request.callback_number or call.request.caller
        call.timer_token += 1                        # a callback waits for an agent, not for a deadline
        self._emit(now, call.id, call.queue, None, "CALLBACK", call.request.callback_number,
                   self._live_position(call), _secs(now - call.entered_at))

    def _finish(self, call: CallRecord, outcome: Outcome) -> None:
        call.state = CallState.DONE
        call.outcome = outcome
        call.timer_token += 1
        del self.calls[call.id]
        self.finished[outcome] += 1
        self.actions.append(act.CallFinished(call.id, outcome))

    def _overflow(self, call: CallRecord, now: float, reason: str, entered: bool = True) -> None:
        q = self.queues[call.queue]
        target = q.overflow
        wait = _secs(now - call.entered_at)
        if entered:
            position = self._live_position(call)
            self.waiting[call.queue].remove(call)
            event = "EXITEMPTY" if reason == "empty" else "EXITWITHTIMEOUT"
            self._emit(now, call.id, q.name, None, event, position, call.orig_position, wait)
        call.timed_out = False
        self._emit(now, call.id, q.name, None, "OVERFLOW", target.kind, target.queue or "", reason, wait)
        if target.kind == "queue" and target.queue is not None and call.hops < MAX_OVERFLOW_HOPS:
            call.hops += 1
            self.actions.append(act.CallMoved(call.id, target.queue))
            self._join(call, self.queues[target.queue], now)
        elif target.kind == "callback" and call.request.caller and self.keep_callbacks:
            self.waiting[call.queue].add(call)       # back to its place, now as a callback
            if not entered:
                call.orig_position = self._live_position(call)
                self._emit(now, call.id, q.name, None, "ENTERQUEUE", "", call.request.caller, call.orig_position)
            self._to_callback(call, now, None)
            self.actions.append(act.CallerReleased(call.id, Outcome.CALLBACK))
            self._dispatch_call(call, now)
        else:
            outcome = {"voicemail": Outcome.VOICEMAIL, "callback": Outcome.CALLBACK}.get(target.kind, Outcome.OVERFLOW)
            self.actions.append(act.CallerReleased(call.id, outcome, target.queue))
            self._finish(call, outcome)

    # ---------------------------------------------------------------- agents
    def _after_call(self, agent: AgentRecord, now: float, state: AgentState, reason: str = "") -> bool:
        """A state the directory asks for while the agent rings, talks or wraps up applies when that is over
        (True: deferred). When the directory times wrap-up itself, its word during wrap-up ends it now."""
        if agent.state not in IN_CALL:
            return False
        agent.after_call, agent.after_reason = state, reason
        if agent.state is AgentState.WRAPUP and not self.own_wrapup_timer:
            self._end_wrapup(agent, now)
        return True

    def agent_ready(self, now: float, agent_id: str) -> None:
        """CTI: the agent is ready (logged in and available). While in a call it applies afterwards."""
        now = self._at(now)
        agent = self.agents.get(agent_id) or self.agent(agent_id)
        if agent.state is AgentState.READY or self._after_call(agent, now, AgentState.READY):
            return
        if agent.state is AgentState.NOT_READY:
            self._emit(now, None, "NONE", agent.id, "UNPAUSE", agent.reason)
        else:
            self._count_login(agent, +1)
        agent.state, agent.reason = AgentState.READY, ""
        agent.idle_since = now
        agent.misses = 0
        self._dispatch_agent(agent, now)

    def agent_not_ready(self, now: float, agent_id: str, reason: str = "") -> None:
        now = self._at(now)
        agent = self.agent(agent_id)
        if self._after_call(agent, now, AgentState.NOT_READY, reason):
            return
        if agent.state is AgentState.LOGGED_OUT:
            self._count_login(agent, +1)
            agent.state, agent.reason = AgentState.NOT_READY, reason
            self._emit(now, None, "NONE", agent.id, "PAUSE", reason)
            return
        self._set_not_ready(agent, now, reason)

    def _set_not_ready(self, agent: AgentRecord, now: float, reason: str) -> None:
        if agent.state is AgentState.READY:
            self._unpool(agent)
        if agent.state is not AgentState.NOT_READY or agent.reason != reason:
            self._emit(now, None, "NONE", agent.id, "PAUSE", reason)
        agent.state, agent.reason = AgentState.NOT_READY, reason
        agent.call_id = None

    def agent_logged_out(self, now: float, agent_id: str) -> None:
        now = self._at(now)
        agent = self.agent(agent_id)
        if self._after_call(agent, now, AgentState.LOGGED_OUT) or agent.state is AgentState.LOGGED_OUT:
            return
        self._log_out(agent, now)

    def _log_out(self, agent: AgentRecord, now: float) -> None:
        if agent.state is AgentState.READY:
            self._unpool(agent)
        agent.state, agent.reason, agent.call_id = AgentState.LOGGED_OUT, "", None
        self._count_login(agent, -1)
        for qname in agent.queues:
            q = self.queues[qname]
            if q.leave_when_empty and self._logged_in[qname] == 0:
                for call in [c for c in self.waiting[qname] if not c.callback]:
                    self._overflow(call, now, "empty")

    def _count_login(self, agent: AgentRecord, delta: int) -> None:
        for qname in agent.queues:
            self._logged_in[qname] += delta

    def wrapup_ended(self, now: float, agent_id: str) -> bool:
        """The agent ends wrap-up early (or the wrap-up timer expired)."""
        now = self._at(now)
        agent = self.agent(agent_id)
        if agent.state is not AgentState.WRAPUP:
            return False
        self._end_wrapup(agent, now)
        return True

    def _end_wrapup(self, agent: AgentRecord, now: float) -> None:
        agent.wrapup_token += 1
        queue = getattr(agent, "wrapup_queue", None)
        if queue is not None:
            seconds = now - agent.wrapup_started
            handle = agent.wrapup_talk + seconds
            prev = self._aht[queue]
            self._aht[queue] = handle if prev is None else 0.8 * prev + 0.2 * handle
            self.actions.append(act.WrapupEnded(agent.id, queue, seconds))
        agent.idle_since = now
        self._free(agent, now, keep_idle=True)

    def _free(self, agent: AgentRecord, now: float, keep_idle: bool) -> None:
        """The agent's call (or offer) is over: go where CTI asked meanwhile, else ready."""
        after, reason = agent.after_call, agent.after_reason
        agent.after_call, agent.after_reason = None, ""
        agent.call_id = None
        if after is AgentState.NOT_READY:
            agent.state, agent.reason = AgentState.NOT_READY, reason
            self._emit(now, None, "NONE", agent.id, "PAUSE", reason)
            return
        if after is AgentState.LOGGED_OUT:
            agent.state = AgentState.NOT_READY
            self._log_out(agent, now)
            return
        agent.state = AgentState.READY
        if not keep_idle:
            agent.idle_since = now
        self._dispatch_agent(agent, now)

    # ---------------------------------------------------------------- time
    def next_deadline(self) -> float | None:
        while self._timers:
            when, _, kind, key, token = self._timers[0]
            if self._timer_live(kind, key, token):
                return when
            heapq.heappop(self._timers)
        return None

    def _timer_live(self, kind: str, key: str, token: int) -> bool:
        if kind == "maxwait":
            call = self.calls.get(key)
            return call is not None and call.timer_token == token
        agent = self.agents.get(key)
        return agent is not None and agent.wrapup_token == token and agent.state is AgentState.WRAPUP

    def advance(self, now: float) -> None:
        """Run every timer due at or before ``now``."""
        now = self._at(now)
        while self._timers and self._timers[0][0] <= now:
            when, _, kind, key, token = heapq.heappop(self._timers)
            if not self._timer_live(kind, key, token):
                continue
            if kind == "maxwait":
                call = self.calls[key]
                if call.state is CallState.WAITING:
                    self._overflow(call, when, "timeout")
                elif call.state is CallState.RINGING:
                    call.timed_out = True            # overflow if this offer is not answered
            else:
                self._end_wrapup(self.agents[key], when)

    # ---------------------------------------------------------------- checks
    def snapshot(self, queue: str) -> dict:
        states = {s: 0 for s in AgentState}
        on_other_calls = 0                  # not-ready for the ACD because CTI sees them on a call it did not place
        for aid in self.members[queue]:
            agent = self.agents[aid]
            states[agent.state] += 1
            on_other_calls += agent.state is AgentState.NOT_READY and agent.reason == ON_CALL_REASON
        waiting = [c for c in self.waiting[queue] if not c.callback]
        longest = max((self.now - c.entered_at for c in waiting), default=0.0)
        return {"waiting": len(waiting), "callbacks": len(self.waiting[queue]) - len(waiting),
                "longest_wait_s": round(longest, 3),
                "agents": {"ready": states[AgentState.READY],
                           "busy": states[AgentState.BUSY] + states[AgentState.RINGING] + on_other_calls,
                           "wrap_up": states[AgentState.WRAPUP],
                           "not_ready": states[AgentState.NOT_READY] - on_other_calls,
                           "logged_out": states[AgentState.LOGGED_OUT]}}

    def check_invariants(self) -> None:
        holders: dict[str, str] = {}
        for agent in self.agents.values():
            in_pool = [q for q in agent.queues if agent in self.strategies[q]]
            if agent.state is AgentState.READY:
                assert len(in_pool) == len(agent.queues), f"ready agent {agent.id} missing from pools"
                assert agent.call_id is None, f"ready agent {agent.id} holds {agent.call_id}"
            else:
                assert not in_pool, f"agent {agent.id} in pool while {agent.state.value}"
            if agent.state in (AgentState.RINGING, AgentState.BUSY):
                assert agent.call_id is not None, f"agent {agent.id} {agent.state.value} without a call"
                call = self.calls.get(agent.call_id)
                assert call is not None and call.agent_id == agent.id, f"agent {agent.id} / call disagree"
                want = CallState.RINGING if agent.state is AgentState.RINGING else CallState.CONNECTED
                assert call.state is want, f"agent {agent.id} {agent.state.value} but call {call.state.value}"
                assert agent.call_id not in holders, f"call {agent.call_id} held by two agents"
                holders[agent.call_id] = agent.id
            else:
                assert agent.call_id is None, f"agent {agent.id} {agent.state.value} holds a call"
        logged = {q: 0 for q in self.queues}
        for agent in self.agents.values():
            if agent.logged_in:
                for q in agent.queues:
                    logged[q] += 1
        assert logged == self._logged_in, f"logged-in counts {self._logged_in} != {logged}"
        waiting_ids = set()
        for qname, lst in self.waiting.items():
            lst.check(qname)
            for call in lst:
                assert call.id not in waiting_ids, f"call {call.id} waits twice"
                waiting_ids.add(call.id)
                assert call.queue == qname and call.state is CallState.WAITING, f"call {call.id} misplaced"
                assert self.calls.get(call.id) is call, f"waiting call {call.id} not active"
        ready = {q: [self.agents[aid] for aid in ids if self.agents[aid].state is AgentState.READY]
                 for q, ids in self.members.items()}
        for qname, strat in self.strategies.items():
            strat.check(ready[qname])
        for aid, agent in self.agents.items():
            sources = sorted(id(h) for q in agent.queues for h in self.waiting[q].heaps_for(agent))
            assert sorted(map(id, self._heaps[aid])) == sources, f"agent {aid}: call sources out of date"
        taker: dict[tuple, str | None] = {}           # (queue, call class) -> a ready agent that may take it
        for call in self.calls.values():
            if call.state is CallState.WAITING:
                assert call.id in waiting_ids, f"call {call.id} forgotten: waiting but in no queue"
                assert call.agent_id is None
                strat = self.strategies[call.queue]
                # every call of one class is accepted by the same agents (a filtering strategy: ask per call)
                cls = None if self.waiting[call.queue].filtering else (call.queue, call.route_class)
                if cls is None or cls not in taker:
                    free = next((a.id for a in ready[call.queue] if strat.accepts(a, call)), None)
                    if cls is not None:
                        taker[cls] = free
                else:
                    free = taker[cls]
                assert free is None, f"call {call.id} waits while agent {free} is ready for it"
            else:
                assert call.state in (CallState.RINGING, CallState.CONNECTED), f"call {call.id} {call.state}"
                assert holders.get(call.id) == call.agent_id, f"call {call.id} not held by {call.agent_id}"
