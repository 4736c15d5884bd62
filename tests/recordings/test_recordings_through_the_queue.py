"""A call's recording row end to end through `hotline serve`'s Service and the simulator, queue included.

caller → pbxsim trunk → asterisk-conf [hotline-inbound] → AGI over TCP → flows/hotline.yaml (language, main
menu 1 = presales) → queue node → ACD (the only ready agent, 1001, logged in through CTI) → EXEC Dial →
the agent answers → CTI learns the queue from the AMI VarSet HOTLINE_QUEUE → the recordings component's
CallTracker starts MixMonitor over AMI → the caller talks N s and hangs up → the row is completed and
post-processed. On the simulator's virtual clock (as `hotline demo` runs the Service), so a busy machine
cannot stretch the talk; the service's clock is the simulated day's. SQLite and PostgreSQL.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy.pool import NullPool

from hotline.config import load_settings
from hotline.service import Clocks, Service
from pbxsim.clock import run_virtual
from pbxsim.participants import CallerScript
from pbxsim.simulator import Simulator
from recordings.search import RecordingFilters, search_recordings
from recording_helpers import hold_clock_while_connected, wav_seconds
from tests.cti.rig import until
from tests.ivr.sim_env import make_sounds

REPO = Path(__file__).resolve().parents[2]
TALK_S = 7.0
DAY = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)      # 10:00 in Shanghai, a Tuesday (no holiday)


def test_a_queued_call_is_recorded_with_agent_caller_queue_and_times(tmp_path, db_url):
    sounds = make_sounds(tmp_path / "sounds")
    settings = load_settings(REPO / "config", env={}).replace(
        fastagi={"port": 0}, database={"url": db_url}, mqtt={"url": "embedded"},
        service={"data_dir": tmp_path / "data"}, paths={"recordings_dir": tmp_path / "recordings"})

    async def scenario():
        with hold_clock_while_connected():
            return await call_through_the_queue()

    async def call_through_the_queue():
        loop = asyncio.get_running_loop()

        def wall(at: float) -> datetime:
            return DAY + timedelta(seconds=at)

        bridged, hung_up = {}, {}

        def on_event(e):
            if e.name == "BridgeEnter" and e.get("Channel", "").startswith("PJSIP/1001-"):
                bridged.setdefault(e.get("Linkedid"), loop.time())
            elif e.name == "Hangup" and e.get("Channel", "").startswith("PJSIP/trunk-"):
                hung_up.setdefault(e.get("Linkedid"), loop.time())

        async with Simulator(REPO / "asterisk-conf", sounds_dirs=[sounds], monitor_dir=tmp_path / "monitor",
                             agents_file=REPO / "config" / "agents.yaml", newexten_events=False,
                             phone_defaults={"mode": "no-answer"}) as sim:
            sim.pbx.subscribe(on_event)
            live = settings.replace(ami={"port": sim.ami_port})
            # the Service's clocks on the simulated day, as `hotline demo` sets them
            service_cm = Service(live, http=False, bus_keepalive=0, engine_options={"poolclass": NullPool},
                                 clocks=Clocks(utc=lambda: wall(loop.time()),
                                               wall=lambda: DAY.timestamp() + loop.time()))
            service = await service_cm.__aenter__()
            try:
                sim.pbx.agi_override = ("127.0.0.1", service.fastagi_port)
                assert await service.ami.wait_connected(timeout=10)
                cti = service.cti
                await until(lambda: cti.resyncs >= 1, what="CTI resync on connect")
                await cti.agents.transition("1001", "login")
                await cti.agents.transition("1001", "ready")
                sim.phones["1001"].set_behaviour(mode="answer", answer_after_s=1.5, talk_time_s=None)

                started = loop.time()
                # 1 普通话 during the greeting, then 1 presales in the main menu; hang up TALK_S after the answer
                caller = await sim.place_call(CallerScript("13800138000", "李雷", dnid="4008001234",
                                                           steps=["wait 0.5", "press 1", "wait 3", "press 1"],
                                                           talk_time_s=TALK_S))
                outcome = await asyncio.wait_for(caller.wait(), 120)
                finished = loop.time()
                recordings = service.recordings
                for _ in range(600):
                    async with service.deps.sessions() as db:
                        rows = (await search_recordings(db, RecordingFilters(linkedid=outcome.linkedid))).items
                    if rows and all(r.status not in ("recording", "processing") for r in rows):
                        break
                    await asyncio.sleep(0.1)
                path = [p for p in service.ivr.results[-1].path]
                local = recordings.context.primary.local_path(rows[0].path) if rows else None
            finally:
                await service_cm.__aexit__(None, None, None)
        return (outcome, rows, path, local, wall(started), wall(finished),
                bridged.get(outcome.linkedid), hung_up.get(outcome.linkedid))

    outcome, rows, path, local, started, finished, bridged_at, hung_up_at = run_virtual(scenario())
    queued = path.index("hotline:presales_queue")
    assert path[queued - 2:queued] == ["hotline:recording_notice", "hotline:main_menu"], path
    assert outcome.bridged_with.startswith("PJSIP/1001-") and outcome.reason == "talk_time"
    talk = hung_up_at - bridged_at                  # the agent's BridgeEnter to the caller's Hangup
    assert abs(talk - TALK_S) < 0.5
    [rec] = rows
    assert rec.status == "complete", rec.error
    assert (rec.agent_id, rec.agent_name, rec.caller, rec.called, rec.queue, rec.direction, rec.segment) == (
        "1001", "张伟", "13800138000", "4008001234", "presales", "inbound", 1)
    assert started < rec.started_at <= rec.answered_at < rec.ended_at <= finished
    assert abs((rec.answered_at - (DAY + timedelta(seconds=bridged_at))).total_seconds()) < 0.5
    assert abs((rec.ended_at - (DAY + timedelta(seconds=hung_up_at))).total_seconds()) < 0.5
    assert abs(rec.duration_s - talk) < 0.5
    assert abs(wav_seconds(local) - talk) < 0.5 and rec.size_bytes == local.stat().st_size
