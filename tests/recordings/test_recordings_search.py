"""Search by agent and time range returns exactly the right set, edges included, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from recordings.models import Recording
from recordings.search import RecordingFilters, parse_local_time, search_recordings

BASE = datetime(2026, 11, 1, tzinfo=timezone.utc)
AGENTS = ["1001", "1002", "1003"]

# Offsets (seconds from BASE) concentrated on a few instants so rows often sit exactly on a range edge.
offsets = st.one_of(
    st.sampled_from([0, 1, 3600, 3600 * 8, 86400 - 1, 86400]),
    st.integers(min_value=0, max_value=3 * 86400),
).map(lambda s: timedelta(seconds=s))
micro = st.sampled_from([0, 0, 1, 999_999, 500_000]).map(lambda us: timedelta(microseconds=us))
rows_strategy = st.lists(
    st.tuples(st.sampled_from(AGENTS), offsets, micro, st.sampled_from(["13800000001", "13900000002"])),
    min_size=0, max_size=40,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows_strategy, agent=st.sampled_from(AGENTS + [None]), data=st.data())
async def test_agent_and_range_returns_exactly_the_matching_rows(ctx, rows, agent, data):
    async with ctx.sessions() as session:
        await session.execute(delete(Recording))
        for n, (agent_id, off, us, caller) in enumerate(rows):
            session.add(Recording(linkedid=f"call-{n}", segment=1, agent_id=agent_id, caller=caller,
                                  started_at=BASE + off + us, path=f"x/{n}.wav"))
        await session.commit()
    starts = [BASE + off + us for _, off, us, _ in rows]
    # Range edges: often exactly a row's start, sometimes anywhere, sometimes open.
    edge = st.one_of(st.none(), st.sampled_from(starts) if starts else st.none(), offsets.map(lambda d: BASE + d))
    start_from = data.draw(edge, label="from")
    start_to = data.draw(edge, label="to")

    async with ctx.sessions() as session:
        page = await search_recordings(session, RecordingFilters(
            agent_id=agent, start_from=start_from, start_to=start_to, page_size=500))

    expected = sorted(
        (start, f"call-{n}") for n, ((agent_id, _, _, _), start) in enumerate(zip(rows, starts))
        if (agent is None or agent_id == agent)
        and (start_from is None or start >= start_from)
        and (start_to is None or start < start_to)
    )
    assert page.total == len(expected)
    assert sorted(r.linkedid for r in page.items) == sorted(name for _, name in expected)
    assert [r.started_at for r in page.items] == sorted(r.started_at for r in page.items)
    assert all(r.started_at.tzinfo is not None for r in page.items)


async def test_consecutive_ranges_count_a_call_at_the_boundary_once(ctx):
    edge = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
    async with ctx.sessions() as session:
        session.add(Recording(linkedid="edge", agent_id="1001", started_at=edge, path="e.wav"))
        await session.commit()
        first = await search_recordings(session, RecordingFilters(agent_id="1001", start_from=edge - timedelta(hours=1), start_to=edge))
        second = await search_recordings(session, RecordingFilters(agent_id="1001", start_from=edge, start_to=edge + timedelta(hours=1)))
    assert (first.total, second.total) == (0, 1)


async def test_filters_paging_and_sorting(ctx):
    async with ctx.sessions() as session:
        for n in range(25):
            session.add(Recording(
                linkedid=f"c{n}", agent_id="1001" if n % 2 else "1002", caller=f"1380000{n:04d}",
                queue="presales" if n < 10 else "aftersales", customer_id="C7" if n % 5 == 0 else None,
                started_at=BASE + timedelta(minutes=n), duration_s=float(n), path=f"{n}.wav"))
        await session.commit()

        async def ids(**kw):
            page = await search_recordings(session, RecordingFilters(page_size=100, **kw))
            return [r.linkedid for r in page.items]

        assert await ids(queue="presales", min_duration_s=5) == [f"c{n}" for n in range(5, 10)]
        assert await ids(customer_id="C7") == ["c0", "c5", "c10", "c15", "c20"]
        assert await ids(caller="13800000003") == ["c3"]
        assert (await ids(sort="duration_s", descending=True))[:2] == ["c24", "c23"]
        pages = [await search_recordings(session, RecordingFilters(agent_id="1001", page=p, page_size=5)) for p in (1, 2, 3)]
    assert [p.total for p in pages] == [12, 12, 12]
    assert [len(p.items) for p in pages] == [5, 5, 2]
    assert [p.has_next for p in pages] == [True, True, False]
    seen = [r.linkedid for p in pages for r in p.items]
    assert len(set(seen)) == 12


def test_local_times_are_read_in_the_configured_zone():
    shanghai = ZoneInfo("Asia/Shanghai")
    assert parse_local_time("2026-11-01T08:00", shanghai) == datetime(2026, 11, 1, 0, 0, tzinfo=timezone.utc)
    assert parse_local_time("2026-11-01T08:00+00:00", shanghai) == datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="not a date/time"):
        parse_local_time("yesterday", shanghai)
    with pytest.raises(ValueError, match="timezone-aware"):
        RecordingFilters(start_from=datetime(2026, 11, 1))
