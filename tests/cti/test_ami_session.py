"""AmiSession on the wire: Pongs checked, silence detected, reconnect with backoff, nothing re-sent,
per-action timeouts, a failing/slow handler never stalls the reader, UTF-8 split across reads."""
from __future__ import annotations

import asyncio
import logging

import pytest

from cti.ami import (AmiActionError, AmiActionLost, AmiActionTimeout, AmiConfig, AmiSession)
from tests.cti.scripted_ami import ScriptedAmi, render


def _config(port: int, **kw) -> AmiConfig:
    base = dict(host="127.0.0.1", port=port, username="hotline", secret="s", ping_interval=0.1,
                ping_timeout=0.2, action_timeout=0.5, reconnect_max_delay=0.4, reconnect_initial_delay=0.05)
    base.update(kw)
    return AmiConfig(**base)


async def _running(session: AmiSession):
    task = asyncio.create_task(session.run())
    await session.wait_connected(3)
    return task


async def _stop(session, task):
    await session.stop()
    await asyncio.wait_for(task, 3)


async def test_silent_pbx_is_detected_and_the_session_reconnects(caplog):
    server = await ScriptedAmi().start()
    session = AmiSession(_config(server.port))
    task = await _running(session)
    assert server.logins == 1
    server.answer_pings = False
    caplog.set_level(logging.ERROR, "hotline.cti.ami")
    for _ in range(60):
        await asyncio.sleep(0.05)
        if server.logins >= 2:
            break
    server.answer_pings = True
    await session.wait_connected(3)
    assert server.logins >= 2
    assert any("no Pong and nothing else within" in r.getMessage() for r in caplog.records)
    await _stop(session, task)
    await server.close()


async def test_action_timeout_names_action_and_action_id():
    server = await ScriptedAmi().start()
    session = AmiSession(_config(server.port, ping_interval=30))
    task = await _running(session)
    server.answer_actions = False
    with pytest.raises(AmiActionTimeout) as err:
        await session.send_action({"Action": "Getvar", "Channel": "x", "Variable": "Y"}, timeout=0.2)
    assert "Getvar" in str(err.value) and err.value.action_id in str(err.value)
    server.answer_actions = True
    with pytest.raises(AmiActionError) as err:
        await session.send_action({"Action": "NoSuchAction"})
    assert "Invalid/unknown command" in str(err.value)
    await _stop(session, task)
    await server.close()


async def test_originate_in_flight_is_failed_not_resent_after_reconnect():
    server = await ScriptedAmi().start()
    session = AmiSession(_config(server.port, ping_interval=30))
    task = await _running(session)
    server.answer_actions = False
    pending = asyncio.create_task(session.send_action(
        {"Action": "Originate", "Channel": "PJSIP/1001", "Exten": "100", "Context": "x", "Priority": "1"},
        timeout=5))
    await asyncio.sleep(0.1)
    server.kill_connections()
    with pytest.raises(AmiActionLost) as err:
        await pending
    assert "Originate" in str(err.value) and "not re-sent" in str(err.value)
    server.answer_actions = True
    await session.wait_connected(3)
    await asyncio.sleep(0.2)
    originates = [h for h in server.received if h.get("Action") == "Originate"]
    assert len(originates) == 1
    await _stop(session, task)
    await server.close()


async def test_backoff_grows_until_the_server_comes_back():
    server = await ScriptedAmi().start()
    port = server.port
    await server.close()
    session = AmiSession(_config(port, ping_interval=30))
    task = asyncio.create_task(session.run())
    await asyncio.sleep(0.5)
    assert session._delay == pytest.approx(0.4)      # 0.05 -> 0.1 -> 0.2 -> 0.4 (capped)
    server2 = ScriptedAmi()
    server2.server = await asyncio.start_server(server2._serve, "127.0.0.1", port)
    server2.port = port
    await session.wait_connected(3)
    assert session._delay == pytest.approx(0.05)
    await _stop(session, task)
    await server2.close()


async def test_failing_and_slow_handlers_do_not_stall_other_calls_or_the_reader():
    server = await ScriptedAmi().start()
    session = AmiSession(_config(server.port, ping_interval=30))
    seen_inline, handled = [], []
    release = asyncio.Event()
    session.add_observer(lambda e: seen_inline.append(e["Uniqueid"]))

    async def handler(event):
        if event["Linkedid"] == "slow.1":
            await release.wait()
        if event["Linkedid"] == "bad.1":
            raise RuntimeError("boom")
        handled.append(event["Uniqueid"])

    session.add_handler(handler)
    task = await _running(session)
    for linked, uid in [("slow.1", "s1"), ("bad.1", "b1"), ("ok.1", "o1"), ("slow.1", "s2"), ("ok.1", "o2")]:
        server.push(render([("Event", "Newstate"), ("Privilege", "call,all"), ("Channel", "PJSIP/1-1"),
                            ("Uniqueid", uid), ("Linkedid", linked)]))
    for _ in range(40):
        await asyncio.sleep(0.02)
        if handled == ["o1", "o2"]:
            break
    assert seen_inline == ["s1", "b1", "o1", "s2", "o2"]
    assert handled == ["o1", "o2"]
    pong = await session.send_action({"Action": "Ping"})       # the reader is alive
    assert pong["Ping"] == "Pong"
    release.set()
    await session.dispatcher.drain()
    assert handled == ["o1", "o2", "s1", "s2"]
    await _stop(session, task)
    await server.close()


async def test_utf8_split_across_reads_and_noise_filtered():
    server = await ScriptedAmi().start()
    session = AmiSession(_config(server.port, ping_interval=30))
    events = []
    session.add_observer(events.append)
    task = await _running(session)
    data = render([("Event", "NewCallerid"), ("Channel", "PJSIP/1001-1"), ("CallerIDName", "张伟"),
                   ("Uniqueid", "1.1"), ("Linkedid", "1.1")])
    cut = data.index("张".encode()) + 1
    server.push(render([("Event", "Newexten"), ("Uniqueid", "1.1")]))
    server.push(render([("Event", "VarSet"), ("Variable", "FOO"), ("Value", "x"), ("Uniqueid", "1.1")]))
    server.push(data[:cut])
    await asyncio.sleep(0.05)
    server.push(data[cut:])
    for _ in range(40):
        await asyncio.sleep(0.02)
        if events:
            break
    assert [e["Event"] for e in events] == ["NewCallerid"]
    assert events[0]["CallerIDName"] == "张伟"
    await _stop(session, task)
    await server.close()


async def test_connect_hooks_run_on_every_connection_before_events_flow():
    server = await ScriptedAmi().start()
    server.channels = [[("Channel", "PJSIP/1001-00000001"), ("ChannelState", "6"), ("ChannelStateDesc", "Up"),
                        ("Uniqueid", "5.1"), ("Linkedid", "5.1"), ("BridgeId", "")]]
    session = AmiSession(_config(server.port, ping_interval=30))
    seen = []

    async def hook(s):
        items = await s.send_list({"Action": "CoreShowChannels"}, "CoreShowChannel")
        endpoints = await s.send_list({"Action": "PJSIPShowEndpoints"}, "EndpointList",
                                      empty_messages=("No endpoints found",))
        seen.append(([i["Channel"] for i in items], endpoints, list(events)))

    events = []
    session.add_observer(lambda e: events.append(e["Event"]))
    session.add_connect_hook(hook)
    task = await _running(session)
    server.kill_connections()
    await until_connected_twice(session)
    assert [s[0] for s in seen] == [["PJSIP/1001-00000001"]] * 2
    assert seen[0][1] == [] and seen[0][2] == []
    await _stop(session, task)
    await server.close()


async def until_connected_twice(session):
    for _ in range(100):
        if session.connection_count >= 2 and session.connected.is_set():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("no second connection")


async def test_a_backlog_of_events_holds_the_pbx_back_and_nothing_is_lost(caplog):
    """Handlers stalled (a database that hangs): past high water the reader stops reading, so the backlog stays
    bounded by what was already read instead of growing with the PBX's traffic; the stop is not taken for a
    silent PBX; once the handlers catch up every event is handled, in order per call, on the same connection."""
    server = await ScriptedAmi().start()
    session = AmiSession(_config(server.port, ping_interval=0.05, ping_timeout=0.1))
    session.dispatcher.high_water, session.dispatcher.low_water = 500, 100
    release = asyncio.Event()
    handled: dict[str, list[int]] = {}

    async def handler(event):
        await release.wait()
        handled.setdefault(event["Linkedid"], []).append(int(event["Uniqueid"]))

    session.add_handler(handler)
    task = await _running(session)
    total = 40_000                                   # ~5 MB: far more than one read and the kernel's buffers
    server.push(b"".join(render([("Event", "Newstate"), ("Privilege", "call,all"), ("Channel", f"PJSIP/1-{i}"),
                                 ("ChannelStateDesc", "Ring" * 8), ("Uniqueid", str(i)),
                                 ("Linkedid", f"call.{i % 20}")]) for i in range(total)))
    for _ in range(200):
        await asyncio.sleep(0.01)
        if session.dispatcher.pressed:
            break
    assert session.dispatcher.pressed and session.protocol.reading is False
    await asyncio.sleep(0.5)                          # ten ping intervals while the reader is held back
    held = session.dispatcher.backlog
    assert 500 <= held < total // 2                   # bounded by what was read, not by what the PBX sent
    assert session.connection_count == 1 and session.connected.is_set()
    release.set()
    for _ in range(500):
        await asyncio.sleep(0.02)
        if sum(map(len, handled.values())) == total:
            break
    assert sum(map(len, handled.values())) == total
    assert all(uids == sorted(uids) for uids in handled.values())       # each call's events in wire order
    assert session.protocol.reading and session.connection_count == 1
    pong = await session.send_action({"Action": "Ping"})
    assert pong["Ping"] == "Pong"
    assert any("reading from the PBX pauses" in r.getMessage() for r in caplog.records)
    await _stop(session, task)
    await server.close()
