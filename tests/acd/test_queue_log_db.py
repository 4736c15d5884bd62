"""Queue log rows through the real engine into SQLite and PostgreSQL, read back with queries."""
from __future__ import annotations

from acd.queue_log import QueueLogStore
from hotline.db import create_schema, make_engine, session_factory
from tests.acd.helpers import agent, call, engine, offers, queue


async def test_queue_log_round_trip(db_url):
    db = make_engine(db_url)
    try:
        await create_schema(db)
        store = QueueLogStore(session_factory(db))
        eng = engine([queue(wrapup_time=0, max_no_answer=1)], [agent("1001"), agent("1002")])
        eng.log.append(store.append)
        t = 1_763_900_000.0
        eng.agent_ready(t, "1001")
        eng.enqueue(t + 1, call("1763900001.5", caller="13812345678"))
        (o,) = offers(eng)
        eng.offer_failed(t + 16, "1763900001.5", "1001", "noanswer", o.offer_id)   # autopause: max_no_answer 1
        eng.agent_ready(t + 17, "1002")
        eng.offer_answered(t + 20, "1763900001.5", "1002")
        eng.transferred(t + 80, "1763900001.5", "8001", "hotline-internal")
        eng.enqueue(t + 90, call("c2"))
        eng.caller_hung_up(t + 95, "c2")                      # while 1002 rings for it
        eng.agent_ready(t + 100, "1001")
        assert store.pending == 9
        assert await store.flush() == 9
        assert store.pending == 0
        rows = await store.query(queue="sales")
        assert [(r.event, r.agent) for r in rows] == [
            ("ENTERQUEUE", "NONE"), ("RINGNOANSWER", "1001"), ("CONNECT", "1002"), ("TRANSFER", "1002"),
            ("ENTERQUEUE", "NONE"), ("RINGCANCELED", "1002"), ("ABANDON", "NONE")]
        connect = rows[2]
        assert (connect.callid, connect.data1, connect.data3) == ("1763900001.5", "19", "3")
        assert rows[3].line() == f"{int(t + 80)}|1763900001.5|sales|1002|TRANSFER|8001|hotline-internal|19|60|1"
        pauses = await store.query(agent="1001", events=["PAUSE", "UNPAUSE"])
        assert [(p.queuename, p.event, p.data1) for p in pauses] == [("NONE", "PAUSE", "ring-no-answer"),
                                                                   ("NONE", "UNPAUSE", "ring-no-answer")]
        assert [r.event for r in await store.query(callid="c2")] == ["ENTERQUEUE", "RINGCANCELED", "ABANDON"]
        assert len(await store.query(since=t + 90, until=t + 99)) == 3
    finally:
        await db.dispose()


async def test_failed_write_keeps_entries_for_the_next_attempt(db_url):
    db = make_engine(db_url)
    try:
        store = QueueLogStore(session_factory(db))
        eng = engine([queue()], [agent("1001")])
        eng.log.append(store.append)
        eng.enqueue(1.0, call("c1"))
        try:
            await store.flush()                     # no schema yet: the write fails
        except Exception:
            pass
        else:
            raise AssertionError("write without a table should fail")
        assert store.pending == 1
        await create_schema(db)
        assert await store.flush() == 1
        assert [r.event for r in await store.query()] == ["ENTERQUEUE"]
    finally:
        await db.dispose()


async def test_service_restores_todays_figures_after_a_restart(db_url):
    from acd.service import build_service
    from hotline.config import load_settings

    settings = load_settings()
    db = make_engine(db_url)
    try:
        await create_schema(db)
        sessions = session_factory(db)
        now = [1_763_900_000.0]
        first = build_service(settings, sessions=sessions, clock=lambda: now[0])
        first.agent_ready("1001")
        first.join(call("c1", queue="presales"))
        now[0] += 12
        assert first.offer_answered("c1", "1001")
        now[0] += 60
        assert first.call_ended("c1")
        first.join(call("c2", queue="presales"))
        now[0] += 30
        first.caller_hung_up("c2")
        await first.log_store.flush()
        before = first.queue_stats("presales")
        again = build_service(settings, sessions=sessions, clock=lambda: now[0])
        assert await again.restore_today() == 5          # ENTERQUEUE, CONNECT, COMPLETEAGENT, ENTERQUEUE, ABANDON
        after = again.queue_stats("presales")
        for key in ("offered", "answered", "abandoned", "service_level", "asa_s"):
            assert after[key] == before[key], key
        assert (after["offered"], after["answered"], after["abandoned"], after["asa_s"]) == (2, 1, 1, 12.0)
    finally:
        await db.dispose()
