"""`hotline demo` hooks of the recordings: wait for post-processing, then count what the recordings table holds.

Summary keys:
- ``recordings``                    answered calls (queue log CONNECT while the caller waited, callbacks apart)
                                    with a complete recording row (status complete, file measured and hashed)
- ``answered_without_recording``    answered calls without one (0 when every answered call was recorded)
- ``recording_rows``                every row, by status under ``recording_status``
- ``recorded_s``                    total measured duration of the complete recordings
"""
from __future__ import annotations

import asyncio
from typing import Any

OPEN_STATUSES = ("recording", "processing")


async def settle(ctx: Any) -> None:
    """Post-processing runs off the event loop: wait (a bounded while) until no row is still open."""
    from sqlalchemy import func, select

    from recordings.models import Recording

    sessions = ctx.service.deps.sessions
    for _ in range(600):
        async with sessions() as db:
            open_rows = (await db.execute(select(func.count()).select_from(Recording)
                                          .where(Recording.status.in_(OPEN_STATUSES)))).scalar_one()
        if not open_rows:
            return
        await asyncio.sleep(1)


async def summarize(ctx: Any) -> dict[str, Any]:
    from sqlalchemy import select

    from acd.models import QueueLogRow
    from recordings.models import Recording

    async with ctx.service.deps.sessions() as db:
        log_rows = (await db.execute(select(QueueLogRow.callid, QueueLogRow.event)
                                     .where(QueueLogRow.event.in_(("CONNECT", "CALLBACK")))
                                     .order_by(QueueLogRow.time, QueueLogRow.id))).all()
        rows = (await db.execute(select(Recording.linkedid, Recording.status, Recording.duration_s))).all()
    called_back: set[str] = set()
    answered: set[str] = set()
    for callid, event in log_rows:
        base = callid.split("#", 1)[0]
        if event == "CALLBACK":
            called_back.add(base)
        elif base not in called_back:
            answered.add(base)
    complete = {linkedid for linkedid, status, _ in rows if status == "complete"}
    by_status: dict[str, int] = {}
    for _, status, _ in rows:
        by_status[status] = by_status.get(status, 0) + 1
    return {
        "recordings": len(answered & complete),
        "answered_without_recording": len(answered - complete),
        "recording_rows": len(rows),
        "recording_status": dict(sorted(by_status.items())),
        "recorded_s": round(sum(d or 0.0 for _, status, d in rows if status == "complete"), 1),
    }
