"""Out-of-order and orphan AMI events over real TCP: no hung-up channel comes back, ghosts and dials to
nowhere are removed by the light reconciliation (CoreShowChannels), and an agent rung by a DialBegin
without DestUniqueid does not stay ringing."""
from __future__ import annotations

import asyncio

from cti.ami import AmiConfig, AmiSession
from cti.ami_reader import parse_stream
from cti.core import Cti
from cti.model import LiveModel
from tests.cti.helpers import AGENTS, database
from tests.cti.rig import RecordingPublisher, until
from tests.cti.scripted_ami import ScriptedAmi, render


def ev(name: str, uid: str, linkedid: str, channel: str = "", **extra: str) -> bytes:
    headers = [("Event", name), ("Privilege", "call,all"), ("Channel", channel or f"PJSIP/trunk-{uid}"),
               ("ChannelState", "6"), ("ChannelStateDesc", "Up"), ("CallerIDNum", "13800138000"),
               ("Uniqueid", uid), ("Linkedid", linkedid)]
    return render(headers + list(extra.items()))


def test_a_hung_up_channel_never_comes_back_and_orphans_mark_the_model_suspect():
    model = LiveModel()
    for msg in parse_stream(ev("Hangup", "1.1", "1.1", Cause="16") + ev("Newchannel", "1.1", "1.1")
                            + ev("Newchannel", "2.1", "2.1") + ev("Hangup", "2.1", "2.1", Cause="16")
                            + ev("Newstate", "2.1", "2.1")):
        model.apply(msg)
    assert model.channels == {} and model.calls == {}
    assert model.suspect_since is None                      # nothing was invented
    for msg in parse_stream(ev("BridgeEnter", "3.1", "3.1", BridgeUniqueid="b-1") + ev("DialEnd", "4.1", "4.1")):
        model.apply(msg)
    assert set(model.calls) == {"3.1", "4.1"} and model.suspect_since is not None
    model.resync_channels([])
    assert model.calls == {} and model.channels == {} and model.bridges == {}
    assert {c["linkedid"]: c["end_reason"] for c in model.ended_calls} == {
        "2.1": "cause 16",
        "3.1": "gone from the PBX (reconciled)", "4.1": "gone from the PBX (reconciled)"}


async def test_ghosts_are_reconciled_away_and_a_ringing_agent_is_released(tmp_path):
    server = await ScriptedAmi().start()
    caller = [("Channel", "PJSIP/trunk-00000005"), ("ChannelState", "6"), ("ChannelStateDesc", "Up"),
              ("CallerIDNum", "13800138000"), ("Uniqueid", "5.1"), ("Linkedid", "5.1"), ("BridgeId", "")]
    server.channels = [caller]                               # what the PBX really has: the waiting caller
    async with database(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}") as sessions:
        cti = Cti(agents=AGENTS, sessions=sessions, publisher=RecordingPublisher())
        cti.model.quiet_s, cti.model.max_wait_s, cti.model.every_s = 0.2, 1.0, 3600.0
        session = AmiSession(AmiConfig(port=server.port, username="u", secret="s", ping_interval=30))
        await cti.start()
        cti.attach(session)
        task = asyncio.create_task(session.run())
        try:
            await session.wait_connected(3)
            await cti.agents.transition("1001", "login")
            await cti.agents.transition("1001", "ready")
            reconciled_at_start = cti.model.last_reconcile_at
            server.push(ev("Hangup", "1.1", "1.1", Cause="16") + ev("Newchannel", "1.1", "1.1")
                        + ev("Newchannel", "2.1", "2.1") + ev("Hangup", "2.1", "2.1", Cause="16")
                        + ev("Newstate", "2.1", "2.1")
                        + ev("BridgeEnter", "3.1", "3.1", BridgeUniqueid="b-ghost", BridgeType="basic")
                        + ev("DialEnd", "4.1", "4.1", DestChannel="PJSIP/1004-00000009", DestUniqueid="4.2",
                             DialStatus="ANSWER")
                        + ev("Newchannel", "5.1", "5.1", channel="PJSIP/trunk-00000005")
                        + ev("DialBegin", "5.1", "5.1", channel="PJSIP/trunk-00000005",
                             DestChannel="PJSIP/1001-0000000a", DestUniqueid="", DialString="1001"))
            await until(lambda: cti.agents.get("1001").state.value == "ringing", what="agent ringing")
            assert {"3.1", "4.1", "5.1"} <= set(cti.model.calls)          # the ghosts exist for now
            assert "1.1" not in cti.model.calls and "2.1" not in cti.model.calls
            await until(lambda: cti.model.last_reconcile_at > reconciled_at_start, timeout=10,
                        what="light reconciliation")
            await until(lambda: cti.agents.get("1001").state.value == "ready", what="agent released")
            assert set(cti.model.calls) == {"5.1"}
            assert set(cti.model.channels) == {"5.1"} and cti.model.bridges == {}
            assert [d["status"] for d in cti.model.calls["5.1"].dials] == ["gone"]
            assert cti.model.call_view("5.1")["state"] == "active"
            assert [h for h in server.received if h.get("Action") == "CoreShowChannels"]
        finally:
            await session.stop()
            await asyncio.wait_for(task, 3)
            await cti.close()
            await server.close()
