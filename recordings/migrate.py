"""Alembic for the recordings tables, from Python: `upgrade(url)` or `await upgrade_async(engine)`.

A database whose tables were made by hotline.db.create_schema (create_all, the current models) but never
migrated is stamped at head first, so both ways of creating the schema meet.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.db import make_engine

HERE = Path(__file__).parent
VERSION_TABLE = "alembic_version_recordings"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _upgrade_on(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    tables = set(inspect(connection).get_table_names())
    if "recordings" in tables and VERSION_TABLE not in tables:
        command.stamp(cfg, "head")
    command.upgrade(cfg, revision)


async def upgrade_async(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade_on, revision)


def upgrade(url: str, revision: str = "head") -> None:
    async def run() -> None:
        engine = make_engine(url)
        try:
            await upgrade_async(engine, revision)
        finally:
            await engine.dispose()

    asyncio.run(run())
