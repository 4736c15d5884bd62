"""Fuzzed AMI event streams (hypothesis, bounded to a few seconds).

* the reader gives the same messages however the bytes are cut into reads (UTF-8 split included), and
  its bytes-level noise filter agrees with ``is_noise`` on every message;
* any order of channel/bridge/dial events (orphans, repeats, Hangup first, empty DestUniqueid) leaves
  the live model JSON-serialisable with no hung-up channel alive, and one light reconciliation against
  the PBX's channel list makes it equal to the PBX;
* the same kind of stream over real TCP leaves the session connected (Ping answered) and the model,
  after the reconciliation, equal to what the scripted PBX reports.
"""
from __future__ import annotations

import asyncio
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cti.ami import AmiConfig, AmiSession, is_noise, skip_noise
from cti.ami_reader import AmiReader, parse_stream
from cti.model import LiveModel
from tests.cti.scripted_ami import ScriptedAmi, render

NAMES = ["Newchannel", "Newstate", "Hangup", "BridgeEnter", "BridgeLeave", "BridgeCreate", "BridgeDestroy",
         "DialBegin", "DialEnd", "LocalBridge", "Hold", "Unhold", "MixMonitorStart", "MixMonitorStop", "VarSet",
         "Newexten", "DeviceStateChange", "AGIExecStart", "Rename", "MusicOnHoldStart", "ConfbridgeJoin",
         "NewCallerid", "AttendedTransfer", "BlindTransfer", "ChanSpyStart", "UserEvent"]
UIDS = ["1.1", "1.2", "2.1", "2.2", "3.1", ""]
TEXT = st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=12)
VALUE = st.one_of(st.sampled_from(UIDS), st.sampled_from(["Local/x@y-1;1", "PJSIP/1001-0001", "Up", "Ringing",
                                                          "MIXMONITOR_FILENAME", "HOTLINE_QUEUE", "FOO"]), TEXT)
KEYS = ["Channel", "Uniqueid", "Linkedid", "ChannelStateDesc", "DestUniqueid", "DestChannel", "DestLinkedid",
        "BridgeUniqueid", "DialStatus", "Variable", "Value", "Device", "LocalOneUniqueid", "LocalTwoUniqueid",
        "CallerIDNum", "CallerIDName", "Newname", "TransfererUniqueid", "Conference", "Cause"]
HEADER = st.tuples(st.sampled_from(KEYS), VALUE)
EVENT = st.builds(lambda name, headers: [("Event", name)] + headers, st.sampled_from(NAMES),
                  st.lists(HEADER, max_size=10))


def _channels_truth(model: LiveModel, keep: set[str]) -> list[list[tuple[str, str]]]:
    return [[("Channel", f"PJSIP/pbx-{u}"), ("ChannelStateDesc", "Up"), ("Uniqueid", u), ("Linkedid", "L" + u),
             ("BridgeId", "")] for u in sorted(keep)]


def _check_model(model: LiveModel) -> None:
    json.dumps(model.calls_view())
    for uid, chan in model.channels.items():
        assert uid not in model.gone
        assert chan.linkedid in model.calls and uid in model.calls[chan.linkedid].channels
        assert isinstance(chan.name, str)


@settings(max_examples=150, deadline=None)
@given(events=st.lists(EVENT, max_size=25), cuts=st.lists(st.integers(1, 400), max_size=12))
def test_reader_is_cut_independent_and_the_noise_filter_agrees(events, cuts):
    data = b"Asterisk Call Manager/11.0.0\r\n" + b"".join(render(e) for e in events)
    whole = [dict(m) for m in parse_stream(data)]
    reader = AmiReader()
    pieces, at = [], 0
    for cut in cuts:
        pieces.append(data[at:at + cut])
        at += cut
    pieces.append(data[at:])
    got = []
    for piece in pieces:
        got += [dict(m) for m in reader.feed(piece)]
    got += [dict(m) for m in reader.eof()]
    assert got == whole
    filtered = [dict(m) for m in parse_stream(data, skip_noise)]
    assert filtered == [m for m in whole if not is_noise(m)]


@settings(max_examples=200, deadline=None)
@given(events=st.lists(EVENT, max_size=40), alive=st.sets(st.sampled_from(UIDS[:-1])))
def test_any_event_order_leaves_a_consistent_model_and_one_reconcile_fixes_it(events, alive):
    model = LiveModel()
    for msg in parse_stream(b"".join(render(e) for e in events)):
        model.apply(msg)
        _check_model(model)
    channels = [dict(item) for item in _channels_truth(model, alive)]
    model.resync_channels(channels)
    _check_model(model)
    assert set(model.channels) == alive
    assert set(model.calls) == {"L" + u for u in alive}
    assert model.bridges == {}
    assert all(d["status"] != "ringing" for c in model.calls.values() for d in c.dials)
    assert model.suspect_since is None


async def _over_tcp(streams: list[bytes], alive: set[str]) -> None:
    server = await ScriptedAmi().start()
    session = AmiSession(AmiConfig(port=server.port, username="u", secret="s", ping_interval=30))
    model = LiveModel()
    session.add_observer(model.apply)
    task = asyncio.create_task(session.run())
    try:
        await session.wait_connected(3)
        for chunk in streams:
            server.push(chunk)
            await asyncio.sleep(0)
        pong = await session.send_action({"Action": "Ping"})          # in order: after every event above
        assert pong["Ping"] == "Pong" and session.connection_count == 1
        _check_model(model)
        server.channels = _channels_truth(model, alive)
        channels = await session.send_list({"Action": "CoreShowChannels"}, "CoreShowChannel")
        model.resync_channels(channels)
        assert set(model.channels) == alive and set(model.calls) == {"L" + u for u in alive}
    finally:
        await session.stop()
        await asyncio.wait_for(task, 3)
        await server.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(EVENT, min_size=1, max_size=60), alive=st.sets(st.sampled_from(UIDS[:-1])),
       size=st.integers(1, 300))
def test_fuzzed_stream_over_tcp_keeps_the_session_up_and_the_model_reconcilable(events, alive, size):
    data = b"".join(render(e) for e in events)
    asyncio.run(_over_tcp([data[i:i + size] for i in range(0, len(data), size)], alive))
