"""Database writes that must not be cut in half by a hang-up or a cancelled call task."""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Awaitable, Callable

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)


async def write_through(sessions: "async_sessionmaker[AsyncSession] | None", build: Callable[[], Any]) -> Any:
    """Add the row ``build()`` returns and commit, shielded from cancellation. Returns the row (with id)."""
    if sessions is None:
        return None

    async def _write() -> Any:
        row = build()
        async with sessions() as db:
            async with db.begin():
                db.add(row)
            return row

    return await finish(_write())


async def finish(coro: Awaitable[Any]) -> Any:
    """Run ``coro`` to its end even if the caller's task is cancelled meanwhile (then re-raise the cancel)."""
    task = asyncio.ensure_future(coro)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task], timeout=10)
        raise
