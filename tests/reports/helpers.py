"""An HTTP app with the reports router over a database file, as `hotline serve` mounts it."""
from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from hotline.config import load_settings
from hotline.db import make_engine, session_factory
from hotline.deps import Deps
from hotline.http import create_app

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def basic(agent_id: str, pin: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{agent_id}:{pin}".encode()).decode()}


SUPERVISOR = basic("9001", "9001")
QA = basic("9101", "9101")
AGENT = basic("1001", "1234")


@contextlib.asynccontextmanager
async def reports_app(db_url: str) -> AsyncIterator[tuple[object, Deps]]:
    from fastapi import APIRouter, Body

    from cti.auth import Authenticator
    from reports.http import router

    settings = load_settings(PROJECT_ROOT / "config", env={})
    engine = make_engine(db_url)
    deps = Deps(settings=settings, engine=engine, sessions=session_factory(engine), bus=None)
    auth = Authenticator(settings.agents)
    login = APIRouter()            # what the CTI's router serves in `hotline serve`, for the page's login

    @login.post("/api/auth/login")
    async def log_in(body: dict = Body(...)) -> dict:
        return await auth.login(str(body.get("agent_id", "")), str(body.get("pin", "")))

    try:
        yield create_app(deps, [login, router(settings, deps.sessions, auth)]), deps
    finally:
        await engine.dispose()
