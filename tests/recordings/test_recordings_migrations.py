"""The recordings tables come from hotline's one Alembic history (migrations/), on both backends; a
database migrated by the recordings' former history is adopted without losing rows."""
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
from migrations.runner import head
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
                version = sync_conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                rows = sync_conn.execute(text("SELECT COUNT(*) FROM recordings")).scalar()
                return tables, indexes, diff, version, rows
            return await conn.run_sync(look)
    finally:
        await engine.dispose()


def test_upgrade_head_matches_the_models(db_url):
    upgrade(db_url)
    tables, indexes, diff, version, _ = asyncio.run(_inspect(db_url))
    assert OURS <= tables and VERSION_TABLE not in tables
    assert {"ix_recordings_agent_started", "ix_recordings_caller_started", "ix_recordings_queue_started",
            "ix_recordings_customer"} <= indexes
    assert diff == []
    assert version == head()
    upgrade(db_url)  # idempotent


def test_alembic_command_line_upgrades_head(db_url):
    result = subprocess.run(
        [str(Path(sys.executable).parent / "alembic"), "-c", "migrations/alembic.ini", "-x", f"db_url={db_url}",
         "upgrade", "head"],
        cwd=REPO, capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    tables, _, diff, version, _ = asyncio.run(_inspect(db_url))
    assert OURS <= tables and diff == [] and version == head()


def test_a_database_of_the_former_recordings_history_is_adopted_with_its_rows(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"

    async def create():
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all, tables=[Base.metadata.tables[t] for t in OURS])
            await conn.execute(text(f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL)"))
            await conn.execute(text(f"INSERT INTO {VERSION_TABLE} VALUES ('0001_recordings')"))
            await conn.execute(text("INSERT INTO recordings (linkedid, segment, channel, caller, called, agent_id, "
                                    "agent_name, queue, direction, started_at, path, format, tags, storage_tier, "
                                    "status, stereo, created_at, updated_at) VALUES ('L1', 1, '', '', '', '1001', "
                                    "'', '', 'inbound', '2026-11-01 08:00:00', '', 'wav', '[]', 'primary', "
                                    "'complete', 0, '2026-11-01 08:00:00', '2026-11-01 08:00:00')"))
        await engine.dispose()

    asyncio.run(create())
    upgrade(url)
    tables, _, diff, version, rows = asyncio.run(_inspect(url))
    assert diff == [] and version == head() and rows == 1
    assert VERSION_TABLE not in tables and {"queue_log", "call_details"} <= tables
