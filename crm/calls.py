"""What the CRM knows about calls: the calling number of a stored call (an agent's call record, or a
voicemail or callback request the IVR took), and the IVR intake that turns every voicemail and callback
request into a service request, once, durably (the link row is the marker, so a restart repeats nothing)."""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import String, cast, exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.models import RequestLink
from crm.requests import SYSTEM, UNASSIGNED, RequestError, RequestService
from cti.models import CallRecord
from ivr.models import CallbackRequest, Voicemail

log = logging.getLogger("hotline.crm.intake")


class StoredCalls:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def caller_of(self, linkedid: str) -> str | None:
        async with self.sessions() as session:
            for column, where in ((CallRecord.caller_number, CallRecord.linkedid),
                                  (Voicemail.caller, Voicemail.linkedid),
                                  (CallbackRequest.number, CallbackRequest.linkedid)):
                found = (await session.execute(select(column).where(where == linkedid).limit(1))).scalar_one_or_none()
                if found is not None:
                    return str(found)
        return None


    async def agents_of(self, linkedid: str) -> set[str]:
        async with self.sessions() as session:
            rows = (await session.execute(select(CallRecord.agent_id).where(
                CallRecord.linkedid == linkedid, CallRecord.agent_id.is_not(None)))).scalars().all()
        return {str(agent) for agent in rows}


class IvrIntake:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], requests: RequestService, *,
                 default_queue: str | None = None) -> None:
        self.sessions = sessions
        self.requests = requests
        self.default_queue = default_queue
        self._seen = {"voicemail": 0, "callback": 0}   # ids looked at (a refused one is logged once per start)

    async def _pending(self) -> list[tuple[str, Any]]:
        """Voicemails and callback requests past the watermark that no request links to yet."""
        out: list[tuple[str, Any]] = []
        async with self.sessions() as session:
            for kind, model in (("voicemail", Voicemail), ("callback", CallbackRequest)):
                linked = exists().where(RequestLink.kind == kind, RequestLink.ref == cast(model.id, String))
                rows = (await session.execute(select(model).where(model.id > self._seen[kind], ~linked)
                                              .order_by(model.id).limit(100))).scalars().all()
                out += [(kind, row) for row in rows]
        return out

    async def sweep(self) -> list[int]:
        made: list[int] = []
        for kind, row in await self._pending():
            self._seen[kind] = max(self._seen[kind], row.id)
            number = row.caller if kind == "voicemail" else row.number
            summary = (f"语音留言 {row.duration_s:.0f} 秒" if kind == "voicemail" else "客户要求回电")
            try:
                created = await self.requests.create(
                    SYSTEM, type="enquiry", summary=summary, customer=number, linkedid=row.linkedid,
                    queue=row.queue or self.default_queue, source=kind, owner_id=UNASSIGNED,
                    links=((kind, str(row.id)),))
            except RequestError as exc:
                log.warning("%s %s (caller %r) gives no request: %s", kind, row.id, number, exc)
                continue
            made.append(created["id"])
        return made

    async def run(self, interval_s: float = 5.0) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("IVR intake failed; trying again in %.0f s", interval_s)
            await asyncio.sleep(interval_s)
