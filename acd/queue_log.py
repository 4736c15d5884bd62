"""Queue log entries (Asterisk queue_log fields) and their store in the database.

Events and their data fields, as Asterisk writes them (plus three of our own, marked *):
  ENTERQUEUE       url, callerid, position
  RINGNOANSWER     ringtime_ms, dialstatus                    (dialstatus: ours, extra field)
  RINGCANCELED     ringtime_ms                                 (caller hung up while the agent rang)
  CONNECT          holdtime_s, bridged uniqueid, ringtime_s
  ABANDON          position, origposition, waittime_s
  COMPLETECALLER / COMPLETEAGENT   holdtime_s, calltime_s, origposition
  TRANSFER         extension, context, holdtime_s, calltime_s, origposition
  EXITWITHTIMEOUT / EXITEMPTY      position, origposition, waittime_s
  EXITWITHKEY      key, position, origposition, waittime_s
  PAUSE / UNPAUSE  reason                                      (queuename NONE: the agent in every queue)
  OVERFLOW*        target kind, target queue, reason (timeout|empty|full|joinempty), waittime_s
  CALLBACK*        number, position, waittime_s                (caller asked to be called back, keeps the place)
  CALLBACKFAILED*  number                                      (the customer did not answer the call back)
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import select

from acd.models import QueueLogRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueueLogEntry:
    time: float
    callid: str
    queuename: str
    agent: str
    event: str
    data1: str = ""
    data2: str = ""
    data3: str = ""
    data4: str = ""
    data5: str = ""

    def line(self) -> str:
        """The text form of /var/log/asterisk/queue_log."""
        fields = [str(int(self.time)), self.callid, self.queuename, self.agent, self.event,
                  self.data1, self.data2, self.data3, self.data4, self.data5]
        while len(fields) > 6 and fields[-1] == "":
            fields.pop()
        return "|".join(fields)


def entry(time: float, callid: str | None, queue: str | None, agent: str | None, event: str,
          *data: object) -> QueueLogEntry:
    values = [("" if d is None else str(d)) for d in data][:5]
    values += [""] * (5 - len(values))
    return QueueLogEntry(time, callid or "NONE", queue or "NONE", agent or "NONE", event, *values)


class QueueLogStore:
    """Buffers entries (the engine appends synchronously) and writes them in batches.

    ``append`` never blocks the engine; ``flush`` writes what is pending (the service's writer task
    calls it every second and on shutdown). A failed write keeps the batch for the next attempt, so a
    database outage loses nothing while the process lives."""

    def __init__(self, sessions) -> None:
        self._sessions = sessions
        self._pending: list[QueueLogEntry] = []
        self._lock = asyncio.Lock()

    def append(self, item: QueueLogEntry) -> None:
        self._pending.append(item)

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> int:
        async with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return 0
            try:
                async with self._sessions() as session, session.begin():
                    session.add_all([QueueLogRow(**vars(e)) for e in batch])
            except Exception:
                self._pending[:0] = batch
                raise
            return len(batch)

    async def run(self, interval_s: float = 1.0) -> None:
        try:
            while True:
                await asyncio.sleep(interval_s)
                try:
                    await self.flush()
                except Exception:
                    log.exception("queue log write failed; %d entries kept for the next attempt", self.pending)
        finally:
            try:
                await self.flush()
            except Exception:
                log.exception("queue log: final write failed, %d entries lost", self.pending)

    async def query(self, *, queue: str | None = None, callid: str | None = None, agent: str | None = None,
                    since: float | None = None, until: float | None = None,
                    events: Iterable[str] | None = None) -> list[QueueLogEntry]:
        stmt = select(QueueLogRow).order_by(QueueLogRow.time, QueueLogRow.id)
        if queue is not None:
            stmt = stmt.where(QueueLogRow.queuename == queue)
        if callid is not None:
            stmt = stmt.where(QueueLogRow.callid == callid)
        if agent is not None:
            stmt = stmt.where(QueueLogRow.agent == agent)
        if since is not None:
            stmt = stmt.where(QueueLogRow.time >= since)
        if until is not None:
            stmt = stmt.where(QueueLogRow.time < until)
        if events is not None:
            stmt = stmt.where(QueueLogRow.event.in_(list(events)))
        async with self._sessions() as session:
            rows = (await session.execute(stmt)).scalars().all()
        return [QueueLogEntry(r.time, r.callid, r.queuename, r.agent, r.event,
                              r.data1, r.data2, r.data3, r.data4, r.data5) for r in rows]
