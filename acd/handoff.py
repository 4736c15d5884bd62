"""The IVR's QueueHandoff over FastAGI: the caller waits in the ACD and is connected from its own AGI session.
(It is also what CTI sees of the ACD: ``offer_answered`` and ``queue_stats``.)

While waiting the caller hears music on hold (SET MUSIC ON <class>), and every announcement interval the
flow's waiting messages (``call.waiting``: 对不起，让您久等了 / 您前面还有 N 位 / 预计等待 M 分钟 / options) with
the position and estimated wait from the engine. Between announcements the session listens with WAIT FOR DIGIT
(a key returns at once). News from the engine for this caller (an offer, the end of the wait) interrupts the
WAIT FOR DIGIT or announcement prompt in flight (``AgiChannel.interrupt``: Asterisk ends it when bytes arrive on
the FastAGI socket), so an agent who becomes free rings within a round trip, not within a poll; ``poll_ms`` only
bounds how long one WAIT FOR DIGIT lasts.

An offer rings the agent with ``EXEC Dial <endpoint>,<ring timeout>,m(<moh class>)`` from the caller's
session (see /work/brief/acd_dialplan.md). Dial returns when the ring ends unanswered or when the
conversation is over; DIALSTATUS and ANSWEREDTIME_MS/DIALEDTIME_MS then say what happened:
ANSWER → answered (answer time = start + ring time), NOANSWER → ring-no-answer, BUSY → busy,
CONGESTION → rejected, CHANUNAVAIL → unreachable, CANCEL (or a dead channel) → the caller hung up.
"""
from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from typing import TYPE_CHECKING, Any, Awaitable, TypeVar

from acd import actions as act
from acd.ports import QueuedCall
from acd.service import AcdService, Ticket
from acd.state import CallRequest, CallState, Outcome
from ivr import say as speech
from ivr.agi.errors import AgiConnectionLost, AgiHangup
from ivr.runtime.interfaces import QueueOutcome

if TYPE_CHECKING:
    from ivr.agi.channel import AgiChannel
    from ivr.runtime.waiting import QueueWaiting

log = logging.getLogger(__name__)
T = TypeVar("T")

# Interrupting again when the command has not ended after this long: bytes that reach Asterisk together with the
# command line itself are read into res_agi's line buffer and do not wake it.
REINTERRUPT_S = 0.1
MAX_INTERRUPTS = 5

DIALSTATUS_REASON = {"NOANSWER": "noanswer", "BUSY": "busy", "CONGESTION": "rejected",
                     "CHANUNAVAIL": "unavailable", "INVALIDARGS": "unavailable", "DONTCALL": "rejected",
                     "TORTURE": "rejected"}
# prompts used when the flow gives the queue node no waiting messages (same IDs as flows/hotline.yaml)
DEFAULT_PROMPTS = {"hold": "please_wait", "wait": "sorry_to_keep_waiting",
                   "position": ("queue_position_before", "queue_position_after"),
                   "wait_time": ("queue_wait_before", "queue_wait_after"), "options": "queue_options"}


def _ms(value: str | None) -> int:
    try:
        return int(float(value or 0))
    except ValueError:
        return 0


async def channel_alive(channel: "AgiChannel") -> bool:
    """Is the AGI session's channel still up? (CHANNEL STATUS answers 511 on a dead one.)"""
    if channel.hungup:
        return False
    try:
        await channel.channel_status()
    except AgiHangup:
        return False
    return not channel.hungup


class News:
    """A ticket's inbox, with the item that woke a waiting command read ahead (it is handled first)."""

    def __init__(self, ticket: Ticket) -> None:
        self.inbox: asyncio.Queue = ticket.inbox
        self.ahead: deque = deque()

    def empty(self) -> bool:
        return not self.ahead and self.inbox.empty()

    def get_nowait(self) -> Any:
        return self.ahead.popleft() if self.ahead else self.inbox.get_nowait()


class AcdHandoff:
    def __init__(self, service: AcdService, *, poll_ms: int = 5000) -> None:
        self.service = service
        self.poll_ms = poll_ms

    # ------------------------------------------------------------------ for CTI (its cti.ports.QueueDesk)
    def offer_answered(self, linkedid: str, agent_id: str) -> bool:
        """CTI saw the agent answer (DialEnd ANSWER): live stats and the agent's busy state start now."""
        return self.service.agent_answered(linkedid, agent_id)

    def queue_stats(self) -> dict[str, dict]:
        """Every queue's live figures (the supervisor desk shows them)."""
        return {name: self.service.queue_stats(name) for name in self.service.queue_names()}

    # ------------------------------------------------------------------ entry
    async def enqueue(self, call: QueuedCall, queue: str, skill: str | None, priority: int) -> QueueOutcome:
        service = self.service
        if queue not in service.queue_names():
            return QueueOutcome("overflow", detail=f"unknown queue {queue!r}")
        customer = call.customer or {}
        call_id = call.linkedid or call.channel.request.uniqueid
        if call_id in service.engine.calls:          # the same call queued again (e.g. back from a transfer)
            call_id = f"{call_id}#{service.engine._seq + 1}"
        request = CallRequest(
            call_id=call_id, queue=queue, caller=call.caller,
            language=call.lang or "zh-CN", skill=skill, priority=int(priority or 0),
            vip_level=int(customer.get("vip_level") or 0), key_account=bool(customer.get("key_account")),
            data=dict(call.data))
        started = service.clock()
        ticket = service.join(request)
        try:
            return await self._wait(call, ticket, started)
        except (AgiHangup, AgiConnectionLost) as exc:
            service.caller_hung_up(ticket.call_id)
            # a broken FastAGI connection (a PBX restart) is not the caller's choice: say so in the outcome
            detail = "connection-lost" if isinstance(exc, AgiConnectionLost) else "hangup"
            return QueueOutcome("abandoned", wait_s=service.clock() - started, detail=detail)
        finally:
            # never leave a live caller behind in the engine (a bug or a cancelled task ends here too)
            live = service.engine.calls.get(ticket.call_id)
            if live is not None and not live.callback:
                if live.state is CallState.CONNECTED:
                    service.call_ended(ticket.call_id, "caller")
                else:
                    service.caller_hung_up(ticket.call_id)
            service.forget(ticket.call_id)

    # ------------------------------------------------------------------ waiting
    async def _wait(self, call: QueuedCall, ticket: Ticket, started: float) -> QueueOutcome:
        service, channel = self.service, call.channel
        waiting = call.waiting
        q = service.engine.queues[ticket.queue]
        await channel.set_variable("HOTLINE_QUEUE", ticket.queue)
        outcome = self._released(call, ticket, started)
        if outcome is not None:
            return outcome
        news = News(ticket)
        key = await self._hold(call, news, waiting, q)   # skipped when an agent is already free
        interval = self._interval(waiting, q)
        next_announce = service.clock() + interval if interval else math.inf
        music = False
        while True:
            if key:
                outcome = self._key(call, ticket, key, started)
                if outcome is not None:
                    return outcome
                key = None
            while not news.empty():
                action = news.get_nowait()
                if isinstance(action, act.Offer):
                    if music:
                        await channel.set_music(False)
                        music = False
                    outcome = await self._ring(call, ticket, action, started)
                    if outcome is not None:
                        return outcome
                elif isinstance(action, act.CallMoved):
                    q = service.engine.queues[action.queue]
                    await channel.set_variable("HOTLINE_QUEUE", action.queue)
            outcome = self._released(call, ticket, started)
            if outcome is not None:
                return outcome
            now = service.clock()
            if now >= next_announce:
                if music:
                    await channel.set_music(False)
                    music = False
                key = await self._announce(call, ticket, news, waiting, q)
                next_announce = service.clock() + interval
                if key or not news.empty():
                    continue
            if not music:
                await channel.set_music(True, q.music_on_hold)
                music = True
            timeout = self.poll_ms if next_announce is math.inf else \
                max(1, min(self.poll_ms, int((next_announce - service.clock()) * 1000)))
            key = await self._interruptible(channel, news, channel.wait_for_digit(timeout))
            if key and key not in self._option_keys(waiting, q):      # chr(1): interrupted
                key = None

    @staticmethod
    def _interval(waiting: "QueueWaiting | None", q) -> float:
        if waiting is not None and waiting.announce_interval_s:
            return float(waiting.announce_interval_s)
        return float(q.announce_interval_s)

    @staticmethod
    def _option_keys(waiting: "QueueWaiting | None", q) -> str:
        if waiting is not None:
            return waiting.option_keys
        return "".join(k for k in (q.voicemail_key, q.callback_key) if k)

    async def _interruptible(self, channel: "AgiChannel", news: News, command: Awaitable[T]) -> T:
        """Run a WAIT FOR DIGIT or STREAM FILE that news for this caller interrupts (the item is read ahead)."""
        running = asyncio.ensure_future(command)
        arrived = asyncio.ensure_future(news.inbox.get())
        try:
            await asyncio.wait((running, arrived), return_when=asyncio.FIRST_COMPLETED)
            interrupts = 0
            while not running.done() and interrupts < MAX_INTERRUPTS:
                interrupts += channel.interrupt()
                await asyncio.wait((running,), timeout=REINTERRUPT_S)
            return await running
        finally:
            if not running.done():
                running.cancel()
            if arrived.done() and not arrived.cancelled():
                news.ahead.append(arrived.result())
            else:
                arrived.cancel()

    async def _play(self, call: QueuedCall, prompt_ids: list[str], escape: str, news: News) -> str | None:
        """Play prompts one by one; a key in ``escape`` stops them, and so does news for this caller, even
        mid-prompt (an offer: the agent is waiting, the rest of an announcement is not worth their time)."""
        for pid in prompt_ids:
            if not news.empty():
                return None
            digit, _ = await self._interruptible(call.channel, news,
                                                 call.channel.stream_file(call.sound(pid), escape))
            if digit:
                return digit
        return None

    def _prompts(self, waiting: "QueueWaiting | None", name: str):
        if waiting is None:
            return DEFAULT_PROMPTS[name]
        return {"hold": waiting.hold_prompt, "wait": waiting.wait_prompt, "position": waiting.position_prompts,
                "wait_time": waiting.wait_time_prompts, "options": waiting.options_prompt}[name]

    async def _hold(self, call: QueuedCall, news: News, waiting: "QueueWaiting | None", q) -> str | None:
        prompt = self._prompts(waiting, "hold")
        return await self._play(call, [prompt], self._option_keys(waiting, q), news) if prompt else None

    async def _announce(self, call: QueuedCall, ticket: Ticket, news: News, waiting: "QueueWaiting | None", q
                        ) -> str | None:
        position = self.service.position(ticket.call_id)
        if position <= 0:
            return None
        wait_s = self.service.estimated_wait(ticket.call_id)
        lang = call.lang
        ids: list[str] = []
        if self._prompts(waiting, "wait"):
            ids.append(self._prompts(waiting, "wait"))
        if q.announce_position and self._prompts(waiting, "position"):
            before, after = self._prompts(waiting, "position")
            ids += [before, *speech.number(position, lang), after]
        if q.announce_wait and self._prompts(waiting, "wait_time"):
            before, after = self._prompts(waiting, "wait_time")
            ids += [before, *speech.number(max(1, math.ceil(wait_s / 60)), lang), after]
        keys = self._option_keys(waiting, q)
        if keys and self._prompts(waiting, "options"):
            ids.append(self._prompts(waiting, "options"))
        if waiting is not None:
            waiting.announcements += 1
        return await self._play(call, ids, keys, news)

    def _outcome_for_key(self, call: QueuedCall, key: str, q) -> str:
        waiting = call.waiting
        if waiting is not None:
            return waiting.outcome_for(key)
        if key == q.callback_key:
            return "callback"
        return "voicemail" if key == q.voicemail_key else "overflow"

    def _key(self, call: QueuedCall, ticket: Ticket, key: str, started: float) -> QueueOutcome | None:
        service = self.service
        q = service.engine.queues[ticket.queue]
        status = self._outcome_for_key(call, key, q)
        if status == "callback":
            if not service.request_callback(ticket.call_id, call.caller, key):
                return None
        elif not service.engine.leave_with_key(service.clock(), ticket.call_id, key,
                                               Outcome.VOICEMAIL if status == "voicemail" else Outcome.OVERFLOW):
            return None
        service._drain()
        return QueueOutcome(status, wait_s=service.clock() - started, detail=f"key {key}", extra={"key": key})

    def _released(self, call: QueuedCall, ticket: Ticket, started: float) -> QueueOutcome | None:
        """The engine ended the wait (overflow, empty queue, callback conversion)."""
        if ticket.outcome is None or ticket.outcome is Outcome.ANSWERED:
            return None
        status = ticket.outcome.value
        extra: dict[str, Any] = {}
        waiting = call.waiting
        if waiting is not None and status in ("voicemail", "callback"):
            key = next((k for k in waiting.options if waiting.outcome_for(k) == status), None)
            if key:
                extra["key"] = key                      # lead the flow to its voicemail / callback node
        return QueueOutcome(status, wait_s=self.service.clock() - started, detail="overflow", extra=extra)

    # ------------------------------------------------------------------ ringing an agent
    async def _ring(self, call: QueuedCall, ticket: Ticket, offer: act.Offer, started: float) -> QueueOutcome | None:
        service, channel = self.service, call.channel
        q = service.engine.queues[ticket.queue]
        await channel.set_variable("HOTLINE_AGENT_ID", offer.agent_id)
        dial_started = service.clock()
        hung_up = False
        try:
            await channel.exec("Dial", f"{offer.endpoint},{max(1, int(offer.ring_timeout_s))},m({q.music_on_hold})")
        except AgiHangup:
            hung_up = True
        status = (await channel.get_variable("DIALSTATUS")) or ""
        if status == "ANSWER":
            answered_ms = _ms(await channel.get_variable("ANSWEREDTIME_MS"))
            dialed_ms = _ms(await channel.get_variable("DIALEDTIME_MS"))
            ring_s = max(0.0, (dialed_ms - answered_ms) / 1000) if dialed_ms else service.clock() - dial_started
            service.offer_answered(ticket.call_id, offer.agent_id, offer.offer_id, at=dial_started + ring_s)
            by = "caller" if hung_up or not await channel_alive(channel) else "agent"
            service.call_ended(ticket.call_id, by)
            return QueueOutcome("answered", agent_id=offer.agent_id, wait_s=dial_started + ring_s - started,
                                talk_s=answered_ms / 1000, detail="ANSWER", extra={"hangup_by": by})
        if hung_up or status == "CANCEL" or not await channel_alive(channel):
            service.caller_hung_up(ticket.call_id)
            return QueueOutcome("abandoned", wait_s=service.clock() - started, detail=status or "hangup")
        service.offer_failed(ticket.call_id, offer.agent_id, DIALSTATUS_REASON.get(status, "noanswer"),
                             offer.offer_id)
        return None

