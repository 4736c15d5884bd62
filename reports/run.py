"""Running a report: the context from the settings, the checks every output shares, and the result."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from acd.config import from_settings, queue_members
from reports.catalogue import REPORTS, Report, Result
from reports.filters import Filters, ReportError, parse_filters
from reports.models import CallDetail
from reports.sql import ReportContext


def context_for(settings: Any, sessions: async_sessionmaker) -> ReportContext:
    queues, profiles = from_settings(settings)
    return ReportContext(sessions, queues={q.name: q for q in queues}, agents={a.id: a for a in settings.agents},
                         members={q.name: queue_members(q, profiles) for q in queues})


def report_named(name: str) -> Report:
    report = REPORTS.get(name)
    if report is None:
        raise ReportError(f"unknown report {name!r} (one of: {', '.join(REPORTS)})")
    return report


def filters_from(settings: Any, **values: Any) -> Filters:
    return parse_filters(time_zone=settings.service.time_zone, queues=[q.name for q in settings.queues],
                         agents=[a.id for a in settings.agents], teams={a.team for a in settings.agents},
                         **values)


async def run_report(ctx: ReportContext, report: Report, filters: Filters) -> Result:
    async with ctx.sessions() as db:
        stored = (await db.execute(select(func.count()).select_from(CallDetail))).scalar_one()
    if not stored:
        raise ReportError("the database holds no call-detail records yet (no calls, or run "
                          "`hotline reports rebuild --from … --to …` after an upgrade)")
    return await report.query(ctx, filters)
