"""The IVR report endpoints over HTTP (FastAPI app, CTI credentials), on SQLite and PostgreSQL."""
from __future__ import annotations

import base64
import logging
from datetime import date

import httpx
import pytest
from fastapi import FastAPI

from cti.auth import Authenticator
from hotline.config import load_settings
from hotline.db import create_schema, make_engine, session_factory
from ivr.http import router
from ivr.models import SurveyResult, Voicemail
from ivr.stats import NodeStats

from .sim_env import CONFIG


def _basic(agent, pin):
    return {"authorization": "Basic " + base64.b64encode(f"{agent}:{pin}".encode()).decode()}


@pytest.fixture
async def client(db_url):
    engine = make_engine(db_url)
    await create_schema(engine)
    sessions = session_factory(engine)
    stats = NodeStats(today=lambda: date(2026, 11, 23))
    stats.count("hotline", "main_menu", "entries", 5)
    stats.count("hotline", "main_menu", "option:1", 3)
    await stats.flush(sessions)
    async with sessions() as db, db.begin():
        db.add(Voicemail(uniqueid="1.1", linkedid="1.1", caller="13800138000", path="/v/1", duration_s=3.5,
                         ended_by="timeout", queue="presales"))
        db.add(SurveyResult(uniqueid="1.2", linkedid="1.2", agent_id="1001", queue="presales", rating=5))
    settings = load_settings(CONFIG, env={})
    app = FastAPI()
    app.include_router(router(sessions, Authenticator(settings.agents)))   # hotline serve: the CTI's authenticator
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ivr") as c:
        yield c
    await engine.dispose()


async def test_reports_for_qa_staff(client):
    qa = _basic("9101", "9101")
    stats = (await client.get("/api/ivr/stats", params={"flow": "hotline"}, headers=qa)).json()
    assert stats == {"flows": {"hotline": {"main_menu": {"entries": 5, "option:1": 3}}}}
    assert (await client.get("/api/ivr/stats", params={"day_from": "2026-11-24"}, headers=qa)).json() == {"flows": {}}
    vms = (await client.get("/api/ivr/voicemails", headers=qa)).json()["items"]
    assert [(v["caller"], v["duration_s"], v["status"]) for v in vms] == [("13800138000", 3.5, "new")]
    surveys = (await client.get("/api/ivr/surveys", params={"agent_id": "1001"}, headers=qa)).json()["items"]
    assert [s["rating"] for s in surveys] == [5]
    assert (await client.get("/api/ivr/callbacks", headers=qa)).json() == {"items": []}


async def test_supervisors_read_the_reports_too(client):
    for path in ("/api/ivr/stats", "/api/ivr/voicemails", "/api/ivr/callbacks", "/api/ivr/surveys"):
        assert (await client.get(path, headers=_basic("9001", "9001"))).status_code == 200


async def test_agents_and_strangers_are_refused(client, caplog):
    for path in ("/api/ivr/stats", "/api/ivr/voicemails", "/api/ivr/callbacks", "/api/ivr/surveys"):
        missing = await client.get(path)
        assert missing.status_code == 401 and "credentials required" in missing.json()["error"]
        assert (await client.get(path, headers=_basic("9101", "0000"))).status_code == 401
        assert (await client.get(path, headers={"authorization": "Bearer forged"})).status_code == 401
        with caplog.at_level(logging.WARNING, logger="hotline.cti.auth"):
            refused = await client.get(path, headers=_basic("1001", "1234"))
        assert refused.status_code == 403
        assert refused.json()["error"] == f"agent 1001 (role agent) may not read IVR reports ({path})"
        assert f"forbidden: 1001 (role agent) tried read IVR reports ({path})" in caplog.text
