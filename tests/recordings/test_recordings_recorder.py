"""The Recorder drives MixMonitor over a real panoramisk AMI connection and keeps a row per segment."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from panoramisk import Manager

from recordings.config import PolicyConfig
from recordings.models import Recording
from recordings.policy import CallFacts, RecordingPolicy
from recordings.postprocess import Postprocessor
from recordings.recorder import Recorder
from recordings.search import RecordingFilters, search_recordings
from recording_helpers import wav_seconds, write_wav
from scripted_mixmonitor_ami import ScriptedMixMonitorAmi

CALLER_CHAN = "PJSIP/trunk-00000001"
LINKEDID = "1795434901.20"


@pytest.fixture
async def pbx():
    async with ScriptedMixMonitorAmi({CALLER_CHAN: ("1795434901.20", LINKEDID)}) as server:
        yield server


@pytest.fixture
async def ami(pbx):
    manager = Manager(host="127.0.0.1", port=pbx.port, username="hotline", secret="hotline-secret",
                      ping_delay=3600, reconnect_timeout=3600)
    await manager.connect()
    try:
        yield manager
    finally:
        manager.close()


def make_recorder(ctx, ami, **policy):
    config = dataclasses.replace(ctx.config, policy=PolicyConfig(**policy)) if policy else ctx.config
    post = Postprocessor(ctx.sessions, ctx.primary, config.postprocess)
    return Recorder(ami, ctx.sessions, RecordingPolicy(config), ctx.primary, post)


def facts(agent_id="1001", agent_name="张伟", **kw):
    return CallFacts(linkedid=LINKEDID, channel=CALLER_CHAN, caller="13800001111", called="4008001234",
                     agent_id=agent_id, agent_name=agent_name, queue="presales", customer_id="C42", **kw)


async def test_a_recorded_call_from_answer_to_hangup(ctx, pbx, ami):
    recorder = make_recorder(ctx, ami)
    rec = await recorder.on_agent_answered(facts())
    assert rec.status == "recording" and rec.segment == 1
    started = rec.started_at
    key = f"{started:%Y/%m/%d}/{LINKEDID}-1.wav"
    assert rec.path == key
    [action] = pbx.actions("MixMonitor")
    assert action["Channel"] == CALLER_CHAN and action["File"] == str(ctx.primary.local_path(key))
    assert action["Options"] == "b"
    async with ctx.sessions() as session:  # the row exists while recording
        assert (await session.get(Recording, rec.id)).status == "recording"

    await recorder.pause(LINKEDID)
    await recorder.resume(LINKEDID)
    assert [(a["Direction"], a["State"]) for a in pbx.actions("MixMonitorMute")] == [("both", "1"), ("both", "0")]

    write_wav(ctx.primary.local_path(key), 3.0)  # what Asterisk's MixMonitor leaves when the channel hangs up
    await recorder.on_call_ended(LINKEDID, satisfaction=5)
    await recorder.drain()
    assert pbx.actions("StopMixMonitor") == []  # hangup closes the file; Asterisk needs no Stop

    async with ctx.sessions() as session:
        row = await session.get(Recording, rec.id)
    assert row.status == "complete", row.error
    assert (row.agent_id, row.agent_name, row.caller, row.called, row.queue, row.customer_id) == (
        "1001", "张伟", "13800001111", "4008001234", "presales", "C42")
    assert abs(row.duration_s - 3.0) < 0.05 and row.satisfaction == 5 and row.disposition == "answered"
    assert row.ended_at >= row.started_at and row.sha256 and row.size_bytes


async def test_a_transferred_call_keeps_one_call_id_with_ordered_segments(ctx, pbx, ami):
    recorder = make_recorder(ctx, ami)
    first = await recorder.on_agent_answered(facts())
    write_wav(ctx.primary.local_path(first.path), 2.0)
    await recorder.on_segment_ended(LINKEDID)  # agent 1001 left the bridge; the caller stays
    assert [a["Channel"] for a in pbx.actions("StopMixMonitor")] == [CALLER_CHAN]
    second = await recorder.on_agent_answered(facts(agent_id="1003", agent_name="李娜"))
    write_wav(ctx.primary.local_path(second.path), 4.0)
    await recorder.on_call_ended(LINKEDID)
    await recorder.drain()

    async with ctx.sessions() as session:
        page = await search_recordings(session, RecordingFilters(linkedid=LINKEDID, sort="id"))
    assert [(r.segment, r.agent_id, r.status) for r in page.items] == [(1, "1001", "complete"), (2, "1003", "complete")]
    assert [r.disposition for r in page.items] == ["transferred", "answered"]
    assert [round(r.duration_s) for r in page.items] == [2, 4]
    assert page.items[1].path.endswith(f"{LINKEDID}-2.wav")
    assert len(pbx.actions("MixMonitor")) == 2


async def test_repeated_answer_by_the_same_agent_is_the_same_segment(ctx, pbx, ami):
    recorder = make_recorder(ctx, ami)
    first = await recorder.on_agent_answered(facts())
    again = await recorder.on_agent_answered(facts())
    assert again.id == first.id and len(pbx.actions("MixMonitor")) == 1


async def test_mixmonitor_refused_leaves_a_failed_row(ctx, pbx, ami):
    recorder = make_recorder(ctx, ami)
    rec = await recorder.on_agent_answered(dataclasses.replace(facts(), channel="PJSIP/gone-00000009"))
    assert rec.status == "failed"
    assert rec.error == "MixMonitor failed on PJSIP/gone-00000009: No such channel"
    async with ctx.sessions() as session:
        assert (await session.get(Recording, rec.id)).status == "failed"
    with pytest.raises(LookupError):
        await recorder.pause(LINKEDID)


async def test_lost_connection_is_recorded_on_the_row(ctx, pbx, ami):
    recorder = Recorder(ami, ctx.sessions, RecordingPolicy(ctx.config), ctx.primary, action_timeout=0.3)
    pbx.drop()
    ami.close()
    rec = await recorder.on_agent_answered(facts())
    assert rec.status == "failed" and rec.error.startswith("MixMonitor failed on PJSIP/trunk-00000001: AMI error: TimeoutError")


async def test_policy_by_agent_number_and_queue(ctx, pbx, ami):
    assert await make_recorder(ctx, ami, mode="agents", agents=("1002",)).on_agent_answered(facts()) is None
    assert await make_recorder(ctx, ami, mode="queues", queues=("vip",)).on_agent_answered(facts()) is None
    assert pbx.actions("MixMonitor") == []
    rec = await make_recorder(ctx, ami, mode="numbers", numbers=("+86 138-0000-1111",)).on_agent_answered(
        dataclasses.replace(facts(), caller="8613800001111"))
    assert rec is not None and rec.status == "recording"


async def test_stereo_asks_for_interleaved_channels(ctx, pbx, ami):
    config = dataclasses.replace(ctx.config, mixmonitor=dataclasses.replace(ctx.config.mixmonitor, stereo=True))
    recorder = Recorder(ami, ctx.sessions, RecordingPolicy(config), ctx.primary)
    rec = await recorder.on_agent_answered(facts())
    assert pbx.actions("MixMonitor")[0]["Options"] == "bD" and rec.stereo is True
    write_wav(ctx.primary.local_path(rec.path), 1.0, channels=2)
    assert wav_seconds(ctx.primary.local_path(rec.path)) == pytest.approx(1.0)


async def test_agent_desktop_pauses_and_resumes_over_http(ctx, pbx, ami, repo_settings):
    import asyncio

    import httpx

    from cti.core import Cti
    from cti.http import router as cti_router
    from hotline.deps import Deps
    from hotline.http import HttpServer, create_app
    from recordings.http import router
    from recordings.service import RecordingsService

    recorder = make_recorder(ctx, ami)
    deps = Deps(settings=repo_settings, engine=ctx.engine, sessions=ctx.sessions, bus=None)
    cti = Cti(agents=repo_settings.agents, sessions=ctx.sessions, publisher=None)
    service = RecordingsService(ctx, RecordingPolicy(ctx.config), recorder)

    class Tasks:
        create_task = staticmethod(asyncio.create_task)

    server = HttpServer(create_app(deps, [cti_router(cti), router(service, cti.auth)]), "127.0.0.1", 0)
    await server.start(Tasks())
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            async def token(staff, pin):
                r = await client.post("/api/auth/login", json={"agent_id": staff, "pin": pin})
                return {"Authorization": "Bearer " + r.json()["token"]}
            me, other = await token("1001", "1234"), await token("1002", "2345")
            url = f"/api/recordings/live/{LINKEDID}"
            assert (await client.post(f"{url}/pause", headers=me)).status_code == 404  # nothing recording yet
            rec = await recorder.on_agent_answered(facts())
            assert (await client.post(f"{url}/pause", headers=other)).status_code == 403
            response = await client.post(f"{url}/pause", headers=me)
            assert response.status_code == 200 and response.json() == {"linkedid": LINKEDID, "paused": True, "recording_id": rec.id}
            assert recorder.active(LINKEDID).current.paused is True
            assert (await client.post(f"{url}/resume", headers=me)).json()["paused"] is False
            # QA staff listen to recordings but do not control live calls; supervisors do
            assert (await client.post(f"{url}/pause", headers=await token("9101", "9101"))).status_code == 403
            supervisor = await token("9001", "9001")
            assert (await client.post(f"{url}/pause", headers=supervisor)).json()["paused"] is True
            assert (await client.post(f"{url}/resume", headers=supervisor)).json()["paused"] is False
    finally:
        await server.stop()
    assert [(a["Channel"], a["Direction"], a["State"]) for a in pbx.actions("MixMonitorMute")] == [
        (CALLER_CHAN, "both", "1"), (CALLER_CHAN, "both", "0")] * 2
