"""Fixtures of the recordings tests: a migrated database (SQLite and PostgreSQL) and temporary storage."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.config import load_settings
from hotline.db import make_engine, session_factory
from recordings.config import load_recording_config
from recordings.context import RecordingsContext
from recordings.migrate import upgrade_async
from recordings.storage import LocalStorage

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo_settings():
    return load_settings(REPO / "config", env={})


@pytest.fixture
def recording_config():
    return load_recording_config(REPO / "config" / "recording.yaml")


@pytest.fixture
async def ctx(db_url, tmp_path, recording_config):
    engine = make_engine(db_url)
    await upgrade_async(engine)
    context = RecordingsContext(
        sessions=session_factory(engine),
        config=dataclasses.replace(recording_config, retention={"primary": None, "archive": 365}),
        storages={"primary": LocalStorage(tmp_path / "recordings", "primary"),
                  "archive": LocalStorage(tmp_path / "archive", "archive")},
        time_zone=ZoneInfo("Asia/Shanghai"),
        engine=engine,
    )
    yield context
    await engine.dispose()


@pytest.fixture
def config_dir(tmp_path, db_url):
    """A complete configuration directory whose database is db_url and whose data lives in tmp_path."""
    import shutil

    conf = tmp_path / "config"
    conf.mkdir()
    for name in ("agents.yaml", "queues.yaml"):
        shutil.copy(REPO / "config" / name, conf / name)
    (conf / "hotline.toml").write_text(
        f'[service]\ndata_dir = "{tmp_path / "data"}"\ntime_zone = "Asia/Shanghai"\n'
        f'[database]\nurl = "{db_url}"\n'
        f'[paths]\nrecordings_dir = "{tmp_path / "data" / "recordings"}"\n', encoding="utf-8")
    text = (REPO / "config" / "recording.yaml").read_text(encoding="utf-8")
    (conf / "recording.yaml").write_text(text.replace("  archive: 1095", "  archive: 365"), encoding="utf-8")
    return conf


@pytest.fixture
async def served(ctx, repo_settings):
    """The recordings router on the service's own FastAPI app, served by uvicorn on a free port, beside the
    CTI's router (its POST /api/auth/login gives the token), as hotline/service.py mounts them."""
    import asyncio

    from cti.core import Cti
    from cti.http import router as cti_router
    from hotline.deps import Deps
    from hotline.http import HttpServer, create_app
    from recordings.http import router
    from recordings.policy import RecordingPolicy
    from recordings.recorder import Recorder
    from recordings.service import RecordingsService

    deps = Deps(settings=repo_settings, engine=ctx.engine, sessions=ctx.sessions, bus=None)
    cti = Cti(agents=repo_settings.agents, sessions=ctx.sessions, publisher=None)
    policy = RecordingPolicy(ctx.config)
    service = RecordingsService(ctx, policy, Recorder(None, ctx.sessions, policy, ctx.primary))

    class Tasks:  # HttpServer only needs create_task from the service's TaskGroup
        create_task = staticmethod(asyncio.create_task)

    server = HttpServer(create_app(deps, [cti_router(cti), router(service, cti.auth)]), "127.0.0.1", 0)
    await server.start(Tasks())
    try:
        yield server.url
    finally:
        await server.stop()
