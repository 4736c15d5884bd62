"""End to end through pbxsim: the Recorder starts MixMonitor over a real panoramisk AMI connection when an
agent answers, the simulator writes the WAV, and the row matches the file and the talk time.

recordings.tracking.CallTracker turns the AMI bridge events into Recorder calls, as in `hotline serve`.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from panoramisk import Manager

from pbxsim.participants import CallerScript
from pbxsim.simulator import Simulator
from recordings.models import Recording
from recordings.policy import CallFacts, RecordingPolicy
from recordings.postprocess import Postprocessor
from recordings.recorder import Recorder
from recordings.search import RecordingFilters, search_recordings
from recordings.tracking import CallTracker
from recording_helpers import wav_seconds

REPO = Path(__file__).resolve().parents[2]


async def _run_call(ctx, tmp_path, repo_settings, talk_time_s, transfer_to=None):
    async with Simulator(REPO / "asterisk-conf", monitor_dir=tmp_path / "monitor",
                         agents_file=REPO / "config" / "agents.yaml", newexten_events=False) as sim:
        manager = Manager(host="127.0.0.1", port=sim.ami_port, username="hotline", secret="hotline-secret",
                          ping_delay=3600, reconnect_timeout=3600)
        await manager.connect()
        try:
            post = Postprocessor(ctx.sessions, ctx.primary, ctx.config.postprocess)
            recorder = Recorder(manager, ctx.sessions, RecordingPolicy(ctx.config), ctx.primary, post)
            tracker = CallTracker(recorder, repo_settings.agents)
            hung_up = asyncio.Event()
            for name in ("BridgeEnter", "BridgeLeave", "Hangup"):
                manager.register_event(name, tracker.panoramisk_callback)
            manager.register_event("Hangup", lambda m, e: e["Channel"].startswith("PJSIP/trunk-") and hung_up.set())
            sim.phones["1002"].set_behaviour(mode="answer", answer_after_s=0.2,
                                             talk_time_s=None if transfer_to else talk_time_s)
            if transfer_to:
                sim.phones[transfer_to].set_behaviour(mode="answer", answer_after_s=0.2, talk_time_s=talk_time_s)
            caller = await sim.place_call(CallerScript("13800138000", "李雷", dnid="1002", context="hotline-agents"))
            if transfer_to:
                await asyncio.sleep(1.0)
                agent_chan = next(c.name for c in sim.pbx.channels() if c.name.startswith("PJSIP/1002-"))
                response = await manager.send_action({"Action": "BlindTransfer", "Channel": agent_chan,
                                                      "Context": "hotline-agents", "Exten": transfer_to})
                assert response.get("Response") == "Success", response
            outcome = await asyncio.wait_for(caller.wait(), 15)
            await asyncio.wait_for(hung_up.wait(), 5)
            await tracker.drain()
            await recorder.drain()
            return outcome
        finally:
            manager.close()


async def test_answered_call_has_a_file_matching_the_talk_time_and_a_row(ctx, tmp_path, repo_settings):
    outcome = await _run_call(ctx, tmp_path, repo_settings, talk_time_s=2.0)
    talk = outcome.ended - outcome.bridged
    async with ctx.sessions() as session:
        page = await search_recordings(session, RecordingFilters(linkedid=outcome.linkedid))
    [rec] = page.items
    assert rec.status == "complete", rec.error
    assert (rec.agent_id, rec.agent_name, rec.caller, rec.called, rec.segment) == ("1002", "王芳", "13800138000", "1002", 1)
    path = ctx.primary.local_path(rec.path)
    assert path.exists() and rec.path.endswith(f"{outcome.linkedid}-1.wav")
    assert abs(wav_seconds(path) - talk) < 0.5
    assert abs(rec.duration_s - talk) < 0.5
    assert rec.ended_at > rec.started_at


async def test_transferred_call_has_ordered_segments_with_their_agents(ctx, tmp_path, repo_settings):
    outcome = await _run_call(ctx, tmp_path, repo_settings, talk_time_s=1.5, transfer_to="1003")
    async with ctx.sessions() as session:
        page = await search_recordings(session, RecordingFilters(linkedid=outcome.linkedid, sort="id"))
    assert [(r.segment, r.agent_id, r.status) for r in page.items] == [(1, "1002", "complete"), (2, "1003", "complete")]
    first, second = page.items
    assert first.ended_at <= second.started_at
    assert abs(first.duration_s - 1.0) < 0.5 and abs(second.duration_s - 1.5) < 0.5
    for rec in page.items:
        assert abs(wav_seconds(ctx.primary.local_path(rec.path)) - rec.duration_s) < 0.05


async def test_service_component_records_calls_on_the_services_ami_link(ctx, tmp_path, repo_settings):
    """`hotline serve` wiring: recordings.service.running on the service's AmiLink (CTI's AmiSession)."""
    from hotline.ami import AmiLink
    from recordings.models import utcnow
    from recordings.recovery import RecordingRecovery
    from recordings.service import RecordingsService, running

    async with Simulator(REPO / "asterisk-conf", monitor_dir=tmp_path / "monitor",
                         agents_file=REPO / "config" / "agents.yaml", newexten_events=False) as sim:
        settings = repo_settings.replace(ami={"port": sim.ami_port})
        async with asyncio.TaskGroup() as tasks:
            link = AmiLink(settings.ami)
            await link.start(tasks)
            policy = RecordingPolicy(ctx.config)
            recorder = Recorder(link.session, ctx.sessions, policy, ctx.primary,
                                Postprocessor(ctx.sessions, ctx.primary, ctx.config.postprocess))
            tracker = CallTracker(recorder, settings.agents)
            try:
                assert await link.wait_connected(5)
                async with running(RecordingsService(ctx, policy, recorder), tracker, link.session,
                                   RecordingRecovery(recorder, utcnow)) as service:
                    sim.phones["1004"].set_behaviour(mode="answer", answer_after_s=0.2, talk_time_s=1.5)
                    caller = await sim.place_call(CallerScript("13911112222", dnid="1004", context="hotline-agents"))
                    outcome = await asyncio.wait_for(caller.wait(), 15)
                    for _ in range(100):  # the caller's Hangup event trails the outcome by a few ms
                        if service.recorder.active(outcome.linkedid) is None:
                            break
                        await asyncio.sleep(0.05)
                    await tracker.drain()
                    await service.recorder.drain()
            finally:
                await link.stop()
    async with ctx.sessions() as session:
        [rec] = (await search_recordings(session, RecordingFilters(linkedid=outcome.linkedid))).items
    assert (rec.agent_id, rec.agent_name, rec.caller, rec.status) == ("1004", "刘洋", "13911112222", "complete")
    assert abs(rec.duration_s - (outcome.ended - outcome.bridged)) < 0.5
