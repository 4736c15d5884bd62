"""The reports, each defined once: columns with Chinese and English headings, charts, and a query.

The web page, the XLSX/CSV files and the command line all render these definitions; every figure comes
from SQL over ``call_details`` and ``agent_state_log`` (plus the IVR's node counters for the IVR report).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from crm.kpi import request_kpis
from cti.models import AgentStateLog, CallRecord
from ivr.models import NodeStat
from reports.cdr import epoch
from reports.erlang import agents_needed
from reports.filters import Filters
from reports.models import CallDetail
from reports.sql import (AVAILABLE_STATES, BUSY_STATES, ReportContext, bucket_epoch, bucket_index, details_where,
                         logged_in_per_bucket, ratio, state_segments, traffic_columns, traffic_figures)

REPEAT_WINDOW_S = 86400


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    kind: str = "int"          # text | int | float | s (seconds) | % (share 0-1)


@dataclass(frozen=True)
class Chart:
    kind: str                  # bar | line | pie
    category: str              # the column along the axis (or the pie's slices)
    values: tuple[str, ...]    # the columns drawn
    title_zh: str = ""
    title_en: str = ""


@dataclass
class Result:
    rows: list[dict[str, Any]]
    summary: list[tuple[str, str, Any]] = field(default_factory=list)    # (zh, en, value) shown above


@dataclass(frozen=True)
class Report:
    name: str
    zh: str
    en: str
    columns: tuple[Column, ...]
    query: Callable[[ReportContext, Filters], Awaitable[Result]]
    charts: tuple[Chart, ...] = ()
    uses_interval: bool = False


def _dialect(ctx: ReportContext) -> str:
    return ctx.sessions.kw["bind"].dialect.name


def _local(f: Filters, epoch_s: float | None) -> str:
    return f.local(epoch_s).strftime("%Y-%m-%d %H:%M:%S") if epoch_s is not None else ""


# ------------------------------------------------------------------ 分时段话务量统计表 (+ Erlang C staffing)

async def interval_report(ctx: ReportContext, f: Filters) -> Result:
    index = bucket_index(_dialect(ctx), f).label("bucket")
    stmt = details_where(select(index, *traffic_columns()), f).group_by(index).order_by(index)
    async with ctx.sessions() as db:
        found = {bucket_epoch(r.bucket, f): r for r in (await db.execute(stmt)).all()}
    staffed = logged_in_per_bucket(await state_segments(ctx, f), f)
    threshold, target = ctx.sl_rules(f.queue)
    rows = []
    for bucket in f.buckets():
        row = found.get(bucket)
        figures = traffic_figures(row) if row is not None else traffic_figures(_EMPTY)
        needed = agents_needed(figures["offered"], figures["aht_s"] or 0.0, f.interval_s,
                               target=target, threshold_s=threshold)
        rows.append({"interval": f.label(bucket), **figures, "agents_logged_in": staffed.get(bucket, 0.0),
                     "agents_needed": needed})
    return Result(rows, [("服务水平目标", "service-level target", f"{target:.0%} in {threshold:.0f} s")])


class _Empty:
    calls = offered = answered = abandoned = short_abandons = within = answer_wait = handled = handle_s = 0
    max_wait = 0.0


_EMPTY = _Empty()

TRAFFIC = (Column("offered", "呼入排队", "offered"), Column("answered", "人工接听", "answered"),
           Column("abandoned", "放弃", "abandoned"), Column("short_abandons", "短放弃(≤5秒)", "short abandons"),
           Column("service_level", "服务水平", "service level", "%"), Column("asa_s", "平均应答时间", "ASA", "s"),
           Column("aht_s", "平均处理时长", "AHT", "s"), Column("abandon_rate", "放弃率", "abandon rate", "%"),
           Column("max_wait_s", "最长等待", "longest wait", "s"))

INTERVAL = Report(
    "interval", "分时段话务量统计表", "Traffic by interval",
    (Column("interval", "时段", "interval", "text"), *TRAFFIC,
     Column("agents_logged_in", "在线座席", "agents logged in", "float"),
     Column("agents_needed", "所需座席(Erlang C)", "agents needed (Erlang C)")),
    interval_report,
    (Chart("bar", "interval", ("offered", "answered", "abandoned"), "话务量", "Calls"),
     Chart("line", "interval", ("agents_logged_in", "agents_needed"), "座席配置", "Staffing")),
    uses_interval=True)


# ------------------------------------------------------------------ KPI report (kpis.md)

async def kpi_report(ctx: ReportContext, f: Filters) -> Result:
    later, earlier = aliased(CallDetail), aliased(CallDetail)
    repeat = select(earlier.id).where(earlier.caller == later.caller, earlier.caller != "",
                                      earlier.arrived_at < later.arrived_at,
                                      earlier.arrived_at >= later.arrived_at - REPEAT_WINDOW_S).exists()
    repeat_stmt = select(func.count(later.id)).where(later.arrived_at >= f.since, later.arrived_at < f.until,
                                                     repeat)
    if f.queue:
        repeat_stmt = repeat_stmt.where(later.queue == f.queue)
    async with ctx.sessions() as db:
        t = (await db.execute(details_where(select(*traffic_columns()), f))).one()
        blocked = (await db.execute(details_where(select(func.count(CallDetail.id)), f)
                                    .where(CallDetail.ivr_outcome == "blocked"))).scalar_one()
        surveys = (await db.execute(details_where(select(
            func.count(CallDetail.survey_rating),
            func.sum(case((CallDetail.survey_rating >= 4, 1), else_=0)),
            func.avg(CallDetail.survey_rating)), f))).one()
        repeats = (await db.execute(repeat_stmt)).scalar_one()
    figures = traffic_figures(t)
    threshold, target = ctx.sl_rules(f.queue)
    calls = int(t.calls)
    connection = ratio(calls - int(blocked), calls)
    satisfied = ratio(float(surveys[1] or 0), float(surveys[0] or 0))
    rows = [
        _kpi("calls", "来电总数", "calls", calls),
        _kpi("offered", "转人工(排队)", "offered to agents", figures["offered"]),
        _kpi("answered", "人工接听", "answered", figures["answered"]),
        _kpi("abandoned", "放弃", "abandoned", figures["abandoned"]),
        _kpi("connection_rate", "系统接通率", "system connection rate", connection, 0.85),
        _kpi("live_answer_rate", "人工应答率", "live-answer rate",
             ratio(figures["answered"], figures["offered"]), 0.85),
        _kpi("service_level", f"服务水平({threshold:.0f}秒)", f"service level ({threshold:.0f} s)",
             figures["service_level"], target),
        _kpi("asa_s", "平均应答时间(秒)", "ASA (s)", figures["asa_s"]),
        _kpi("aht_s", "平均处理时长(秒)", "AHT (s)", figures["aht_s"]),
        _kpi("abandon_rate", "放弃率", "abandon rate", figures["abandon_rate"]),
        _kpi("satisfaction", "满意度(4–5分占比)", "satisfaction (share of 4–5)", satisfied, 0.90),
        _kpi("satisfaction_mean", "满意度平均分", "satisfaction mean",
             round(float(surveys[2]), 2) if surveys[2] is not None else None),
        _kpi("surveyed", "参评数", "surveys", int(surveys[0] or 0)),
        _kpi("repeat_callers_24h", "24小时内重复来电", "repeat calls within 24 h", int(repeats)),
    ]
    # the 工单 figures of kpis.md (reply rate, on time, complaints ≤ 48 h, repeat complaints, satisfaction)
    since, until = (datetime.fromtimestamp(t, timezone.utc) for t in (f.since, f.until))
    for figure in await request_kpis(ctx.sessions, since, until):
        rows.append({"kpi": figure["name"], "figure_zh": figure["label"], "figure_en": figure["name"].replace("_", " "),
                     "value": figure["value"], "kind": "%",
                     "target": f"{figure['target_rule']} {figure['target']:.0%}",
                     "met": {None: "—", True: "达标 met", False: "未达标 not met"}[figure["met"]]})
    return Result(rows)


def _kpi(key: str, zh: str, en: str, value: Any, target: float | None = None) -> dict[str, Any]:
    met = None if target is None or value is None else value >= target
    kind = "%" if target is not None or key.endswith("_rate") or key == "satisfaction" else ""
    return {"kpi": key, "figure_zh": zh, "figure_en": en, "value": value, "kind": kind,
            "target": f"≥ {target:.0%}" if target is not None else "—",
            "met": {None: "—", True: "达标 met", False: "未达标 not met"}[met]}


KPI = Report(
    "kpi", "KPI 指标报表", "KPI report",
    (Column("figure_zh", "指标", "figure (zh)", "text"), Column("figure_en", "Figure", "figure", "text"),
     Column("value", "数值", "value", "float"), Column("target", "目标", "target", "text"),
     Column("met", "是否达标", "met", "text")),
    kpi_report)


# ------------------------------------------------------------------ 座席话务统计报表 / 详细表

async def agent_report(ctx: ReportContext, f: Filters) -> Result:
    stmt = details_where(select(
        CallDetail.agent_id, func.sum(CallDetail.answered).label("answered"),
        func.coalesce(func.sum(CallDetail.talk_s), 0).label("talk"),
        func.coalesce(func.sum(CallDetail.hold_s), 0).label("hold"),
        func.coalesce(func.sum(CallDetail.wrapup_s), 0).label("wrapup"),
        func.coalesce(func.sum(CallDetail.handled), 0).label("handled"),
        func.coalesce(func.sum(case((CallDetail.handled == 1, CallDetail.talk_s + CallDetail.wrapup_s),
                                    else_=0)), 0).label("handle_s")), f) \
        .where(CallDetail.agent_id != "").group_by(CallDetail.agent_id)
    async with ctx.sessions() as db:
        calls = {r.agent_id: r for r in (await db.execute(stmt)).all()}
    time_in: dict[str, dict[str, float]] = {}
    not_ready: dict[str, dict[str, float]] = {}
    for s in await state_segments(ctx, f):
        spent = time_in.setdefault(s.agent_id, {})
        spent[s.state] = spent.get(s.state, 0.0) + (s.end - s.start)
        if s.state == "not-ready":
            reasons = not_ready.setdefault(s.agent_id, {})
            reasons[s.reason or "-"] = reasons.get(s.reason or "-", 0.0) + (s.end - s.start)
    rows = []
    for agent in sorted(set(calls) | set(time_in)):
        if not agent:
            continue
        c, spent = calls.get(agent), time_in.get(agent, {})
        busy = sum(spent.get(s, 0.0) for s in BUSY_STATES)
        available = sum(spent.get(s, 0.0) for s in AVAILABLE_STATES)
        handled = int(c.handled) if c else 0
        cfg = ctx.agents.get(agent)
        rows.append({
            "agent_id": agent, "name": getattr(cfg, "name", ""), "team": getattr(cfg, "team", ""),
            "answered": int(c.answered) if c else 0, "talk_s": round(float(c.talk), 1) if c else 0.0,
            "hold_s": round(float(c.hold), 1) if c else 0.0, "wrapup_s": round(float(c.wrapup), 1) if c else 0.0,
            "aht_s": ratio(float(c.handle_s), handled, 2) if c else None,
            "login_s": round(sum(spent.values()), 1), "ready_s": round(spent.get("ready", 0.0), 1),
            "not_ready_s": round(spent.get("not-ready", 0.0), 1),
            "not_ready_reasons": "; ".join(f"{k} {v:.0f}s" for k, v in sorted(not_ready.get(agent, {}).items())),
            "occupancy": ratio(busy, busy + available),
        })
    return Result(rows)


AGENTS = Report(
    "agents", "座席话务统计报表", "Agent traffic",
    (Column("agent_id", "工号", "agent", "text"), Column("name", "姓名", "name", "text"),
     Column("team", "班组", "team", "text"), Column("answered", "接听数", "answered"),
     Column("talk_s", "通话时长", "talk", "s"), Column("hold_s", "保持时长", "hold", "s"),
     Column("wrapup_s", "整理时长", "wrap-up", "s"), Column("aht_s", "平均处理时长", "AHT", "s"),
     Column("login_s", "登录时长", "logged in", "s"), Column("ready_s", "就绪时长", "ready", "s"),
     Column("not_ready_s", "未就绪时长", "not ready", "s"),
     Column("not_ready_reasons", "未就绪原因", "not-ready by reason", "text"),
     Column("occupancy", "占用率", "occupancy", "%")),
    agent_report,
    (Chart("bar", "agent_id", ("answered",), "接听数", "Calls answered"),
     Chart("pie", "agent_id", ("talk_s",), "通话时长占比", "Share of talk time")))


async def agent_calls_report(ctx: ReportContext, f: Filters) -> Result:
    stmt = details_where(select(CallDetail), f).where(CallDetail.agent_id != "") \
        .order_by(CallDetail.agent_id, CallDetail.arrived_at).limit(100_000)
    async with ctx.sessions() as db:
        found = (await db.execute(stmt)).scalars().all()
    return Result([{
        "agent_id": d.agent_id, "linkedid": d.linkedid, "arrived": _local(f, d.arrived_at), "caller": d.caller,
        "queue": d.queue, "wait_s": d.wait_s, "talk_s": d.talk_s, "hold_s": d.hold_s, "wrapup_s": d.wrapup_s,
        "transfers": d.transfers, "disposition": d.disposition, "survey_rating": d.survey_rating,
        "recording_id": d.recording_id, "ended_how": d.ended_how} for d in found])


AGENT_CALLS = Report(
    "agent-calls", "座席话务统计详细表", "Agent call detail",
    (Column("agent_id", "工号", "agent", "text"), Column("linkedid", "呼叫编号", "call id", "text"),
     Column("arrived", "来电时间", "arrived", "text"), Column("caller", "主叫号码", "caller", "text"),
     Column("queue", "队列", "queue", "text"), Column("wait_s", "等待", "wait", "s"),
     Column("talk_s", "通话", "talk", "s"), Column("hold_s", "保持", "hold", "s"),
     Column("wrapup_s", "整理", "wrap-up", "s"), Column("transfers", "转接", "transfers"),
     Column("disposition", "结果", "disposition", "text"), Column("survey_rating", "评价", "rating"),
     Column("recording_id", "录音", "recording"), Column("ended_how", "结束方式", "ended", "text")),
    agent_calls_report)


# ------------------------------------------------------------------ 座席平均服务时间统计表

async def aht_report(ctx: ReportContext, f: Filters) -> Result:
    index = bucket_index(_dialect(ctx), f).label("bucket")
    stmt = details_where(select(
        CallDetail.agent_id, index, func.sum(CallDetail.handled).label("handled"),
        func.sum(CallDetail.talk_s).label("talk"), func.sum(CallDetail.wrapup_s).label("wrapup")), f) \
        .where(CallDetail.handled == 1).group_by(CallDetail.agent_id, index).order_by(index, CallDetail.agent_id)
    async with ctx.sessions() as db:
        rows = (await db.execute(stmt)).all()
    return Result([{"interval": f.label(bucket_epoch(r.bucket, f)), "agent_id": r.agent_id,
                    "handled": int(r.handled), "talk_s": round(float(r.talk), 1),
                    "wrapup_s": round(float(r.wrapup), 1),
                    "aht_s": ratio(float(r.talk) + float(r.wrapup), int(r.handled), 2)} for r in rows])


AHT = Report(
    "aht", "座席平均服务时间统计表", "Average handling time by agent",
    (Column("interval", "时段", "interval", "text"), Column("agent_id", "工号", "agent", "text"),
     Column("handled", "处理数", "handled"), Column("talk_s", "通话时长", "talk", "s"),
     Column("wrapup_s", "整理时长", "wrap-up", "s"), Column("aht_s", "平均处理时长", "AHT", "s")),
    aht_report, (Chart("bar", "agent_id", ("aht_s",), "平均处理时长", "AHT"),), uses_interval=True)


# ------------------------------------------------------------------ 用户放弃率统计表

async def abandon_report(ctx: ReportContext, f: Filters) -> Result:
    index = bucket_index(_dialect(ctx), f).label("bucket")
    abandoned_wait = case((CallDetail.abandoned == 1, CallDetail.wait_s), else_=None)
    stmt = details_where(select(
        CallDetail.queue, index, func.sum(CallDetail.offered).label("offered"),
        func.sum(CallDetail.abandoned).label("abandoned"), func.sum(CallDetail.short_abandon).label("short"),
        func.avg(abandoned_wait).label("avg_wait"), func.max(abandoned_wait).label("max_wait")), f) \
        .where(CallDetail.offered == 1).group_by(CallDetail.queue, index).order_by(index, CallDetail.queue)
    async with ctx.sessions() as db:
        rows = (await db.execute(stmt)).all()
    return Result([{"interval": f.label(bucket_epoch(r.bucket, f)), "queue": r.queue, "offered": int(r.offered),
                    "abandoned": int(r.abandoned), "short_abandons": int(r.short),
                    "abandon_rate": ratio(int(r.abandoned), int(r.offered)),
                    "avg_abandon_wait_s": round(float(r.avg_wait), 1) if r.avg_wait is not None else None,
                    "max_abandon_wait_s": round(float(r.max_wait), 1) if r.max_wait is not None else None}
                   for r in rows])


ABANDON = Report(
    "abandon", "用户放弃率统计表", "Abandon rate",
    (Column("interval", "时段", "interval", "text"), Column("queue", "队列", "queue", "text"),
     Column("offered", "排队数", "offered"), Column("abandoned", "放弃数", "abandoned"),
     Column("short_abandons", "短放弃(≤5秒)", "short abandons"), Column("abandon_rate", "放弃率", "abandon rate", "%"),
     Column("avg_abandon_wait_s", "放弃前平均等待", "avg wait before abandoning", "s"),
     Column("max_abandon_wait_s", "放弃前最长等待", "longest wait before abandoning", "s")),
    abandon_report, (Chart("line", "interval", ("abandon_rate",), "放弃率", "Abandon rate"),), uses_interval=True)


# ------------------------------------------------------------------ 分机话务量总统计表 / 分机话务量统计表

async def _extension_rows(ctx: ReportContext, f: Filters, per_day: bool) -> list[dict[str, Any]]:
    day_f = Filters(f.since, f.until, 86400, f.queue, f.agent, f.team, f.time_zone)
    dialect = _dialect(ctx)
    day = bucket_index(dialect, day_f).label("bucket")
    keys = [CallDetail.agent_id, day] if per_day else [CallDetail.agent_id]
    stmt = details_where(select(*keys, func.sum(CallDetail.answered).label("answered"),
                                func.coalesce(func.sum(CallDetail.talk_s), 0).label("talk")), f) \
        .where(CallDetail.agent_id != "").group_by(*keys)
    since, until = (datetime.fromtimestamp(t, timezone.utc) for t in (f.since, f.until))
    agents = ctx.agent_ids(f)
    state_stmt = select(AgentStateLog.agent_id, AgentStateLog.at, AgentStateLog.request).where(
        AgentStateLog.at >= since, AgentStateLog.at < until, AgentStateLog.request.in_(("ring", "ring-no-answer")))
    out_stmt = select(CallRecord.agent_id, CallRecord.started_at).where(
        CallRecord.started_at >= since, CallRecord.started_at < until, CallRecord.direction != "inbound")
    if agents is not None:
        state_stmt = state_stmt.where(AgentStateLog.agent_id.in_(agents))
        out_stmt = out_stmt.where(CallRecord.agent_id.in_(agents))
    async with ctx.sessions() as db:
        answered = (await db.execute(stmt)).all()
        rings = (await db.execute(state_stmt)).all()
        outbound = (await db.execute(out_stmt)).all()
    table: dict[tuple[str, str], dict[str, Any]] = {}

    def cell(agent: str, when: float | None) -> dict[str, Any]:
        label = day_f.label(day_f.bucket_start(when)) if per_day and when is not None else ""
        cfg = ctx.agents.get(agent)
        return table.setdefault((agent, label), {
            "agent_id": agent, "extension": getattr(cfg, "endpoint", ""), "day": label, "calls_in": 0,
            "calls_out": 0, "answered": 0, "missed": 0, "talk_s": 0.0})

    for r in answered:
        c = cell(r.agent_id, bucket_epoch(r.bucket, day_f) if per_day else None)
        c["answered"], c["talk_s"] = int(r.answered), round(float(r.talk), 1)
    for agent, at, request in rings:
        c = cell(agent, epoch(at))
        c["calls_in" if request == "ring" else "missed"] += 1
    for agent, at in outbound:
        if agent:
            cell(agent, epoch(at))["calls_out"] += 1
    return [table[k] for k in sorted(table) if k[0]]


async def extensions_report(ctx: ReportContext, f: Filters) -> Result:
    return Result(await _extension_rows(ctx, f, per_day=False))


async def extensions_daily_report(ctx: ReportContext, f: Filters) -> Result:
    return Result(await _extension_rows(ctx, f, per_day=True))


EXTENSION_COLUMNS = (Column("agent_id", "工号", "agent", "text"), Column("extension", "分机", "extension", "text"),
                     Column("calls_in", "呼入(振铃)", "calls in (offered)"), Column("calls_out", "呼出", "calls out"),
                     Column("answered", "接听", "answered"), Column("missed", "未接", "missed"),
                     Column("talk_s", "通话时长", "talk", "s"))
EXTENSIONS = Report("extensions", "分机话务量总统计表", "Extension traffic totals", EXTENSION_COLUMNS,
                    extensions_report,
                    (Chart("bar", "agent_id", ("calls_in", "answered", "missed"), "分机话务量", "Extension traffic"),
                     Chart("pie", "agent_id", ("answered",), "接听占比", "Share of answered calls")))
EXTENSIONS_DAILY = Report("extensions-daily", "分机话务量统计表", "Extension traffic per day",
                          (Column("day", "日期", "day", "text"), *EXTENSION_COLUMNS), extensions_daily_report)


# ------------------------------------------------------------------ IVR report

async def ivr_report(ctx: ReportContext, f: Filters) -> Result:
    first_day, last_day = f.local(f.since).date(), f.local(f.until - 1).date()
    visits = func.sum(case((NodeStat.counter == "entries", NodeStat.count), else_=0))
    leaves = func.sum(case((NodeStat.counter == "hangup", NodeStat.count), else_=0))
    stmt = select(NodeStat.flow, NodeStat.node, visits.label("visits"), leaves.label("left")) \
        .where(and_(NodeStat.day >= first_day, NodeStat.day <= last_day)) \
        .group_by(NodeStat.flow, NodeStat.node).order_by(visits.desc(), NodeStat.flow, NodeStat.node)
    outcomes = details_where(select(CallDetail.ivr_outcome, func.count(CallDetail.id)), f) \
        .group_by(CallDetail.ivr_outcome)
    async with ctx.sessions() as db:
        nodes = (await db.execute(stmt)).all()
        by_outcome = dict((await db.execute(outcomes)).all())
    calls = sum(by_outcome.values())
    rows = [{"flow": r.flow, "node": r.node, "visits": int(r.visits or 0), "left_here": int(r.left or 0),
             "left_share": ratio(int(r.left or 0), int(r.visits or 0))} for r in nodes]
    summary = [("来电总数", "calls", calls),
               ("自助服务完成率", "self-service containment", ratio(by_outcome.get("self_service", 0), calls))]
    summary += [(f"结果: {k}", f"outcome: {k}", v) for k, v in sorted(by_outcome.items())]
    return Result(rows, summary)


IVR = Report(
    "ivr", "IVR 节点统计表", "IVR report",
    (Column("flow", "流程", "flow", "text"), Column("node", "节点", "node", "text"),
     Column("visits", "进入次数", "visits"), Column("left_here", "在此挂机", "callers left here"),
     Column("left_share", "挂机占比", "share who left", "%")),
    ivr_report,
    (Chart("bar", "node", ("visits", "left_here"), "节点访问", "Node visits"),
     Chart("pie", "node", ("left_here",), "挂机节点", "Where callers leave")))


REPORTS: dict[str, Report] = {r.name: r for r in (INTERVAL, KPI, AGENTS, AGENT_CALLS, AHT, ABANDON, EXTENSIONS,
                                                   EXTENSIONS_DAILY, IVR)}
