"""Dial to agents' softphones: answer, no answer, busy, reject, unregistered, several at once."""
from __future__ import annotations

import pytest

from pbxsim.dialplan import Dialplan
from pbxsim.participants import CallerScript
from pbxsim_capture import run_site


def agent_call(mode: str, tmp_path, **phone):
    async def body(sim, events):
        sim.phones["1002"].set_behaviour(mode=mode, **phone)
        caller = await sim.place_call(CallerScript("13800138000", "Li Lei", dnid="1002", context="hotline-agents"))
        outcome = await caller.wait()
        return outcome, events, sim.phones["1002"].calls
    return run_site(body, tmp_path)


def dial_events(events):
    return [(e.name, e.get("DialStatus")) for e in events if e.name in ("DialBegin", "DialEnd")]


def var(events, name, channel_prefix="PJSIP/trunk"):
    values = [e.get("Value") for e in events if e.name == "VarSet" and e.get("Variable") == name
              and e.get("Channel").startswith(channel_prefix)]
    return values[-1] if values else None


def test_agent_answers_after_ring_and_hangs_up_after_talk_time(tmp_path):
    outcome, events, calls = agent_call("answer", tmp_path, answer_after_s=3, talk_time_s=40)
    assert dial_events(events) == [("DialBegin", None), ("DialEnd", "ANSWER")]
    assert var(events, "DIALSTATUS") == "ANSWER"
    assert var(events, "ANSWEREDTIME") == "40"
    assert var(events, "DIALEDTIME") == "43"
    assert outcome.bridged == pytest.approx(3.0) and outcome.ended == pytest.approx(43.0)
    assert calls[0]["result"] == "answered"
    agent = [e for e in events if e.get("Channel", "").startswith("PJSIP/1002-")]
    assert [e.name for e in agent if e.name in ("Newchannel", "Newstate", "BridgeEnter", "HangupRequest", "BridgeLeave", "Hangup")] == [
        "Newchannel", "Newstate", "Newstate", "BridgeEnter", "HangupRequest", "BridgeLeave", "Hangup"]
    assert [e.get("ChannelStateDesc") for e in agent if e.name == "Newstate"] == ["Ringing", "Up"]
    states = [e.get("State") for e in events if e.name == "DeviceStateChange" and e.get("Device") == "PJSIP/1002"]
    assert states == ["RINGING", "INUSE", "NOT_INUSE"]
    # the agent's leg carries the caller's linkedid and the caller as connected line
    newchan = next(e for e in agent if e.name == "Newchannel")
    assert newchan.get("Linkedid") == outcome.linkedid
    dial_begin = next(e for e in events if e.name == "DialBegin")
    assert dial_begin.get("DestConnectedLineNum") == "13800138000"
    assert dial_begin.get("DialString") == "1002"


@pytest.mark.parametrize("mode,status,cause,seconds", [
    ("no-answer", "NOANSWER", "19", 30.0),
    ("busy", "BUSY", "17", 0.02),
    ("reject", "BUSY", "21", 2.0),
])
def test_agent_does_not_answer(mode, status, cause, seconds, tmp_path):
    outcome, events, calls = agent_call(mode, tmp_path)
    assert dial_events(events) == [("DialBegin", None), ("DialEnd", status)]
    assert var(events, "DIALSTATUS") == status
    hangup = next(e for e in events if e.name == "Hangup" and e.get("Channel").startswith("PJSIP/1002-"))
    assert hangup.get("Cause") == cause
    assert outcome.bridged is None
    assert outcome.ended == pytest.approx(seconds)


def test_unregistered_agent_is_chanunavail(tmp_path):
    async def body(sim, events):
        sim.phones["1002"].unregister()
        caller = await sim.place_call(CallerScript("13800138000", dnid="1002", context="hotline-agents"))
        await caller.wait()
        return events
    events = run_site(body, tmp_path)
    assert dial_events(events) == []
    assert var(events, "DIALSTATUS") == "CHANUNAVAIL"
    contact = [(e.get("ContactStatus"), e.get("AOR")) for e in events if e.name == "ContactStatus"]
    assert contact == [("Removed", "1002")]
    assert [e.get("State") for e in events if e.name == "DeviceStateChange" and e.get("Device") == "PJSIP/1002"] == ["UNAVAILABLE"]


def test_ring_several_first_answer_wins(tmp_path):
    async def body(sim, events):
        sim.pbx.dialplan.contexts["hotline-agents"].extensions.clear()
        extra = Dialplan.from_text("[ringall]\nexten => s,1,Dial(PJSIP/1001&PJSIP/1002&PJSIP/1003,20)\n same => n,Hangup()\n")
        sim.pbx.dialplan.contexts.update(extra.contexts)
        sim.phones["1001"].set_behaviour(answer_after_s=5, talk_time_s=10)
        sim.phones["1002"].set_behaviour(answer_after_s=2, talk_time_s=10)
        sim.phones["1003"].set_behaviour(mode="busy")
        caller = await sim.place_call(CallerScript("13800138000", dnid="s", context="ringall"))
        outcome = await caller.wait()
        return outcome, events
    outcome, events = run_site(body, tmp_path)
    ends = sorted((e.get("DestChannel")[:10], e.get("DialStatus")) for e in events if e.name == "DialEnd")
    assert ends == [("PJSIP/1001", "CANCEL"), ("PJSIP/1002", "ANSWER"), ("PJSIP/1003", "BUSY")]
    hang = {e.get("Channel")[:10]: e.get("Cause") for e in events if e.name == "Hangup"}
    assert hang["PJSIP/1001"] == "26"      # answered elsewhere
    assert outcome.bridged_with.startswith("PJSIP/1002-")
    assert outcome.ended == pytest.approx(12.0)


def test_caller_hangs_up_while_agent_rings(tmp_path):
    async def body(sim, events):
        sim.phones["1002"].set_behaviour(mode="no-answer")
        caller = await sim.place_call(CallerScript("13800138000", dnid="1002", context="hotline-agents", patience_s=7))
        outcome = await caller.wait()
        return outcome, events
    outcome, events = run_site(body, tmp_path)
    assert dial_events(events) == [("DialBegin", None), ("DialEnd", "CANCEL")]
    assert outcome.abandoned and outcome.reason == "patience" and outcome.ended == pytest.approx(7.0)
    caller_events = [e.name for e in events if e.get("Channel", "").startswith("PJSIP/trunk")
                     and e.name in ("HangupRequest", "DialEnd", "SoftHangupRequest", "Hangup")]
    assert caller_events == ["HangupRequest", "DialEnd", "SoftHangupRequest", "Hangup"]
    assert var(events, "DIALSTATUS") == "CANCEL"


@pytest.mark.parametrize("dial_string", ["PJSIP/13912345678@trunk", "PJSIP/trunk/sip:13912345678@carrier.example"])
def test_dialling_out_through_the_trunk_reaches_the_external_party(dial_string, tmp_path):
    async def body(sim, events):
        sim.pbx.dialplan.contexts.update(Dialplan.from_text(
            f"[out]\nexten => s,1,Dial({dial_string},30)\n same => n,Hangup()\n").contexts)
        customer = sim.external("13912345678", answer_after_s=7, talk_time_s=50)
        caller = await sim.place_call(CallerScript("1001", dnid="s", context="out"))
        outcome = await caller.wait()
        return outcome, customer.calls, events
    outcome, calls, events = run_site(body, tmp_path)
    assert outcome.bridged == pytest.approx(7.0) and outcome.ended == pytest.approx(57.0)
    assert calls[0]["result"] == "answered"
    out_leg = next(e for e in events if e.name == "Newchannel" and e.get("Channel").startswith("PJSIP/trunk-00000001"))
    assert out_leg.get("Linkedid") == outcome.linkedid
    assert dial_events(events) == [("DialBegin", None), ("DialEnd", "ANSWER")]


def test_dial_m_option_plays_music_while_the_agent_rings(tmp_path):
    """The ACD's EXEC Dial PJSIP/<ext>,<timeout>,m(<class>): music instead of ringback."""

    async def body(sim, events):
        sim.pbx.dialplan.contexts.update(Dialplan.from_text(
            "[moh]\nexten => s,1,Answer()\n same => n,Dial(PJSIP/1002,20,m(default))\n same => n,Hangup()\n").contexts)
        sim.phones["1002"].set_behaviour(answer_after_s=6, talk_time_s=10)
        caller = await sim.place_call(CallerScript("13800138000", dnid="s", context="moh"))
        await caller.wait()
        return [(e.name, e.get("Class") or e.get("DialStatus")) for e in events
                if e.name in ("MusicOnHoldStart", "MusicOnHoldStop", "DialEnd")]
    assert run_site(body, tmp_path) == [("MusicOnHoldStart", "default"), ("MusicOnHoldStop", None), ("DialEnd", "ANSWER")]
