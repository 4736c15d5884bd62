"""The live model fed with real Asterisk 22 event streams ends in the right state."""
from __future__ import annotations

import asyncio

from cti.ami import AmiConfig, AmiSession, is_noise
from cti.model import LiveModel
from tests.cti.captures import capture_bytes, parse_events
from tests.cti.scripted_ami import ScriptedAmi


def _replay(name: str, until=None, connection=None) -> LiveModel:
    model = LiveModel()
    for event in parse_events(capture_bytes(name, connection)):
        if is_noise(event):
            continue
        model.apply(event)
        if until and until(event):
            break
    return model


def test_dialtest_mid_call_two_parties_bridged_by_linkedid():
    model = _replay("ami_dialtest", until=lambda e: e["Event"] == "BridgeEnter"
                    and e["Channel"] == "Local/long@callerctx-00000005;1")
    assert list(model.calls) == ["1795434832.10"]
    view = model.call_view("1795434832.10")
    assert view["state"] == "talking"
    assert view["talking"] == [{"bridge": "ea8c4317-1327-4e59-a049-0e55d3698b7e",
                                "parties": ["Local/s@agentctx-00000006;1", "Local/long@callerctx-00000005;1"]}]
    assert {c["name"] for c in view["channels"]} == {
        "Local/long@callerctx-00000005;1", "Local/long@callerctx-00000005;2",
        "Local/s@agentctx-00000006;1", "Local/s@agentctx-00000006;2"}
    assert [d["status"] for d in view["dials"]] == ["answer", "answer"]
    peers = model.bridge_peers("1795434832.10")
    assert [p.name for p in peers] == ["Local/s@agentctx-00000006;1"]


def test_dialtest_end_state_everything_hung_up():
    model = _replay("ami_dialtest")
    assert model.channels == {} and model.calls == {} and model.bridges == {}
    ended = model.call_view("1795434832.10")
    assert ended["state"] == "ended" and ended["end_reason"] == "Normal Clearing"
    assert [d["to"] for d in ended["dials"]] == ["Local/long@callerctx-00000005;1", "Local/s@agentctx-00000006;1"]


def test_dialagi_and_final_captures_end_with_no_live_calls():
    for name in ("ami_dialagi", "ami_final", "ami_s1", "ami_early", "ami_hupcmd", "ami_timeout", "ami_digits"):
        model = _replay(name)
        assert model.channels == {}, name
        assert model.calls == {}, name
        assert len(model.ended_calls) == 1, name


def test_noagi_capture_stops_mid_call_and_the_call_is_still_live():
    model = _replay("ami_noagi")
    assert list(model.calls) == ["1795434948.26"]
    assert sorted(c.name for c in model.channels.values()) == [
        "Local/timeout@callerctx-0000000c;1", "Local/timeout@callerctx-0000000c;2"]
    assert all(c.state == "Up" for c in model.channels.values())
    assert model.call_view("1795434948.26")["channels"][0]["caller"]["num"] == "5551234"


def test_mixmonitor_capture_tracks_recording_and_hold_music():
    events = [e for e in parse_events(capture_bytes("ami_mm", "mm")) if not is_noise(e)]
    model = LiveModel()
    seen_recording = seen_hold = False
    for event in events:
        model.apply(event)
        for call in model.calls.values():
            view = model.call_view(call.linkedid)
            seen_recording |= bool(view["recordings"])
            seen_hold |= bool(view["on_hold"])
        if event["Event"] == "MixMonitorStop":
            chan = model.channel_by_name(event["Channel"])
            assert chan.recording is False
    assert seen_recording and seen_hold
    assert model.calls == {}


async def test_capture_bytes_through_a_real_session_in_odd_chunks():
    """The same capture pushed over TCP in 7-byte pieces gives the same model as the direct replay."""
    server = await ScriptedAmi().start()
    session = AmiSession(AmiConfig(port=server.port, username="u", secret="s", ping_interval=30))
    model = LiveModel()
    session.add_observer(model.apply)
    task = asyncio.create_task(session.run())
    await session.wait_connected(3)
    data = capture_bytes("ami_dialtest").split(b"\r\n", 1)[1]     # without the banner
    cut = data.index(b"Event: BridgeEnter")
    cut = data.index(b"Event: BridgeEnter", cut + 1)
    cut = data.index(b"\r\n\r\n", cut) + 4
    for i in range(0, cut, 7):
        server.push(data[i:min(i + 7, cut)])
        await asyncio.sleep(0)
    for _ in range(50):
        await asyncio.sleep(0.02)
        if model.bridges and len(next(iter(model.bridges.values())).channels) == 2:
            break
    expected = _replay("ami_dialtest", until=lambda e: e["Event"] == "BridgeEnter"
                       and e["Channel"] == "Local/long@callerctx-00000005;1")
    assert model.snapshot() == expected.snapshot()
    await session.stop()
    await asyncio.wait_for(task, 3)
    await server.close()
