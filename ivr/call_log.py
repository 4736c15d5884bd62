"""The IVR's call-end fact: one `ivr_calls` row per FastAGI session (path, outcome, language), written when
the session ends, whatever ended it. The call-detail records (reports.cdr) read it; a failed write is logged
and never breaks the call."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker

from .models import IvrCall

log = logging.getLogger(__name__)


async def record_call_end(sessions: async_sessionmaker | None, *, uniqueid: str, linkedid: str, caller: str,
                          dnid: str, flow: str, language: str, outcome: str, last_node: str | None,
                          path: list[str], started_at: datetime, ended_at: datetime) -> None:
    if sessions is None:
        return
    row = IvrCall(uniqueid=uniqueid, linkedid=linkedid, caller=caller or "", dnid=dnid or "", flow=flow,
                  language=language, outcome=outcome, last_node=last_node or "", path=list(path),
                  started_at=started_at, ended_at=ended_at)

    async def write() -> None:
        async with sessions() as db, db.begin():
            db.add(row)

    task = asyncio.ensure_future(write())
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task], timeout=5)   # the service is stopping: let the row reach the database
        raise
    except Exception:
        log.exception("could not write the IVR call-end row of %s", linkedid)
