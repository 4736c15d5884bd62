"""The call-detail builder: one `call_details` row per call, derived only from durable facts.

Sources, per linkedid: the IVR's call-end row (ivr_calls: arrival, caller, dialled number, language, path),
the queue log (queue, wait, ring-no-answers, answer, talk, transfers, abandon/overflow/callback/voicemail),
the agent state log (hold and wrap-up as measured), the CTI call records (disposition, transferred legs),
surveys, voicemails, callback requests and recordings. Waits and talk are the queue log's whole seconds, the
figures Asterisk writes and every queue_log report reads; talk includes hold (Asterisk's calltime), so
AHT = talk + wrap-up. Building is idempotent: a call's row is replaced, so the call-end trigger, a late
re-build after wrap-up and `hotline reports rebuild` all converge on the same row.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from acd.models import QueueLogRow
from cti.models import AgentStateLog, CallRecord
from ivr.models import CallbackRequest, IvrCall, SurveyResult, Voicemail
from recordings.models import Recording
from reports.models import CallDetail

SHORT_ABANDON_S = 5.0
SELF_SERVICE_NODE = "self_service_menu"
BATCH = 500                       # linkedids per round of queries


@dataclass(frozen=True)
class QueueRules:
    """What the builder needs to know of a queue (acd.config.QueueSettings has these attributes)."""

    service_level_s: float = 20.0
    callback_key: str | None = "2"


def epoch(value: datetime | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if value.tzinfo is None:          # SQLite hands back naive UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


def _num(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return 0.0


def base_callid(callid: str) -> str:
    return callid.split("#", 1)[0]          # a call queued again keeps its id with a #n suffix


@dataclass
class _Facts:
    ivr: list[Any] = field(default_factory=list)
    queue_log: list[Any] = field(default_factory=list)
    records: list[Any] = field(default_factory=list)
    surveys: list[Any] = field(default_factory=list)
    recordings: list[Any] = field(default_factory=list)
    voicemails: int = 0
    callbacks: int = 0
    hold_s: dict[str, float] = field(default_factory=dict)     # agent -> seconds on hold in this call
    wrapup_s: dict[str, float] = field(default_factory=dict)   # agent -> seconds of wrap-up after this call


class CdrBuilder:
    """Builds and stores call-detail records. ``queues``: queue name -> rules; ``teams``: agent id -> team."""

    def __init__(self, sessions: async_sessionmaker, *, queues: Mapping[str, Any] | None = None,
                 teams: Mapping[str, str] | None = None) -> None:
        self.sessions = sessions
        self.queues = dict(queues or {})
        self.teams = dict(teams or {})

    # ------------------------------------------------------------------ entry points

    async def build(self, linkedids: Iterable[str]) -> int:
        """(Re)build the rows of these calls; returns how many rows were written."""
        ids = sorted({base_callid(i) for i in linkedids if i and i != "NONE"})
        written = 0
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            facts = await self._facts(chunk)
            rows = [self.detail(linkedid, facts[linkedid]) for linkedid in chunk
                    if facts[linkedid].ivr or facts[linkedid].queue_log]
            async with self.sessions() as db, db.begin():
                await db.execute(delete(CallDetail).where(CallDetail.linkedid.in_(chunk)))
                db.add_all(rows)
            written += len(rows)
        return written

    async def calls_between(self, since: float, until: float) -> list[str]:
        """The linkedids of calls that arrived in [since, until): IVR sessions and queue entries."""
        async with self.sessions() as db:
            ivr = (await db.execute(select(IvrCall.linkedid).where(
                IvrCall.started_at >= datetime.fromtimestamp(since, timezone.utc),
                IvrCall.started_at < datetime.fromtimestamp(until, timezone.utc)))).scalars().all()
            queued = (await db.execute(select(QueueLogRow.callid).where(
                QueueLogRow.event == "ENTERQUEUE", QueueLogRow.time >= since,
                QueueLogRow.time < until))).scalars().all()
        return sorted({base_callid(i) for i in [*ivr, *queued]})

    async def rebuild(self, since: float, until: float, progress: Any = None) -> int:
        """Rebuild every call that arrived in [since, until). ``progress``: a tqdm-like bar (update(n))."""
        ids = await self.calls_between(since, until)
        if progress is not None:
            progress.reset(total=len(ids))
        written = 0
        for start in range(0, len(ids), BATCH):
            written += await self.build(ids[start:start + BATCH])
            if progress is not None:
                progress.update(len(ids[start:start + BATCH]))
        return written

    # ------------------------------------------------------------------ reading the facts

    async def _facts(self, ids: list[str]) -> dict[str, _Facts]:
        facts: dict[str, _Facts] = defaultdict(_Facts)
        async with self.sessions() as db:
            for row in (await db.execute(select(IvrCall).where(IvrCall.linkedid.in_(ids))
                                         .order_by(IvrCall.started_at, IvrCall.id))).scalars():
                facts[row.linkedid].ivr.append(row)
            clauses = [QueueLogRow.callid.in_(ids)] + [QueueLogRow.callid.like(f"{i}#%") for i in ids]
            for start in range(0, len(clauses), 200):
                stmt = select(QueueLogRow).where(or_(*clauses[start:start + 200]))
                for row in (await db.execute(stmt)).scalars():
                    facts[base_callid(row.callid)].queue_log.append(row)
            for row in (await db.execute(select(CallRecord).where(CallRecord.linkedid.in_(ids))
                                         .order_by(CallRecord.id))).scalars():
                facts[row.linkedid].records.append(row)
            for row in (await db.execute(select(SurveyResult).where(SurveyResult.linkedid.in_(ids))
                                         .order_by(SurveyResult.id))).scalars():
                facts[row.linkedid].surveys.append(row)
            for row in (await db.execute(select(Recording).where(Recording.linkedid.in_(ids))
                                         .order_by(Recording.segment))).scalars():
                facts[row.linkedid].recordings.append(row)
            for linkedid in (await db.execute(select(Voicemail.linkedid).where(
                    Voicemail.linkedid.in_(ids)))).scalars():
                facts[linkedid].voicemails += 1
            for linkedid in (await db.execute(select(CallbackRequest.linkedid).where(
                    CallbackRequest.linkedid.in_(ids)))).scalars():
                facts[linkedid].callbacks += 1
            await self._agent_segments(db, ids, facts)
        for f in facts.values():
            f.queue_log.sort(key=lambda r: (r.time, r.id))
        return facts

    async def _agent_segments(self, db, ids: list[str], facts: dict[str, _Facts]) -> None:
        """Hold and wrap-up per (call, agent): a state row naming the call lasts until the agent's next row."""
        marks = (await db.execute(select(AgentStateLog.agent_id, AgentStateLog.id).where(
            AgentStateLog.linkedid.in_(ids), AgentStateLog.state.in_(("on-hold", "wrap-up"))))).all()
        if not marks:
            return
        first_id = min(mark_id for _, mark_id in marks)
        agents = sorted({agent for agent, _ in marks})
        rows = (await db.execute(select(AgentStateLog).where(
            AgentStateLog.agent_id.in_(agents), AgentStateLog.id >= first_id)
            .order_by(AgentStateLog.agent_id, AgentStateLog.at, AgentStateLog.id))).scalars().all()
        wanted = set(ids)
        for row, following in zip(rows, rows[1:]):
            if row.linkedid not in wanted or following.agent_id != row.agent_id:
                continue
            seconds = max(0.0, (epoch(following.at) or 0.0) - (epoch(row.at) or 0.0))
            target = facts[row.linkedid].hold_s if row.state == "on-hold" else \
                facts[row.linkedid].wrapup_s if row.state == "wrap-up" else None
            if target is not None:
                target[row.agent_id] = target.get(row.agent_id, 0.0) + seconds

    # ------------------------------------------------------------------ one row

    def detail(self, linkedid: str, f: _Facts) -> CallDetail:
        d = CallDetail(linkedid=linkedid, offered=0, answered=0, abandoned=0, short_abandon=0,
                       answered_within=0, wait_s=0.0, ring_no_answers=0, handled=0, talk_s=0.0, hold_s=0.0,
                       wrapup_s=0.0, transfers=0, conference=False, recorded_s=0.0, agent_id="", queue="",
                       team="", disposition="", caller="", dnid="", language="", ivr_path=[],
                       ivr_last_node="", sl_threshold_s=20.0)
        starts = [epoch(r.started_at) for r in f.ivr]
        ends = [epoch(r.ended_at) for r in f.ivr] + [r.time for r in f.queue_log]
        if f.ivr:
            first, last = f.ivr[0], f.ivr[-1]
            d.caller, d.dnid, d.language = first.caller, first.dnid, last.language
            d.ivr_path = [node for r in f.ivr for node in (r.path or [])]
            d.ivr_last_node = last.last_node
        outcome = self._queue_part(d, f.queue_log)
        entered = [r.time for r in f.queue_log if r.event == "ENTERQUEUE"]
        d.arrived_at = min([s for s in starts if s is not None] + entered[:1] or [0.0])
        d.ended_at = max([e for e in ends if e is not None], default=None)
        if not d.caller and f.queue_log:
            d.caller = next((r.data2 for r in f.queue_log if r.event == "ENTERQUEUE"), "")
        d.team = self.teams.get(d.agent_id, "")
        if d.agent_id:
            d.hold_s = round(f.hold_s.get(d.agent_id, 0.0), 3)
            d.wrapup_s = round(f.wrapup_s.get(d.agent_id, 0.0), 3)
        legs = [r for r in f.records if r.agent_id]
        d.transfers += max(0, len({r.agent_id for r in legs}) - 1) if not d.transfers else 0
        own = next((r for r in legs if r.agent_id == d.agent_id), None)
        d.disposition = (own.disposition if own is not None else None) or ""
        d.conference = bool(own is not None and (own.call_data or {}).get("conference"))
        d.survey_rating = f.surveys[-1].rating if f.surveys else None
        if f.recordings:
            d.recording_id = f.recordings[0].id
            d.recorded_s = round(sum(r.duration_s or 0.0 for r in f.recordings), 3)
        d.ivr_outcome = self._ivr_outcome(d, f)
        d.ended_how = {"answered": "answered", "abandoned": "abandoned", "voicemails": "voicemail",
                       "callbacks": "callback", "overflows": "overflowed",
                       "still_waiting": "still_waiting"}.get(outcome or "") or {
            "ivr_hangup": "abandoned_ivr"}.get(d.ivr_outcome, d.ivr_outcome)
        return d

    def _queue_part(self, d: CallDetail, rows: list[Any]) -> str | None:
        """The queue log's view of the call (the same reading as acd.demo.tally). Returns the outcome."""
        outcome: str | None = None
        callback = False
        for e in rows:
            event = e.event
            if event == "ENTERQUEUE":
                d.offered, d.queue = 1, e.queuename
                outcome = outcome or "still_waiting"
            elif outcome is None:
                continue
            elif event == "CONNECT":
                # the call back's CONNECT is the agent's work (talk, wrap-up) but not an answer of the call
                d.agent_id, d.answered_at = e.agent, e.time
                if not callback:
                    outcome, d.wait_s, d.queue = "answered", _num(e.data1), e.queuename
            elif event in ("COMPLETECALLER", "COMPLETEAGENT"):
                d.talk_s, d.handled = _num(e.data2), int(not callback)
            elif event == "TRANSFER":
                d.transfers += 1
                d.talk_s, d.handled = _num(e.data4), int(not callback)
            elif event == "ABANDON":
                outcome, d.queue, d.wait_s = "abandoned", e.queuename, _num(e.data3)
            elif event == "EXITWITHKEY":
                rules = self.queues.get(e.queuename)
                key = getattr(rules, "callback_key", "2") if rules is not None else "2"
                outcome, d.queue, d.wait_s = ("callbacks" if e.data1 == key else "voicemails"), e.queuename, \
                    _num(e.data4)
            elif event == "CALLBACK":
                outcome, callback, d.queue, d.wait_s = "callbacks", True, e.queuename, _num(e.data3)
            elif event == "OVERFLOW":
                kind = e.data1
                if kind == "voicemail":
                    outcome, d.queue = "voicemails", e.queuename
                elif kind == "queue" and e.data2 in self.queues:
                    pass                                    # ENTERQUEUE in the target queue follows
                elif kind != "callback":
                    outcome, d.queue = "overflows", e.queuename
                d.wait_s = _num(e.data4) or d.wait_s
            elif event == "RINGNOANSWER":
                d.ring_no_answers += 1
        rules = self.queues.get(d.queue)
        d.sl_threshold_s = float(getattr(rules, "service_level_s", 20.0)) if rules is not None else 20.0
        d.answered = int(outcome == "answered")
        d.abandoned = int(outcome == "abandoned")
        d.short_abandon = int(d.abandoned and d.wait_s <= SHORT_ABANDON_S)
        d.answered_within = int(d.answered and d.wait_s <= d.sl_threshold_s)
        return outcome

    @staticmethod
    def _ivr_outcome(d: CallDetail, f: _Facts) -> str:
        nodes = {node.split(":", 1)[-1] for node in d.ivr_path}
        if d.offered:
            return "reached_queue"
        if "blocked" in nodes:
            return "blocked"
        if "silent_hangup" in nodes:
            return "silent_hangup"
        if f.voicemails:
            return "voicemail"
        if f.callbacks:
            return "callback"
        if SELF_SERVICE_NODE in nodes:
            return "self_service"
        if f.ivr and f.ivr[-1].outcome in ("hangup", "completed", "left"):
            return "ivr_hangup"
        return "other"
