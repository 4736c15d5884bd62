"""CRM tables: service requests (工单) with their links and history, follow-up calls (回访), and the
customer's extra data with its audit trail. Times are aware UTC (`UTCDateTime`)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime, utcnow

STATUSES = ("open", "in_progress", "waiting_customer", "answered", "closed", "reopened")
OPEN_STATUSES = ("open", "in_progress", "waiting_customer", "reopened")
# which status may follow which (a closed request is reopened, never edited back to open)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("in_progress", "waiting_customer", "answered", "closed"),
    "in_progress": ("waiting_customer", "answered", "closed"),
    "waiting_customer": ("in_progress", "answered", "closed"),
    "answered": ("closed", "reopened"),
    "closed": ("reopened",),
    "reopened": ("in_progress", "waiting_customer", "answered", "closed"),
}
PRIORITIES = ("low", "normal", "high", "urgent")
SOURCES = ("agent", "voicemail", "callback")
FOLLOWUP_KINDS = ("reply", "satisfaction")
FOLLOWUP_RESULTS = ("reached", "no-answer", "wrong-number", "busy", "failed")


class ServiceRequest(Base):
    __tablename__ = "service_requests"
    __table_args__ = (
        Index("ix_service_requests_status_due", "status", "due_at"),
        Index("ix_service_requests_owner", "owner_id", "status"),
        Index("ix_service_requests_customer", "customer_id", "type", "category", "created_at"),
        Index("ix_service_requests_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20), default="open")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    summary: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(100), default="")
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer_number: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[str] = mapped_column(String(32))            # 首问负责制: who took it, until handed over
    created_by: Mapped[str] = mapped_column(String(32))
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="agent")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)   # when found overdue
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)            # 1-5, from 满意度回访
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class RequestLink(Base):
    """A call, recording, voicemail or IVR callback request the service request is about."""

    __tablename__ = "service_request_links"
    __table_args__ = (UniqueConstraint("request_id", "kind", "ref", name="uq_service_request_link"),
                      Index("ix_service_request_links_ref", "kind", "ref"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))                 # call | recording | voicemail | callback
    ref: Mapped[str] = mapped_column(String(64))


class RequestEvent(Base):
    """The history of a request: every change, who made it and when."""

    __tablename__ = "service_request_events"
    __table_args__ = (Index("ix_service_request_events_request", "request_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by: Mapped[str] = mapped_column(String(32))                   # agent id, or "system"
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class FollowUp(Base):
    """A follow-up call (回访) on a request: the agent's phone rings first, then the customer."""

    __tablename__ = "service_request_followups"
    __table_args__ = (Index("ix_service_request_followups_due", "status", "scheduled_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="reply")   # reply | satisfaction
    number: Mapped[str] = mapped_column(String(32))
    queue: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)   # owner it is meant for
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="scheduled")    # scheduled|dialing|done|failed|cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str | None] = mapped_column(String(16), nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CustomerProfile(Base):
    """What the CRM keeps beyond the screen-pop record in `customers`."""

    __tablename__ = "crm_customer_profiles"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    birthday: Mapped[date | None] = mapped_column(Date, nullable=True)


class CustomerPhone(Base):
    """Further numbers a customer calls from (normalised); the card is found by any of them."""

    __tablename__ = "crm_customer_phones"
    __table_args__ = (UniqueConstraint("number", name="uq_crm_customer_phones_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32))


class CustomerAudit(Base):
    """Who changed which field of a customer, from what to what."""

    __tablename__ = "crm_customer_audit"
    __table_args__ = (Index("ix_crm_customer_audit_customer", "customer_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by: Mapped[str] = mapped_column(String(32))
    field: Mapped[str] = mapped_column(String(32))
    old: Mapped[str] = mapped_column(Text, default="")
    new: Mapped[str] = mapped_column(Text, default="")
