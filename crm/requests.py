"""Service requests (工单): opened from a call by the agent who took it (首问负责制: the owner until handed
over) or by the IVR (voicemail, callback), typed, due by the type's rule, with every change in the history.

Each operation is one transaction: a refused request (unknown customer or call, due time in the past, an
illegal status change, a follow-up to an empty number) writes nothing. Every change is announced on
``requests/{id}`` (MQTT and the browsers' live feed)."""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.config import RequestRules
from crm.models import (FOLLOWUP_KINDS, FOLLOWUP_RESULTS, OPEN_STATUSES, PRIORITIES, SOURCES, STATUSES,
                        TRANSITIONS, FollowUp, RequestEvent, RequestLink, ServiceRequest)
from cti.customers import normalise_number
from cti.models import Customer
from hotline.db import as_utc

log = logging.getLogger("hotline.crm")

MAX_SUMMARY = 200
MAX_DETAILS = 20_000
MAX_CATEGORY = 100
MAX_NOTE = 4_000
LINK_KINDS = ("call", "recording", "voicemail", "callback")
UNASSIGNED = "ivr"     # owner of a request the IVR opened until an agent of its queue takes it


class RequestError(Exception):
    """Refused: the message says why; ``status`` is the HTTP status (404 unknown, 409 state, 422 input)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class Actor(Protocol):
    """Who acts (cti.auth.Principal fits)."""

    @property
    def agent_id(self) -> str: ...
    @property
    def supervises(self) -> bool: ...
    @property
    def reads_all(self) -> bool: ...


@dataclass(frozen=True)
class System:
    """The service itself (deadline watch, IVR, follow-up runner)."""

    agent_id: str = "system"
    supervises: bool = True
    reads_all: bool = True


SYSTEM = System()


@dataclass(frozen=True)
class Staff:
    """An agent of agents.yaml acting outside an HTTP request (the command line, the demo's agents)."""

    agent_id: str
    role: str = "agent"

    @property
    def supervises(self) -> bool:
        return self.role in ("supervisor", "admin")

    @property
    def reads_all(self) -> bool:
        return self.role in ("supervisor", "admin", "qa")


class Publisher(Protocol):
    def publish(self, suffix: str, payload: dict[str, Any], retain: bool = False) -> object: ...


class CallDirectory(Protocol):
    async def caller_of(self, linkedid: str) -> str | None:
        """The calling number of a known call, or None when no call has that linkedid."""

    async def agents_of(self, linkedid: str) -> set[str]:
        """The agents who took that call."""


def _text(value: Any, name: str, limit: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise RequestError(f"{name} must be text")
    value = value.strip()
    if required and not value:
        raise RequestError(f"{name} is required")
    if len(value) > limit:
        raise RequestError(f"{name} is {len(value)} characters; at most {limit}")
    if "\x00" in value:
        raise RequestError(f"{name} contains a NUL character")
    return value


class RequestService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], rules: RequestRules, *, calls: CallDirectory,
                 publisher: Publisher, agent_queues: Mapping[str, frozenset[str]],
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.sessions = sessions
        self.rules = rules
        self.calls = calls
        self.publisher = publisher
        self.agent_queues = agent_queues
        self.clock = clock

    # ------------------------------------------------------------------ views
    def due_state(self, row: ServiceRequest, now: datetime | None = None) -> str:
        """ok | near | overdue (open requests), done (answered or closed)."""
        if row.status not in OPEN_STATUSES:
            return "done"
        now = now or self.clock()
        due = as_utc(row.due_at)
        if due <= now:
            return "overdue"
        if due - timedelta(hours=self.rules.escalate_before_due_hours) <= now:
            return "near"
        return "ok"

    def view(self, row: ServiceRequest, links: list[RequestLink] | None = None,
             events: list[RequestEvent] | None = None, followups: list[FollowUp] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": row.id, "type": row.type, "type_label": self.rules.types[row.type].label if row.type in self.rules.types else row.type,
            "status": row.status, "priority": row.priority, "summary": row.summary, "details": row.details,
            "category": row.category, "customer_number": row.customer_number, "customer_id": row.customer_id,
            "owner_id": row.owner_id, "created_by": row.created_by, "queue": row.queue, "source": row.source,
            "created_at": _iso(row.created_at), "due_at": _iso(row.due_at), "answered_at": _iso(row.answered_at),
            "closed_at": _iso(row.closed_at), "escalated_at": _iso(row.escalated_at),
            "satisfaction": row.satisfaction, "due_state": self.due_state(row)}
        if links is not None:
            out["links"] = [{"kind": link.kind, "ref": link.ref} for link in links]
        if events is not None:
            out["history"] = [{"at": _iso(e.at), "by": e.by, "action": e.action, "detail": e.detail} for e in events]
        if followups is not None:
            out["followups"] = [followup_view(f) for f in followups]
        return out

    def _announce(self, row: ServiceRequest, event: str, **extra: Any) -> None:
        self.publisher.publish(f"requests/{row.id}", {
            "event": event, "id": row.id, "type": row.type, "status": row.status, "owner_id": row.owner_id,
            "customer_number": row.customer_number, "summary": row.summary, "due_at": _iso(row.due_at),
            "due_state": self.due_state(row), **extra})

    # ------------------------------------------------------------------ visibility
    def may_see(self, actor: Actor, row: ServiceRequest) -> bool:
        if actor.reads_all:
            return True
        return (actor.agent_id in (row.owner_id, row.created_by)
                or (row.queue is not None and row.queue in self.agent_queues.get(actor.agent_id, frozenset())))

    def _may_change(self, actor: Actor, row: ServiceRequest, what: str) -> None:
        if not (actor.supervises or actor.agent_id == row.owner_id):
            log.warning("forbidden: %s tried to %s request %s owned by %s", actor.agent_id, what, row.id, row.owner_id)
            raise RequestError(f"request {row.id} is owned by agent {row.owner_id}; only the owner or a "
                               f"supervisor may {what} it", 403)

    async def _load(self, session: AsyncSession, actor: Actor, request_id: int) -> ServiceRequest:
        row = await session.get(ServiceRequest, request_id)
        if row is None or not self.may_see(actor, row):
            raise RequestError(f"no request {request_id}", 404)
        return row

    # ------------------------------------------------------------------ create
    async def create(self, actor: Actor, *, type: str, summary: str, details: str = "", category: str = "",
                     priority: str = "normal", customer: str | None = None, linkedid: str | None = None,
                     recording_ids: tuple[int, ...] = (), queue: str | None = None, due_at: datetime | None = None,
                     source: str = "agent", owner_id: str | None = None, links: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
        if type not in self.rules.types:
            raise RequestError(f"type {type!r} is not one of: {', '.join(self.rules.types)}")
        if priority not in PRIORITIES:
            raise RequestError(f"priority {priority!r} is not one of: {', '.join(PRIORITIES)}")
        if source not in SOURCES:
            raise RequestError(f"source {source!r} is not one of: {', '.join(SOURCES)}")
        summary = _text(summary, "summary", MAX_SUMMARY, required=True)
        details = _text(details, "details", MAX_DETAILS)
        category = _text(category, "category", MAX_CATEGORY)
        now = self.clock()
        if due_at is not None:
            due_at = as_utc(due_at)
            if due_at <= now:
                raise RequestError(f"due time {due_at.isoformat()} is in the past")
        else:
            due_at = now + timedelta(hours=self.rules.types[type].due_hours)
        caller = None
        if linkedid:
            caller = await self.calls.caller_of(linkedid)
            if caller is None:
                raise RequestError(f"no call with linkedid {linkedid!r}", 404)
        if not actor.supervises:
            # an agent opens requests from the calls they took, for that caller (首问负责制), nothing else
            if not linkedid or actor.agent_id not in await self.calls.agents_of(linkedid):
                raise RequestError(f"agent {actor.agent_id} opens a request from a call they took "
                                   f"(give its linkedid)", 403)
            if customer and normalise_number(customer) != normalise_number(caller or ""):
                raise RequestError("a request opened from a call is for that call's caller")
        number = normalise_number(customer or caller or "")
        if not number:
            raise RequestError("a customer number (or the call it came from) is required")
        async with self.sessions() as session:
            async with session.begin():
                cust = (await session.execute(select(Customer).where(Customer.number == number))).scalar_one_or_none()
                if cust is None:
                    if caller is None or normalise_number(caller) != number:
                        raise RequestError(f"no customer with number {number!r}", 404)
                    cust = Customer(number=number)     # a caller becomes a customer when a request is opened
                    session.add(cust)
                    await session.flush()
                row = ServiceRequest(type=type, priority=priority, summary=summary, details=details,
                                     category=category, customer_id=cust.id, customer_number=number,
                                     owner_id=owner_id or actor.agent_id, created_by=actor.agent_id, queue=queue,
                                     source=source, created_at=now, due_at=due_at, updated_at=now)
                session.add(row)
                await session.flush()
                wanted = list(links)
                if linkedid:
                    wanted.append(("call", linkedid))
                wanted += [("recording", str(int(r))) for r in recording_ids]
                for kind, ref in dict.fromkeys(wanted):
                    session.add(RequestLink(request_id=row.id, kind=kind, ref=ref))
                session.add(RequestEvent(request_id=row.id, at=now, by=actor.agent_id, action="created",
                                         detail={"type": type, "due_at": _iso(due_at), "source": source}))
        log.info("request %s (%s) opened by %s for %s, due %s", row.id, type, actor.agent_id, number, _iso(due_at))
        self._announce(row, "created")
        return await self.get(actor, row.id)

    # ------------------------------------------------------------------ read
    async def get(self, actor: Actor, request_id: int) -> dict[str, Any]:
        async with self.sessions() as session:
            row = await self._load(session, actor, request_id)
            links = (await session.execute(select(RequestLink).where(RequestLink.request_id == row.id)
                                           .order_by(RequestLink.id))).scalars().all()
            events = (await session.execute(select(RequestEvent).where(RequestEvent.request_id == row.id)
                                            .order_by(RequestEvent.id))).scalars().all()
            followups = (await session.execute(select(FollowUp).where(FollowUp.request_id == row.id)
                                               .order_by(FollowUp.id))).scalars().all()
        return self.view(row, list(links), list(events), list(followups))

    async def search(self, actor: Actor, *, status: str | None = None, owner: str | None = None,
                     customer: str | None = None, due: str | None = None, type: str | None = None,
                     limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        if status is not None and status not in STATUSES + ("open-any",):
            raise RequestError(f"status {status!r} is not one of: {', '.join(STATUSES)}, open-any")
        if due is not None and due not in ("near", "overdue"):
            raise RequestError("due must be 'near' or 'overdue'")
        query = select(ServiceRequest)
        if status == "open-any" or due is not None:
            query = query.where(ServiceRequest.status.in_(OPEN_STATUSES))
        elif status is not None:
            query = query.where(ServiceRequest.status == status)
        if owner:
            query = query.where(ServiceRequest.owner_id == owner)
        if customer:
            query = query.where(ServiceRequest.customer_number == normalise_number(customer))
        if type:
            query = query.where(ServiceRequest.type == type)
        now = self.clock()
        if due == "overdue":
            query = query.where(ServiceRequest.due_at <= now)
        elif due == "near":
            query = query.where(ServiceRequest.due_at <= now + timedelta(hours=self.rules.escalate_before_due_hours))
        if not actor.reads_all:
            mine = [ServiceRequest.owner_id == actor.agent_id, ServiceRequest.created_by == actor.agent_id]
            queues = self.agent_queues.get(actor.agent_id, frozenset())
            if queues:
                mine.append(ServiceRequest.queue.in_(sorted(queues)))
            query = query.where(or_(*mine))
        query = query.order_by(ServiceRequest.due_at, ServiceRequest.id).limit(limit).offset(offset)
        async with self.sessions() as session:
            rows = (await session.execute(query)).scalars().all()
        return [self.view(r) for r in rows]

    # ------------------------------------------------------------------ change
    async def update(self, actor: Actor, request_id: int, *, status: str | None = None, priority: str | None = None,
                     summary: str | None = None, details: str | None = None, category: str | None = None,
                     note: str | None = None) -> dict[str, Any]:
        now = self.clock()
        async with self.sessions() as session:
            async with session.begin():
                row = await self._load(session, actor, request_id)
                self._may_change(actor, row, "change")
                changes: dict[str, Any] = {}
                if status is not None and status != row.status:
                    if status not in STATUSES:
                        raise RequestError(f"status {status!r} is not one of: {', '.join(STATUSES)}")
                    if status not in TRANSITIONS[row.status]:
                        raise RequestError(f"a request that is {row.status} cannot become {status} (allowed: "
                                           f"{', '.join(TRANSITIONS[row.status])})", 409)
                    changes["status"] = [row.status, status]
                    row.status = status
                    if status == "answered" and row.answered_at is None:
                        row.answered_at = now
                    if status == "closed":
                        row.closed_at = now
                        if row.answered_at is None:
                            row.answered_at = now
                    if status == "reopened":
                        row.closed_at = None
                if priority is not None and priority != row.priority:
                    if priority not in PRIORITIES:
                        raise RequestError(f"priority {priority!r} is not one of: {', '.join(PRIORITIES)}")
                    changes["priority"] = [row.priority, priority]
                    row.priority = priority
                for name, value, limit in (("summary", summary, MAX_SUMMARY), ("details", details, MAX_DETAILS),
                                           ("category", category, MAX_CATEGORY)):
                    if value is not None:
                        value = _text(value, name, limit, required=name == "summary")
                        if value != getattr(row, name):
                            changes[name] = [getattr(row, name), value]
                            setattr(row, name, value)
                note = _text(note, "note", MAX_NOTE) if note is not None else ""
                if not changes and not note:
                    raise RequestError("nothing to change")
                row.updated_at = now
                session.add(RequestEvent(request_id=row.id, at=now, by=actor.agent_id,
                                         action="updated", detail={"changes": changes, "note": note}))
                if changes.get("status", [None, None])[1] == "closed" and self.rules.types[row.type].satisfaction_followup:
                    when = now + timedelta(hours=self.rules.followup.satisfaction_after_hours)
                    session.add(self._followup_row(row, kind="satisfaction", at=when, by="system",
                                                   number=row.customer_number))
                    session.add(RequestEvent(request_id=row.id, at=now, by="system", action="followup-scheduled",
                                             detail={"kind": "satisfaction", "at": _iso(when)}))
        self._announce(row, "updated", changes=sorted(changes))
        return await self.get(actor, request_id)

    async def hand_over(self, actor: Actor, request_id: int, to_agent: str, note: str = "") -> dict[str, Any]:
        if to_agent not in self.agent_queues:
            raise RequestError(f"no agent {to_agent!r}", 404)
        note = _text(note, "note", MAX_NOTE)
        now = self.clock()
        async with self.sessions() as session:
            async with session.begin():
                row = await self._load(session, actor, request_id)
                self._may_change(actor, row, "hand over")
                if row.owner_id == to_agent:
                    raise RequestError(f"request {request_id} is already owned by {to_agent}", 409)
                session.add(RequestEvent(request_id=row.id, at=now, by=actor.agent_id, action="handed-over",
                                         detail={"from": row.owner_id, "to": to_agent, "note": note}))
                row.owner_id = to_agent
                row.updated_at = now
        self._announce(row, "handed-over")
        return await self.get(actor, request_id)

    async def take(self, actor: Actor, request_id: int) -> dict[str, Any]:
        """An agent of the request's queue takes a request the IVR opened (it becomes its owner)."""
        now = self.clock()
        async with self.sessions() as session:
            async with session.begin():
                row = await self._load(session, actor, request_id)
                if row.owner_id != UNASSIGNED:
                    raise RequestError(f"request {request_id} is already owned by agent {row.owner_id}", 409)
                if not (actor.supervises or (row.queue and row.queue in self.agent_queues.get(actor.agent_id, ()))):
                    raise RequestError(f"request {request_id} belongs to queue {row.queue}; agent "
                                       f"{actor.agent_id} does not serve it", 403)
                session.add(RequestEvent(request_id=row.id, at=now, by=actor.agent_id, action="taken", detail={}))
                row.owner_id = actor.agent_id
                row.updated_at = now
        self._announce(row, "taken")
        return await self.get(actor, request_id)

    async def link(self, actor: Actor, request_id: int, kind: str, ref: str) -> dict[str, Any]:
        if kind not in LINK_KINDS:
            raise RequestError(f"link kind {kind!r} is not one of: {', '.join(LINK_KINDS)}")
        ref = _text(ref, "ref", 64, required=True)
        if kind == "call" and await self.calls.caller_of(ref) is None:
            raise RequestError(f"no call with linkedid {ref!r}", 404)
        async with self.sessions() as session:
            async with session.begin():
                row = await self._load(session, actor, request_id)
                self._may_change(actor, row, "link")
                exists = (await session.execute(select(RequestLink.id).where(
                    RequestLink.request_id == row.id, RequestLink.kind == kind, RequestLink.ref == ref))).first()
                if exists is None:
                    session.add(RequestLink(request_id=row.id, kind=kind, ref=ref))
                    session.add(RequestEvent(request_id=row.id, at=self.clock(), by=actor.agent_id, action="linked",
                                             detail={"kind": kind, "ref": ref}))
        return await self.get(actor, request_id)

    # ------------------------------------------------------------------ follow-up calls (回访)
    def _followup_row(self, row: ServiceRequest, *, kind: str, at: datetime, by: str, number: str,
                      agent_id: str | None = None) -> FollowUp:
        queue = row.queue or self.rules.followup.queue or ""
        return FollowUp(request_id=row.id, kind=kind, number=number, queue=queue, agent_id=agent_id or row.owner_id,
                        scheduled_at=at, created_by=by, created_at=self.clock())

    async def schedule_followup(self, actor: Actor, request_id: int, *, at: datetime | None = None,
                                number: str | None = None, kind: str = "reply") -> dict[str, Any]:
        if kind not in FOLLOWUP_KINDS:
            raise RequestError(f"follow-up kind {kind!r} is not one of: {', '.join(FOLLOWUP_KINDS)}")
        now = self.clock()
        when = as_utc(at) if at is not None else now
        if when < now - timedelta(minutes=1):
            raise RequestError(f"follow-up time {when.isoformat()} is in the past")
        async with self.sessions() as session:
            async with session.begin():
                row = await self._load(session, actor, request_id)
                self._may_change(actor, row, "schedule a follow-up on")
                target = normalise_number(row.customer_number if number is None else number)
                if not target:
                    raise RequestError("a follow-up needs a number to call; the number is empty")
                if not (row.queue or self.rules.followup.queue):
                    raise RequestError(f"request {request_id} has no queue and requests.yaml sets no followup.queue")
                followup = self._followup_row(row, kind=kind, at=when, by=actor.agent_id, number=target)
                session.add(followup)
                await session.flush()
                session.add(RequestEvent(request_id=row.id, at=now, by=actor.agent_id, action="followup-scheduled",
                                         detail={"followup": followup.id, "kind": kind, "at": _iso(when),
                                                 "number": target}))
        self._announce(row, "followup-scheduled", followup=followup.id)
        return followup_view(followup)

    async def record_followup(self, actor: Actor, followup_id: int, *, result: str,
                              satisfaction: int | None = None, note: str = "") -> dict[str, Any]:
        """The agent who made the follow-up call says how it went (wrong number, the customer's rating…)."""
        if result not in FOLLOWUP_RESULTS:
            raise RequestError(f"result {result!r} is not one of: {', '.join(FOLLOWUP_RESULTS)}")
        if satisfaction is not None and (isinstance(satisfaction, bool) or not isinstance(satisfaction, int)
                                         or not 1 <= satisfaction <= 5):
            raise RequestError("satisfaction is a rating 1-5")
        note = _text(note, "note", MAX_NOTE)
        now = self.clock()
        async with self.sessions() as session:
            async with session.begin():
                followup = await session.get(FollowUp, followup_id)
                if followup is None:
                    raise RequestError(f"no follow-up {followup_id}", 404)
                row = await self._load(session, actor, followup.request_id)
                if not (actor.supervises or actor.agent_id in (row.owner_id, followup.answered_by)):
                    raise RequestError(f"only the owner, the agent who called or a supervisor may record "
                                       f"follow-up {followup_id}", 403)
                followup.result = result
                followup.status = "done" if result == "reached" else "failed"
                if satisfaction is not None:
                    followup.satisfaction = satisfaction
                    if followup.kind == "satisfaction":
                        row.satisfaction = satisfaction
                session.add(RequestEvent(request_id=row.id, at=now, by=actor.agent_id, action="followup-result",
                                         detail={"followup": followup.id, "result": result,
                                                 "satisfaction": satisfaction, "note": note}))
        self._announce(row, "followup-result", followup=followup_id, result=result)
        return followup_view(followup)

    # ------------------------------------------------------------------ deadlines
    async def sweep_deadlines(self) -> list[dict[str, Any]]:
        """Escalate open requests that are near due (once) and mark those found overdue (once); returns
        what changed. Run by the deadline watch every minute."""
        now = self.clock()
        near = now + timedelta(hours=self.rules.escalate_before_due_hours)
        changed: list[tuple[ServiceRequest, str]] = []
        async with self.sessions() as session:
            async with session.begin():
                rows = (await session.execute(select(ServiceRequest).where(
                    ServiceRequest.status.in_(OPEN_STATUSES), ServiceRequest.due_at <= near,
                    or_(ServiceRequest.escalated_at.is_(None),
                        (ServiceRequest.due_at <= now) & ServiceRequest.overdue_at.is_(None))))).scalars().all()
                for row in rows:
                    if row.escalated_at is None:
                        row.escalated_at = now
                        session.add(RequestEvent(request_id=row.id, at=now, by="system", action="escalated",
                                                 detail={"due_at": _iso(row.due_at)}))
                        changed.append((row, "escalated"))
                    if as_utc(row.due_at) <= now and row.overdue_at is None:
                        row.overdue_at = now
                        session.add(RequestEvent(request_id=row.id, at=now, by="system", action="overdue",
                                                 detail={"due_at": _iso(row.due_at)}))
                        changed.append((row, "overdue"))
        for row, event in changed:
            log.warning("request %s (%s, owner %s) %s: due %s", row.id, row.type, row.owner_id, event, _iso(row.due_at))
            self._announce(row, event)
        return [{"id": row.id, "event": event} for row, event in changed]

    async def count_open(self) -> dict[str, int]:
        now = self.clock()
        near = now + timedelta(hours=self.rules.escalate_before_due_hours)
        async with self.sessions() as session:
            base = select(func.count()).select_from(ServiceRequest).where(ServiceRequest.status.in_(OPEN_STATUSES))
            total = (await session.execute(base)).scalar_one()
            overdue = (await session.execute(base.where(ServiceRequest.due_at <= now))).scalar_one()
            near_due = (await session.execute(base.where(ServiceRequest.due_at > now,
                                                         ServiceRequest.due_at <= near))).scalar_one()
        return {"open": total, "near_due": near_due, "overdue": overdue}


def followup_view(f: FollowUp) -> dict[str, Any]:
    return {"id": f.id, "request_id": f.request_id, "kind": f.kind, "number": f.number, "queue": f.queue,
            "agent_id": f.agent_id, "scheduled_at": _iso(f.scheduled_at), "status": f.status, "attempts": f.attempts,
            "result": f.result, "answered_by": f.answered_by, "satisfaction": f.satisfaction,
            "last_attempt_at": _iso(f.last_attempt_at)}


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None
