"""A tiny FastAGI server replays the server side of real Asterisk 22 FastAGI captures; the
simulator's dialplan runs ``AGI(agi://...)`` on calls placed like the captures' and every
byte it sends back (header block, replies, HANGUP, 510/511/520) is compared."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

from pbxsim.ami.transcripts import read_agi_log
from pbxsim.clock import run_virtual
from pbxsim.dialplan import Dialplan
from pbxsim.pbx import Pbx

from tests.captures import CAPTURES
SEQ = re.compile(rb"-[0-9a-f]{8}(;[12])")


def norm(data: bytes) -> bytes:
    data = SEQ.sub(rb"-N\1", data)
    data = re.sub(rb"agi_uniqueid: \S+", b"agi_uniqueid: *", data)
    data = re.sub(rb"(agi_request: agi://127\.0\.0\.1):\d+/", rb"\1:PORT/", data)   # the test server's port
    return re.sub(rb"agi_threadid: \d+", b"agi_threadid: *", data)


async def replay(session, exten: str, tmp_path: Path) -> dict:
    """Run one captured FastAGI conversation against the simulator; return what happened."""
    loop = asyncio.get_running_loop()
    out: dict = {"replies": [], "header": b"", "closed_by_asterisk": False, "agistatus": None}
    done = asyncio.Event()

    async def fastagi(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        t0 = loop.time()
        try:
            while (line := await reader.readline()) not in (b"\n", b""):
                out["header"] += line
            for t, command, expected in session.commands:
                delay = t0 + (t - session.connected_at) - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                writer.write(command)
                await writer.drain()
                got = b""
                for _ in range(expected.count(b"\n")):
                    got += await asyncio.wait_for(reader.readline(), 30)
                out["replies"].append((command, expected, got))
            if session.closed_at is not None:
                idle = t0 + (session.closed_at - session.connected_at) - loop.time()
                if idle > 0:
                    try:
                        extra = await asyncio.wait_for(reader.read(1), idle)
                        out["closed_by_asterisk"] = extra == b""
                    except asyncio.TimeoutError:
                        pass
        finally:
            writer.close()
            done.set()

    server = await asyncio.start_server(fastagi, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pbx = Pbx(Dialplan.load(CAPTURES / "conf" / "extensions.conf"), monitor_dir=tmp_path,
              agi_override=("127.0.0.1", port))
    pbx.subscribe(lambda e: e.name == "VarSet" and e.get("Variable") == "AGISTATUS"
                  and out.__setitem__("agistatus", e.get("Value")))
    agi_events: list = []
    pbx.subscribe(lambda e: e.name.startswith("AGIExec") and agi_events.append(e))
    result = await pbx.originate(channel=f"Local/{exten}@callerctx", context="ivrctx", exten="s", priority=1,
                                 callerid='"Test Caller" <5551234>', variables={"FOO": "bar"})
    assert result.success
    await asyncio.wait_for(done.wait(), 120)
    for _ in range(50):
        if out["agistatus"] is not None:
            break
        await asyncio.sleep(0.1)
    out["events"] = agi_events
    server.close()
    await pbx.close()
    return out


def _raw_sessions():
    return read_agi_log(CAPTURES / "agi" / "agi_raw.log")


def test_header_block_and_replies_match_agi_raw(tmp_path):
    session = _raw_sessions()[0]
    out = run_virtual(replay(session, "s", tmp_path))
    assert norm(out["header"] + b"\n") == norm(b"".join(session.header))
    assert len(out["replies"]) == len(session.commands) == 15
    for command, expected, got in out["replies"]:
        assert norm(got) == norm(expected), command
    assert out["agistatus"] == "SUCCESS"


def test_agi_exec_events_pair_up_with_result_codes(tmp_path):
    session = _raw_sessions()[0]
    out = run_virtual(replay(session, "s", tmp_path))
    starts = [e for e in out["events"] if e.name == "AGIExecStart"]
    ends = [e for e in out["events"] if e.name == "AGIExecEnd"]
    assert [e.get("Command") for e in starts] == [c.decode().rstrip("\n") for _, c, _ in session.commands]
    assert [e.get("CommandId") for e in starts] == [e.get("CommandId") for e in ends]
    codes = {e.get("Command"): (e.get("ResultCode"), e.get("Result")) for e in ends}
    assert codes["ANSWER"] == ("200", "Success")
    assert codes["BOGUS COMMAND"] == ("510", "Invalid or unknown command")
    assert codes["GET DATA"] == ("520", "Usage")
    assert starts[0].privilege == "agi,all"
    assert [k for k, _ in ends[0].headers][-4:] == ["CommandId", "Command", "ResultCode", "Result"]


def test_caller_hangs_up_during_get_data(tmp_path):
    """agi_raw 'early': -1, then HANGUP before the 511; GET VARIABLE, NOOP and EXEC still answer."""
    session = _raw_sessions()[1]
    out = run_virtual(replay(session, "early", tmp_path))
    assert [norm(g) for _, _, g in out["replies"]] == [norm(e) for _, _, e in session.commands]
    assert out["replies"][2][2].startswith(b"HANGUP\n511 Command Not Permitted")
    assert out["agistatus"] == "HANGUP"


def test_hangup_then_idle_socket_stays_open(tmp_path):
    """agi_raw2 first session: HANGUP ~40 ms after the -1, 511 for channel commands, and the
    socket stays open through 8 s of server silence."""
    session = read_agi_log(CAPTURES / "agi" / "agi_raw2.log")[0]
    out = run_virtual(replay(session, "early", tmp_path))
    for command, expected, got in out["replies"]:
        assert norm(got) == norm(expected), (
            f"{command!r}: Asterisk answered {expected!r}"
            + (" (EXEC Playback on a hung-up channel returns 0 in Asterisk: pbxsim/apps.py Playback)"
               if command.startswith(b"EXEC Playback") else ""))
    assert out["replies"][1][2] == b"200 result=-1\nHANGUP\n"
    assert out["closed_by_asterisk"] is False
    assert out["agistatus"] == "HANGUP"


def test_server_sends_hangup_itself(tmp_path):
    session = read_agi_log(CAPTURES / "agi" / "agi_raw2.log")[1]
    out = run_virtual(replay(session, "hupcmd", tmp_path))
    assert [norm(g) for _, _, g in out["replies"]] == [norm(e) for _, _, e in session.commands]
    assert out["agistatus"] == "HANGUP"


def test_timeouts_missing_files_say_record_exec_unknown_and_music(tmp_path):
    session = read_agi_log(CAPTURES / "agi" / "agi_raw2.log")[2]
    out = run_virtual(replay(session, "timeout", tmp_path))
    assert [norm(g) for _, _, g in out["replies"]] == [norm(e) for _, _, e in session.commands]
    assert out["replies"][1][2] == b"200 result= (timeout)\n"
    assert out["agistatus"] == "FAILURE"     # STREAM FILE of a missing file is a failed command


def test_exec_dial_from_agi_then_dialstatus(tmp_path):
    session = read_agi_log(CAPTURES / "agi" / "agi_raw2.log")[3]
    out = run_virtual(replay(session, "dialagi", tmp_path))
    assert [norm(g) for _, _, g in out["replies"]] == [norm(e) for _, _, e in session.commands]
    assert out["agistatus"] == "SUCCESS"


def test_digits_during_stream_wait_and_get_data(tmp_path):
    session = read_agi_log(CAPTURES / "agi" / "agi_digits.log")[0]
    out = run_virtual(replay(session, "digits", tmp_path))
    assert [g for _, _, g in out["replies"]] == [e for _, _, e in session.commands]
