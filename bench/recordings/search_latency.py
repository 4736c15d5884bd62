"""Search latency of the recordings search (agent + one-day range), SQLite and PostgreSQL side by side.

    .venv/bin/python bench/recordings/search_latency.py                 # 1,000,000 rows
    .venv/bin/python bench/recordings/search_latency.py --rows 100000 --queries 300

Rows are spread over --agents agents and --days days. Each query is the real `search_recordings`
(count + first page of 50, sorted by start) for a random agent and a random local day [00:00, 24:00).
Bulk load: sqlite3 executemany in one transaction; PostgreSQL COPY (asyncpg copy_records_to_table)
into a throw-away database that is dropped afterwards.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hotline.db import Base, make_engine, session_factory  # noqa: E402
from recordings.models import Recording  # noqa: E402
from recordings.search import RecordingFilters, search_recordings  # noqa: E402

EPOCH = datetime(2026, 8, 1, tzinfo=timezone.utc)
QUEUES = ["presales", "aftersales", "logistics", "complaints", "vip", "english"]
COLUMNS = ["linkedid", "segment", "channel", "caller", "called", "agent_id", "agent_name", "queue", "customer_id",
           "direction", "started_at", "answered_at", "ended_at", "duration_s", "path", "format", "size_bytes",
           "sha256", "disposition", "satisfaction", "tags", "storage_tier", "status", "error", "stereo",
           "created_at", "updated_at"]


def generate(rows: int, agents: int, days: int, seed: int):
    rnd = random.Random(seed)
    span = days * 86400
    for n in range(rows):
        start = EPOCH + timedelta(seconds=rnd.random() * span)
        duration = round(rnd.expovariate(1 / 180), 3)
        end = start + timedelta(seconds=duration)
        naive = start.replace(tzinfo=None)
        yield (f"{1795400000 + n}.{n}", 1, f"PJSIP/trunk-{n:08x}", f"138{rnd.randrange(10**8):08d}", "4008001234",
               str(1001 + rnd.randrange(agents)), "坐席", rnd.choice(QUEUES),
               f"C{rnd.randrange(200000)}" if rnd.random() < 0.6 else None, "inbound", naive, naive,
               end.replace(tzinfo=None), duration, f"{start:%Y/%m/%d}/{n}-1.wav", "wav", int(duration * 16000) + 44,
               None, "answered", rnd.choice([None, 3, 4, 5]), "[]", "primary", "complete", None, False, naive, naive)


async def create_tables(url: str) -> None:
    """The table without its secondary indexes: they are built once after the bulk load (much faster)."""
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all, tables=[Recording.__table__])
        for index in Recording.__table__.indexes:
            await conn.run_sync(index.drop)
    await engine.dispose()


async def create_indexes(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        for index in Recording.__table__.indexes:
            await conn.run_sync(index.create)
    await engine.dispose()


def load_sqlite(path: Path, data) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    def convert(row):  # SQLAlchemy's SQLite DATETIME text: 'YYYY-MM-DD HH:MM:SS.ffffff'
        row = list(row)
        for i in (10, 11, 12, 25, 26):
            row[i] = row[i].isoformat(sep=" ", timespec="microseconds")
        return row
    sql = f"INSERT INTO recordings ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    with conn:
        conn.executemany(sql, (convert(r) for r in data))
    conn.close()


async def load_postgres(dsn: str, data) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table("recordings", records=list(data), columns=COLUMNS)
    finally:
        await conn.close()


async def analyze(url: str) -> None:
    from sqlalchemy import text

    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE recordings" if engine.dialect.name == "postgresql" else "ANALYZE"))
    await engine.dispose()


async def measure(url: str, queries: int, agents: int, days: int, seed: int) -> list[float]:
    rnd = random.Random(seed + 1)
    engine = make_engine(url)
    sessions = session_factory(engine)
    shanghai = timezone(timedelta(hours=8))
    timings = []
    try:
        for i in range(queries + 10):
            day = (EPOCH + timedelta(days=rnd.randrange(days))).astimezone(shanghai).replace(hour=0, minute=0, second=0, microsecond=0)
            filters = RecordingFilters(agent_id=str(1001 + rnd.randrange(agents)), start_from=day,
                                       start_to=day + timedelta(days=1), page_size=50)
            t0 = time.perf_counter()
            async with sessions() as session:
                page = await search_recordings(session, filters)
            elapsed = time.perf_counter() - t0
            if i >= 10:  # the first few warm the connection pool and caches
                timings.append(elapsed * 1000)
            assert len(page.items) == min(50, page.total)
    finally:
        await engine.dispose()
    return timings


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--agents", type=int, default=60)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg-admin", default="postgresql://root@127.0.0.1:5432/test",
                        help="a PostgreSQL database to create the throw-away benchmark database from")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    results: dict[str, dict[str, float]] = {}

    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            print(f"[{backend}] loading {args.rows:,} rows …", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            if backend == "sqlite":
                path = Path(tmp) / "bench.db"
                url = f"sqlite+aiosqlite:///{path}"
                await create_tables(url)
                load_sqlite(path, generate(args.rows, args.agents, args.days, args.seed))
                drop = None
            elif backend == "postgresql":
                import asyncpg

                name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
                admin = await asyncpg.connect(args.pg_admin)
                await admin.execute(f'CREATE DATABASE "{name}"')
                await admin.close()
                dsn = args.pg_admin.rsplit("/", 1)[0] + "/" + name
                url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
                await create_tables(url)
                await load_postgres(dsn, generate(args.rows, args.agents, args.days, args.seed))

                async def drop(name=name):
                    admin = await asyncpg.connect(args.pg_admin)
                    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    await admin.close()
            else:
                parser.error(f"unknown backend {backend!r}")
            await create_indexes(url)
            await analyze(url)
            load_s = time.perf_counter() - t0
            try:
                timings = await measure(url, args.queries, args.agents, args.days, args.seed)
            finally:
                if drop is not None:
                    await drop()
            results[backend] = {"load_s": load_s, "p50": statistics.median(timings), "p95": pct(timings, 95),
                                "max": max(timings)}

    print(f"recordings search: agent + one local day, page of 50 with total; {args.rows:,} rows, "
          f"{args.agents} agents over {args.days} days, {args.queries} queries")
    print(f"{'':<14}" + "".join(f"{b:>14}" for b in results))
    for key, label in (("load_s", "load+index s"), ("p50", "p50 ms"), ("p95", "p95 ms"), ("max", "max ms")):
        print(f"{label:<14}" + "".join(f"{results[b][key]:>14.2f}" for b in results))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
