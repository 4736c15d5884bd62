"""Alembic environment of every hotline table (async engines: aiosqlite, asyncpg).

Run from Python (migrations.runner: `hotline db upgrade`, the service at start) with an open connection,
or from the alembic command line: `alembic -c migrations/alembic.ini [-x db_url=URL] upgrade head`.
"""
from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from hotline.db import Base, import_domain_models, make_engine

import_domain_models()
config = context.config
LEGACY_VERSION_TABLES = {"alembic_version_recordings"}


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("db_url") or config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from hotline.config import load_settings

    return load_settings(os.environ.get("HOTLINE_CONFIG_DIR")).database.url


def _include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name in LEGACY_VERSION_TABLES)


def _configure(connection: Connection | None = None, **kw) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                      compare_type=True, include_object=_include_object, **kw)


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


if context.is_offline_mode():
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif config.attributes.get("connection") is not None:
    _run_sync(config.attributes["connection"])
else:
    asyncio.run(_run_async())
