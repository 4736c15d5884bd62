"""Writes each call's detail record when the call ends, and again once the agent's wrap-up is over.

The trigger is the IVR's ``ivr/call_end`` event (the FastAGI session of the call is over, its ivr_calls row
is written). Work on a call can outlive its IVR session (the call back a caller asked for): the writer also
follows the queue log's new end-of-talk rows (by primary key, a cheap range) and rebuilds those calls.
The row is built from the stored facts only, so a missed event costs nothing durable: at start the writer
catches up every call of the last ``catch_up_s`` that has an IVR call-end row but no record.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Protocol

from sqlalchemy import func, select

from acd.models import QueueLogRow
from ivr.models import IvrCall
from reports.cdr import CdrBuilder, base_callid
from reports.models import CallDetail

log = logging.getLogger(__name__)

CALL_END_TOPIC = "ivr/call_end"
LATE_EVENTS = ("COMPLETECALLER", "COMPLETEAGENT", "TRANSFER", "CALLBACKFAILED")


class CallEndSource(Protocol):
    """Where call-end events come from (hotline.bus.EventBus)."""

    def subscribe(self, pattern: str, handler: Callable[[str, dict[str, Any]], Any]) -> None: ...


class CdrWriter:
    def __init__(self, builder: CdrBuilder, events: CallEndSource | None, *, settle_s: float = 2.0,
                 after_wrapup_s: float = 60.0, catch_up_s: float = 86400.0,
                 follow_s: float = 5.0, wall_clock: Callable[[], float] | None = None) -> None:
        """settle_s: first build (the queue log is flushed every second); after_wrapup_s: the second build,
        when the longest wrap-up is over."""
        self.builder = builder
        self.events = events
        self.settle_s = settle_s
        self.after_wrapup_s = after_wrapup_s
        self.catch_up_s = catch_up_s
        self.follow_s = follow_s
        self._last_log_id = 0
        self.wall_clock = wall_clock or (lambda: datetime.now(timezone.utc).timestamp())
        self.written = 0
        self._tasks: set[asyncio.Task] = set()
        self._pending: set[str] = set()

    async def __aenter__(self) -> "CdrWriter":
        if self.events is not None:
            self.events.subscribe(CALL_END_TOPIC, self.on_call_end)
        await self.catch_up()
        async with self.builder.sessions() as db:
            self._last_log_id = (await db.execute(select(func.max(QueueLogRow.id)))).scalar_one() or 0
        self._spawn(self._follow_queue_log(), "cdr follow-up")
        return self

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _follow_queue_log(self) -> None:
        while True:
            await asyncio.sleep(self.follow_s)
            try:
                await self.follow_up()
            except Exception:
                log.exception("call-detail follow-up failed (the next round retries)")

    async def follow_up(self) -> None:
        """Calls whose talk ended since the last look and whose record exists: build them again."""
        async with self.builder.sessions() as db:
            rows = (await db.execute(select(QueueLogRow.id, QueueLogRow.callid).where(
                QueueLogRow.id > self._last_log_id, QueueLogRow.event.in_(LATE_EVENTS)))).all()
            if not rows:
                return
            ids = {base_callid(callid) for _, callid in rows}
            known = set((await db.execute(select(CallDetail.linkedid).where(
                CallDetail.linkedid.in_(sorted(ids))))).scalars())
        self._last_log_id = max(row_id for row_id, _ in rows)
        for linkedid in sorted(known - self._pending):
            self.on_call_end(CALL_END_TOPIC, {"linkedid": linkedid})

    async def __aexit__(self, *exc: object) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._pending:                     # the service is stopping: write what the facts say now
            try:
                self.written += await self.builder.build(self._pending)
            except Exception:
                log.exception("%d call-detail record(s) not written at shutdown (catch-up at the next start)",
                              len(self._pending))

    def on_call_end(self, _topic: str, payload: dict[str, Any]) -> None:
        linkedid = str(payload.get("linkedid") or "")
        if not linkedid:
            return
        self._pending.add(linkedid)
        self._spawn(self._build_later(linkedid), f"cdr {linkedid}")

    async def _build_later(self, linkedid: str) -> None:
        for delay in (self.settle_s, self.after_wrapup_s):
            await asyncio.sleep(delay)
            try:
                self.written += await self.builder.build([linkedid])
            except Exception:
                log.exception("call-detail record of %s not written (hotline reports rebuild repairs it)",
                              linkedid)
        self._pending.discard(linkedid)

    async def catch_up(self) -> int:
        """Build the records of recent calls that ended without one (the service stopped in between)."""
        since = datetime.fromtimestamp(self.wall_clock() - self.catch_up_s, timezone.utc)
        async with self.builder.sessions() as db:
            missing = (await db.execute(
                select(IvrCall.linkedid).where(IvrCall.ended_at >= since)
                .where(~select(CallDetail.id).where(CallDetail.linkedid == IvrCall.linkedid).exists())
            )).scalars().all()
        if missing:
            count = await self.builder.build(missing)
            log.info("call-detail records: caught up %d call(s) that ended while nobody wrote them", count)
            return count
        return 0
