"""Call control the CTI and ACD use: Originate to a softphone, Redirect, Bridge, transfers, hold,
ChanSpy, Queue, and IVR-style dialplan applications."""
from __future__ import annotations

import asyncio

import pytest

from pbxsim.clock import run_virtual
from pbxsim.dialplan import Dialplan
from pbxsim.participants import CallerScript
from pbxsim.pbx import Pbx
from pbxsim_capture import CONF, ScriptedFastAgi, run_site

PLAN = """
[ctl]
exten => park,1,Answer()
 same => n,MusicOnHold(default,600)
 same => n,Hangup()
exten => agent,1,Dial(PJSIP/1002,20)
 same => n,Hangup()
exten => sales,1,Dial(PJSIP/1004,20)
 same => n,Hangup()
exten => menu,1,Answer()
 same => n(again),Background(beep)
 same => n,WaitExten(4)
exten => 1,1,Set(CHOICE=one)
 same => n,GotoIf($["${CHOICE}" = "one"]?done)
 same => n,Set(CHOICE=wrong)
 same => n(done),Hangup()
exten => t,1,Set(CHOICE=timeout)
 same => n,Hangup()
exten => i,1,Set(CHOICE=invalid)
 same => n,Hangup()
exten => q,1,Answer()
 same => n,Queue(support,,,,60)
 same => n,Hangup()
exten => spy,1,Answer()
 same => n,ChanSpy(PJSIP/1002,qE)
 same => n,Hangup()
"""


def setup(sim):
    sim.pbx.dialplan.contexts.update(Dialplan.from_text(PLAN).contexts)
    sim.pbx.queues["support"] = {"members": ["PJSIP/1005", "PJSIP/1006"], "timeout": "15"}


def test_originate_to_a_softphone_then_dialplan(tmp_path):
    async def body(sim, events):
        setup(sim)
        sim.phones["1001"].set_behaviour(answer_after_s=3)
        res = await sim.pbx.originate(channel="PJSIP/1001", context="ctl", exten="park", priority=1,
                                      callerid="Hotline <4008001234>", timeout_ms=10000)
        t = asyncio.get_running_loop().time()
        bad = await sim.pbx.originate(channel="Foo/bar", context="ctl", exten="park")
        sim.phones["1002"].set_behaviour(mode="no-answer")
        noans = await sim.pbx.originate(channel="PJSIP/1002", context="ctl", exten="park", timeout_ms=5000)
        unknown = await sim.pbx.originate(channel="PJSIP/9999", context="ctl", exten="park")
        sim.pbx.hangup(res.channel)
        await asyncio.sleep(1)
        return res, t, bad, noans, unknown, events
    res, t, bad, noans, unknown, events = run_site(body, tmp_path)
    assert res.success and res.reason == 4 and res.channel.name.startswith("PJSIP/1001-")
    assert t == pytest.approx(3.0)
    assert (bad.success, bad.reason) == (False, 0)
    assert (noans.success, noans.reason) == (False, 3)
    assert (unknown.success, unknown.reason) == (False, 0)
    moh = [e.name for e in events if e.name.startswith("MusicOnHold") and e.get("Channel") == res.channel.name]
    assert moh == ["MusicOnHoldStart", "MusicOnHoldStop"]


def test_redirect_moves_a_call_and_blind_transfer_hands_it_over(tmp_path):
    async def body(sim, events):
        setup(sim)
        sim.phones["1002"].set_behaviour(answer_after_s=1)
        sim.phones["1004"].set_behaviour(answer_after_s=2, talk_time_s=30)
        caller = await sim.place_call(CallerScript("13800138000", dnid="park", context="ctl"))
        await asyncio.sleep(5)
        sim.pbx.redirect(caller.channel, "ctl", "agent", 1)
        await asyncio.sleep(5)
        agent_leg = sim.pbx.channel(caller.channel.bridge.channels[0].name)
        result = sim.pbx.blind_transfer(agent_leg, "ctl", "sales")
        outcome = await caller.wait()
        return result, outcome, events
    result, outcome, events = run_site(body, tmp_path)
    assert result == "Success"
    bt = next(e for e in events if e.name == "BlindTransfer")
    assert bt.get("TransfererChannel").startswith("PJSIP/1002-") and bt.get("TransfereeChannel") == outcome.channel
    assert (bt.get("Context"), bt.get("Extension"), bt.get("IsExternal")) == ("ctl", "sales", "No")
    ends = [(e.get("DestChannel")[:10], e.get("DialStatus")) for e in events if e.name == "DialEnd"]
    assert ends == [("PJSIP/1002", "ANSWER"), ("PJSIP/1004", "ANSWER")]
    # the caller's MOH stopped when redirected; it ended when sales hung up (2 s ring + 30 s talk)
    assert outcome.ended == pytest.approx(10 + 2 + 30)
    linked = {e.get("Linkedid") for e in events if e.name == "Newchannel"}
    assert linked == {outcome.linkedid}


def test_hold_and_ami_bridge(tmp_path):
    async def body(sim, events):
        setup(sim)
        a = await sim.place_call(CallerScript("13800000001", dnid="park", context="ctl"))
        b = await sim.place_call(CallerScript("13800000002", dnid="park", context="ctl", steps=["wait 20", "hangup"]))
        await asyncio.sleep(2)
        sim.pbx.bridge(a.channel, b.channel)
        await asyncio.sleep(1)
        sim.pbx.hold(a.channel, True)
        sim.pbx.hold(a.channel, False)
        bridged = a.channel.bridge is not None and a.channel.bridge is b.channel.bridge
        oa, ob = await a.wait(), await b.wait()
        return bridged, oa, ob, events
    bridged, oa, ob, events = run_site(body, tmp_path)
    assert bridged
    hold = [e for e in events if e.name in ("Hold", "Unhold")]
    assert [(e.name, e.get("MusicClass")) for e in hold] == [("Hold", "default"), ("Unhold", None)]
    b_moh = [e.name for e in events if e.name.startswith("MusicOnHold") and e.get("Channel") == ob.channel]
    assert b_moh[-2:] == ["MusicOnHoldStart", "MusicOnHoldStop"]      # b heard music while a held
    assert ob.ended == pytest.approx(20.0) and oa.ended == pytest.approx(20.0)
    names = [e.name for e in events if e.name.startswith("Bridge")]
    assert names == ["BridgeCreate", "BridgeEnter", "BridgeEnter", "BridgeLeave", "BridgeLeave", "BridgeDestroy"]


def test_attended_transfer_completes_when_the_transferer_hangs_up(tmp_path):
    async def body(sim, events):
        setup(sim)
        sim.phones["1002"].set_behaviour(answer_after_s=1)
        sim.phones["1004"].set_behaviour(answer_after_s=3, talk_time_s=40)
        caller = await sim.place_call(CallerScript("13800138000", dnid="agent", context="ctl"))
        await asyncio.sleep(5)
        agent_leg = next(c for c in sim.pbx.channels() if c.name.startswith("PJSIP/1002-"))
        ok = await sim.pbx.atxfer(agent_leg, "sales", "ctl")
        await asyncio.sleep(6)
        sim.phones["1002"].hang_up()
        outcome = await caller.wait()
        return ok, outcome, events
    ok, outcome, events = run_site(body, tmp_path)
    assert ok
    at = next(e for e in events if e.name == "AttendedTransfer")
    assert at.get("TransfereeChannel") == outcome.channel and at.get("Result") == "Success"
    # the agent's phone holds the caller (who hears music) while consulting
    hold = [(e.name, e.get("Channel")[:10]) for e in events if e.name in ("Hold", "Unhold", "MusicOnHoldStart", "MusicOnHoldStop")]
    assert hold == [("Hold", "PJSIP/1002"), ("MusicOnHoldStart", "PJSIP/trun"), ("MusicOnHoldStop", "PJSIP/trun")]
    # 1004 answered 3 s into the consultation (t=8) and hung up 40 s later
    assert outcome.ended == pytest.approx(11 + 40, abs=3.5)


@pytest.mark.parametrize("steps,choice", [(["wait 1", "press 1"], "one"), ([], "timeout"), (["wait 1", "press 7"], "invalid")])
def test_background_waitexten_goto(steps, choice, tmp_path):
    async def body(sim, events):
        setup(sim)
        caller = await sim.place_call(CallerScript("13800138000", dnid="menu", context="ctl", steps=steps))
        await caller.wait()
        return [e.get("Value") for e in events if e.name == "VarSet" and e.get("Variable") == "CHOICE"]
    assert run_site(body, tmp_path)[-1] == choice


def test_queue_rings_all_members_and_chanspy_listens(tmp_path):
    async def body(sim, events):
        setup(sim)
        sim.phones["1005"].set_behaviour(mode="no-answer")
        sim.phones["1006"].set_behaviour(answer_after_s=4, talk_time_s=20)
        caller = await sim.place_call(CallerScript("13800138000", dnid="q", context="ctl"))
        outcome = await caller.wait()
        sim.phones["1002"].set_behaviour(answer_after_s=1, talk_time_s=10)
        c2 = await sim.place_call(CallerScript("13800000009", dnid="agent", context="ctl"))
        sup = await sim.place_call(CallerScript("1001", dnid="spy", context="ctl"))
        await c2.wait()
        sup_out = await sup.wait()
        return outcome, sup_out, events
    outcome, sup_out, events = run_site(body, tmp_path)
    assert outcome.bridged_with.startswith("PJSIP/1006-") and outcome.bridged == pytest.approx(4.0)
    names = [e.name for e in events]
    assert names.count("QueueCallerJoin") == 1 and names.count("QueueCallerLeave") == 1
    spy = [e for e in events if e.name in ("ChanSpyStart", "ChanSpyStop")]
    assert [e.name for e in spy] == ["ChanSpyStart", "ChanSpyStop"]
    assert spy[0].get("SpyeeChannel").startswith("PJSIP/1002-") and spy[0].get("SpyerChannel").startswith("PJSIP/trunk-")
    assert sup_out.ended == pytest.approx(outcome.ended + 11, abs=1.5)


def test_redirect_out_of_an_agi_session_is_an_async_goto(tmp_path):
    """Asterisk ends the AGI as if hung up (result -1, HANGUP, AGISTATUS=HANGUP), then the channel
    carries on at the Redirect target instead of hanging up."""

    async def main():
        agi = ScriptedFastAgi([b"ANSWER", b"WAIT FOR DIGIT 20000", b"NOOP after"])
        port = await agi.start()
        pbx = Pbx(Dialplan.load(CONF / "extensions.conf"), monitor_dir=tmp_path, agi_override=("127.0.0.1", port))
        events = []
        pbx.subscribe(events.append)
        res = await pbx.originate(channel="Local/long@callerctx", context="ivrctx", exten="s", callerid="A <1>")
        await asyncio.sleep(5)
        pbx.redirect(res.channel, "ivrctx", "redirected", 1)
        await asyncio.sleep(3)
        alive = not res.channel.hungup and res.channel.app == "Wait"
        await pbx.close()
        await agi.close()
        return agi.replies, events, alive

    replies, events, alive = run_virtual(main())
    assert replies == [(b"ANSWER", [b"200 result=0\n"]), (b"WAIT FOR DIGIT 20000", [b"200 result=-1\n"]),
                       (b"NOOP after", [b"HANGUP\n", b"200 result=0\n"])]
    assert alive
    apps = [e.get("AppData") for e in events if e.name == "Newexten" and e.get("Channel").endswith(";1")]
    assert apps[-2:] == ["redirected here", "30"]
    assert [e.get("Value") for e in events if e.name == "VarSet" and e.get("Variable") == "AGISTATUS"] == ["HANGUP"]


def test_h_extension_runs_after_the_hangup(tmp_path):
    plan = ("[hx]\nexten => s,1,Answer()\n same => n,Wait(30)\n"
            "exten => h,1,NoOp(cleanup ${CALLERID(num)} ${HANGUPCAUSE})\n same => n,Set(DONE=yes)\n")

    async def body(sim, events):
        sim.pbx.dialplan.contexts.update(Dialplan.from_text(plan).contexts)
        caller = await sim.place_call(CallerScript("13800138000", dnid="s", context="hx", steps=["wait 5", "hangup"]))
        await caller.wait()
        return [(e.name, e.get("Application") or e.get("Variable") or e.get("Cause")) for e in events
                if e.get("Channel", "").startswith("PJSIP/trunk")]
    seq = run_site(body, tmp_path)
    tail = [x for x in seq if x[0] in ("HangupRequest", "SoftHangupRequest", "Newexten", "VarSet", "Hangup")][-6:]
    assert tail == [("HangupRequest", "16"), ("SoftHangupRequest", "16"), ("Newexten", "NoOp"), ("Newexten", "Set"),
                    ("VarSet", "DONE"), ("Hangup", "16")]


def test_three_way_conference_and_dial_g_after_the_callee_is_redirected(tmp_path):
    """The CTI's conference: customer and agent are redirected into a ConfBridge room, a third party
    joins; Dial(...,g) goes on in the dialplan when its callee is redirected away."""
    plan = ("[conf]\nexten => _X.,1,ConfBridge(${EXTEN})\n same => n,Hangup()\n"
            "[dialg]\nexten => s,1,Dial(PJSIP/1002,20,g)\n same => n,Set(AFTER=dial)\n same => n,Wait(100)\n")

    async def body(sim, events):
        sim.pbx.dialplan.contexts.update(Dialplan.from_text(plan).contexts)
        sim.phones["1002"].set_behaviour(answer_after_s=1)
        sim.phones["1003"].set_behaviour(answer_after_s=2, talk_time_s=20)
        customer = await sim.place_call(CallerScript("13800138000", dnid="s", context="dialg", steps=["wait 60", "hangup"]))
        await asyncio.sleep(5)
        agent = next(c for c in sim.pbx.channels() if c.name.startswith("PJSIP/1002-"))
        sim.pbx.redirect(agent, "conf", "777", 1)                    # the agent leaves the customer's Dial...
        await asyncio.sleep(1)
        after = customer.channel.get_variable("AFTER")               # ...which goes on (g)
        sim.pbx.redirect(customer.channel, "conf", "777", 1)
        third = await sim.pbx.originate(channel="PJSIP/1003", context="conf", exten="777", priority=1)
        await asyncio.sleep(5)
        members = len(sim.pbx.conferences["777"].channels)
        sim.phones["1003"].hang_up()
        sim.phones["1002"].hang_up()
        outcome = await customer.wait()
        await asyncio.sleep(1)
        return after, members, third, outcome, events
    after, members, third, outcome, events = run_site(body, tmp_path)
    assert after == "dial" and members == 3 and third.success
    conf = [(e.name, e.get("Conference")) for e in events if e.name.startswith("Confbridge")]
    assert conf[0] == ("ConfbridgeStart", "777") and conf[-1] == ("ConfbridgeEnd", "777")
    assert [n for n, _ in conf].count("ConfbridgeJoin") == 3 and [n for n, _ in conf].count("ConfbridgeLeave") == 3
    join = next(e for e in events if e.name == "ConfbridgeJoin")
    assert join.keys()[:8] == ["Conference", "BridgeUniqueid", "BridgeType", "BridgeTechnology", "BridgeCreator",
                               "BridgeName", "BridgeNumChannels", "BridgeVideoSourceMode"]
    assert (join.get("BridgeTechnology"), join.get("BridgeCreator"), join.get("BridgeName")) == ("softmix", "ConfBridge", "777")
    assert outcome.ended == pytest.approx(60.0)


def test_after_an_ami_bridge_each_channel_goes_on_in_the_dialplan(tmp_path):
    plan = ("[held]\nexten => s,1,MusicOnHold(default,600)\n same => n,Set(NEXT=survey)\n same => n,Wait(5)\n"
            "[agenthold]\nexten => s,1,Answer()\n same => n,Wait(3600)\n same => n,Hangup()\n")

    async def body(sim, events):
        sim.pbx.dialplan.contexts.update(Dialplan.from_text(plan).contexts)
        cust = await sim.place_call(CallerScript("13800138000", dnid="s", context="held"))
        agent = await sim.place_call(CallerScript("1002", dnid="s", context="agenthold", steps=["wait 30", "hangup"]))
        await asyncio.sleep(2)
        sim.pbx.bridge(cust.channel, agent.channel)                  # unhold
        await asyncio.sleep(3)
        sim.pbx.redirect(cust.channel, "held", "s", 1)              # hold again: out of the AMI bridge
        sim.pbx.redirect(agent.channel, "agenthold", "s", 1)
        await asyncio.sleep(3)
        in_moh = cust.channel.moh_class
        sim.pbx.bridge(cust.channel, agent.channel)                  # unhold again
        out = await cust.wait()
        return in_moh, out, events
    in_moh, out, events = run_site(body, tmp_path)
    assert in_moh == "default"
    assert [e.get("Value") for e in events if e.get("Variable") == "NEXT"] == ["survey"]
    assert out.ended == pytest.approx(30 + 5)                       # the agent left at 30 s; 5 s of survey
