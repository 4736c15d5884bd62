"""The customer card: the record, the calls with their dispositions and notes, the service requests, the
recordings and survey ratings, and who changed what. Agents edit the basic data (name, further phone
numbers, birthday, notes); every change is audited.

Who sees a card: supervisors, QA and admins always; an agent while that customer is on the agent's call,
or when the agent owns an open request of that customer (the same rule as the screen pop's history)."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any, Protocol

from sqlalchemy import delete, desc, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.models import OPEN_STATUSES, CustomerAudit, CustomerPhone, CustomerProfile, ServiceRequest
from crm.requests import Actor, RequestError
from cti.customers import normalise_number
from cti.models import CallRecord, Customer
from ivr.models import SurveyResult
from recordings.models import Recording

MAX_NAME = 200
MAX_NOTES = 4000
MAX_PHONES = 10
EXPORT_COLUMNS = ("number", "name", "vip_level", "key_account", "blocked", "notes", "language", "birthday", "phones")


class CurrentCalls(Protocol):
    def on_current_call(self, agent_id: str, number: str) -> bool:
        """Whether ``number`` is a party of the agent's current call (ringing, talking, on hold, wrap-up)."""


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()


class CustomerCards:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], current_calls: CurrentCalls, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.sessions = sessions
        self.current_calls = current_calls
        self.clock = clock

    async def _customer(self, session: AsyncSession, number: str) -> Customer:
        wanted = normalise_number(number)
        customer = (await session.execute(select(Customer).where(Customer.number == wanted))).scalar_one_or_none()
        if customer is None:
            owner = (await session.execute(select(CustomerPhone.customer_id).where(
                CustomerPhone.number == wanted))).scalar_one_or_none()
            customer = await session.get(Customer, owner) if owner is not None else None
        if customer is None:
            raise RequestError(f"no customer with number {number!r}", 404)
        return customer

    async def _may_see(self, session: AsyncSession, actor: Actor, customer: Customer) -> None:
        if actor.reads_all:
            return
        numbers = [customer.number, *await _phones_of(session, customer.id)]
        if any(self.current_calls.on_current_call(actor.agent_id, n) for n in numbers):
            return
        owns = (await session.execute(select(ServiceRequest.id).where(
            ServiceRequest.customer_id == customer.id, ServiceRequest.owner_id == actor.agent_id,
            ServiceRequest.status.in_(OPEN_STATUSES)).limit(1))).first()
        if owns is None:
            raise RequestError(f"agent {actor.agent_id} sees a customer's card only while the customer is on "
                               f"the agent's call or the agent owns an open request of theirs", 403)

    async def card(self, actor: Actor, number: str, *, limit: int = 20) -> dict[str, Any]:
        async with self.sessions() as session:
            customer = await self._customer(session, number)
            await self._may_see(session, actor, customer)
            profile = await session.get(CustomerProfile, customer.id)
            phones = await _phones_of(session, customer.id)
            numbers = [customer.number, *phones]
            calls = (await session.execute(select(CallRecord).where(CallRecord.caller_number.in_(numbers))
                                           .order_by(desc(CallRecord.started_at), desc(CallRecord.id))
                                           .limit(limit))).scalars().all()
            requests = (await session.execute(select(ServiceRequest).where(ServiceRequest.customer_id == customer.id)
                                              .order_by(desc(ServiceRequest.created_at)).limit(limit))).scalars().all()
            recordings = (await session.execute(select(Recording).where(
                or_(Recording.caller.in_(numbers), Recording.customer_id == str(customer.id)))
                .order_by(desc(Recording.started_at)).limit(limit))).scalars().all()
            surveys = (await session.execute(select(SurveyResult).where(SurveyResult.caller.in_(numbers))
                                             .order_by(desc(SurveyResult.created_at)).limit(limit))).scalars().all()
            audit = (await session.execute(select(CustomerAudit).where(CustomerAudit.customer_id == customer.id)
                                           .order_by(desc(CustomerAudit.id)).limit(limit))).scalars().all()
        return {
            "customer": {"id": customer.id, "number": customer.number, "name": customer.name,
                         "vip_level": customer.vip_level, "key_account": customer.key_account,
                         "blocked": customer.blocked, "notes": customer.notes, "language": customer.language or None,
                         "birthday": profile.birthday.isoformat() if profile and profile.birthday else None,
                         "phones": phones},
            "calls": [{"linkedid": c.linkedid, "started_at": _iso(c.started_at), "agent_id": c.agent_id,
                       "queue": c.queue, "direction": c.direction, "disposition": c.disposition, "notes": c.notes}
                      for c in calls],
            "requests": [{"id": r.id, "type": r.type, "status": r.status, "summary": r.summary,
                          "created_at": _iso(r.created_at), "due_at": _iso(r.due_at), "owner_id": r.owner_id}
                         for r in requests],
            "recordings": [{"id": r.id, "linkedid": r.linkedid, "started_at": _iso(r.started_at),
                            "agent_id": r.agent_id, "duration_s": r.duration_s, "status": r.status} for r in recordings],
            "surveys": [{"linkedid": s.linkedid, "at": _iso(s.created_at), "agent_id": s.agent_id, "rating": s.rating}
                        for s in surveys],
            "audit": [{"at": _iso(a.at), "by": a.by, "field": a.field, "old": a.old, "new": a.new} for a in audit],
        }

    async def edit(self, actor: Actor, number: str, changes: dict[str, Any]) -> dict[str, Any]:
        allowed = {"name", "notes", "birthday", "phones"}
        unknown = set(changes) - allowed
        if unknown:
            raise RequestError(f"only {', '.join(sorted(allowed))} can be edited here, not {', '.join(sorted(unknown))}")
        clean: dict[str, Any] = {}
        if "name" in changes:
            clean["name"] = _checked_text(changes["name"], "name", MAX_NAME)
        if "notes" in changes:
            clean["notes"] = _checked_text(changes["notes"], "notes", MAX_NOTES)
        if "birthday" in changes:
            clean["birthday"] = _birthday(changes["birthday"])
        if "phones" in changes:
            clean["phones"] = _phones(changes["phones"])
        now = self.clock()
        async with self.sessions() as session:
            async with session.begin():
                customer = await self._customer(session, number)
                await self._may_see(session, actor, customer)
                profile = await session.get(CustomerProfile, customer.id)
                if profile is None and "birthday" in clean:
                    profile = CustomerProfile(customer_id=customer.id)
                    session.add(profile)
                for field, value in clean.items():
                    if field == "phones":
                        old = await _phones_of(session, customer.id)
                        if old != value:
                            await self._set_phones(session, customer, value)
                    else:
                        target: Any = customer if field in ("name", "notes") else profile
                        old = getattr(target, field)
                        setattr(target, field, value)
                    if old != value:
                        session.add(CustomerAudit(customer_id=customer.id, at=now, by=actor.agent_id, field=field,
                                                  old=_shown(old), new=_shown(value)))
        return await self.card(actor, customer.number)

    @staticmethod
    async def _set_phones(session: AsyncSession, customer: Customer, numbers: list[str]) -> None:
        for number in numbers:
            taken = (await session.execute(select(Customer.id).where(Customer.number == number))).scalar_one_or_none()
            other = (await session.execute(select(CustomerPhone.customer_id).where(
                CustomerPhone.number == number))).scalar_one_or_none()
            if (taken is not None and taken != customer.id) or (other is not None and other != customer.id):
                raise RequestError(f"number {number} belongs to another customer", 409)
        await session.execute(delete(CustomerPhone).where(CustomerPhone.customer_id == customer.id))
        session.add_all([CustomerPhone(customer_id=customer.id, number=n) for n in numbers if n != customer.number])

    async def search(self, actor: Actor, text: str, *, limit: int = 20) -> list[dict[str, Any]]:
        """By number (part of it), name (part of it) or request id (#12). Supervisors, QA and admins only:
        an agent finds customers through the call on the line."""
        if not actor.reads_all:
            raise RequestError("customer search is for supervisors, QA and admins", 403)
        text = _checked_text(text, "query", 100)
        if not text:
            raise RequestError("say what to search for: a number, a name or a request id (#12)")
        async with self.sessions() as session:
            if text.startswith("#") and text[1:].isdigit() and len(text) < 12:
                row = await session.get(ServiceRequest, int(text[1:]))
                ids = [row.customer_id] if row is not None else []
                query = select(Customer).where(Customer.id.in_(ids))
            else:
                digits = normalise_number(text)
                conditions = [Customer.name.contains(text)]
                if digits.isdigit():
                    conditions.append(Customer.number.contains(digits))
                query = select(Customer).where(or_(*conditions))
            rows = (await session.execute(query.order_by(Customer.number).limit(limit))).scalars().all()
        return [{"id": c.id, "number": c.number, "name": c.name, "vip_level": c.vip_level} for c in rows]

    async def export_csv(self) -> str:
        """Every customer as CSV (UTF-8 with BOM so Excel opens Chinese), importable again by
        `hotline customers import` for its first columns."""
        async with self.sessions() as session:
            customers = (await session.execute(select(Customer).order_by(Customer.number))).scalars().all()
            profiles = {p.customer_id: p for p in (await session.execute(select(CustomerProfile))).scalars().all()}
            phones: dict[int, list[str]] = {}
            for phone in (await session.execute(select(CustomerPhone).order_by(CustomerPhone.id))).scalars().all():
                phones.setdefault(phone.customer_id, []).append(phone.number)
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(EXPORT_COLUMNS)
        for c in customers:
            p = profiles.get(c.id)
            writer.writerow([c.number, c.name, c.vip_level, int(c.key_account), int(c.blocked), c.notes,
                             c.language or "", p.birthday.isoformat() if p and p.birthday else "",
                             " ".join(phones.get(c.id, []))])
        return out.getvalue()


async def _phones_of(session: AsyncSession, customer_id: int) -> list[str]:
    return list((await session.execute(select(CustomerPhone.number).where(CustomerPhone.customer_id == customer_id)
                                       .order_by(CustomerPhone.id))).scalars().all())


def _checked_text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise RequestError(f"{name} must be text")
    if "\x00" in value:
        raise RequestError(f"{name} contains a NUL character")
    value = value.strip()
    if len(value) > limit:
        raise RequestError(f"{name} is {len(value)} characters; at most {limit}")
    return value


def _birthday(value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        born = date.fromisoformat(str(value))
    except ValueError:
        raise RequestError(f"birthday {value!r} is not a date (YYYY-MM-DD)") from None
    if not date(1900, 1, 1) <= born <= date.today():
        raise RequestError(f"birthday {born.isoformat()} is not a plausible date of birth")
    return born


def _phones(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_PHONES:
        raise RequestError(f"phones must be a list of at most {MAX_PHONES} numbers")
    out = []
    for raw in value:
        number = normalise_number(str(raw))
        if not (number.lstrip("+").isdigit() and 3 <= len(number) <= 20):
            raise RequestError(f"{raw!r} is not a phone number")
        out.append(number)
    return list(dict.fromkeys(out))


def _shown(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return " ".join(value)
    return "" if value is None else str(value)
