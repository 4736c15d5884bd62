"""The IVR's tables: per-node statistics, voicemails, callback requests, survey ratings, callers' languages."""
from __future__ import annotations

from datetime import date, datetime, timezone

from decimal import Decimal

from sqlalchemy import JSON, Date, DateTime, Float, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class NodeStat(Base):
    """How often something happened at a node of a flow on a day (entries, option:N, timeout, invalid, hangup…)."""

    __tablename__ = "ivr_node_stats"
    __table_args__ = (UniqueConstraint("day", "flow", "node", "counter", name="uq_ivr_node_stats"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    flow: Mapped[str] = mapped_column(String(100))
    node: Mapped[str] = mapped_column(String(100))
    counter: Mapped[str] = mapped_column(String(60))
    count: Mapped[int] = mapped_column(Integer, default=0)


class Voicemail(Base):
    """A message left in the IVR: the audio file Asterisk recorded and what we know about the call."""

    __tablename__ = "ivr_voicemails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    linkedid: Mapped[str] = mapped_column(String(64), index=True)
    caller: Mapped[str] = mapped_column(String(64), default="", index=True)
    caller_name: Mapped[str] = mapped_column(String(200), default="")
    flow: Mapped[str] = mapped_column(String(100), default="")
    node: Mapped[str] = mapped_column(String(100), default="")
    queue: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    path: Mapped[str] = mapped_column(String(500))             # without extension, as given to RECORD FILE
    format: Mapped[str] = mapped_column(String(16), default="wav")
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    ended_by: Mapped[str] = mapped_column(String(16), default="")  # dtmf | timeout | silence | hangup
    status: Mapped[str] = mapped_column(String(16), default="new")  # new | heard | done
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class CallbackRequest(Base):
    """A caller asked to be called back (number confirmed or typed, preferred time or as soon as possible)."""

    __tablename__ = "ivr_callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    linkedid: Mapped[str] = mapped_column(String(64), index=True)
    caller: Mapped[str] = mapped_column(String(64), default="")
    number: Mapped[str] = mapped_column(String(64))
    preferred_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    queue: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    flow: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | placed | done | failed
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class SurveyResult(Base):
    """Post-call satisfaction rating 1–5, with the call and the agent who answered it."""

    __tablename__ = "ivr_surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    linkedid: Mapped[str] = mapped_column(String(64), index=True)
    caller: Mapped[str] = mapped_column(String(64), default="")
    agent_id: Mapped[str] = mapped_column(String(32), default="", index=True)
    queue: Mapped[str] = mapped_column(String(100), default="")
    flow: Mapped[str] = mapped_column(String(100), default="")
    rating: Mapped[int] = mapped_column(Integer)


class CallerPreference(Base):
    """What we remember about a calling number between calls (the language chosen last time)."""

    __tablename__ = "ivr_caller_preferences"

    number: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ShopOrder(Base):
    """Orders as the self-service menu reads them out (a mirror of the shop system, filled by an import)."""

    __tablename__ = "ivr_orders"

    number: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_number: Mapped[str] = mapped_column(String(32), default="", index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending paid shipped delivered cancelled refunding
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    created: Mapped[date] = mapped_column(Date)
    expected_delivery: Mapped[date | None] = mapped_column(Date, nullable=True)


class CustomerAccount(Base):
    """Account balance and points per calling number, read out by the self-service menu."""

    __tablename__ = "ivr_customer_accounts"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    balance: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    points: Mapped[int] = mapped_column(Integer, default=0)


class IvrCall(Base):
    """One row per FastAGI session when it ends: the IVR path and outcome the call-detail records read."""

    __tablename__ = "ivr_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    linkedid: Mapped[str] = mapped_column(String(64), index=True)
    caller: Mapped[str] = mapped_column(String(64), default="")
    dnid: Mapped[str] = mapped_column(String(64), default="")
    flow: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    outcome: Mapped[str] = mapped_column(String(16), default="")     # completed | hangup | left | error | cancelled
    last_node: Mapped[str] = mapped_column(String(100), default="")
    path: Mapped[list] = mapped_column(JSON, default=list)            # "flow:node" visited, in order
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
