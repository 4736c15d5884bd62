"""Item 8: every recording row reaches a final state after a PBX restart mid-call, an AMI drop longer than
the call, or a restart of the service — found by the check after each AMI (re)connect (recordings.recovery),
not only by `hotline recordings recover`. Through pbxsim and the service's recordings component."""
from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from hotline.ami import AmiLink
from pbxsim.ami import AmiServer
from pbxsim.participants import CallerScript
from pbxsim.simulator import Simulator
from recordings.models import STATUS_RECORDING, Recording, utcnow
from recordings.policy import RecordingPolicy
from recordings.postprocess import Postprocessor
from recordings.recorder import Recorder
from recordings.recovery import RecordingRecovery
from recordings.service import RecordingsService, running
from recordings.tracking import CallTracker
from recording_helpers import add_recording

REPO = Path(__file__).resolve().parents[2]
FINAL = ("complete", "flagged")


def _sim(tmp_path, port: int = 0) -> Simulator:
    return Simulator(REPO / "asterisk-conf", monitor_dir=tmp_path / "monitor", agents_file=REPO / "config" / "agents.yaml",
                     newexten_events=False, ami_port=port)


async def _rows(ctx) -> list[Recording]:
    async with ctx.sessions() as session:
        return list((await session.scalars(select(Recording).order_by(Recording.id))).all())


async def _until(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def _service(ctx, settings):
    """The recordings as hotline/service.py runs them, on the service's AMI link."""
    async with asyncio.TaskGroup() as tasks:
        link = AmiLink(settings.ami)
        await link.start(tasks)
        policy = RecordingPolicy(ctx.config)
        recorder = Recorder(link.session, ctx.sessions, policy, ctx.primary,
                            Postprocessor(ctx.sessions, ctx.primary, ctx.config.postprocess))
        try:
            assert await link.wait_connected(5)
            async with running(RecordingsService(ctx, policy, recorder), CallTracker(recorder, settings.agents),
                               link.session, RecordingRecovery(recorder, utcnow)) as service:
                yield service
        finally:
            await link.stop()


async def _recording_started(ctx, sim, agent: str, talk_time_s: float | None):
    sim.phones[agent].set_behaviour(mode="answer", answer_after_s=0.2, talk_time_s=talk_time_s)
    caller = await sim.place_call(CallerScript("13911112222", dnid=agent, context="hotline-agents"))
    await _until(lambda: _any_status(ctx, STATUS_RECORDING), what="a recording row")
    return caller


async def _any_status(ctx, status: str) -> bool:
    return any(r.status == status for r in await _rows(ctx))


async def _all_final(ctx) -> bool:
    rows = await _rows(ctx)
    return bool(rows) and all(r.status in FINAL for r in rows)


async def test_pbx_restart_mid_call_finishes_the_row(ctx, tmp_path, repo_settings):
    sim = _sim(tmp_path)
    await sim.start()
    port = sim.ami_port
    settings = repo_settings.replace(ami={"port": port, "reconnect_max_delay": 0.5})
    try:
        async with _service(ctx, settings):
            await _recording_started(ctx, sim, "1004", talk_time_s=None)      # talks until the PBX dies
            await sim.close()                                                  # the PBX goes away mid-call
            sim = _sim(tmp_path, port)
            await sim.start()                                                  # ... and comes back empty
            await _until(lambda: _all_final(ctx), what="the row to be final after the restart")
    finally:
        await sim.close()
    [row] = await _rows(ctx)
    assert row.status in FINAL and row.ended_at is not None
    assert row.error.startswith("partial: the call ended while the PBX connection was down")


async def test_ami_drop_longer_than_the_call_finishes_the_row(ctx, tmp_path, repo_settings):
    async with _sim(tmp_path) as sim:
        port = sim.ami_port
        settings = repo_settings.replace(ami={"port": port, "reconnect_max_delay": 0.5})
        async with _service(ctx, settings):
            caller = await _recording_started(ctx, sim, "1004", talk_time_s=1.5)
            await sim.ami.close(announce_shutdown=False)                       # AMI gone, the PBX goes on
            await asyncio.wait_for(caller.wait(), 15)                          # the call ends unseen
            assert await _any_status(ctx, STATUS_RECORDING)
            sim.ami = AmiServer(sim.pbx, sim.users, host=sim.host, port=port)
            await sim.ami.start()
            await _until(lambda: _all_final(ctx), what="the row to be final after the AMI drop")
    [row] = await _rows(ctx)
    assert row.status == "complete", row.error                                # the file was closed at hangup
    assert row.error.startswith("partial: the call ended while the PBX connection was down")
    assert row.duration_s > 0


async def test_rows_left_by_a_stopped_service_are_finished_at_startup(ctx, tmp_path, repo_settings):
    await add_recording(ctx, started_at=utcnow() - timedelta(minutes=40), status=STATUS_RECORDING, seconds=1.0)
    await add_recording(ctx, started_at=utcnow() - timedelta(minutes=30), status=STATUS_RECORDING)   # no file
    async with _sim(tmp_path) as sim:
        settings = repo_settings.replace(ami={"port": sim.ami_port})
        async with _service(ctx, settings):
            await _until(lambda: _all_final(ctx), what="rows final after start-up")
    with_file, without = await _rows(ctx)
    assert with_file.status == "complete" and with_file.ended_at is not None
    assert with_file.error == "partial: the service was not running when the call ended"
    assert without.status == "flagged" and without.error.startswith("partial: the service was not running")
