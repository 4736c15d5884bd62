"""Call-detail records and reports on both databases, from facts written the way the packages write them:
queue log, IVR call-end rows, agent state log, surveys, recordings; and the one Alembic history."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from acd.models import QueueLogRow
from cti.models import AgentStateLog
from hotline.config import load_settings
from hotline.db import Base, import_domain_models, make_engine, session_factory
from ivr.models import IvrCall, SurveyResult
from migrations.runner import check_current, current, head, upgrade
from recordings.models import Recording
from reports.catalogue import REPORTS
from reports.run import context_for, filters_from, run_report
from reports.service import builder_for
from tests.reports.helpers import PROJECT_ROOT

ZONE = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=ZONE)            # 09:00 local


def at(minutes: float) -> datetime:
    return (T0 + timedelta(minutes=minutes)).astimezone(timezone.utc)


def ts(minutes: float) -> float:
    return at(minutes).timestamp()


async def write_facts(sessions) -> None:
    """c1 answered by 1001 after 10 s, 100 s talk, 12 s wrap-up; c2 abandoned after 4 s; c3 self-service;
    c4 (09:40) answered by 1002 after 30 s (outside the 20 s service level), 60 s talk."""
    log = [(ts(0) + 5, "c1", "presales", "NONE", "ENTERQUEUE", "", "13800000001", "1"),
           (ts(0) + 15, "c1", "presales", "1001", "CONNECT", "10", "", "2"),
           (ts(0) + 115, "c1", "presales", "1001", "COMPLETECALLER", "10", "100", "1"),
           (ts(10) + 5, "c2", "presales", "NONE", "ENTERQUEUE", "", "13800000002", "1"),
           (ts(10) + 9, "c2", "presales", "NONE", "ABANDON", "1", "1", "4"),
           (ts(40) + 5, "c4", "presales", "NONE", "ENTERQUEUE", "", "13800000001", "1"),
           (ts(40) + 35, "c4", "presales", "1002", "CONNECT", "30", "", "3"),
           (ts(40) + 95, "c4", "presales", "1002", "COMPLETEAGENT", "30", "60", "1")]
    states = [("1001", -60, "logged-out", "ready", None), ("1002", -60, "logged-out", "ready", None),
              ("1001", 0.2, "ready", "talking", "c1"), ("1001", 115 / 60, "talking", "wrap-up", "c1"),
              ("1001", 127 / 60, "wrap-up", "ready", None),
              ("1002", 40.5, "ready", "talking", "c4"), ("1002", 95 / 60 + 40, "talking", "wrap-up", "c4"),
              ("1002", 95 / 60 + 40 + 0.5, "wrap-up", "not-ready", None)]
    async with sessions() as db, db.begin():
        db.add_all([QueueLogRow(time=t, callid=c, queuename=q, agent=a, event=e, data1=d1, data2=d2, data3=d3)
                    for t, c, q, a, e, d1, d2, d3 in log])
        for i, (linkedid, minute, path) in enumerate((("c1", 0, ["hotline:main_menu", "hotline:presales_queue"]),
                                                      ("c2", 10, ["hotline:main_menu", "hotline:presales_queue"]),
                                                      ("c3", 20, ["hotline:main_menu", "hotline:self_service_menu"]),
                                                      ("c4", 40, ["hotline:main_menu", "hotline:presales_queue"]))):
            db.add(IvrCall(uniqueid=linkedid, linkedid=linkedid, caller=f"1380000000{i + 1 if i < 3 else 1}", dnid="4008001234",
                           flow="hotline", language="zh-CN", outcome="hangup", last_node=path[-1].split(":")[1],
                           path=path, started_at=at(minute), ended_at=at(minute + 3)))
        db.add_all([AgentStateLog(agent_id=a, at=at(m), previous_state=p, state=s, request="x", linkedid=link)
                    for a, m, p, s, link in states])
        db.add(SurveyResult(uniqueid="c1", linkedid="c1", caller="13800000001", agent_id="1001", rating=5,
                            created_at=at(3)))
        db.add(Recording(linkedid="c1", agent_id="1001", started_at=at(0.25), duration_s=100.2, status="complete"))


async def test_records_and_reports_on_both_databases(db_url):
    engine = make_engine(db_url)
    try:
        await upgrade(engine)
        await check_current(engine)
        sessions = session_factory(engine)
        await write_facts(sessions)
        settings = load_settings(PROJECT_ROOT / "config", env={})
        assert await builder_for(settings, sessions).rebuild(ts(-60), ts(120)) == 4
        ctx = context_for(settings, sessions)

        async def run(name: str, **options) -> list[dict]:
            f = filters_from(settings, since="2026-11-24T08:00", until="2026-11-24T11:00", **options)
            return (await run_report(ctx, REPORTS[name], f)).rows

        hours = await run("interval", interval="1h")
        assert [r["interval"] for r in hours] == ["2026-11-24 08:00", "2026-11-24 09:00", "2026-11-24 10:00"]
        nine = hours[1]
        assert (nine["offered"], nine["answered"], nine["abandoned"], nine["short_abandons"]) == (3, 2, 1, 1)
        assert nine["service_level"] == 0.5 and nine["asa_s"] == 20.0
        assert nine["aht_s"] == round((100 + 12 + 60 + 30) / 2, 2)             # talk + measured wrap-up
        assert nine["max_wait_s"] == 30.0 and nine["agents_needed"] >= 1
        assert hours[1]["agents_logged_in"] == 2.0 and hours[0]["agents_logged_in"] == 2.0
        # per queue, the agents who serve it (1001 and 1002 have presales; logistics is 1003's and 1004's)
        assert [r["agents_logged_in"] for r in await run("interval", interval="1h", queue="presales")] == [2.0] * 3
        assert [r["agents_logged_in"] for r in await run("interval", interval="1h", queue="logistics")] == [0.0] * 3
        assert [r["agents_logged_in"] for r in await run("interval", interval="1h", queue="presales",
                                                         team="B")] == [0.0] * 3
        quarter = await run("interval", interval="15m")
        assert [r["offered"] for r in quarter[4:8]] == [2, 0, 1, 0]              # 09:00, 09:15, 09:30, 09:45
        kpi = {r["kpi"]: r for r in await run("kpi")}
        assert kpi["calls"]["value"] == 4 and kpi["live_answer_rate"]["value"] == round(2 / 3, 4)
        assert kpi["service_level"]["met"] == "未达标 not met" and kpi["satisfaction"]["value"] == 1.0
        assert kpi["repeat_callers_24h"]["value"] == 1                           # 13800000001 at 09:00 and 09:40
        agents = {r["agent_id"]: r for r in await run("agents")}
        assert agents["1001"]["talk_s"] == 100.0 and agents["1001"]["wrapup_s"] == 12.0
        assert agents["1002"]["not_ready_s"] > 0
        ivr = await run_report(ctx, REPORTS["ivr"], filters_from(settings, since="2026-11-24", until="2026-11-24"))
        assert ("自助服务完成率", "self-service containment", 0.25) in ivr.summary
        abandon = await run("abandon", interval="1d")
        assert abandon == [{"interval": "2026-11-24", "queue": "presales", "offered": 3, "abandoned": 1,
                            "short_abandons": 1, "abandon_rate": round(1 / 3, 4), "avg_abandon_wait_s": 4.0,
                            "max_abandon_wait_s": 4.0}]
        assert [r["aht_s"] for r in await run("aht", agent="1001")] == [112.0]
        assert {r["agent_id"]: r["missed"] for r in await run("extensions")} == {"1001": 0, "1002": 0}
    finally:
        await engine.dispose()


async def test_one_history_creates_every_table_and_matches_the_models(db_url):
    engine = make_engine(db_url)
    try:
        assert await current(engine) is None
        await upgrade(engine)
        assert await current(engine) == head()
        import_domain_models()

        def diff(connection):
            return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                    Base.metadata)

        def tables(connection):
            return set(inspect(connection).get_table_names())

        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
            assert await conn.run_sync(tables) == set(Base.metadata.tables) | {"alembic_version"}
    finally:
        await engine.dispose()


async def test_a_database_made_by_create_all_is_adopted(db_url):
    engine = make_engine(db_url)
    try:
        import_domain_models()
        async with engine.begin() as conn:          # today's schema minus the reports' tables
            await conn.run_sync(lambda c: Base.metadata.create_all(c, tables=[
                t for name, t in Base.metadata.tables.items() if name not in ("call_details", "ivr_calls")]))
        await upgrade(engine)
        assert await current(engine) == head()
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {"call_details", "ivr_calls", "queue_log"} <= names
    finally:
        await engine.dispose()


class Events:
    """The bus as the writer sees it (reports.writer.CallEndSource)."""

    def __init__(self) -> None:
        self.handlers: dict[str, object] = {}

    def subscribe(self, pattern: str, handler) -> None:
        self.handlers[pattern] = handler


async def test_the_writer_catches_up_builds_at_call_end_and_follows_late_talk(db_url):
    import asyncio

    from sqlalchemy import delete, select

    from reports.models import CallDetail
    from reports.writer import CALL_END_TOPIC, CdrWriter

    engine = make_engine(db_url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        await write_facts(sessions)
        settings = load_settings(PROJECT_ROOT / "config", env={})
        events = Events()
        writer = CdrWriter(builder_for(settings, sessions), events, settle_s=0.01, after_wrapup_s=0.01,
                           follow_s=0.01, wall_clock=lambda: ts(60))
        async with writer:
            # at start: every call that ended in the last day without a record (the service was down)
            async with sessions() as db:
                assert len((await db.execute(select(CallDetail.linkedid))).all()) == 4
                await db.execute(delete(CallDetail).where(CallDetail.linkedid == "c2"))
                await db.commit()
            events.handlers[CALL_END_TOPIC](CALL_END_TOPIC, {"linkedid": "c2"})      # the IVR says c2 ended
            # later work on c1 (a transfer's end of talk) reaches the queue log after the call's end
            async with sessions() as db, db.begin():
                db.add(QueueLogRow(time=ts(5), callid="c1", queuename="presales", agent="1001", event="TRANSFER",
                                   data1="1002", data2="hotline", data3="10", data4="150", data5="1"))
            for _ in range(200):
                await asyncio.sleep(0.02)
                async with sessions() as db:
                    rows = {d.linkedid: d for d in (await db.execute(select(CallDetail))).scalars()}
                if "c2" in rows and rows["c1"].transfers == 1:
                    break
        assert rows["c2"].abandoned == 1 and rows["c1"].transfers == 1 and rows["c1"].talk_s == 150.0
    finally:
        await engine.dispose()
