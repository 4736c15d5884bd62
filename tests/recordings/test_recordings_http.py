"""The recordings HTTP API over real HTTP: roles, Range streaming, content types, evaluations, audit.

Credentials are the product's (cti.auth): the token from POST /api/auth/login, or HTTP Basic agent-id:PIN.
"""
from __future__ import annotations

import base64
import logging
import shutil
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import select

from recordings.models import AuditLog, Recording
from recording_helpers import add_recording

DAY = datetime(2026, 11, 1, tzinfo=timezone.utc)


async def login(client: httpx.AsyncClient, agent_id: str, pin: str) -> dict:
    response = await client.post("/api/auth/login", json={"agent_id": agent_id, "pin": pin})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def basic(agent_id: str, pin: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{agent_id}:{pin}".encode()).decode()}


@pytest.fixture
async def client(served):
    async with httpx.AsyncClient(base_url=served, timeout=10) as c:
        yield c


async def test_roles_agents_see_only_their_own_calls(ctx, client, caplog):
    caplog.set_level(logging.WARNING, logger="hotline.cti.auth")
    assert (await client.get("/api/recordings")).status_code == 401  # before any login
    mine = await add_recording(ctx, started_at=DAY + timedelta(hours=1), agent_id="1001", seconds=1.0)
    theirs = await add_recording(ctx, started_at=DAY + timedelta(hours=2), agent_id="1002", seconds=1.0)
    agent = await login(client, "1001", "1234")
    qa = await login(client, "9101", "9101")
    supervisor = await login(client, "9001", "9001")

    wrong = await client.post("/api/auth/login", json={"agent_id": "1001", "pin": "0000"})
    assert wrong.status_code == 401 and "wrong agent ID or PIN" in wrong.json()["error"]
    assert (await client.get("/api/recordings", headers={"Authorization": "Bearer forged"})).status_code == 401
    assert (await client.get("/api/recordings", headers=basic("1001", "0000"))).status_code == 401

    response = await client.get("/api/recordings", params={"agent": "1002"}, headers=agent)
    assert response.status_code == 403 and "may not search the calls of agent 1002" in response.json()["detail"]
    response = await client.get("/api/recordings", headers=agent)
    assert [item["id"] for item in response.json()["items"]] == [mine.id]
    assert (await client.get(f"/api/recordings/{theirs.id}", headers=agent)).status_code == 403
    assert (await client.get(f"/api/recordings/{theirs.id}/audio", headers=agent)).status_code == 403
    assert (await client.get(f"/api/recordings/{mine.id}/audio", headers=agent)).status_code == 200
    assert (await client.get("/api/recordings/audit", headers=agent)).status_code == 403
    response = await client.get("/api/recordings", headers=basic("1001", "1234"))  # Basic works as well
    assert [item["id"] for item in response.json()["items"]] == [mine.id]

    for who in (qa, supervisor, basic("9101", "9101")):
        response = await client.get("/api/recordings", params={"sort": "started_at", "order": "asc"}, headers=who)
        assert [item["id"] for item in response.json()["items"]] == [mine.id, theirs.id]
        assert (await client.get(f"/api/recordings/{theirs.id}/audio", headers=who)).status_code == 200

    # every refusal is a log line naming who tried what, and a row in the audit log
    refusals = [r.getMessage() for r in caplog.records if r.name == "hotline.cti.auth" and "forbidden" in r.getMessage()]
    assert any("1001 (role agent) tried search the calls of agent 1002" in m for m in refusals)
    assert any(f"1001 (role agent) tried replay recording {theirs.id} of agent 1002" in m for m in refusals)
    async with ctx.sessions() as session:
        denied = (await session.scalars(select(AuditLog).where(AuditLog.action == "forbidden").order_by(AuditLog.id))).all()
    assert [(a.actor, a.recording_id) for a in denied] == [("1001", None), ("1001", theirs.id), ("1001", theirs.id),
                                                           ("1001", None)]
    assert [d.detail.split(" ")[0] for d in denied] == ["search", "open", "replay", "read"]


async def test_search_paging_sorting_and_local_times(ctx, client):
    ids = [(await add_recording(ctx, started_at=DAY + timedelta(minutes=10 * n), agent_id="1001", duration_s=float(n))).id
           for n in range(7)]
    qa = await login(client, "9101", "9101")
    # 08:00-08:30 Shanghai = 00:00-00:30 UTC: the first three (00:00, 00:10, 00:20), the 00:30 one excluded
    response = await client.get("/api/recordings", headers=qa, params={
        "agent": "1001", "from": "2026-11-01T08:00", "to": "2026-11-01T08:30", "sort": "started_at", "order": "asc"})
    body = response.json()
    assert [item["id"] for item in body["items"]] == ids[:3]
    assert body["items"][0]["started_local"] == "2026-11-01 08:00:00"
    page2 = (await client.get("/api/recordings", headers=qa, params={
        "agent": "1001", "page": 2, "page_size": 3, "sort": "duration_s", "order": "desc"})).json()
    assert [item["id"] for item in page2["items"]] == [ids[3], ids[2], ids[1]]
    assert page2["total"] == 7 and page2["has_next"] is True
    assert (await client.get("/api/recordings", headers=qa, params={"sort": "password"})).status_code == 422
    assert (await client.get("/api/recordings", headers=qa, params={"from": "noon"})).status_code == 422


async def test_audio_is_streamed_with_range_and_replays_are_audited(ctx, client):
    rec = await add_recording(ctx, started_at=DAY, agent_id="1001", seconds=2.0)
    data = ctx.primary.local_path(rec.path).read_bytes()
    size = len(data)
    qa = await login(client, "9101", "9101")
    url = f"/api/recordings/{rec.id}/audio"

    full = await client.get(url, headers=qa)
    assert full.status_code == 200 and full.content == data
    assert full.headers["content-type"] == "audio/wav" and full.headers["accept-ranges"] == "bytes"
    assert int(full.headers["content-length"]) == size

    part = await client.get(url, headers={**qa, "Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == data[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{size}"
    tail = await client.get(url, headers={**qa, "Range": "bytes=1000-"})
    assert tail.status_code == 206 and tail.content == data[1000:]
    assert tail.headers["content-range"] == f"bytes 1000-{size - 1}/{size}"
    suffix = await client.get(url, headers={**qa, "Range": "bytes=-50"})
    assert suffix.status_code == 206 and suffix.content == data[-50:]
    beyond = await client.get(url, headers={**qa, "Range": f"bytes={size}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"

    async with ctx.sessions() as session:
        replays = (await session.scalars(select(AuditLog).where(AuditLog.action == "replay"))).all()
    assert [(a.actor, a.recording_id) for a in replays] == [("9101", rec.id), ("9101", rec.id)]  # full + 0-99, not seeks
    audit = (await client.get("/api/recordings/audit", headers=qa, params={"recording_id": rec.id})).json()
    assert [a["action"] for a in audit] == ["replay", "replay"]


@pytest.mark.parametrize("fmt,content_type", [("mp3", "audio/mpeg"), ("ogg", "audio/ogg")])
async def test_content_types_of_converted_files(ctx, client, fmt, content_type):
    rec = await add_recording(ctx, started_at=DAY, agent_id="1001", seconds=1.0)
    new_key = rec.path.replace(".wav", f".{fmt}")
    shutil.copy(ctx.primary.local_path(rec.path), ctx.primary.local_path(new_key))
    async with ctx.sessions() as session:
        row = await session.get(Recording, rec.id)
        row.path, row.format = new_key, fmt
        await session.commit()
    qa = await login(client, "9101", "9101")
    response = await client.get(f"/api/recordings/{rec.id}/audio", headers={**qa, "Range": "bytes=0-9"})
    assert response.status_code == 206 and response.headers["content-type"] == content_type


async def test_missing_file_is_404_not_500(ctx, client):
    rec = await add_recording(ctx, started_at=DAY, agent_id="1001", seconds=1.0)
    ctx.primary.delete(rec.path)
    qa = await login(client, "9101", "9101")
    response = await client.get(f"/api/recordings/{rec.id}/audio", headers=qa)
    assert response.status_code == 404 and "missing" in response.json()["detail"]
    assert (await client.get("/api/recordings/999999", headers=qa)).status_code == 404


async def test_evaluations_are_saved_per_recording_with_the_reviewer(ctx, client):
    rec = await add_recording(ctx, started_at=DAY, agent_id="1001", seconds=1.0)
    qa = await login(client, "9101", "9101")
    agent = await login(client, "1001", "1234")
    card = (await client.get("/api/recordings/scorecard", headers=qa)).json()
    assert [item["id"] for item in card["items"]] == ["greeting", "address_title", "hold_etiquette",
                                                     "confirm_understanding", "anything_else", "closing", "no_forbidden"]
    scores = {item["id"]: 10 for item in card["items"]}
    scores["no_forbidden"] = 0  # weight 20 of 100
    response = await client.post(f"/api/recordings/{rec.id}/evaluations", headers=qa,
                                 json={"scores": scores, "comments": "用了服务忌语"})
    assert response.status_code == 201, response.text
    saved = response.json()
    assert saved["total"] == 8.0 and saved["reviewer_id"] == "9101" and saved["agent_id"] == "1001"

    assert (await client.post(f"/api/recordings/{rec.id}/evaluations", headers=agent, json={"scores": scores})).status_code == 403
    bad = dict(scores, greeting=11)
    response = await client.post(f"/api/recordings/{rec.id}/evaluations", headers=qa, json={"scores": bad})
    assert response.status_code == 422 and "between 0 and 10" in response.json()["detail"]
    response = await client.post(f"/api/recordings/{rec.id}/evaluations", headers=qa, json={"scores": {"greeting": 5}})
    assert response.status_code == 422 and "missing score" in response.json()["detail"]

    listed = (await client.get(f"/api/recordings/{rec.id}/evaluations", headers=agent)).json()
    assert [(e["reviewer_id"], e["total"], e["comments"]) for e in listed] == [("9101", 8.0, "用了服务忌语")]


async def test_openapi_documents_the_recordings_api(client):
    spec = (await client.get("/api/openapi.json")).json()
    assert {"/api/recordings", "/api/recordings/{rec_id}/audio", "/api/recordings/{rec_id}/evaluations"} <= set(spec["paths"])
    assert (await client.get("/api/docs")).status_code == 200


async def test_the_audio_player_gets_the_same_token_as_a_cookie_for_the_audio_only(ctx, client):
    rec = await add_recording(ctx, started_at=DAY, agent_id="1001", seconds=1.0)
    qa = await login(client, "9101", "9101")
    response = await client.post("/api/recordings/session", headers=qa)
    assert response.status_code == 200 and response.json()["user"] == {"id": "9101", "name": response.json()["user"]["name"], "role": "qa"}
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Path=/api/recordings" in cookie and "samesite=strict" in cookie.lower()
    assert client.cookies.get("hotline_token") == qa["Authorization"].removeprefix("Bearer ")

    assert (await client.get(f"/api/recordings/{rec.id}/audio")).status_code == 200  # the cookie alone
    assert (await client.get("/api/recordings")).status_code == 401  # ... is not a credential for anything else
    assert (await client.get(f"/api/recordings/{rec.id}")).status_code == 401
    assert (await client.post("/api/recordings/session", headers=basic("9101", "9101"))).status_code == 400

    assert (await client.delete("/api/recordings/session")).status_code == 204
    assert "hotline_token" not in client.cookies
    assert (await client.get(f"/api/recordings/{rec.id}/audio")).status_code == 401


async def test_one_login_for_the_cti_and_the_recordings_apis(ctx, repo_settings):
    """In `hotline serve` CTI owns the login: its token opens the recordings API; no second login route."""
    import asyncio

    from cti.core import Cti
    from cti.http import router as cti_router
    from hotline.deps import Deps
    from hotline.http import HttpServer, create_app
    from recordings.http import router as recordings_router
    from recordings.policy import RecordingPolicy
    from recordings.recorder import Recorder
    from recordings.service import RecordingsService

    rec = await add_recording(ctx, started_at=DAY, agent_id="1002", seconds=1.0)
    cti = Cti(agents=repo_settings.agents, sessions=ctx.sessions, publisher=None)
    deps = Deps(settings=repo_settings, engine=ctx.engine, sessions=ctx.sessions, bus=None)
    policy = RecordingPolicy(ctx.config)
    service = RecordingsService(ctx, policy, Recorder(None, ctx.sessions, policy, ctx.primary))

    class Tasks:
        create_task = staticmethod(asyncio.create_task)

    recordings_api = recordings_router(service, cti.auth)
    assert "/api/auth/login" not in {route.path for route in recordings_api.routes}  # CTI's is the one
    server = HttpServer(create_app(deps, [cti_router(cti), recordings_api]), "127.0.0.1", 0)
    await server.start(Tasks())
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            supervisor = await login(client, "9001", "9001")
            assert (await client.get("/api/calls", headers=supervisor)).status_code == 200
            assert (await client.get("/api/agents/1002", headers=supervisor)).status_code == 200
            response = await client.get("/api/recordings", headers=supervisor)
            assert [item["id"] for item in response.json()["items"]] == [rec.id]
            assert (await client.post("/api/recordings/session", headers=supervisor)).json()["user"]["role"] == "supervisor"
            assert (await client.get(f"/api/recordings/{rec.id}/audio")).status_code == 200

            agent = await login(client, "1001", "1234")
            assert (await client.get("/api/agents/1002", headers=agent)).status_code == 403
            assert (await client.get(f"/api/recordings/{rec.id}", headers=agent)).status_code == 403
            # a token CTI did not sign is refused by both
            forged = {"Authorization": "Bearer " + base64.urlsafe_b64encode(b"9001:9999999999:" + b"0" * 32).decode()}
            assert (await client.get("/api/calls", headers=forged)).status_code == 401
            assert (await client.get("/api/recordings", headers=forged)).status_code == 401
    finally:
        await server.stop()


async def test_hotline_serve_one_login_opens_cti_recordings_and_the_qa_page(repo_settings, tmp_path):
    """The running service (`hotline serve`): the token from CTI's login is taken by every API."""
    from hotline.service import Service

    data = tmp_path / "data"
    settings = repo_settings.replace(
        service={"data_dir": data}, database={"url": f"sqlite+aiosqlite:///{data / 'hotline.db'}"},
        paths={"recordings_dir": data / "recordings"}, fastagi={"port": 0}, http={"port": 0},
        ami={"port": 1, "reconnect_max_delay": 1.0})  # nothing listens on port 1: AMI stays down
    async with Service(settings) as service:
        assert service.cti.auth is not None
        async with httpx.AsyncClient(base_url=service.http_url, timeout=10) as client:
            qa = await login(client, "9101", "9101")
            assert (await client.get("/api/agents", headers=qa)).status_code == 200
            assert (await client.get("/api/recordings", headers=qa)).json()["total"] == 0
            assert (await client.post("/api/recordings/session", headers=qa)).json()["user"]["id"] == "9101"
            assert (await client.get("/qa")).status_code == 200
            agent = await login(client, "1001", "1234")
            assert (await client.get("/api/recordings/audit", headers=agent)).status_code == 403
            assert (await client.get("/api/recordings", headers={"Authorization": "Bearer nonsense"})).status_code == 401
