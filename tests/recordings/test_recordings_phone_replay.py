"""Phone replay (flows/qa_replay.yaml) over the real recordings service, through the simulator.

caller → pbxsim trunk → [hotline-inbound] → FastAGI (real TCP) → hotline flow, * → QA login (staff ID + PIN) →
agent ID, date, time range → RecordingsService.find → RecordingsService.search over the
recordings tables (SQLite and PostgreSQL) → STREAM FILE of each recording's file, next/previous → one audit
row per recording played, with the staff ID. Virtual time (tests/ivr/sim_env.py).
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.pool import NullPool

from hotline.db import make_engine, session_factory
from pbxsim.participants import CallerScript
from recordings.config import load_recording_config
from recordings.context import RecordingsContext
from recordings.migrate import upgrade_async
from recordings.models import AuditLog
from recordings.policy import RecordingPolicy
from recordings.recorder import Recorder
from recordings.service import RecordingsService
from recordings.storage import LocalStorage
from recording_helpers import add_recording, hold_clock_while_connected
from tests.ivr.sim_env import run_with_simulator

REPO = Path(__file__).resolve().parents[2]
UTC = timezone.utc

QA_LOGIN = ["wait 0.5", "press *", "wait 2", "press 9101#", "wait 1.5", "press 9101#", "wait 2"]
# agent 1001, 2026-11-23, 08:00-18:00 Shanghai (00:00-10:00 UTC); then: hear the first recording, 3 next,
# 3 next (the third), 1 previous (the second again), 0 back to the search menu, hang up
STEPS = QA_LOGIN + ["press 1001#", "wait 1.5", "press 20261123#", "wait 1.5", "press 0800#", "wait 1.5",
                    "press 1800#", "wait 14", "press 3", "wait 12", "press 3", "wait 12", "press 1", "wait 12",
                    "press 0", "wait 1", "hangup"]


def _service(db_url: str, tmp_path: Path) -> RecordingsService:
    # NullPool: no connection outlives its session, so the engine serves the seeding loop and the simulator's
    # virtual-time loop alike (and no idle aiosqlite worker holds the virtual clock)
    engine = make_engine(db_url, poolclass=NullPool)
    config = load_recording_config(REPO / "config" / "recording.yaml")
    ctx = RecordingsContext(sessions=session_factory(engine), config=config,
                            storages={"primary": LocalStorage(tmp_path / "recordings", "primary"),
                                      "archive": LocalStorage(tmp_path / "archive", "archive")},
                            time_zone=ZoneInfo("Asia/Shanghai"), engine=engine)
    policy = RecordingPolicy(ctx.config)
    return RecordingsService(ctx, policy, Recorder(None, ctx.sessions, policy, ctx.primary))


async def _seed(ctx) -> dict[str, int]:
    await upgrade_async(ctx.engine)
    day = datetime(2026, 11, 23, tzinfo=UTC)
    rows = {  # inserted out of order: the replay order is the start time's
        "third": dict(started_at=day.replace(hour=9, minute=59, second=59), seconds=1.5),
        "first": dict(started_at=day.replace(hour=0), seconds=2.0),          # 08:00 sharp: in the range
        "second": dict(started_at=day.replace(hour=3, minute=15), seconds=3.0),
        "late": dict(started_at=day.replace(hour=10), seconds=1.0),           # 18:00: the range's end, out
        "other_agent": dict(started_at=day.replace(hour=2), seconds=1.0, agent_id="1002"),
    }
    ids = {}
    for name, kw in rows.items():
        kw.setdefault("agent_id", "1001")
        rec = await add_recording(ctx, caller=f"1380013{len(ids):04d}", linkedid=f"replay-{name}", **kw)
        ids[name] = rec.id
    return ids


def test_qa_staff_hears_the_agents_recordings_in_order_and_every_replay_is_audited(tmp_path, db_url):
    service = _service(db_url, tmp_path)
    ctx = service.context
    ids = asyncio.run(_seed(ctx))
    streamed: list[str] = []

    async def body(sim, ivr, sessions):
        with hold_clock_while_connected():
            return await replay(sim, ivr)

    async def replay(sim, ivr):
        sim.pbx.subscribe(lambda e: streamed.append(e.get("Command", "").split(" ")[2])
                          if e.name == "AGIExecStart" and e.get("Command", "").startswith("STREAM FILE") else None)
        caller = await sim.place_call(CallerScript("13800138000", dnid="4008001234", steps=STEPS))
        await caller.wait()
        return ivr.engine.results[-1]

    try:
        result = run_with_simulator(tmp_path, body, recordings=service)

        async def audit_rows():
            async with ctx.sessions() as db:
                return [(a.actor, a.action, a.recording_id, a.detail)
                        for a in (await db.scalars(select(AuditLog).order_by(AuditLog.id))).all()]
        audit = asyncio.run(audit_rows())
    finally:
        asyncio.run(ctx.engine.dispose())

    path = [p for p in result.path if p.startswith("qa_replay:")]
    assert path[-2:] == ["qa_replay:qa_play", "qa_replay:qa_agent"]  # 0 went back to the search menu

    def sound(name):
        return str(ctx.primary.local_path(f"2026/11/23/replay-{name}-1.wav"))[:-4]

    recordings_played = [s for s in streamed if s.startswith(str(ctx.primary.root))]
    assert recordings_played == [sound("first"), sound("second"), sound("third"), sound("second")], streamed
    assert audit == [("9101", "replay", ids[name], "phone") for name in ("first", "second", "third", "second")]
