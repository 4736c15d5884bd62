"""The Alembic history of the recordings tables builds the schema the models describe, on both backends."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from hotline.db import Base, make_engine
from recordings.migrate import VERSION_TABLE, upgrade
from recordings.models import Recording  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
OURS = {"recordings", "recording_evaluations", "recording_audit_log"}


def _only_ours(obj, name, type_, reflected, compare_to):
    if type_ == "table":
        return name in OURS
    return getattr(obj, "table", None) is None or obj.table.name in OURS


async def _inspect(url: str):
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            def look(sync_conn):
                insp = inspect(sync_conn)
                tables = set(insp.get_table_names())
                indexes = {i["name"] for i in insp.get_indexes("recordings")}
                mc = MigrationContext.configure(sync_conn, opts={"include_object": _only_ours, "compare_type": True})
                diff = compare_metadata(mc, Base.metadata)
                version = sync_conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
                return tables, indexes, diff, version
            return await conn.run_sync(look)
    finally:
        await engine.dispose()


def test_upgrade_head_matches_the_models(db_url):
    upgrade(db_url)
    tables, indexes, diff, version = asyncio.run(_inspect(db_url))
    assert OURS <= tables
    assert {"ix_recordings_agent_started", "ix_recordings_caller_started", "ix_recordings_queue_started",
            "ix_recordings_customer"} <= indexes
    assert diff == []
    assert version == "0001_recordings"
    upgrade(db_url)  # idempotent


def test_alembic_command_line_upgrades_head(db_url):
    result = subprocess.run(
        [str(Path(sys.executable).parent / "alembic"), "-c", "recordings/alembic.ini", "-x", f"db_url={db_url}",
         "upgrade", "head"],
        cwd=REPO, capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    tables, _, diff, version = asyncio.run(_inspect(db_url))
    assert OURS <= tables and diff == [] and version == "0001_recordings"


def test_schema_made_by_create_all_is_stamped_then_upgraded(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'created.db'}"

    async def create():
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all, tables=[Base.metadata.tables[t] for t in OURS])
        await engine.dispose()

    asyncio.run(create())
    upgrade(url)
    _, _, diff, version = asyncio.run(_inspect(url))
    assert diff == [] and version == "0001_recordings"
