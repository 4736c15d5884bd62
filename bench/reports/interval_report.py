"""The interval report (分时段话务量统计表) over 1,000,000 calls on SQLite and PostgreSQL.

    .venv/bin/python bench/reports/interval_report.py                      # 1,000,000 calls, 30 days, 1 h
    .venv/bin/python bench/reports/interval_report.py --calls 100000 --interval 15m

The database is made by the real migrations (`migrations.runner.upgrade`), then filled in SQL (a recursive
CTE on SQLite, generate_series on PostgreSQL; throw-away database, dropped afterwards): --calls call-detail
records over --days days and 40 agents logging in at 08:00 and out at 20:00 every day. Timed: hotline's
`interval` report over the whole range (SQL GROUP BY over call_details + the agent state log, Erlang C per
interval), next to its peer from the same run: the same figures computed the in-memory way, fetching every
call's row and counting in Python. Target: ≤ 2 s on PostgreSQL.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import select, text  # noqa: E402

from hotline.config import load_settings  # noqa: E402
from hotline.db import make_engine, session_factory  # noqa: E402
from migrations.runner import upgrade  # noqa: E402
from reports.catalogue import REPORTS  # noqa: E402
from reports.models import CallDetail  # noqa: E402
from reports.run import context_for, filters_from, run_report  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN = "postgresql://root@127.0.0.1:5432/test"
ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 10, 1, tzinfo=ZONE)
AGENTS = 40

# one call per row n: arrivals in order over the days between 08:00 and 20:00 local, every 10th abandoned,
# every 4th answered after more than 20 s; the rest answered quickly. Same expression on both databases.
CALL_COLUMNS = ("linkedid, arrived_at, ended_at, caller, dnid, language, ivr_path, ivr_last_node, ivr_outcome, "
                "queue, team, offered, answered, abandoned, short_abandon, answered_within, sl_threshold_s, "
                "wait_s, ring_no_answers, agent_id, answered_at, handled, talk_s, hold_s, wrapup_s, transfers, "
                "conference, disposition, recorded_s, ended_how")


def call_values(n: str, start: float, days: int, calls: int) -> str:
    # in arrival order, as the writer inserts them: day by day, 08:00-20:00 evenly
    m = f"({n} - 1)"
    arrive = f"({start} + ({m} * {days} / {calls}) * 86400 + 28800 + (({m} * {days}) % {calls}) * 43200.0 / {calls})"
    abandoned = f"(CASE WHEN {n} % 10 = 0 THEN 1 ELSE 0 END)"
    wait = f"(CASE WHEN {n} % 4 = 0 THEN 25.0 ELSE ({n} % 15) * 1.0 END)"
    agent = f"CAST(1001 + {n} % {AGENTS} AS VARCHAR(8))"
    queue = (f"(CASE {n} % 6 WHEN 0 THEN 'presales' WHEN 1 THEN 'aftersales' WHEN 2 THEN 'logistics' "
             f"WHEN 3 THEN 'complaints' WHEN 4 THEN 'vip' ELSE 'english' END)")
    return (f"'b' || CAST({n} AS VARCHAR(12)), {arrive}, {arrive} + 300, '138' || CAST({n} % 100000 AS VARCHAR(8)), "
            f"'4008001234', 'zh-CN', '[]', 'presales_queue', 'reached_queue', {queue}, 'A', 1, 1 - {abandoned}, "
            f"{abandoned}, 0, CASE WHEN {abandoned} = 0 AND {wait} <= 20 THEN 1 ELSE 0 END, 20.0, {wait}, 0, "
            f"CASE WHEN {abandoned} = 1 THEN '' ELSE {agent} END, {arrive} + {wait}, 1 - {abandoned}, "
            f"CASE WHEN {abandoned} = 1 THEN 0 ELSE 120 + {n} % 240 END, 0, CASE WHEN {abandoned} = 1 THEN 0 ELSE 10 END, "
            f"0, false, '', 0, CASE WHEN {abandoned} = 1 THEN 'abandoned' ELSE 'answered' END")


async def fill(engine, calls: int, days: int) -> None:
    start = START.timestamp()
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            source = f"SELECT {call_values('n', start, days, calls)} FROM generate_series(1, {calls}) AS g(n)"
        else:
            source = (f"WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {calls}) "
                      f"SELECT {call_values('n', start, days, calls)} FROM seq")
        await conn.execute(text(f"INSERT INTO call_details ({CALL_COLUMNS}) {source}"))
        rows = []
        for day in range(days):
            opens = START + timedelta(days=day, hours=8)
            for a in range(AGENTS):
                agent = str(1001 + a)
                rows.append({"agent_id": agent, "at": opens, "previous_state": "logged-out", "state": "ready",
                             "request": "login"})
                rows.append({"agent_id": agent, "at": opens + timedelta(hours=12), "previous_state": "ready",
                             "state": "logged-out", "request": "logout"})
        await conn.execute(text("INSERT INTO agent_state_log (agent_id, at, previous_state, state, request) "
                                "VALUES (:agent_id, :at, :previous_state, :state, :request)"), rows)
        if engine.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE call_details"))
            await conn.execute(text("ANALYZE agent_state_log"))


async def in_memory_peer(engine, since: float, until: float, interval_s: int, offset: int) -> int:
    """The same offered/answered/SL/ASA/AHT per interval, the in-memory way: every row to Python."""
    buckets: dict[int, list[float]] = {}
    stmt = select(CallDetail.arrived_at, CallDetail.offered, CallDetail.answered, CallDetail.abandoned,
                  CallDetail.answered_within, CallDetail.wait_s, CallDetail.handled, CallDetail.talk_s,
                  CallDetail.wrapup_s).where(CallDetail.arrived_at >= since, CallDetail.arrived_at < until)
    async with engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    for arrived, offered, answered, abandoned, within, wait, handled, talk, wrapup in rows:
        b = buckets.setdefault(int((arrived + offset) // interval_s), [0.0] * 6)
        b[0] += offered
        b[1] += answered
        b[2] += abandoned
        b[3] += within
        b[4] += wait if answered else 0.0
        b[5] += (talk + wrapup) if handled else 0.0
    return len(buckets)


async def bench(url: str, calls: int, days: int, interval: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
        began = time.perf_counter()
        await fill(engine, calls, days)
        loaded = time.perf_counter() - began
        settings = load_settings(ROOT / "config", env={})
        sessions = session_factory(engine)
        ctx = context_for(settings, sessions)
        end = START + timedelta(days=days)
        filters = filters_from(settings, since=START.strftime("%Y-%m-%d"), until=end.strftime("%Y-%m-%d"),
                               interval=interval)
        await run_report(ctx, REPORTS["interval"], filters)            # warm the caches once
        began = time.perf_counter()
        result = await run_report(ctx, REPORTS["interval"], filters)
        ours = time.perf_counter() - began
        began = time.perf_counter()
        await in_memory_peer(engine, filters.since, filters.until, filters.interval_s, filters.offset_s)
        peer = time.perf_counter() - began
        offered = sum(r["offered"] for r in result.rows)
        assert offered == calls, (offered, calls)
        print(f"{engine.dialect.name:10} calls {calls:>9,}  report rows {len(result.rows):>5} ({interval})  "
              f"hotline {ours:6.2f} s   in-memory peer {peer:6.2f} s   ratio {peer / ours:5.1f}x   "
              f"(load {loaded:.0f} s)", flush=True)
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--interval", default="1h", choices=["15m", "30m", "1h", "1d"])
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    args = parser.parse_args()
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            await bench(f"sqlite+aiosqlite:///{tmp}/bench.db", args.calls, args.days, args.interval)
    if args.only != "sqlite":
        import asyncpg

        name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            await bench(f"postgresql+asyncpg://root@127.0.0.1:5432/{name}", args.calls, args.days, args.interval)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
