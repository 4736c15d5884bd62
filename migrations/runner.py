"""Upgrading the database to the code's schema (`hotline db upgrade`, and the service at start).

A database made before this history existed (by create_all, or by the recordings package's own history,
version table alembic_version_recordings) is adopted: the revisions create only the tables it lacks.

Adding a table (any package): declare the model in <pkg>/models.py (listed in hotline.db.DOMAIN_MODELS), then
    alembic -c migrations/alembic.ini -x db_url=sqlite+aiosqlite:////tmp/x.db upgrade head
    alembic -c migrations/alembic.ini -x db_url=sqlite+aiosqlite:////tmp/x.db revision --autogenerate \
        --rev-id 0003_<what> -m "<pkg>: <what>"
review the script (render_as_batch keeps SQLite ALTERs working) and run tests/reports/test_reports_sql.py,
whose compare_metadata test fails while a model and the history disagree.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

HERE = Path(__file__).parent
LEGACY_VERSION_TABLE = "alembic_version_recordings"
UPGRADE_COMMAND = "hotline db upgrade"


class SchemaError(Exception):
    """The database is not at the code's revision (one line naming the command to run)."""


def alembic_config() -> Config:
    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE))
    return cfg


def head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade_on(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" not in tables and tables:
        # made by create_all with every table of the code: at head. Otherwise the history runs from the
        # start and its revisions create only the tables that are missing.
        from hotline.db import Base, import_domain_models

        import_domain_models()
        if set(Base.metadata.tables) <= tables:
            command.stamp(cfg, "head")
    if LEGACY_VERSION_TABLE in tables:
        connection.execute(text(f"DROP TABLE {LEGACY_VERSION_TABLE}"))
    command.upgrade(cfg, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade_on, revision)


async def current(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def check_current(engine: AsyncEngine) -> None:
    """Raise SchemaError unless the database is at head."""
    try:
        revision = await current(engine)
    except Exception as exc:
        raise SchemaError(f"database {engine.url.render_as_string(hide_password=True)}: {exc}") from None
    if revision != head():
        raise SchemaError(f"the database is at schema revision {revision or 'none'}, this hotline needs "
                          f"{head()}: run `{UPGRADE_COMMAND}`")
