"""The FastAGI server and AgiChannel over TCP against replayed real Asterisk sessions (agi/*.log)."""
from __future__ import annotations

import asyncio

import pytest

from ivr.agi import AgiChannel, AgiHangup, AgiUnknownCommand, AgiUsageError, FastAgiServer
from ivr.agi.errors import AgiConnectionLost
from ivr.agi.protocol import Quoted

from .fakepbx import header_bytes, load_captures, replay


async def _serve(handler, path="ivr"):
    server = FastAgiServer({path: handler}, port=0)
    await server.start()
    return server


async def test_full_command_set_of_agi_final_with_typed_api():
    seen = {}

    async def handler(ch: AgiChannel):
        seen["request"] = ch.request
        await ch.answer()
        assert await ch.exec("MixMonitor", "/var/spool/asterisk/monitor/test.wav") == 0
        assert await ch.stream_file("hello-world") == (None, 11234)
        assert await ch.get_data("beep", 3000, 1) == ("1", False)
        assert await ch.get_variable("CALLERID(num)") == "5551234"
        await ch.set_variable("IVR_CHOICE", "1 two")
        assert await ch.get_full_variable("${IVR_CHOICE}-${CHANNEL(name)}") == "1 two-Local/s@callerctx-00000000;1"
        assert await ch.channel_status() == 6
        await ch.verbose("hello from fastagi", 1)
        assert await ch.wait_for_digit(500) is None
        assert await ch.stream_file("beep", "#") == (None, 3404)
        reply = await ch.command("DATABASE PUT", "ivr", "lastcall", "ok")
        assert reply.result == "1"
        with pytest.raises(AgiUnknownCommand):
            await ch._channel_command("BOGUS COMMAND")
        with pytest.raises(AgiUsageError) as usage:
            await ch._channel_command("GET DATA")
        seen["usage"] = usage.value.usage
        reply = await ch.command("SET VARIABLE")
        assert reply.code == 520 and reply.usage == "Sets a variable to the current channel."
        seen["done"] = True

    server = await _serve(handler)
    try:
        await replay(server.port, load_captures("agi_final.log")[0])
        await asyncio.sleep(0.05)
    finally:
        await server.close()
    assert seen["done"]
    request = seen["request"]
    assert request.path == "ivr" and request.query == {"lang": "en"} and request.args == ("arg1", "arg two")
    assert request.caller == "5551234" and request.caller_name == "Test Caller"
    assert "Returns the digits received" in seen["usage"]
    assert server.active_sessions == 0 and server.failed == 0


async def test_digits_capture_escape_digit_wait_and_get_data_with_terminator():
    results = []

    async def handler(ch: AgiChannel):
        results.append(await ch.stream_file("demo-congrats", "123"))
        results.append(await ch.wait_for_digit(5000))
        results.append(await ch.get_data("beep", 5000, 3))

    server = await _serve(handler, "digits")
    try:
        await replay(server.port, load_captures("agi_digits.log")[0],
                     header=header_bytes("digits"))
    finally:
        await server.close()
    assert results == [("1", 10400), "2", ("34", False)]


async def test_hangup_line_after_the_reply_is_consumed_before_the_next_reply():
    """agi_raw2: GET DATA → -1, HANGUP 42 ms later; the next commands still get their own replies."""
    replies = []

    async def handler(ch: AgiChannel):
        await ch.answer()
        replies.append(await ch.command("GET DATA", "beep", 10000, 1))
        assert not ch.hungup
        replies.append(await ch.command("GET VARIABLE", "AGISTATUS"))
        assert ch.hungup  # the HANGUP line was read on the way to this reply
        replies.append(await ch.command("STREAM FILE", "beep", Quoted("")))
        assert await ch.exec("Playback", "beep") == 0
        replies.append(await ch.command("GET DATA", "beep", 1000, 1))
        replies.append(await ch.command("WAIT FOR DIGIT", 1000))
        replies.append(await ch.command("CHANNEL STATUS"))
        await ch.set_variable("X", "1")
        replies.append(await ch.command("HANGUP"))

    server = await _serve(handler, "early")
    try:
        await replay(server.port, load_captures("agi_raw2.log")[0], header=header_bytes("early"))
    finally:
        await server.close()
    assert [r.code for r in replies] == [200, 200, 511, 511, 511, 511, 511]
    assert replies[0].result == "-1" and replies[1].result == "0"


async def test_hangup_line_before_the_reply_of_the_command_in_flight():
    """agi_raw 'early': the HANGUP line arrives between STREAM FILE and its 511."""
    state = {}

    async def handler(ch: AgiChannel):
        await ch.answer()
        assert (await ch.command("GET DATA", "beep", 10000, 1)).result == "-1"
        reply = await ch.command("STREAM FILE", "hello-world", Quoted(""))
        state["stream"] = reply.code
        state["hungup"] = ch.hungup
        assert await ch.get_variable("CHANNEL") == "Local/early@callerctx-00000001;1"
        assert (await ch.command("NOOP still there?")).result == "0"
        assert await ch.exec("Wait", "1") == 0

    server = await _serve(handler)
    try:
        await replay(server.port, load_captures("agi_raw.log")[1])
    finally:
        await server.close()
    assert state == {"stream": 511, "hungup": True}


async def test_typed_api_raises_agi_hangup_and_server_ends_the_session_cleanly():
    session = load_captures("agi_raw2.log")[0]
    # ANSWER, GET DATA (-1) then the probe CHANNEL STATUS gets HANGUP + 511
    steps = [("expect", b"ANSWER\n"), ("send", b"200 result=0\n"),
             ("expect", b"GET DATA beep 10000 1\n"), ("send", b"200 result=-1\n"),
             ("expect", b"CHANNEL STATUS\n"), ("send", b"HANGUP\n"),
             ("send", b"511 Command Not Permitted on a dead channel or intercept routine\n")]
    session.steps = steps
    finished = []

    async def handler(ch: AgiChannel):
        await ch.answer()
        try:
            await ch.get_data("beep", 10000, 1)
        finally:
            finished.append(ch.hungup)

    server = await _serve(handler, "early")
    try:
        await replay(server.port, session, header=header_bytes("early"))
    finally:
        await server.close()
    assert finished == [True]
    assert server.failed == 0 and server.completed == 1


async def test_missing_sound_is_not_a_hangup():
    """agi_raw timeout scenario: STREAM FILE of a missing file answers -1 endpos=0 on a live channel."""
    steps = [("expect", b'STREAM FILE nonexistent-file ""\n'), ("send", b"200 result=-1 endpos=0\n"),
             ("expect", b"CHANNEL STATUS\n"), ("send", b"200 result=6\n"),
             ("expect", b"GET DATA nonexistent-file 500 1\n"), ("send", b"200 result=-1\n"),
             ("expect", b"CHANNEL STATUS\n"), ("send", b"200 result=6\n"),
             ("expect", b"GET DATA beep 2000 4\n"), ("send", b"200 result= (timeout)\n"),
             ("expect", b'RECORD FILE /var/spool/asterisk/monitor/agirec wav "#" 1500\n'),
             ("send", b"200 result=0 (timeout) endpos=0\n"),
             ("expect", b"EXEC NoSuchApp foo\n"), ("send", b"200 result=-2\n"),
             ("expect", b"GET VARIABLE NOSUCHVAR\n"), ("send", b"200 result=0\n"),
             ("expect", b"SET MUSIC ON default\n"), ("send", b"200 result=0\n"),
             ("expect", b"SET MUSIC OFF\n"), ("send", b"200 result=0\n")]
    session = load_captures("agi_raw.log")[0]
    session.steps = steps
    out = []

    async def handler(ch: AgiChannel):
        out.append(await ch.stream_file("nonexistent-file"))
        out.append(await ch.get_data("nonexistent-file", 500, 1))
        out.append(await ch.get_data("beep", 2000, 4))
        out.append(await ch.record_file("/var/spool/asterisk/monitor/agirec", "wav", "#", 1500))
        out.append(await ch.exec("NoSuchApp", "foo"))
        out.append(await ch.get_variable("NOSUCHVAR"))
        await ch.set_music(True)
        await ch.set_music(False)
        out.append(ch.missing_sounds)

    server = await _serve(handler)
    try:
        await replay(server.port, session)
    finally:
        await server.close()
    assert out == [(None, 0), ("", True), ("", True), (None, 0, "timeout"), -2, None,
                   ["nonexistent-file", "nonexistent-file"]]


async def test_eof_before_and_during_the_header_and_unknown_route():
    calls = []

    async def handler(ch):
        calls.append(ch)

    server = await _serve(handler, "hotline")
    try:
        # 1: connect and close at once
        r, w = await asyncio.open_connection("127.0.0.1", server.port)
        w.close()
        # 2: half a header, cut mid-line
        r, w = await asyncio.open_connection("127.0.0.1", server.port)
        w.write(b"agi_network: yes\nagi_request: agi://127.0.0.1/hot")
        await w.drain()
        w.close()
        # 3: a full header for a flow that does not exist: IVRSTATUS=NOFLOW, then closed
        r, w = await asyncio.open_connection("127.0.0.1", server.port)
        w.write(header_bytes("nosuchflow"))
        assert await r.readline() == b"SET VARIABLE IVRSTATUS NOFLOW\n"
        w.write(b"200 result=1\n")
        assert (await r.readline()).startswith(b"VERBOSE")
        w.write(b"200 result=1\n")
        assert await asyncio.wait_for(r.read(), 2) == b""
        w.close()
        for _ in range(50):
            if server.rejected == 3:
                break
            await asyncio.sleep(0.02)
    finally:
        await server.close()
    assert calls == [] and server.rejected == 3 and server.active_sessions == 0


async def test_dropped_socket_mid_command_ends_the_session_with_connection_lost():
    outcome = []

    async def handler(ch: AgiChannel):
        try:
            await ch.stream_file("hotline/zh-CN/welcome")
        except AgiConnectionLost as exc:
            outcome.append(type(exc))
            raise

    server = await _serve(handler, "hotline")
    try:
        r, w = await asyncio.open_connection("127.0.0.1", server.port)
        w.write(header_bytes("hotline"))
        assert (await r.readline()).startswith(b"STREAM FILE")
        w.close()
        for _ in range(100):
            if server.completed:
                break
            await asyncio.sleep(0.02)
    finally:
        await server.close()
    assert outcome == [AgiConnectionLost]
    assert issubclass(AgiConnectionLost, AgiHangup)
    assert server.completed == 1 and server.failed == 0 and server.active_sessions == 0


async def test_close_waits_then_cancels_a_session_that_does_not_end():
    started, finalised = asyncio.Event(), []

    async def handler(ch: AgiChannel):
        started.set()
        try:
            await ch.wait_for_digit(-1)   # the peer never answers
        finally:
            finalised.append(True)

    server = await _serve(handler, "hotline")
    r, w = await asyncio.open_connection("127.0.0.1", server.port)
    w.write(header_bytes("hotline"))
    await started.wait()
    await server.close(timeout=0.2)
    assert finalised == [True] and server.active_sessions == 0
    assert (await r.readline()).startswith(b"WAIT FOR DIGIT")
    assert await asyncio.wait_for(r.read(), 2) == b""  # the cancelled session's socket was closed
    w.close()


async def test_caller_name_cut_mid_character_over_tcp():
    seen = []

    async def handler(ch: AgiChannel):
        seen.append((ch.request.caller_name, ch.request.caller))
        await ch.answer()

    server = await _serve(handler, "hotline")
    try:
        r, w = await asyncio.open_connection("127.0.0.1", server.port)
        header = header_bytes("hotline").replace(b"agi_calleridname: Test Caller\n",
                                                 b"agi_calleridname: " + "王芳".encode()[:-2] + b"\n")
        w.write(header)
        assert await r.readline() == b"ANSWER\n"
        w.write(b"200 result=0\n")
        assert await asyncio.wait_for(r.read(), 2) == b""
        w.close()
    finally:
        await server.close()
    assert seen == [("王\ufffd", "13800138000")]
