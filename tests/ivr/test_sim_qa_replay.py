"""flows/qa_replay.yaml through the simulator: * from the greeting, QA login with lockout, search, replay keys."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ivr.stats import read_stats
from pbxsim.participants import CallerScript

from .sim_env import run_with_simulator, silent_wav


class Archive:
    """A RecordingsSearch over fixed recordings (the recordings service is injected the same way)."""

    def __init__(self, items):
        self.items = items
        self.queries = []
        self.audited = []

    async def find(self, agent_id, start, end):
        self.queries.append((agent_id, start, end))
        return [i for i in self.items if i["agent_id"] == agent_id and start <= i["start"] < end]

    async def audit_replay(self, staff_id, recording_id):
        self.audited.append((staff_id, recording_id))


def _archive(tmp_path):
    items = []
    for n, hour in enumerate((1, 3), start=1):  # 09:xx and 11:xx in Shanghai
        sound = silent_wav(tmp_path / "rec" / f"call{n}.wav", 2.0)
        items.append({"id": n, "agent_id": "1001", "caller": "138", "duration": 2.0, "sound": str(sound)[:-4],
                      "start": datetime(2026, 11, 23, hour, 15, tzinfo=timezone.utc)})
    return Archive(items)


QA_LOGIN = ["wait 0.5", "press *", "wait 2", "press 9101#", "wait 1.5", "press 9101#", "wait 2"]


def test_qa_staff_logs_in_searches_and_steps_through_recordings(tmp_path):
    archive = _archive(tmp_path)
    steps = QA_LOGIN + ["press 1001#", "wait 1.5", "press 20261123#", "wait 1.5", "press 0800#", "wait 1.5",
                        "press 1800#", "wait 12", "press 3", "wait 8", "press 3", "wait 2", "press 1", "wait 8",
                        "press 0", "wait 1", "hangup"]

    async def body(sim, ivr, sessions):
        await (await sim.place_call(CallerScript("13800138000", dnid="4008001234", steps=steps))).wait()
        return ivr.engine.results[-1], await read_stats(sessions, "qa_replay")

    result, stats = run_with_simulator(tmp_path, body, recordings=archive)
    path = [p for p in result.path if p.startswith("qa_replay:")]
    assert path[:7] == ["qa_replay:qa_login", "qa_replay:qa_welcome", "qa_replay:qa_agent", "qa_replay:qa_date",
                        "qa_replay:qa_from", "qa_replay:qa_to", "qa_replay:qa_check_range"]
    assert "qa_replay:qa_play" in path and path[-1] == "qa_replay:qa_agent"  # 0 went back to the search menu
    agent, start, end = archive.queries[0]
    assert agent == "1001" and start == datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)
    assert end == datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    # 3: next (recording 2), 3 on the last: qa_last_recording, 1: previous (recording 1 again), 0: menu
    assert {k[2]: v for k, v in stats.items() if k[1] == "qa_play"} == {
        "entries": 1, "played": 3, "key:next": 2, "key:previous": 1, "key:menu": 1}
    assert archive.audited == [("9101", 1), ("9101", 2), ("9101", 1)]  # every replay audit-logged


def test_wrong_pins_lock_the_staff_id_across_calls_by_the_service_policy(tmp_path):
    """Three tries per call; the fifth wrong PIN for a staff ID (hotline.security.throttle) locks it."""
    wrong = ["wait 0.5", "press *", "wait 2", "press 9101#", "wait 1.5", "press 0000#", "wait 2.5",
             "press 9101#", "wait 1.5", "press 1111#", "wait 2.5", "press 9101#", "wait 1.5", "press 2222#",
             "wait 6"]

    async def body(sim, ivr, sessions):
        await (await sim.place_call(CallerScript("13800138000", dnid="4008001234", steps=wrong))).wait()
        first = ivr.engine.results[-1]
        await (await sim.place_call(CallerScript("13800138000", dnid="4008001234", steps=wrong))).wait()
        # the right PIN now: the ID is locked, the caller hears qa_locked at once
        await (await sim.place_call(CallerScript("13800138000", dnid="4008001234", steps=QA_LOGIN))).wait()
        return first, ivr.engine.results[-1], await read_stats(sessions)

    first, third, stats = run_with_simulator(tmp_path, body)
    assert first.path[-2:] == ["qa_replay:qa_login", "qa_replay:qa_locked_out"]
    assert third.path[-2:] == ["qa_replay:qa_login", "qa_replay:qa_locked_out"]
    assert stats[("qa_replay", "qa_login", "login_failed")] == 5        # 3 + 2: the fifth locks
    assert stats[("qa_replay", "qa_login", "locked")] == 3


def test_the_phone_and_http_logins_share_one_lockout(tmp_path):
    """One policy for every entry point: wrong PINs over HTTP lock the staff ID on the phone too, and the
    reverse (the service hands the CTI's LoginThrottle to the QA node: QaLockouts(cti.auth.throttle))."""
    from cti.auth import AuthError, Authenticator, TooManyAttempts
    from hotline.config import load_settings
    from ivr.runtime.qa_lockouts import QaLockouts

    auth = Authenticator(load_settings(Path(__file__).resolve().parents[2] / "config", env={}).agents)

    async def body(sim, ivr, sessions):
        ivr.engine.deps.qa_lockouts = QaLockouts(auth.throttle)
        for _ in range(5):                                   # HTTP: five wrong PINs for 9101
            with pytest.raises(AuthError):
                await auth.check_pin("9101", "0000", source="10.1.1.1")
        await (await sim.place_call(CallerScript("13800138000", dnid="4008001234", steps=QA_LOGIN))).wait()
        return ivr.engine.results[-1]

    phone = run_with_simulator(tmp_path, body)
    assert phone.path[-2:] == ["qa_replay:qa_login", "qa_replay:qa_locked_out"]   # right PIN, locked ID
    with pytest.raises(TooManyAttempts):
        asyncio.run(auth.check_pin("9101", "9101", source="10.2.2.2"))
