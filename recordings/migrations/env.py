"""Alembic environment of the recordings tables (async engines: aiosqlite, asyncpg).

Only the recordings package's tables are compared and migrated; other domains keep their own history,
so this environment uses its own version table.
"""
from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from hotline.db import Base, make_engine
import recordings.models  # noqa: F401  (registers the tables on Base.metadata)

VERSION_TABLE = "alembic_version_recordings"
TABLES = {"recordings", "recording_evaluations", "recording_audit_log"}

config = context.config


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("db_url") or config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from hotline.config import load_settings

    return load_settings(os.environ.get("HOTLINE_CONFIG_DIR")).database.url


def _include_object(obj, name, type_, reflected, compare_to):
    if type_ == "table":
        return name in TABLES
    table = getattr(obj, "table", None)
    return table is None or table.name in TABLES


def _configure(connection: Connection | None = None, **kw) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        include_object=_include_object,
        render_as_batch=True,  # SQLite ALTER TABLE goes through batch mode
        compare_type=True,
        **kw,
    )


def run_offline() -> None:
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = make_engine(_url())
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run_sync)
            await conn.commit()
    finally:
        await engine.dispose()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # called from recordings.migrate with an open (sync) connection
        _run_sync(connection)
        return
    asyncio.run(_run_async())


if context.is_offline_mode():
    run_offline()
else:
    run_online()
