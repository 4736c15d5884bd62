"""The queue log table: Asterisk's queue_log columns, so existing queue-log tools read it."""
from __future__ import annotations

from sqlalchemy import BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base


class QueueLogRow(Base):
    __tablename__ = "queue_log"
    __table_args__ = (
        Index("ix_queue_log_queue_time", "queuename", "time"),
        Index("ix_queue_log_callid", "callid"),
        Index("ix_queue_log_agent_time", "agent", "time"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    time: Mapped[float] = mapped_column(Float, nullable=False)        # epoch seconds (UTC)
    callid: Mapped[str] = mapped_column(String(64), nullable=False, default="NONE")
    queuename: Mapped[str] = mapped_column(String(64), nullable=False, default="NONE")
    agent: Mapped[str] = mapped_column(String(64), nullable=False, default="NONE")
    event: Mapped[str] = mapped_column(String(32), nullable=False)
    data1: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    data2: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    data3: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    data4: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    data5: Mapped[str] = mapped_column(String(128), nullable=False, default="")
