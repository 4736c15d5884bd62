"""The call-detail record: one row per call, rebuilt from the durable facts (reports.cdr).

Times are epoch seconds (UTC) in floats, like queue_log.time: the interval reports bucket them with plain
arithmetic that SQLite and PostgreSQL evaluate alike, and the indexes below serve every report's range scan.
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base

# how a call ended (one per call)
ENDED_HOW = ("answered", "abandoned", "abandoned_ivr", "overflowed", "callback", "voicemail", "self_service",
             "blocked", "silent_hangup", "still_waiting", "other")
# the IVR's part of the call
IVR_OUTCOMES = ("reached_queue", "self_service", "voicemail", "callback", "blocked", "silent_hangup",
                "ivr_hangup", "other")


class CallDetail(Base):
    __tablename__ = "call_details"
    __table_args__ = (
        Index("ix_call_details_arrived", "arrived_at"),
        Index("ix_call_details_queue_arrived", "queue", "arrived_at"),
        Index("ix_call_details_agent_arrived", "agent_id", "arrived_at"),
        Index("ix_call_details_caller_arrived", "caller", "arrived_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    arrived_at: Mapped[float] = mapped_column(Float)                  # epoch s: the IVR answered (or queue entry)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    caller: Mapped[str] = mapped_column(String(64), default="")
    dnid: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    ivr_path: Mapped[list] = mapped_column(JSON, default=list)
    ivr_last_node: Mapped[str] = mapped_column(String(100), default="")
    ivr_outcome: Mapped[str] = mapped_column(String(16), default="other")
    queue: Mapped[str] = mapped_column(String(64), default="")        # "" = never reached a queue
    team: Mapped[str] = mapped_column(String(64), default="")         # the answering agent's team
    priority: Mapped[int | None] = mapped_column(Integer, nullable=True)
    offered: Mapped[int] = mapped_column(Integer, default=0)          # 1 when the call reached a queue
    answered: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)        # hung up waiting in the queue
    short_abandon: Mapped[int] = mapped_column(Integer, default=0)    # ... within 5 s
    answered_within: Mapped[int] = mapped_column(Integer, default=0)  # answered within the queue's SL threshold
    sl_threshold_s: Mapped[float] = mapped_column(Float, default=20.0)
    wait_s: Mapped[float] = mapped_column(Float, default=0.0)         # in the queue until answer or hang-up
    ring_no_answers: Mapped[int] = mapped_column(Integer, default=0)
    agent_id: Mapped[str] = mapped_column(String(32), default="")     # answered by
    answered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    handled: Mapped[int] = mapped_column(Integer, default=0)          # the agent's talk ended (AHT counts it)
    talk_s: Mapped[float] = mapped_column(Float, default=0.0)
    hold_s: Mapped[float] = mapped_column(Float, default=0.0)
    wrapup_s: Mapped[float] = mapped_column(Float, default=0.0)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    conference: Mapped[bool] = mapped_column(Boolean, default=False)
    disposition: Mapped[str] = mapped_column(String(40), default="")
    survey_rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recording_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recorded_s: Mapped[float] = mapped_column(Float, default=0.0)
    ended_how: Mapped[str] = mapped_column(String(16), default="other")
