"""The login-throttling table: failed logins per account and per source, and their lockouts."""
from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base


class LoginThrottleRow(Base):
    """One row per throttled key: ``account:<agent id>`` or ``source:<address>`` (times are epoch seconds)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[float] = mapped_column(Float, default=0.0)
    locked_until: Mapped[float] = mapped_column(Float, default=0.0)
