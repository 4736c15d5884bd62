"""Call records per agent leg: written when the agent answers, closed when the call ends, completed with
the disposition and notes at wrap-up. They are the screen pop's history and the reports' source."""
from __future__ import annotations

import inspect
import logging
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from cti.agents import CtiError
from cti.customers import normalise_number
from cti.models import CallRecord

DISPOSITIONS = {
    "consultation": "咨询", "complaint": "投诉", "suggestion": "建议", "praise": "表扬", "order": "下单",
    "after-sales": "售后", "wrong-number": "打错", "malicious": "骚扰", "out-of-scope": "非业务范围", "other": "其他",
}
MAX_NOTES = 4000
log = logging.getLogger("hotline.cti.records")


class CallRecords:
    def __init__(self, sessions: async_sessionmaker,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.sessions = sessions
        self.clock = clock
        # told every saved wrap-up ({linkedid, agent_id, disposition, notes, ...}), e.g. recordings' metadata
        self.listeners: list[Callable[[dict[str, Any]], Awaitable[Any] | None]] = []

    async def open(self, *, linkedid: str, agent_id: str, caller_number: str, queue: str | None,
                   direction: str = "inbound", started_at: datetime | None = None) -> None:
        async with self.sessions() as session:
            async with session.begin():
                row = (await session.execute(select(CallRecord).where(
                    CallRecord.linkedid == linkedid, CallRecord.agent_id == agent_id))).scalar_one_or_none()
                if row is None:
                    session.add(CallRecord(linkedid=linkedid, agent_id=agent_id,
                                           caller_number=normalise_number(caller_number), queue=queue,
                                           direction=direction, started_at=started_at or self.clock(),
                                           answered_at=self.clock()))
                elif row.answered_at is None:
                    row.answered_at = self.clock()

    async def close(self, linkedid: str, call_data: dict[str, Any] | None) -> None:
        async with self.sessions() as session:
            async with session.begin():
                rows = (await session.execute(select(CallRecord).where(
                    CallRecord.linkedid == linkedid, CallRecord.ended_at.is_(None)))).scalars().all()
                for row in rows:
                    row.ended_at = self.clock()
                    row.call_data = call_data or None

    async def dispose(self, *, linkedid: str, agent_id: str, disposition: str, notes: str) -> dict[str, Any]:
        if disposition not in DISPOSITIONS:
            raise CtiError(f"disposition {disposition!r} is not one of: {', '.join(DISPOSITIONS)}")
        if len(notes) > MAX_NOTES:
            raise CtiError(f"notes are {len(notes)} characters; at most {MAX_NOTES} are kept, nothing was saved")
        async with self.sessions() as session:
            async with session.begin():
                row = (await session.execute(select(CallRecord).where(
                    CallRecord.linkedid == linkedid, CallRecord.agent_id == agent_id))).scalar_one_or_none()
                if row is None:
                    raise CtiError(f"agent {agent_id} has no record of call {linkedid} to give a disposition to")
                row.disposition, row.notes = disposition, notes
        result = {"linkedid": linkedid, "agent_id": agent_id, "disposition": disposition,
                  "disposition_zh": DISPOSITIONS[disposition], "notes": notes}
        for listener in list(self.listeners):
            try:
                outcome = listener(dict(result))
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:                 # the wrap-up is saved; a listener's failure is only logged
                log.exception("wrap-up listener failed for call %s", linkedid)
        return result
