"""The SQL database: one declarative base for every domain's tables, async engines for SQLite and PostgreSQL."""
from __future__ import annotations

import importlib
from datetime import datetime, timezone

from sqlalchemy import DateTime, event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator


DOMAIN_MODELS = ("ivr.models", "cti.models", "acd.models", "recordings.models", "hotline.security.models",
                 "reports.models", "crm.models", "kb.models")


class Base(DeclarativeBase):
    pass


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """A time read back from a ``DateTime(timezone=True)`` column: SQLite gives the stored UTC time back without
    its offset (PostgreSQL keeps it), and a naive time would be read as local time further on (a browser does)."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out; naive UTC in the database."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: times are stored in UTC, pass an aware datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def make_engine(url: str, **kwargs) -> AsyncEngine:
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # WAL lets readers (QA search) run during writes
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def import_domain_models() -> None:
    """Register every domain's tables on Base.metadata (imported here, not at the top: they import Base)."""
    for name in DOMAIN_MODELS:
        importlib.import_module(name)


async def create_schema(engine: AsyncEngine) -> None:
    import_domain_models()
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
