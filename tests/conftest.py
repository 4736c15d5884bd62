"""Fixtures shared by every test folder: real databases and the real broker.

Database tests run twice, on SQLite (a fresh file) and on PostgreSQL
(a throw-away database created on 127.0.0.1:5432 and dropped afterwards), so
concurrent test runs never see each other's rows. MQTT tests use the real
broker on 127.0.0.1:1883 with a unique topic prefix per test.
"""
from __future__ import annotations

import asyncio
import os
import tempfile
import uuid

import asyncpg
import pytest
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis keeps nothing in the checkout (.hypothesis/: examples, caches): tests write only under tmp folders
hypothesis_settings.register_profile("hotline", database=None)
hypothesis_settings.load_profile("hotline")
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="hotline-hypothesis-"))

PG_ADMIN_URL = os.environ.get("HOTLINE_TEST_PG", "postgresql+asyncpg://root@127.0.0.1:5432/test")
MQTT_URL = os.environ.get("HOTLINE_TEST_MQTT", "mqtt://127.0.0.1:1883")


async def _pg_admin(sql: str) -> None:
    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """A SQLAlchemy async URL of an empty database, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
        return
    name = f"hotline_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def mqtt_url():
    """The real broker (Mosquitto in CI and on developer machines)."""
    return MQTT_URL


@pytest.fixture
def topic_prefix():
    """A topic root no other test uses, so retained messages never leak between tests."""
    return f"hotline-test/{uuid.uuid4().hex[:10]}"


def pytest_sessionfinish(session, exitstatus):
    """No test may be skipped silently: in CI a skipped test fails the run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and os.environ.get("CI") and exitstatus == 0:
        reporter.write_line(f"{skipped} test(s) skipped: skips are failures in CI", red=True)
        session.exitstatus = 1
