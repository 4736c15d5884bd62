"""CTI tables: agent state log, customers, call history (for screen pops and reports), announcements."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base


class AgentStateLog(Base):
    """Every agent state transition, timestamped (reports: occupancy, not-ready time by reason, AHT)."""

    __tablename__ = "agent_state_log"
    __table_args__ = (Index("ix_agent_state_log_agent_at", "agent_id", "at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    previous_state: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    request: Mapped[str] = mapped_column(String(30))          # login, ready, ring, answer, resync, ...
    linkedid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    by: Mapped[str | None] = mapped_column(String(32), nullable=True)   # who asked: agent, supervisor id, pbx, timer


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)       # normalised digits (+ allowed)
    name: Mapped[str] = mapped_column(String(200), default="")
    vip_level: Mapped[int] = mapped_column(Integer, default=0)          # 0-3
    key_account: Mapped[bool] = mapped_column(Boolean, default=False)   # 大客户
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(16), default="")


class CallRecord(Base):
    """One handled (or attempted) call per agent leg: the screen pop's history and the wrap-up result."""

    __tablename__ = "cti_call_records"
    __table_args__ = (Index("ix_cti_call_records_number", "caller_number", "started_at"),
                      UniqueConstraint("linkedid", "agent_id", name="uq_cti_call_records_leg"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    linkedid: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    caller_number: Mapped[str] = mapped_column(String(32), default="")
    direction: Mapped[str] = mapped_column(String(10), default="inbound")
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    disposition: Mapped[str | None] = mapped_column(String(40), nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    call_data: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class Announcement(Base):
    __tablename__ = "cti_announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(32))
    audience: Mapped[str] = mapped_column(String(200))     # "all" | "team:A" | "agents:1001,1002"
    text: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(10), default="normal")


class AnnouncementDelivery(Base):
    """One row per recipient; read_at stays NULL until the agent acknowledges it."""

    __tablename__ = "cti_announcement_deliveries"
    __table_args__ = (UniqueConstraint("announcement_id", "agent_id", name="uq_cti_announcement_delivery"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("cti_announcements.id", ondelete="CASCADE"))
    agent_id: Mapped[str] = mapped_column(String(32))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
