"""The recordings tables' schema: part of hotline's one Alembic history (migrations/, `hotline db upgrade`).

`upgrade(url)` / `await upgrade_async(engine)` bring the whole database to head; kept for
`hotline recordings migrate` and the recordings tests. A database migrated by the recordings' former
history (version table alembic_version_recordings) is adopted by migrations.runner.
"""
from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.db import make_engine
from migrations.runner import LEGACY_VERSION_TABLE as VERSION_TABLE  # noqa: F401  (the former history's table)
from migrations.runner import upgrade as _upgrade


async def upgrade_async(engine: AsyncEngine, revision: str = "head") -> None:
    await _upgrade(engine, revision)


def upgrade(url: str, revision: str = "head") -> None:
    async def run() -> None:
        engine = make_engine(url)
        try:
            await upgrade_async(engine, revision)
        finally:
            await engine.dispose()

    asyncio.run(run())
