"""`hotline demo` hooks of the ACD: the agents' day (shifts, breaks, softphones) and the queue figures read
back from the queue log.

Agents (config/agents.yaml, role agent) work one of two shifts - early 08:00-16:30 or late 11:30 until the
day's work is done - with a staggered meal break and a short break each, through the CTI's agent state
machine (what their desktops would ask for). Their softphones auto-answer after 1.5-4 s; now and then an
agent misses a ring (the offer times out: ring-no-answer, the call goes to the next agent; three misses in
a row and the ACD pauses the agent, who comes back a few minutes later). The agent hangs up when the caller's
conversation is over (``agent_talk_s`` of the demo caller); callbacks last a seeded 1-5 minutes.

Summary (overall, and per queue under ``queues``; a call counts in the queue where its wait ended):
- ``reached_queue``  calls with an ENTERQUEUE row (distinct call ids)
- ``answered``       connected to an agent while waiting (CONNECT)
- ``abandoned``      hung up while waiting or ringing (ABANDON)
- ``voicemails``     left the queue for voicemail: the voicemail key (EXITWITHKEY 1) or OVERFLOW to voicemail
- ``callbacks``      left the line asking to be called back (CALLBACK; they keep their place, an agent calls
                     them back later: ``callbacks_connected`` / ``callbacks_failed`` / ``callbacks_pending``)
- ``overflows``      sent back to the flow's fallback (OVERFLOW to hangup or an unknown queue)
- ``still_waiting``  no final event (0 once the day is settled)
  reached_queue = answered + abandoned + voicemails + callbacks + overflows + still_waiting (per queue too).
- ``service_level``  answered within the queue's threshold T ÷ answered; ``asa_s`` mean wait of answered calls;
  ``aht_s`` mean talk time (COMPLETE*/TRANSFER) + the agent's wrap-up time (the CTI's wrap-up timer, whose
  state log is stamped with the wall clock, so its configured length is used); ``abandon_rate`` abandoned ÷
  reached_queue; ``ring_no_answer`` RINGNOANSWER rows.
"""
from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cti.core import Cti

log = logging.getLogger(__name__)

EARLY, LATE = ("08:00", "16:30"), ("11:30", None)      # None: until the day's work is done
SHIFTS = {"1001": EARLY, "1003": EARLY, "1005": EARLY, "1002": LATE, "1004": LATE, "1006": LATE}
MEAL = {"1001": "11:30", "1003": "12:15", "1005": "13:00", "1002": "16:45", "1004": "17:30", "1006": "18:15"}
MEAL_S, BREAK_S = 45 * 60, 10 * 60
MISS_RATE = 0.04                                       # offers the agent does not pick up
DESK_POLL_S = 15.0


async def prepare(ctx: Any) -> None:
    cti = ctx.service.cti
    service = ctx.service.acd
    rng = random.Random(f"{ctx.seed}:agents")
    for agent_id, phone in sorted(ctx.sim.phones.items()):
        _softphone(ctx, phone, base_answer_s=round(rng.uniform(1.5, 4.0), 1))
    for agent_id in sorted(service.engine.agents):
        start, end = SHIFTS.get(agent_id, EARLY)
        short_break = ctx.at(start) + rng.uniform(1.0, 3.0) * 3600
        ctx.spawn(_agent_day(ctx, cti, agent_id, start, end, MEAL.get(agent_id), short_break))
    await asyncio.sleep(0)


def _softphone(ctx: Any, phone: Any, base_answer_s: float) -> None:
    """Per ring: answer after a few seconds or (rarely) let it ring; per call: hang up when the talk is over."""
    pbx = ctx.sim.pbx
    ring_incoming, seed = phone.on_incoming, ctx.seed
    rings: Counter = Counter()

    def on_incoming(chan: Any) -> None:
        # keyed by the call (linkedid) and this phone, not by channel names: those follow a global sequence
        rings[chan.linkedid] += 1
        r = random.Random(f"{seed}:ring:{chan.linkedid}:{phone.endpoint}:{rings[chan.linkedid]}")
        phone.behaviour.mode = "no-answer" if r.random() < MISS_RATE else "answer"
        phone.behaviour.answer_after_s = round(base_answer_s + r.uniform(-0.5, 1.0), 2)
        phone.behaviour.talk_time_s = None
        ring_incoming(chan)

    def on_bridged(chan: Any, other: Any) -> None:
        talk: float | None
        if hasattr(other.participant, "agent_talk_s"):
            talk = other.participant.agent_talk_s
        else:                                       # a callback: the customer reached through the trunk
            talk = float(random.Random(f"{seed}:callback:{chan.linkedid}").randint(60, 300))
        if talk is not None:
            pbx.spawn(_hang_up_after(phone, chan, talk))

    phone.on_incoming = on_incoming
    phone.on_bridged = on_bridged


async def _hang_up_after(phone: Any, chan: Any, seconds: float) -> None:
    if await chan.sleep(seconds):
        phone.hang_up(chan)


async def _desk(cti: "Cti", agent_id: str, request: str, reason: str | None = None) -> None:
    """Ask the CTI for a state change; while the agent is ringing or talking, ask again a little later."""
    from cti.agents import CtiError

    while True:
        state = cti.agents.get(agent_id).state.value
        if request == "ready" and state == "ready":
            return
        if request == "logout" and state == "logged-out":
            return
        try:
            await cti.agents.transition(agent_id, request, reason=reason)
            return
        except CtiError:
            await asyncio.sleep(DESK_POLL_S)


async def _until(ctx: Any, virtual_s: float) -> None:
    await asyncio.sleep(max(0.0, virtual_s - asyncio.get_running_loop().time()))


async def _agent_day(ctx: Any, cti: "Cti", agent_id: str, start: str, end: str | None, meal: str | None,
                     short_break: float) -> None:
    breaks = sorted([(ctx.at(meal), MEAL_S, "meal")] if meal else [])
    breaks.append((short_break, BREAK_S, "break"))
    breaks.sort()
    await _until(ctx, ctx.at(start))
    await _desk(cti, agent_id, "login")
    await _desk(cti, agent_id, "ready")
    watcher = asyncio.get_running_loop().create_task(_back_from_autopause(cti, agent_id))
    try:
        for at, length, reason in breaks:
            if end is not None and at >= ctx.at(end):
                continue
            await _until(ctx, at)
            await _desk(cti, agent_id, "not-ready", reason)
            await asyncio.sleep(length)
            await _desk(cti, agent_id, "ready")
        if end is not None:
            await _until(ctx, ctx.at(end))
            watcher.cancel()
            await _desk(cti, agent_id, "not-ready", "other")
            await _desk(cti, agent_id, "logout")
    finally:
        watcher.cancel()


async def _back_from_autopause(cti: "Cti", agent_id: str) -> None:
    """An agent the ACD paused after missed rings notices it and gets ready again a few minutes later."""
    while True:
        await asyncio.sleep(60)
        agent = cti.agents.get(agent_id)
        if agent.state.value == "not-ready" and agent.reason == "ring-no-answer":
            await asyncio.sleep(180)
            await _desk(cti, agent_id, "ready")


async def settle(ctx: Any) -> None:
    """After the last caller: callbacks still owed are placed (late-shift agents stay until they are done)."""
    service = ctx.service.acd
    loop = asyncio.get_running_loop()
    limit = max(loop.time(), ctx.at("20:00")) + ctx.settle_limit_s
    while service.engine.calls and loop.time() < limit:
        await asyncio.sleep(10)
    if service.log_store is not None:
        await service.log_store.flush()


# ------------------------------------------------------------------------------------------------ figures

@dataclass
class _Call:
    callid: str = ""
    queue: str = ""
    outcome: str = "still_waiting"
    wait_s: float = 0.0
    talk_s: float | None = None
    agent: str = ""
    callback: bool = False
    callback_result: str = "pending"


@dataclass
class _Tally:
    reached_queue: int = 0
    answered: int = 0
    abandoned: int = 0
    voicemails: int = 0
    callbacks: int = 0
    overflows: int = 0
    still_waiting: int = 0
    answered_within: int = 0
    wait_s: float = 0.0
    handled: int = 0
    handle_s: float = 0.0
    ring_no_answer: int = 0
    transfers: int = 0
    callbacks_connected: int = 0
    callbacks_failed: int = 0
    callbacks_pending: int = 0
    offered: Counter = field(default_factory=Counter)

    def figures(self) -> dict[str, Any]:
        ratio = lambda a, b, d=4: round(a / b, d) if b else None      # noqa: E731
        return {
            "reached_queue": self.reached_queue, "answered": self.answered, "abandoned": self.abandoned,
            "voicemails": self.voicemails, "callbacks": self.callbacks, "overflows": self.overflows,
            "still_waiting": self.still_waiting,
            "service_level": ratio(self.answered_within, self.answered),
            "asa_s": ratio(self.wait_s, self.answered, 2), "aht_s": ratio(self.handle_s, self.handled, 2),
            "abandon_rate": ratio(self.abandoned, self.reached_queue),
            "ring_no_answer": self.ring_no_answer, "transfers": self.transfers,
            "callbacks_connected": self.callbacks_connected, "callbacks_failed": self.callbacks_failed,
            "callbacks_pending": self.callbacks_pending,
        }


async def _measured_wrapups(sessions: Any) -> dict[tuple[str, str], float]:
    """(linkedid, agent) -> seconds in wrap-up after that call: from the wrap-up row to the agent's next row."""
    from sqlalchemy import select

    from cti.models import AgentStateLog

    async with sessions() as db:
        rows = (await db.execute(select(AgentStateLog.agent_id, AgentStateLog.at, AgentStateLog.state,
                                        AgentStateLog.linkedid)
                                 .order_by(AgentStateLog.agent_id, AgentStateLog.at, AgentStateLog.id))).all()
    seconds: dict[tuple[str, str], float] = {}
    for row, following in zip(rows, rows[1:]):
        if row.state == "wrap-up" and row.linkedid and following.agent_id == row.agent_id:
            key = (row.linkedid, row.agent_id)
            seconds[key] = seconds.get(key, 0.0) + (following.at - row.at).total_seconds()
    return seconds


def _num(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return 0.0


def tally(rows: list[Any], queues: dict[str, Any], wrapup_s) -> tuple[_Tally, dict[str, _Tally]]:
    """Overall and per-queue figures from queue-log rows (in time order). ``wrapup_s(agent_id, queue, callid)``."""
    calls: dict[str, _Call] = {}
    rna: Counter = Counter()
    transfers: Counter = Counter()
    for e in rows:
        if e.callid in ("", "NONE"):
            continue
        base = e.callid.split("#", 1)[0]            # a call queued again keeps its id with a #n suffix
        call = calls.get(e.callid) or calls.get(base)
        event = e.event
        if event == "ENTERQUEUE":
            if call is None:
                call = calls[e.callid] = _Call(callid=base)
            call.queue = e.queuename
            continue
        if call is None:
            continue
        q = queues.get(e.queuename)
        if event == "CONNECT":
            if call.callback:
                call.callback_result = "connected"
            else:
                call.outcome, call.wait_s, call.queue, call.agent = "answered", _num(e.data1), e.queuename, e.agent
        elif event in ("COMPLETECALLER", "COMPLETEAGENT"):
            if not call.callback:
                call.talk_s = _num(e.data2)
        elif event == "TRANSFER":
            transfers[e.queuename] += 1
            if not call.callback:
                call.talk_s = _num(e.data4)
        elif event == "ABANDON":
            call.outcome, call.queue, call.wait_s = "abandoned", e.queuename, _num(e.data3)
        elif event == "EXITWITHKEY":
            key = e.data1
            if q is not None and key == q.callback_key:
                call.outcome = "callbacks"
            else:
                call.outcome = "voicemails"
            call.queue = e.queuename
        elif event == "CALLBACK":
            call.outcome, call.callback, call.queue = "callbacks", True, e.queuename
        elif event == "CALLBACKFAILED":
            call.callback_result = "failed"
        elif event == "OVERFLOW":
            kind = e.data1
            if kind == "voicemail":
                call.outcome, call.queue = "voicemails", e.queuename
            elif kind == "queue" and e.data2 in queues:
                pass                                 # ENTERQUEUE in the target queue follows
            elif kind != "callback":                 # callback: the CALLBACK row follows
                call.outcome, call.queue = "overflows", e.queuename
        elif event == "RINGNOANSWER":
            rna[e.queuename] += 1
    overall = _Tally()
    per_queue: dict[str, _Tally] = {}
    for call in calls.values():
        for t in (overall, per_queue.setdefault(call.queue, _Tally())):
            t.reached_queue += 1
            setattr(t, call.outcome, getattr(t, call.outcome) + 1)
            if call.outcome == "answered":
                t.wait_s += call.wait_s
                threshold = queues[call.queue].service_level_s if call.queue in queues else 20.0
                t.answered_within += call.wait_s <= threshold
                if call.talk_s is not None:
                    t.handled += 1
                    t.handle_s += call.talk_s + wrapup_s(call.agent, call.queue, call.callid)
            if call.callback:
                if call.callback_result == "connected":
                    t.callbacks_connected += 1
                elif call.callback_result == "failed":
                    t.callbacks_failed += 1
                else:
                    t.callbacks_pending += 1
    for name, t in per_queue.items():
        t.ring_no_answer, t.transfers = rna[name], transfers[name]
    overall.ring_no_answer, overall.transfers = sum(rna.values()), sum(transfers.values())
    return overall, per_queue


async def summarize(ctx: Any) -> dict[str, Any]:
    service = ctx.service.acd
    if service.log_store is None:
        return {}
    await service.log_store.flush()
    rows = await service.log_store.query()
    cti = ctx.service.cti
    queues = service.engine.queues

    measured = await _measured_wrapups(ctx.service.deps.sessions)

    def wrapup_s(agent_id: str, queue: str, callid: str = "") -> float:
        # the wrap-up the agent had after this call, as the agent state log measured it (an agent may cut it
        # short, e.g. for a break); without one, their own setting, else the queue's
        if (callid, agent_id) in measured:
            return measured[(callid, agent_id)]
        if cti is not None:
            try:
                own = cti.agents.get(agent_id).wrapup_seconds
                if own is not None:
                    return float(own)
            except Exception:
                pass
        return float(queues[queue].wrapup_s) if queue in queues else 0.0

    overall, per_queue = tally(rows, queues, wrapup_s)
    summary = overall.figures()
    summary["queues"] = {name: per_queue[name].figures() for name in sorted(per_queue)}
    return summary
