"""The caller's post-call survey rating lands on the call's recording, end to end through pbxsim.

caller → pbxsim trunk → [hotline-inbound] → FastAGI (real TCP) → flow: queue → an agent answers (EXEC Dial) →
recordings' CallTracker sees the bridge over AMI (real TCP) and starts MixMonitor → the agent hangs up →
the flow's survey node asks for a rating → the caller presses 5 → ivr_surveys has it, and so does the
recording row that QA searches. Real time (short prompts), on SQLite and PostgreSQL.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from panoramisk import Manager
from sqlalchemy import select

from hotline.config import load_settings
from hotline.db import create_schema, make_engine, session_factory
from ivr.models import SurveyResult
from ivr.service import IvrDeps, start_ivr
from pbxsim.participants import CallerScript, PhoneBehaviour
from pbxsim.simulator import Simulator
from recordings.config import load_recording_config
from recordings.context import RecordingsContext
from recordings.models import Recording
from recordings.policy import RecordingPolicy
from recordings.postprocess import Postprocessor
from recordings.recorder import Recorder
from recordings.search import RecordingFilters, search_recordings
from recordings.service import RecordingsService
from recordings.storage import LocalStorage
from recordings.tracking import CallTracker
from recording_helpers import add_recording
from tests.ivr.dial_handoff import DialQueueHandoff
from tests.ivr.sim_env import make_sounds

REPO = Path(__file__).resolve().parents[2]


class LinkAmi:
    """The AMI client resolved at send time: the simulator (and so the AMI) starts after the IVR."""

    def __init__(self, link):
        self._link = link

    async def send_action(self, action: dict):
        return await self._link.session.send_action(action)

SURVEY_FLOW = """\
flow: hotline
languages: [zh-CN]
default_language: zh-CN
start: to_agent
nodes:
  to_agent:
    type: queue
    queue: presales
    skill: presales
    next: survey
    fallback: goodbye
  survey:
    type: survey
    prompt: survey_prompt
    thanks_prompt: survey_thanks
    invalid_prompt: sorry
    next: goodbye
  goodbye:
    type: hangup
    prompt: closing
"""


async def test_the_survey_rating_is_copied_onto_the_calls_recording(ctx, tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "hotline.yaml").write_text(SURVEY_FLOW, encoding="utf-8")
    settings = load_settings(REPO / "config", env={
        "HOTLINE_FASTAGI_PORT": "0", "HOTLINE_SERVICE_DATA_DIR": str(tmp_path / "data"),
        "HOTLINE_PATHS_FLOWS_DIR": str(flows), "HOTLINE_PATHS_RECORDINGS_DIR": str(tmp_path / "recordings")})
    sounds = make_sounds(tmp_path / "sounds", seconds=0.3, say_seconds=0.1)
    await create_schema(ctx.engine)  # the IVR's tables beside the recordings' (ivr_surveys)

    # the AMI link is resolved at send time (as in `hotline serve`): the simulator starts after the IVR
    link = SimpleNamespace(session=None)
    policy = RecordingPolicy(ctx.config)
    recorder = Recorder(LinkAmi(link), ctx.sessions, policy, ctx.primary,
                        Postprocessor(ctx.sessions, ctx.primary, ctx.config.postprocess))
    service = RecordingsService(ctx, policy, recorder)
    tracker = CallTracker(recorder, settings.agents)
    # as hotline/service.py wires it: the RecordingsService is the IVR's RecordingsSearch and SurveyRatings
    ivr = await start_ivr(settings, IvrDeps(queues=DialQueueHandoff(settings.agents, settings.queues),
                                            sessions=ctx.sessions, recordings=service, ratings=service))
    try:
        async with Simulator(REPO / "asterisk-conf", sounds_dirs=[sounds], monitor_dir=tmp_path / "monitor",
                             agents_file=REPO / "config" / "agents.yaml", newexten_events=False,
                             agi_override=("127.0.0.1", ivr.port),
                             phone_defaults=PhoneBehaviour(mode="no-answer")) as sim:
            manager = Manager(host="127.0.0.1", port=sim.ami_port, username="hotline", secret="hotline-secret",
                              ping_delay=3600, reconnect_timeout=3600)
            await manager.connect()
            link.session = manager
            for name in ("BridgeEnter", "BridgeLeave", "Hangup"):
                manager.register_event(name, tracker.panoramisk_callback)
            try:
                sim.phones["1001"].set_behaviour(mode="answer", answer_after_s=0.2, talk_time_s=1.5)
                # bridged about 0.2-1.7 s, then the survey prompt and 5 s for the key; the caller presses 5 from
                # 2 s on, every half second, so the rating never hangs on one instant (later keys are ignored)
                caller = await sim.place_call(CallerScript("13800138000", "李雷", dnid="4008001234",
                                                           steps=["wait 2"] + ["press 5", "wait 0.5"] * 8))
                outcome = await asyncio.wait_for(caller.wait(), 30)
                for _ in range(100):  # the caller's Hangup event trails the outcome
                    if recorder.active(outcome.linkedid) is None:
                        break
                    await asyncio.sleep(0.05)
                await tracker.drain()
                await recorder.drain()
                result = ivr.engine.results[-1]
            finally:
                manager.close()
    finally:
        await ivr.close(timeout=5)
    assert ivr.agi.active_sessions == 0
    async with ctx.sessions() as db:
        surveys = list((await db.scalars(select(SurveyResult))).all())
        page = await search_recordings(db, RecordingFilters(linkedid=outcome.linkedid))

    assert result.outcome == "completed" and result.path == ["hotline:to_agent", "hotline:survey", "hotline:goodbye"]
    assert outcome.bridged_with.startswith("PJSIP/1001-")
    assert [(s.linkedid, s.agent_id, s.rating) for s in surveys] == [(outcome.linkedid, "1001", 5)]
    [rec] = page.items
    assert (rec.agent_id, rec.caller, rec.status, rec.satisfaction) == ("1001", "13800138000", "complete", 5), rec.error
    assert abs(rec.duration_s - 1.5) < 0.5  # the agent's talk time, not the survey after it
    assert page.to_dict()["items"][0]["satisfaction"] == 5  # what the search API and the QA page show


async def test_set_satisfaction_rates_every_segment_of_the_call_only(ctx):
    day = datetime(2026, 11, 1, 2, tzinfo=timezone.utc)
    first = await add_recording(ctx, started_at=day, agent_id="1001", linkedid="call-1", segment=1)
    second = await add_recording(ctx, started_at=day, agent_id="1003", linkedid="call-1", segment=2)
    other = await add_recording(ctx, started_at=day, agent_id="1001", linkedid="call-2")
    policy = RecordingPolicy(ctx.config)
    service = RecordingsService(ctx, policy, Recorder(None, ctx.sessions, policy, ctx.primary))
    assert await service.set_satisfaction("call-1", 4) == 2
    assert await service.set_satisfaction("no-such-call", 4) == 0
    async with ctx.sessions() as db:
        rated = {r.id: r.satisfaction for r in (await db.scalars(select(Recording))).all()}
    assert rated == {first.id: 4, second.id: 4, other.id: None}


async def test_a_failing_recordings_database_never_breaks_the_survey(tmp_path, caplog):
    """The rating is the IVR's (ivr_surveys, survey/result); copying it to the recordings is best effort."""
    from tests.ivr.fakepbx import ScriptedCall
    from tests.ivr.runtime_env import Published, ivr_server

    broken = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'no-such-dir' / 'recordings.db'}")
    ctx = RecordingsContext(sessions=session_factory(broken), config=load_recording_config(REPO / "config" / "recording.yaml"),
                            storages={}, time_zone=ZoneInfo("Asia/Shanghai"), engine=broken)
    policy = RecordingPolicy(ctx.config)
    service = RecordingsService(ctx, policy, Recorder(None, ctx.sessions, policy, None))
    published = Published()
    flow = """\
        flow: s
        languages: [zh-CN]
        default_language: zh-CN
        start: rate
        nodes:
          rate: {type: survey, prompt: survey_prompt, thanks_prompt: survey_thanks, next: bye}
          bye: {type: hangup, prompt: closing}
        """
    try:
        async with ivr_server(tmp_path / "flows", {"s": flow}, ratings=service, publish=published) as (server, engine):
            call = await ScriptedCall(["3"], path="s").run(server.port)
    finally:
        await broken.dispose()
    assert engine.results[-1].outcome == "completed" and engine.results[-1].path == ["s:rate", "s:bye"]
    assert [p["rating"] for t, p in published if t == "survey/result"] == [3]
    assert any("survey_thanks" in sound for sound in call.played)
    assert any("survey rating 3 of call" in r.getMessage() and "not copied" in r.getMessage() for r in caplog.records)
