"""The SQL the reports share: the call-detail range filter, interval buckets, agent state segments."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Integer, Select, case, cast, func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from cti.models import AgentStateLog
from reports.cdr import epoch
from reports.filters import Filters
from reports.models import CallDetail

BUSY_STATES = ("ringing", "talking", "on-hold", "transferring", "wrap-up")
AVAILABLE_STATES = ("ready", "reserved")
LOOKBACK = timedelta(days=1)          # a state that began this long before the range still counts in it


@dataclass
class ReportContext:
    """What the report queries are given: the database and the configured queues and agents."""

    sessions: async_sessionmaker
    queues: Mapping[str, Any] = field(default_factory=dict)      # name -> acd.config.QueueSettings
    agents: Mapping[str, Any] = field(default_factory=dict)      # id -> hotline.config.AgentConfig
    members: Mapping[str, Sequence[str]] = field(default_factory=dict)   # queue -> the agents who serve it

    def sl_rules(self, queue: str | None) -> tuple[float, float]:
        """(threshold seconds, target share) of a queue, or the first queue's for all queues."""
        rules = self.queues.get(queue or "") or next(iter(self.queues.values()), None)
        if rules is None:
            return 20.0, 0.8
        return float(rules.service_level_s), float(rules.service_level_target)

    def agent_ids(self, f: Filters) -> list[str] | None:
        """The agents a filter selects (None: everybody): the agent, else the team's agents and/or the queue's
        members (acd.config.queue_members)."""
        if f.agent:
            return [f.agent]
        ids: list[str] | None = None
        if f.team:
            ids = [a for a, cfg in self.agents.items() if cfg.team == f.team]
        if f.queue and f.queue in self.members:
            members = self.members[f.queue]
            ids = list(members) if ids is None else [a for a in ids if a in members]
        return ids


def details_where(stmt: Select, f: Filters) -> Select:
    stmt = stmt.where(CallDetail.arrived_at >= f.since, CallDetail.arrived_at < f.until)
    if f.queue:
        stmt = stmt.where(CallDetail.queue == f.queue)
    if f.agent:
        stmt = stmt.where(CallDetail.agent_id == f.agent)
    if f.team:
        stmt = stmt.where(CallDetail.team == f.team)
    return stmt


def bucket_index(dialect: str, f: Filters, column: Any = CallDetail.arrived_at) -> Any:
    """The interval a time falls in, counted from the epoch in local time (floor on both databases)."""
    shifted = (column + f.offset_s) / float(f.interval_s)
    return func.floor(shifted) if dialect == "postgresql" else cast(shifted, Integer)


def bucket_epoch(index: Any, f: Filters) -> float:
    return int(index) * f.interval_s - f.offset_s


def when_answered(value: Any) -> Any:
    return case((CallDetail.answered == 1, value), else_=0)


def handle_sum() -> Any:
    return func.sum(case((CallDetail.handled == 1, CallDetail.talk_s + CallDetail.wrapup_s), else_=0))


def traffic_columns() -> list[Any]:
    """offered, answered, abandoned, short abandons, answered within SL, wait of the answered, handled,
    handle seconds, longest wait: the figures behind the interval, KPI and abandon reports."""
    return [func.count(CallDetail.id).label("calls"),
            func.coalesce(func.sum(CallDetail.offered), 0).label("offered"),
            func.coalesce(func.sum(CallDetail.answered), 0).label("answered"),
            func.coalesce(func.sum(CallDetail.abandoned), 0).label("abandoned"),
            func.coalesce(func.sum(CallDetail.short_abandon), 0).label("short_abandons"),
            func.coalesce(func.sum(CallDetail.answered_within), 0).label("within"),
            func.coalesce(func.sum(when_answered(CallDetail.wait_s)), 0).label("answer_wait"),
            func.coalesce(func.sum(CallDetail.handled), 0).label("handled"),
            func.coalesce(handle_sum(), 0).label("handle_s"),
            func.coalesce(func.max(case((CallDetail.offered == 1, CallDetail.wait_s), else_=0)), 0)
            .label("max_wait")]


def ratio(a: float, b: float, digits: int = 4) -> float | None:
    return round(a / b, digits) if b else None


def traffic_figures(row: Any) -> dict[str, Any]:
    return {
        "offered": int(row.offered), "answered": int(row.answered), "abandoned": int(row.abandoned),
        "short_abandons": int(row.short_abandons),
        "service_level": ratio(float(row.within), float(row.answered)),
        "asa_s": ratio(float(row.answer_wait), float(row.answered), 2),
        "aht_s": ratio(float(row.handle_s), float(row.handled), 2),
        "abandon_rate": ratio(float(row.abandoned), float(row.offered)),
        "max_wait_s": round(float(row.max_wait), 1),
    }


@dataclass(frozen=True)
class Segment:
    agent_id: str
    state: str
    reason: str
    start: float
    end: float


async def state_segments(ctx: ReportContext, f: Filters) -> list[Segment]:
    """Each agent's states clipped to the range: the state log with LEAD() giving each row its end."""
    since = datetime.fromtimestamp(f.since, timezone.utc)
    until = datetime.fromtimestamp(f.until, timezone.utc)
    next_at = func.lead(AgentStateLog.at, type_=AgentStateLog.at.type).over(partition_by=AgentStateLog.agent_id,
                                               order_by=(AgentStateLog.at, AgentStateLog.id))
    inner = select(AgentStateLog.agent_id, AgentStateLog.state, AgentStateLog.reason, AgentStateLog.at,
                   next_at.label("next_at")).where(AgentStateLog.at >= since - LOOKBACK,
                                                    AgentStateLog.at < until)
    agents = ctx.agent_ids(f)
    if agents is not None:
        inner = inner.where(AgentStateLog.agent_id.in_(agents))
    sub = inner.subquery()
    stmt = select(sub).where((sub.c.next_at.is_(None)) | (sub.c.next_at > since))
    async with ctx.sessions() as db:
        rows = (await db.execute(stmt)).all()
    segments = []
    for row in rows:
        start = max(epoch(row.at) or 0.0, f.since)
        end = min(epoch(row.next_at) or f.until, f.until)
        if end > start and row.state != "logged-out":
            segments.append(Segment(row.agent_id, row.state, row.reason or "", start, end))
    return segments


def logged_in_per_bucket(segments: list[Segment], f: Filters) -> dict[float, float]:
    """Average number of agents logged in during each interval (logged-in seconds ÷ interval length)."""
    seconds: dict[float, float] = {}
    for s in segments:
        bucket = f.bucket_start(s.start)
        while bucket < s.end:
            overlap = min(s.end, bucket + f.interval_s) - max(s.start, bucket)
            if overlap > 0:
                seconds[bucket] = seconds.get(bucket, 0.0) + overlap
            bucket += f.interval_s
    return {b: round(v / f.interval_s, 2) for b, v in seconds.items()}
