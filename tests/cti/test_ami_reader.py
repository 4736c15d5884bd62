"""The AMI reader on the wire: repeated headers, Command output, a missing final CRLF, a 1 MiB field,
oversized messages, the real captures, and the ping watchdog under an event flood."""
from __future__ import annotations

import asyncio
import json
import logging

from cti.ami import AmiConfig, AmiSession, is_noise, skip_noise
from cti.ami_reader import MAX_MESSAGE, AmiReader, parse_message, parse_stream
from cti.model import LiveModel
from tests.cti.captures import CAPTURES, capture_bytes, parse_events
from tests.cti.scripted_ami import ScriptedAmi, render


def _config(port: int, **kw) -> AmiConfig:
    base = dict(host="127.0.0.1", port=port, username="hotline", secret="s", ping_interval=30, ping_timeout=5,
                action_timeout=2, reconnect_max_delay=0.4, reconnect_initial_delay=0.05)
    base.update(kw)
    return AmiConfig(**base)


async def _session(server: ScriptedAmi, **kw):
    session = AmiSession(_config(server.port, **kw))
    model = LiveModel()
    events = []
    session.add_observer(model.apply)
    session.add_observer(events.append)
    task = asyncio.create_task(session.run())
    await session.wait_connected(3)
    return session, task, model, events


async def _until(predicate, tries=250):
    for _ in range(tries):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


async def _stop(session, task, server):
    await session.stop()
    await asyncio.wait_for(task, 3)
    await server.close()


NEWCHANNEL = [("Event", "Newchannel"), ("Privilege", "call,all"), ("Channel", "PJSIP/1001-00000001"),
              ("Channel", "PJSIP/evil-00000002"), ("ChannelState", "0"), ("ChannelStateDesc", "Down"),
              ("CallerIDNum", "13800138000"), ("CallerIDName", "张伟"), ("Uniqueid", "9.1"), ("Linkedid", "9.1")]


async def test_a_repeated_header_is_its_first_value_and_the_call_view_stays_json():
    server = await ScriptedAmi().start()
    session, task, model, events = await _session(server)
    server.push(render(NEWCHANNEL))
    await _until(lambda: events)
    event = events[0]
    assert event["Channel"] == "PJSIP/1001-00000001"            # Asterisk's astman_get_header: first match
    assert event.all("Channel") == ["PJSIP/1001-00000001", "PJSIP/evil-00000002"]
    assert model.channels["9.1"].name == "PJSIP/1001-00000001"
    view = model.call_view("9.1")
    assert json.loads(json.dumps(view))["channels"][0]["name"] == "PJSIP/1001-00000001"
    assert all(isinstance(v, str) for v in event.values())
    await _stop(session, task, server)


async def test_command_output_lines_and_a_list_action_over_tcp():
    server = await ScriptedAmi().start()
    server.raw_replies["command"] = (b"Response: Success\r\nActionID: {aid}\r\nMessage: Command output follows\r\n"
                                     b"Output: Name/username             Host\r\nOutput: 1001/1001   127.0.0.1\r\n"
                                     b"Output: 1 sip peers\r\n\r\n")
    server.channels = [[("Channel", f"PJSIP/100{i}-0000000{i}"), ("ChannelStateDesc", "Up"), ("Uniqueid", f"7.{i}"),
                        ("Linkedid", "7.1")] for i in range(1, 4)]
    session, task, model, events = await _session(server)
    reply = await session.send_action({"Action": "Command", "Command": "pjsip show endpoints"})
    assert reply["Output"] == "Name/username             Host\n1001/1001   127.0.0.1\n1 sip peers"
    assert len(reply.all("Output")) == 3 and reply.success
    items = await session.send_list({"Action": "CoreShowChannels"}, "CoreShowChannel")
    assert [i["Channel"] for i in items] == ["PJSIP/1001-00000001", "PJSIP/1002-00000002", "PJSIP/1003-00000003"]
    assert events == []                                 # list items are the action's, not events
    await _stop(session, task, server)


def test_old_follows_body_and_a_value_with_colons():
    msg = parse_message("Response: Follows\r\nPrivilege: Command\r\nline one\r\nline: two\r\n--END COMMAND--")
    assert msg["Response"] == "Follows" and msg["Output"] == "line one"
    assert msg["line"] == "two"
    assert parse_message("Event: X\r\nURL: http://a:b/c")["URL"] == "http://a:b/c"
    assert parse_message("Event: X\r\nEmpty:\r\nBlank: ")["Empty"] == "" and parse_message("Blank: ")["Blank"] == ""


async def test_a_missing_final_crlf_before_the_pbx_closes():
    server = await ScriptedAmi().start()
    session, task, model, events = await _session(server)
    server.push(b"Event: Hangup\r\nChannel: PJSIP/1001-1\r\nUniqueid: 1.1\r\nLinkedid: 1.1\r\nCause: 16")
    await asyncio.sleep(0.05)
    server.kill_connections()
    await _until(lambda: events)
    assert events[0]["Cause"] == "16" and events[0]["Event"] == "Hangup"
    reader = AmiReader()
    assert reader.feed(b"Asterisk Call Manager/11.0.0\r\nEvent: A\r\nX: 1\r\n") == []
    assert [dict(m) for m in reader.eof()] == [{"Event": "A", "X": "1"}]
    await _stop(session, task, server)


async def test_a_1_mib_field_passes_and_a_bigger_message_is_dropped_unbuffered(caplog):
    server = await ScriptedAmi().start()
    session, task, model, events = await _session(server)
    reader = session.protocol.reader
    big = "语" * (1024 * 1024 // 3)                       # ~1 MiB of UTF-8, cut across reads below
    data = render([("Event", "UserEvent"), ("UserEvent", "Big"), ("Data", big), ("Uniqueid", "2.1")])
    huge = b"Event: UserEvent\r\nData: " + b"x" * (3 * MAX_MESSAGE)
    tail = render([("Event", "UserEvent"), ("UserEvent", "After"), ("Uniqueid", "2.2")])
    caplog.set_level(logging.WARNING, "hotline.cti.ami")
    peak = 0
    for payload in (data, huge + b"\r\n\r\n", tail):
        for i in range(0, len(payload), 65521):
            server.push(payload[i:i + 65521])
            await asyncio.sleep(0)
            peak = max(peak, reader.pending)
    await _until(lambda: len(events) == 2)
    assert events[0]["Data"] == big and events[1]["UserEvent"] == "After"
    assert peak <= MAX_MESSAGE + 65536
    assert reader.oversized == 1
    assert len([r for r in caplog.records if "was dropped" in r.getMessage()]) == 1
    await _stop(session, task, server)


def test_a_long_message_is_joined_once_not_at_every_read():
    """A 2 MiB message in 4 KiB reads: the reader keeps the pieces and joins them when the end arrives (joining
    and rescanning at every read cost the square: ~1 GB copied for this one message)."""
    reader = AmiReader()
    assert reader.feed(b"Asterisk Call Manager/11.0.0\r\nEvent: Before\r\n\r\nEvent: UserEvent\r\nData: ") \
        == [{"Event": "Before"}]
    field = ("语音" * 170_000).encode()                 # 1,020,000 bytes: under the 1 MiB field limit
    body = field + b"\r\nMore: " + field
    for i in range(0, len(body), 4096):
        assert reader.feed(body[i:i + 4096]) == []
    assert reader.pending == len("Event: UserEvent\r\nData: ") + len(body)
    assert len(reader._pieces) == 1 + (len(body) + 4095) // 4096          # kept as read, never joined
    [msg] = reader.feed(b"\r\n\r\nEvent: After\r\n")
    assert msg["Data"] == msg["More"] == field.decode()
    assert reader.pending == len(b"Event: After\r\n")
    assert [dict(m) for m in reader.feed(b"\r\n")] == [{"Event": "After"}]


def test_captures_give_the_same_events_as_before_byte_for_byte():
    """Every real capture parsed by the new reader equals what panoramisk's parser gave (no capture has a
    repeated key), and the bytes-level noise filter agrees with is_noise on every message."""
    names = sorted(p.name.split(".")[0] for p in CAPTURES.glob("*.log"))
    assert len(names) >= 10
    for name in names:
        data = capture_bytes(name)
        old = [{k: v for k, v in e.items() if k != "content"} for e in parse_events(data)]  # panoramisk's body slot
        new = [dict(m) for m in parse_stream(data) if "Event" in m]
        assert new == old, name
        filtered = [dict(m) for m in parse_stream(data, skip_noise) if "Event" in m]
        assert filtered == [e for e in old if not is_noise(e)], name


async def test_an_event_flood_delays_the_pong_but_does_not_drop_a_healthy_connection():
    server = await ScriptedAmi().start()
    session, task, model, events = await _session(server, ping_interval=0.1, ping_timeout=0.2)
    flood = b"".join(render([("Event", "Newstate"), ("Channel", f"PJSIP/1001-{i:08x}"), ("ChannelStateDesc", "Up"),
                             ("Uniqueid", f"3.{i}"), ("Linkedid", "3.0")]) + render([
                             ("Event", "Hangup"), ("Channel", f"PJSIP/1001-{i:08x}"), ("Uniqueid", f"3.{i}"),
                             ("Linkedid", "3.0"), ("Cause", "16")]) for i in range(50_000))
    server.flood_before_next_pong = flood               # 100,000 events queued ahead of the next Pong
    await _until(lambda: len(events) >= 100_000, tries=1500)
    await asyncio.sleep(0.3)                            # a few more pings, answered at once now
    assert session.connection_count == 1 and server.logins == 1
    assert session.connected.is_set()
    assert model.channels == {} and model.calls == {}
    await _stop(session, task, server)
