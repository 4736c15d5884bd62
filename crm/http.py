"""HTTP API of service requests (工单), follow-up calls (回访) and the customer card.

  POST  /api/requests                          open a request (from a call: linkedid; or for a customer number)
  GET   /api/requests?status=&owner=&customer=&due=near|overdue&type=    what the caller may see
  GET   /api/requests/types                    the request types with their labels and due hours
  GET   /api/requests/summary                  open / near due / overdue counts (wallboard)
  GET   /api/requests/kpis?from=&to=           the request figures of kpis.md (supervisor, QA, admin)
  GET   /api/requests/{id}                     the request with its links, history and follow-ups
  PATCH /api/requests/{id}                     status, priority, summary, details, category, note
  POST  /api/requests/{id}/handover            {"to": agent id, "note"}
  POST  /api/requests/{id}/take                an agent of the queue takes a request the IVR opened
  POST  /api/requests/{id}/links               {"kind": call|recording|voicemail|callback, "ref"}
  POST  /api/requests/{id}/followups           {"at": ISO time (default now), "number", "kind": reply|satisfaction}
  POST  /api/followups/{id}/result             {"result": reached|no-answer|wrong-number|busy|failed, "satisfaction"}
  GET   /api/crm/customers?q=                  search by number, name or #request id (supervisor, QA, admin)
  GET   /api/crm/customers.csv                 export (supervisor, admin)
  GET   /api/crm/customers/{number}            the customer card;  PATCH edits name, notes, birthday, phones
Errors are {"error": "..."}: 401, 403, 404, 409 (state), 422 (input)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from crm.card import CustomerCards
from crm.kpi import request_kpis
from crm.requests import Actor, RequestError, RequestService

Id = Annotated[int, Path(gt=0, lt=2**31)]


class Authenticates(Protocol):
    async def from_authorization(self, header: str | None) -> Actor: ...


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewRequest(_Body):
    type: Literal["enquiry", "complaint", "suggestion", "praise", "business"]
    summary: str = Field(max_length=200)
    details: str = Field("", max_length=20_000)
    category: str = Field("", max_length=100)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    customer: str | None = Field(None, max_length=32)
    linkedid: str | None = Field(None, max_length=64)
    recording_ids: list[int] = Field(default_factory=list, max_length=20)
    queue: str | None = Field(None, max_length=64)
    due_at: datetime | None = None


class RequestChange(_Body):
    status: str | None = Field(None, max_length=20)
    priority: str | None = Field(None, max_length=10)
    summary: str | None = Field(None, max_length=200)
    details: str | None = Field(None, max_length=20_000)
    category: str | None = Field(None, max_length=100)
    note: str | None = Field(None, max_length=4000)


class HandOver(_Body):
    to: str = Field(min_length=1, max_length=32)
    note: str = Field("", max_length=4000)


class NewLink(_Body):
    kind: Literal["call", "recording", "voicemail", "callback"]
    ref: str = Field(min_length=1, max_length=64)


class NewFollowUp(_Body):
    at: datetime | None = None
    number: str | None = Field(None, max_length=32)
    kind: Literal["reply", "satisfaction"] = "reply"


class FollowUpResult(_Body):
    result: Literal["reached", "no-answer", "wrong-number", "busy", "failed"]
    satisfaction: int | None = Field(None, ge=1, le=5)
    note: str = Field("", max_length=4000)


class CardChange(_Body):
    name: str | None = Field(None, max_length=200)
    notes: str | None = Field(None, max_length=4000)
    birthday: str | None = Field(None, max_length=10)
    phones: list[str] | None = Field(None, max_length=10)


def router(requests: RequestService, cards: CustomerCards, auth: Authenticates,
           auth_errors: tuple[type[Exception], ...]) -> APIRouter:
    api = APIRouter(tags=["service requests"])

    async def guarded(request: Request, work: Callable[[Actor], Awaitable[Any]]) -> Any:
        try:
            who = await auth.from_authorization(request.headers.get("authorization"))
            return await work(who)
        except RequestError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except auth_errors as exc:
            return JSONResponse({"error": str(exc)}, status_code=int(getattr(exc, "status", 401)))

    def reader(who: Actor) -> None:
        if not who.reads_all:
            raise RequestError("only supervisors, QA and admins may read this", 403)

    @api.post("/api/requests", status_code=201)
    async def create(body: NewRequest, request: Request) -> Any:
        return await guarded(request, lambda who: requests.create(
            who, type=body.type, summary=body.summary, details=body.details, category=body.category,
            priority=body.priority, customer=body.customer, linkedid=body.linkedid,
            recording_ids=tuple(body.recording_ids), queue=body.queue, due_at=body.due_at))

    @api.get("/api/requests")
    async def search(request: Request, status: str | None = Query(None, max_length=20),
                     owner: str | None = Query(None, max_length=32), customer: str | None = Query(None, max_length=32),
                     due: Literal["near", "overdue"] | None = None, type: str | None = Query(None, max_length=16),
                     limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000)) -> Any:
        async def run(who: Actor) -> Any:
            return {"v": 1, "requests": await requests.search(who, status=status, owner=owner, customer=customer,
                                                              due=due, type=type, limit=limit, offset=offset)}
        return await guarded(request, run)

    @api.get("/api/requests/types")
    async def types(request: Request) -> Any:
        async def run(who: Actor) -> Any:
            return {"v": 1, "types": [{"type": t.name, "label": t.label, "due_hours": t.due_hours}
                                      for t in requests.rules.types.values()]}
        return await guarded(request, run)

    @api.get("/api/requests/summary")
    async def summary(request: Request) -> Any:
        async def run(who: Actor) -> Any:
            reader(who)
            return {"v": 1, **await requests.count_open()}
        return await guarded(request, run)

    @api.get("/api/requests/kpis")
    async def kpis(request: Request, start: datetime | None = Query(None, alias="from"),
                   end: datetime | None = Query(None, alias="to")) -> Any:
        async def run(who: Actor) -> Any:
            reader(who)
            now = requests.clock()
            until = end or now
            since = start or until - timedelta(days=30)
            since, until = (t if t.tzinfo else t.replace(tzinfo=timezone.utc) for t in (since, until))
            if until <= since:
                raise RequestError("'to' must be later than 'from'")
            if until - since > timedelta(days=366):
                raise RequestError("a range of at most one year")
            return {"v": 1, "from": since.isoformat(), "to": until.isoformat(),
                    "figures": await request_kpis(requests.sessions, since, until, now)}
        return await guarded(request, run)

    @api.get("/api/requests/{request_id}")
    async def get(request_id: Id, request: Request) -> Any:
        return await guarded(request, lambda who: requests.get(who, request_id))

    @api.patch("/api/requests/{request_id}")
    async def update(body: RequestChange, request: Request, request_id: Id) -> Any:
        return await guarded(request, lambda who: requests.update(who, request_id, **body.model_dump()))

    @api.post("/api/requests/{request_id}/handover")
    async def hand_over(body: HandOver, request: Request, request_id: Id) -> Any:
        return await guarded(request, lambda who: requests.hand_over(who, request_id, body.to, body.note))

    @api.post("/api/requests/{request_id}/take")
    async def take(request: Request, request_id: Id) -> Any:
        return await guarded(request, lambda who: requests.take(who, request_id))

    @api.post("/api/requests/{request_id}/links")
    async def link(body: NewLink, request: Request, request_id: Id) -> Any:
        return await guarded(request, lambda who: requests.link(who, request_id, body.kind, body.ref))

    @api.post("/api/requests/{request_id}/followups", status_code=201)
    async def follow_up(body: NewFollowUp, request: Request, request_id: Id) -> Any:
        return await guarded(request, lambda who: requests.schedule_followup(
            who, request_id, at=body.at, number=body.number, kind=body.kind))

    @api.post("/api/followups/{followup_id}/result")
    async def follow_up_result(body: FollowUpResult, request: Request, followup_id: Id) -> Any:
        return await guarded(request, lambda who: requests.record_followup(
            who, followup_id, result=body.result, satisfaction=body.satisfaction, note=body.note))

    @api.get("/api/crm/customers")
    async def find(request: Request, q: str = Query(min_length=1, max_length=100),
                   limit: int = Query(20, ge=1, le=200)) -> Any:
        async def run(who: Actor) -> Any:
            return {"v": 1, "customers": await cards.search(who, q, limit=limit)}
        return await guarded(request, run)

    @api.get("/api/crm/customers.csv")
    async def export(request: Request) -> Any:
        async def run(who: Actor) -> Any:
            if not who.supervises:
                raise RequestError("only supervisors and admins export customers", 403)
            return Response(await cards.export_csv(), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": 'attachment; filename="customers.csv"'})
        return await guarded(request, run)

    @api.get("/api/crm/customers/{number}")
    async def card(request: Request, number: str) -> Any:
        if len(number) > 32:
            return JSONResponse({"error": "a phone number has at most 32 characters"}, status_code=422)
        return await guarded(request, lambda who: cards.card(who, number))

    @api.patch("/api/crm/customers/{number}")
    async def edit(body: CardChange, request: Request, number: str) -> Any:
        if len(number) > 32:
            return JSONResponse({"error": "a phone number has at most 32 characters"}, status_code=422)
        return await guarded(request, lambda who: cards.edit(who, number, body.model_dump(exclude_unset=True)))

    return api
