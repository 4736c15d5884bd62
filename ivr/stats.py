"""Per-node IVR statistics: counted in memory during a call, written in one transaction when it ends.

Counters (per day, flow and node): ``entries``, ``option:<key>``, ``timeout``, ``invalid``, ``hangup``,
``repeat``, ``fallback``, ``timeout_fallback``, ``error``, plus node-specific ones (``answered``,
``overflow``, ``rating:<n>`` …). The write is an upsert (``count = count + n``) so concurrent calls never
lose increments, on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import date, datetime, timezone
from typing import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from .models import NodeStat

log = logging.getLogger(__name__)


class NodeStats:
    """The counters of one call (or any batch). ``flush`` writes and clears them."""

    def __init__(self, today: Callable[[], date] | None = None) -> None:
        self._today = today or (lambda: datetime.now(timezone.utc).date())
        self.counts: Counter[tuple[date, str, str, str]] = Counter()

    def count(self, flow: str, node: str, counter: str, n: int = 1) -> None:
        self.counts[(self._today(), flow, node, counter)] += n

    def get(self, flow: str, node: str, counter: str) -> int:
        return sum(v for (d, f, n, c), v in self.counts.items() if (f, n, c) == (flow, node, counter))

    def merge(self, other: "NodeStats") -> None:
        self.counts.update(other.counts)

    async def flush(self, sessions: async_sessionmaker | None) -> int:
        """Write every pending counter; returns the number of rows touched. On failure the counts stay."""
        if not self.counts or sessions is None:
            return 0
        batch = dict(self.counts)
        async with sessions() as db:
            async with db.begin():
                dialect = db.bind.dialect.name
                for (day, flow, node, counter), n in sorted(batch.items(), key=lambda kv: kv[0][1:]):
                    await _upsert(db, dialect, day, flow, node, counter, n)
        for key, n in batch.items():
            self.counts[key] -= n
            if self.counts[key] <= 0:
                del self.counts[key]
        return len(batch)


async def _upsert(db, dialect: str, day: date, flow: str, node: str, counter: str, n: int) -> None:
    values = {"day": day, "flow": flow, "node": node, "counter": counter, "count": n}
    key = ["day", "flow", "node", "counter"]
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        pg = pg_insert(NodeStat).values(**values)
        await db.execute(pg.on_conflict_do_update(index_elements=key,
                                                  set_={"count": NodeStat.count + pg.excluded.count}))
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert
        lite = sqlite_insert(NodeStat).values(**values)
        await db.execute(lite.on_conflict_do_update(index_elements=key,
                                                    set_={"count": NodeStat.count + lite.excluded.count}))
    else:  # a portable fallback for other databases
        row = (await db.execute(select(NodeStat).where(
            NodeStat.day == day, NodeStat.flow == flow, NodeStat.node == node, NodeStat.counter == counter
        ).with_for_update())).scalar_one_or_none()
        if row is None:
            db.add(NodeStat(**values))
        else:
            row.count += n


async def flush_quietly(stats: NodeStats, sessions: async_sessionmaker | None) -> None:
    """Flush at the end of a call even when the call task is being cancelled; log, never raise."""
    if not stats.counts or sessions is None:
        return
    task = asyncio.ensure_future(stats.flush(sessions))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task], timeout=5)  # let the write finish rather than leave it half done
        raise
    except Exception:
        log.exception("could not write IVR node statistics (%d counters kept in memory)", len(stats.counts))


async def read_stats(sessions: async_sessionmaker, flow: str | None = None) -> dict[tuple[str, str, str], int]:
    """Totals over all days: (flow, node, counter) → count."""
    async with sessions() as db:
        stmt = select(NodeStat.flow, NodeStat.node, NodeStat.counter, NodeStat.count)
        if flow is not None:
            stmt = stmt.where(NodeStat.flow == flow)
        totals: Counter[tuple[str, str, str]] = Counter()
        for f, n, c, count in (await db.execute(stmt)).all():
            totals[(f, n, c)] += count
        return dict(totals)
