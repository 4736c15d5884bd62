"""Access control of the queue endpoints: 401 without credentials, agents read only their own queues (403,
logged, for the others), supervisors / QA / admins read every queue; the CTI's authenticator when the CTI
runs, one built from settings.agents when it does not."""
from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI

from acd.agents import InMemoryAgentDirectory, attach
from acd.http import router
from acd.service import AcdService
from cti.auth import Authenticator
from hotline.config import AgentConfig
from tests.acd.helpers import agent, call, queue


def _person(agent_id: str, role: str, pin: str) -> AgentConfig:
    return AgentConfig(id=agent_id, name=f"name {agent_id}", endpoint=f"PJSIP/{agent_id}", skills={},
                       languages=("zh-CN",), team="A", role=role, pin=pin)


PEOPLE = [_person("1001", "agent", "1111"), _person("1004", "agent", "4444"), _person("9001", "supervisor", "9001"),
          _person("9101", "qa", "9101"), _person("9901", "admin", "9901")]


def _service() -> AcdService:
    # 1001 answers presales, 1004 logistics (by skill); one caller waits in presales
    agents = [agent("1001", presales=8), agent("1004", logistics=8)]
    service = AcdService([queue("presales", skills={"presales": 1}), queue("logistics", skills={"logistics": 1})],
                         agents, clock=lambda: 1_763_827_200.0)
    directory = InMemoryAgentDirectory(agents)
    for a in agents:
        directory.set_state(a.id, "not-ready", "meal")
    attach(service, directory)
    service.join(call("c1", queue="presales"))
    return service


@pytest.fixture
async def client():
    auth = Authenticator(PEOPLE)     # hotline serve: the CTI's authenticator (and its login tokens)
    app = FastAPI()
    app.include_router(router(_service(), auth))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://acd") as c:
        c.authenticator = auth
        yield c


async def test_no_or_wrong_credentials_get_401(client):
    for path in ("/api/queues", "/api/queues/presales/stats"):
        missing = await client.get(path)
        assert missing.status_code == 401 and "credentials required" in missing.json()["detail"]
        assert missing.headers["www-authenticate"] == "Bearer"
        assert (await client.get(path, auth=("9001", "0000"))).status_code == 401
        assert (await client.get(path, headers={"authorization": "Bearer not-a-token"})).status_code == 401


async def test_supervisor_qa_and_admin_read_every_queue(client):
    for who in (("9001", "9001"), ("9101", "9101"), ("9901", "9901")):
        listing = await client.get("/api/queues", auth=who)
        assert listing.status_code == 200
        assert sorted(q["name"] for q in listing.json()) == ["logistics", "presales"]
        stats = await client.get("/api/queues/logistics/stats", auth=who)
        assert stats.status_code == 200 and stats.json()["queue"] == "logistics"
        presales = (await client.get("/api/queues/presales/stats", auth=who)).json()
        assert presales["waiting"] == 1 and presales["offered"] == 1
        assert (await client.get("/api/queues/nope/stats", auth=who)).status_code == 404


async def test_an_agent_reads_only_the_queues_they_answer(client, caplog):
    listing = await client.get("/api/queues", auth=("1001", "1111"))
    assert listing.status_code == 200 and [q["name"] for q in listing.json()] == ["presales"]
    own = await client.get("/api/queues/presales/stats", auth=("1001", "1111"))
    assert own.status_code == 200 and own.json()["waiting"] == 1
    with caplog.at_level(logging.WARNING, logger="hotline.cti.auth"):
        other = await client.get("/api/queues/presales/stats", auth=("1004", "4444"))
        unknown = await client.get("/api/queues/nope/stats", auth=("1004", "4444"))
    assert other.status_code == 403 and "1004 (role agent) may not read the stats of queue 'presales'" in \
        other.json()["detail"]
    assert unknown.status_code == 403
    assert "forbidden: 1004 (role agent) tried read the stats of queue 'presales'" in caplog.text
    assert [q["name"] for q in (await client.get("/api/queues", auth=("1004", "4444"))).json()] == ["logistics"]


async def test_a_login_token_works_too(client):
    token = (await client.authenticator.login("9101", "9101"))["token"]
    ok = await client.get("/api/queues/presales/stats", headers={"authorization": f"Bearer {token}"})
    assert ok.status_code == 200
