"""Recording metadata, QA evaluations and the audit log of who replayed, exported, archived or purged what.

Times are stored as UTC without a zone (the same on SQLite and PostgreSQL, so range comparisons agree on
both); `UTCDateTime` converts at the boundary and hands back aware UTC datetimes.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.db import Base, UTCDateTime, utcnow

# Row lifecycle. A row is written when recording starts and never deleted when its file fails.
STATUS_RECORDING = "recording"  # MixMonitor running
STATUS_PROCESSING = "processing"  # call ended, post-processing pending
STATUS_COMPLETE = "complete"  # file checked, measured, converted, checksummed
STATUS_FAILED = "failed"  # MixMonitor could not start (no file expected)
STATUS_FLAGGED = "flagged"  # the file exists but something is wrong with it: kept for a person to look at
STATUS_PURGED = "purged"  # file deleted under the retention policy; the row stays for history
STATUSES = (STATUS_RECORDING, STATUS_PROCESSING, STATUS_COMPLETE, STATUS_FAILED, STATUS_FLAGGED, STATUS_PURGED)

TIER_PRIMARY = "primary"
TIER_ARCHIVE = "archive"

AUDIT_ACTIONS = ("replay", "export", "delete", "archive")


class Recording(Base):
    """One recorded segment of a call. A transferred call has segments 1, 2, … under one linkedid."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    linkedid: Mapped[str] = mapped_column(String(64))
    segment: Mapped[int] = mapped_column(Integer, default=1)
    channel: Mapped[str] = mapped_column(String(128), default="")
    caller: Mapped[str] = mapped_column(String(64), default="")
    called: Mapped[str] = mapped_column(String(64), default="")
    agent_id: Mapped[str] = mapped_column(String(32), default="")
    agent_name: Mapped[str] = mapped_column(String(128), default="")
    queue: Mapped[str] = mapped_column(String(64), default="")
    customer_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    path: Mapped[str] = mapped_column(String(512), default="")  # storage key, relative to the tier's root
    format: Mapped[str] = mapped_column(String(8), default="wav")
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    disposition: Mapped[str | None] = mapped_column(String(32), nullable=True)
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    storage_tier: Mapped[str] = mapped_column(String(16), default=TIER_PRIMARY)
    status: Mapped[str] = mapped_column(String(16), default=STATUS_RECORDING)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    stereo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    evaluations: Mapped[list["Evaluation"]] = relationship(back_populates="recording", lazy="raise")

    __table_args__ = (
        # Also the call-ID index: every lookup by linkedid uses its leading column.
        UniqueConstraint("linkedid", "segment", name="uq_recordings_linkedid_segment"),
        Index("ix_recordings_agent_started", "agent_id", "started_at"),
        Index("ix_recordings_caller_started", "caller", "started_at"),
        Index("ix_recordings_queue_started", "queue", "started_at"),
        Index("ix_recordings_customer", "customer_id"),
        Index("ix_recordings_started", "started_at"),
    )

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "linkedid": self.linkedid,
            "segment": self.segment,
            "caller": self.caller,
            "called": self.called,
            "agent_id": self.agent_id,
            "agent_name": self.agent_name,
            "queue": self.queue,
            "customer_id": self.customer_id,
            "direction": self.direction,
            "started_at": _iso(self.started_at),
            "answered_at": _iso(self.answered_at),
            "ended_at": _iso(self.ended_at),
            "duration_s": self.duration_s,
            "path": self.path,
            "format": self.format,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "disposition": self.disposition,
            "satisfaction": self.satisfaction,
            "tags": list(self.tags or []),
            "storage_tier": self.storage_tier,
            "status": self.status,
            "error": self.error,
            "stereo": self.stereo,
        }


class Evaluation(Base):
    """A QA reviewer's scorecard for one recording."""

    __tablename__ = "recording_evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="RESTRICT"))
    reviewer_id: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[str] = mapped_column(String(32), default="")  # the reviewed agent (工号), for reports
    scores: Mapped[dict] = mapped_column(JSON, default=dict)  # item id -> points on the scorecard scale
    total: Mapped[float] = mapped_column(Float)
    comments: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    recording: Mapped[Recording] = relationship(back_populates="evaluations", lazy="raise")

    __table_args__ = (Index("ix_recording_evaluations_recording", "recording_id"),)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "recording_id": self.recording_id,
            "reviewer_id": self.reviewer_id,
            "agent_id": self.agent_id,
            "scores": dict(self.scores or {}),
            "total": self.total,
            "comments": self.comments,
            "created_at": _iso(self.created_at),
        }


class AuditLog(Base):
    """Who did what to which recording: replay, export, delete (retention purge), archive, forbidden (refused)."""

    __tablename__ = "recording_audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    # No foreign key: the audit trail must outlive anything that happens to the recording row.
    recording_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    detail: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_recording_audit_log_recording", "recording_id"),
        Index("ix_recording_audit_log_at", "at"),
    )

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "actor": self.actor,
            "action": self.action,
            "recording_id": self.recording_id,
            "at": _iso(self.at),
            "detail": self.detail,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
