"""Scripted callers and softphones; the same seed gives the same day of traffic."""
from __future__ import annotations

import asyncio
import random
import time

import pytest

from pbxsim.config import load_pjsip
from pbxsim.participants import CallerScript, PhoneBehaviour, parse_steps
from pbxsim_capture import SITE_CONF, run_site


def test_softphones_register_from_pjsip_conf_and_change_at_run_time(tmp_path):
    async def body(sim, events):
        before = {e.name: e.device_state for e in sim.pbx.endpoints()}
        sim.phones["1003"].unregister()
        await asyncio.sleep(5)
        sim.phones["1003"].register()
        sim.phones["1004"].set_behaviour(mode="busy")
        return before, sim.pbx.device_states(), events
    before, states, events = run_site(body, tmp_path, phone_defaults={"registered": True})
    assert sorted(before) == ["1001", "1002", "1003", "1004", "1005", "1006", "9001", "9101", "trunk"]
    assert before["1001"] == "Not in use"
    assert states["PJSIP/1003"] == "NOT_INUSE"
    contact = [(e.get("EndpointName"), e.get("ContactStatus")) for e in events if e.name == "ContactStatus"]
    assert contact == [("1003", "Removed"), ("1003", "Created"), ("1003", "Reachable")]
    first = next(e for e in events if e.name == "ContactStatus")
    assert first.keys() == ["URI", "ContactStatus", "AOR", "EndpointName", "RoundtripUsec"]
    assert first.privilege == "system,all"
    assert [(e.get("Device"), e.get("State")) for e in events if e.name == "DeviceStateChange"] == [
        ("PJSIP/1003", "UNAVAILABLE"), ("PJSIP/1003", "NOT_INUSE")]


def test_agents_yaml_adds_softphones_with_their_behaviour(tmp_path):
    agents = tmp_path / "agents.yaml"
    agents.write_text("agents:\n  - id: '1001'\n    name: 张伟\n    endpoint: PJSIP/1001\n"
                      "  - id: '2001'\n    name: 李娜\n    endpoint: PJSIP/2001\n    softphone: {registered: false}\n")

    async def body(sim, events):
        return sim.pbx.device_states(), sim.phones["2001"].behaviour
    states, behaviour = run_site(body, tmp_path, agents_file=agents)
    assert states["PJSIP/2001"] == "UNAVAILABLE" and states["PJSIP/1001"] == "NOT_INUSE"
    assert behaviour.registered is False


def test_pjsip_conf_endpoints():
    eps = {e.name: e for e in load_pjsip(SITE_CONF / "pjsip.conf")}
    assert eps["trunk"].kind == "trunk" and eps["trunk"].context == "hotline-inbound"
    assert eps["1001"].kind == "phone" and eps["1001"].context == "hotline-agents"
    assert eps["1001"].callerid == '"Agent 1001" <1001>'
    assert eps["1006"].max_contacts == 1


def test_caller_steps_are_validated():
    assert parse_steps(["wait 2; press 1#", {"talk": 3}, ("hangup",)]) == [
        ("wait", 2.0), ("press", "1#"), ("talk", 3.0), ("hangup", None)]
    for bad in (["jump 3"], [{"press": "x"}], [{"wait": "soon"}]):
        with pytest.raises(ValueError):
            parse_steps(bad)
    with pytest.raises(ValueError):
        PhoneBehaviour(mode="sleepy")


def test_caller_hangs_up_after_talk_time_once_bridged(tmp_path):
    async def body(sim, events):
        sim.phones["1005"].set_behaviour(answer_after_s=6)
        caller = await sim.place_call(CallerScript("13912345678", dnid="1005", context="hotline-agents", talk_time_s=90))
        return await caller.wait(), sim.phones["1005"].calls
    outcome, calls = run_site(body, tmp_path)
    assert (outcome.bridged, outcome.ended, outcome.hung_up_by, outcome.reason) == (6.0, 96.0, "caller", "talk_time")
    assert calls[0]["answered"] == 6.0 and calls[0]["ended"] == 96.0


def day_of_traffic(tmp_path, seed):
    async def body(sim, events):
        rng = random.Random(seed)
        for i, ep in enumerate(sorted(sim.phones)):
            sim.phones[ep].set_behaviour(answer_after_s=rng.uniform(1, 8), talk_time_s=rng.uniform(30, 300),
                                         mode=rng.choice(["answer", "answer", "answer", "no-answer", "busy"]))
        callers = []
        for n in range(60):
            await asyncio.sleep(rng.expovariate(1 / 120))
            target = rng.choice(sorted(sim.phones))
            callers.append(await sim.place_call(CallerScript(f"1380013{n:04d}", dnid=target, context="hotline-agents",
                                                             patience_s=rng.uniform(10, 40))))
        outcomes = [await c.wait() for c in callers]
        return [(o.channel, o.bridged, o.ended, o.hung_up_by) for o in outcomes], \
            [(e.name, e.headers) for e in events], asyncio.get_running_loop().time()
    return run_site(body, tmp_path, seed=seed)


def test_same_seed_same_day(tmp_path):
    t0 = time.monotonic()
    a = day_of_traffic(tmp_path / "a", 7)
    real = time.monotonic() - t0
    b = day_of_traffic(tmp_path / "b", 7)
    c = day_of_traffic(tmp_path / "c", 8)
    assert a == b
    assert a[0] != c[0]
    assert a[2] > 3600          # about two hours of traffic...
    assert real < 5             # ...in a few real seconds
    assert any(bridged for _, bridged, _, _ in a[0]) and any(b is None for _, b, _, _ in a[0])
