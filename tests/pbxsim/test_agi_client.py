"""The simulator's FastAGI client against small FastAGI servers written in the tests: parsing,
usage blocks, dead-channel rules, hostile servers, dialplan continuation, AGISTATUS."""
from __future__ import annotations

import asyncio

import pytest

from pbxsim.agi import AgiLineReader, find_command, parse_args, parse_url, run_fastagi
from pbxsim.clock import run_virtual
from pbxsim.dialplan import Dialplan
from pbxsim.pbx import Pbx

DIALPLAN = """
[test]
exten => s,1,Answer()
 same => n,AGI(agi://127.0.0.1:4573/flow?lang=zh-CN&x=1,first,second arg)
 same => n,NoOp(after AGI ${AGISTATUS})
 same => n,Hangup()
exten => jump,1,NoOp(jumped ${AGISTATUS})
 same => n,Hangup()

[callers]
exten => wait,1,Answer()
 same => n,Wait(60)
 same => n,Hangup()
exten => bye,1,Answer()
 same => n,Wait(3)
 same => n,Hangup()
exten => partial,1,Answer()
 same => n,Wait(1)
 same => n,SendDTMF(7)
 same => n,Wait(30)
 same => n,Hangup()
exten => press,1,Answer()
 same => n,Wait(2)
 same => n,SendDTMF(42#)
 same => n,Wait(30)
 same => n,Hangup()
"""


async def call_with_agi(tmp_path, handler, *, caller="wait", callerid='"张伟" <13800138000>', port=None):
    """Place a call into [test] whose AGI() reaches ``handler(reader, writer, header)``."""
    result: dict = {"events": [], "agistatus": None, "header": {}}
    done = asyncio.Event()

    async def fastagi(reader, writer):
        try:
            while (line := await reader.readline()) not in (b"\n", b""):
                key, _, value = line.decode("utf-8").rstrip("\n").partition(": ")
                result["header"][key] = value
            result["handler"] = await handler(reader, writer)
        finally:
            writer.close()
            done.set()

    server = await asyncio.start_server(fastagi, "127.0.0.1", 0)
    agi_port = port if port is not None else server.sockets[0].getsockname()[1]
    pbx = Pbx(Dialplan.from_text(DIALPLAN), monitor_dir=tmp_path, agi_override=("127.0.0.1", agi_port))
    pbx.subscribe(result["events"].append)
    await pbx.originate(channel=f"Local/{caller}@callers", context="test", exten="s", priority=1,
                        callerid=callerid)
    if port is None:
        await asyncio.wait_for(done.wait(), 120)
    for _ in range(100):
        if any(e.name == "VarSet" and e.get("Variable") == "AGISTATUS" for e in result["events"]):
            break
        await asyncio.sleep(0.1)
    result["agistatus"] = next((e.get("Value") for e in result["events"]
                                if e.name == "VarSet" and e.get("Variable") == "AGISTATUS"), None)
    await asyncio.sleep(0.5)
    server.close()
    await pbx.close()
    return result


async def ask(reader, writer, command: bytes, lines: int = 1) -> bytes:
    writer.write(command)
    await writer.drain()
    out = b""
    for _ in range(lines):
        out += await asyncio.wait_for(reader.readline(), 60)
    return out


# ---- pure protocol pieces --------------------------------------------------------------------
def test_parse_args_follows_res_agi_quoting_and_escapes():
    assert parse_args('STREAM FILE hello-world ""') == ["STREAM", "FILE", "hello-world", ""]
    assert parse_args('SET VARIABLE IVR_CHOICE "1 two"') == ["SET", "VARIABLE", "IVR_CHOICE", "1 two"]
    assert parse_args(r'VERBOSE "say \"hi\"" 1') == ["VERBOSE", 'say "hi"', "1"]
    assert parse_args(r"SET VARIABLE A b\ c\\d") == ["SET", "VARIABLE", "A", "b c\\d"]
    assert parse_args("  NOOP\t x  ") == ["NOOP", "x"]
    assert parse_args('EXEC Playback "hotline/zh-CN/欢迎"') == ["EXEC", "Playback", "hotline/zh-CN/欢迎"]
    assert parse_args("") == []


def test_command_lookup_is_word_by_word():
    assert find_command(["get", "DATA", "beep"]).name == "get data"
    assert find_command(["GET"]) is None
    assert find_command(["ANSWER", "now"]).name == "answer"
    assert find_command(["ANSWER\r"]) is None           # a CR is part of the word, as in Asterisk
    assert find_command(["GET", "FULL", "VARIABLE", "${X}"]).name == "get full variable"


def test_line_reader_cuts_at_2047_bytes_and_keeps_a_final_partial_line():
    reader = AgiLineReader()
    assert reader.feed(b"NOOP one\nNOOP t") == ["NOOP one"]
    assert reader.feed(b"wo\n" + b"x" * 5000) == ["NOOP two", "x" * 2047, "x" * 2047]
    assert reader.finish() == ["x" * 906]


def test_url_parsing():
    assert parse_url("agi://127.0.0.1:4573/ivr?lang=en") == ("127.0.0.1", 4573, "ivr?lang=en")
    assert parse_url("agi://agi.example.com/flow") == ("agi.example.com", 4573, "flow")
    assert parse_url("AGI://[::1]:5000") == ("::1", 5000, "")
    with pytest.raises(ValueError):
        parse_url("http://x/")


# ---- over TCP ---------------------------------------------------------------------------------
def test_header_block_has_utf8_caller_script_query_and_args(tmp_path):
    async def handler(reader, writer):
        return await ask(reader, writer, b"ANSWER\n")

    out = run_virtual(call_with_agi(tmp_path, handler))
    h = out["header"]
    assert list(h) == ["agi_network", "agi_network_script", "agi_request", "agi_channel", "agi_language",
                       "agi_type", "agi_uniqueid", "agi_version", "agi_callerid", "agi_calleridname",
                       "agi_callingpres", "agi_callingani2", "agi_callington", "agi_callingtns", "agi_dnid",
                       "agi_rdnis", "agi_context", "agi_extension", "agi_priority", "agi_enhanced",
                       "agi_accountcode", "agi_threadid", "agi_arg_1", "agi_arg_2"]
    assert h["agi_network_script"] == "flow?lang=zh-CN&x=1"
    assert h["agi_request"].endswith("/flow?lang=zh-CN&x=1")
    assert h["agi_callerid"] == "13800138000" and h["agi_calleridname"] == "张伟"
    assert h["agi_version"] == "22.10.1" and h["agi_type"] == "Local" and h["agi_priority"] == "2"
    assert h["agi_context"] == "test" and h["agi_dnid"] == "unknown" and h["agi_rdnis"] == "unknown"
    assert (h["agi_arg_1"], h["agi_arg_2"]) == ("first", "second arg")
    assert out["handler"] == b"200 result=0\n"
    assert out["agistatus"] == "SUCCESS"


def test_no_caller_id_gives_unknown_and_presentation_67(tmp_path):
    async def handler(reader, writer):
        return None

    out = run_virtual(call_with_agi(tmp_path, handler, callerid=""))
    h = out["header"]
    assert (h["agi_callerid"], h["agi_calleridname"], h["agi_callingpres"]) == ("unknown", "unknown", "67")


def test_nothing_listening_is_failure_fast(tmp_path):
    async def main():
        probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = probe.sockets[0].getsockname()[1]
        probe.close()
        await probe.wait_closed()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        pbx = Pbx(Dialplan.from_text(DIALPLAN), monitor_dir=tmp_path)
        await pbx.originate(channel="Local/wait@callers", context="test", exten="s", priority=1)
        chan = [c for c in pbx.channels() if c.context == "test"][0]
        status = await run_fastagi(pbx, chan, f"agi://127.0.0.1:{port}/x", [])
        elapsed = loop.time() - t0
        await pbx.close()
        return status, elapsed

    status, elapsed = run_virtual(main())
    assert status == "FAILURE" and elapsed < 2.5


def test_usage_blocks_unknown_commands_and_crlf_servers(tmp_path):
    async def handler(reader, writer):
        return [await ask(reader, writer, b"STREAM FILE\n", 7),
                await ask(reader, writer, b"WAIT FOR DIGIT soon\n", 3),
                await ask(reader, writer, b"SAY DIGITS abc \"\"\n", 3),
                await ask(reader, writer, b"ANSWER\r\n"),
                await ask(reader, writer, b"\n"),
                await ask(reader, writer, b"GET\n"),
                await ask(reader, writer, b"\xff\xfe garbage \x00\n"),
                await ask(reader, writer, b"NOOP " + b"y" * 3000 + b"\n", 2),
                await ask(reader, writer, b"answer\n")]

    out = run_virtual(call_with_agi(tmp_path, handler))
    replies = out["handler"]
    assert replies[0] == (b"520-Invalid command syntax.  Proper usage follows:\n"
                          b"Send the given file, allowing playback to be interrupted by the given digits, if any. "
                          b"Returns <literal>0</literal> if playback completes without a digit being pressed, or the "
                          b"ASCII numerical value of the digit if one was pressed, or <literal>-1</literal> on error "
                          b"or if the channel was disconnected. If musiconhold is playing before calling stream file "
                          b"it will be automatically stopped and will not be restarted after completion.\n"
                          b"It sets the following channel variables upon completion:\n"
                          b"<variable>PLAYBACKSTATUS</variable>: The status of the playback attempt as a text string.\n"
                          b"    <value>SUCCESS</value>\n"
                          b"    <value>FAILED</value>\n"
                          b"520 End of proper usage.\n")
    assert replies[1].startswith(b"520-Invalid command syntax.  Proper usage follows:\nWaits up to <replaceable>")
    assert replies[2].startswith(b"520-") and replies[2].endswith(b"520 End of proper usage.\n")
    assert replies[3:7] == [b"510 Invalid or unknown command\n"] * 4
    assert replies[7] == b"200 result=0\n510 Invalid or unknown command\n"    # 2047-byte cut: the rest is a command
    assert replies[8] == b"200 result=0\n"
    ends = [e for e in out["events"] if e.name == "AGIExecEnd"]
    assert [(e.get("ResultCode"), e.get("Result")) for e in ends[:4]] == [("520", "Usage")] * 3 + [
        ("510", "Invalid or unknown command")]


def test_database_variables_and_full_variable_of_another_channel(tmp_path):
    async def handler(reader, writer):
        other = None
        replies = [await ask(reader, writer, b"DATABASE PUT hotline last \"1 2\"\n"),
                   await ask(reader, writer, b"DATABASE GET hotline last\n"),
                   await ask(reader, writer, b"DATABASE DEL hotline last\n"),
                   await ask(reader, writer, b"DATABASE DEL hotline last\n"),
                   await ask(reader, writer, b"DATABASE GET hotline last\n"),
                   await ask(reader, writer, 'SET VARIABLE 客户 "王 芳"\n'.encode()),
                   await ask(reader, writer, "GET VARIABLE 客户\n".encode()),
                   await ask(reader, writer, b"GET VARIABLE NOPE\n"),
                   await ask(reader, writer, b"GET FULL VARIABLE ${CALLERID(num)}/${CALLERID(name)}\n"),
                   await ask(reader, writer, b"GET VARIABLE CHANNEL(name)\n")]
        name = replies[-1].decode().split("(", 1)[1].rstrip(")\n")
        other = name[:-1] + "2"
        replies.append(await ask(reader, writer, f"GET FULL VARIABLE ${{CHANNEL(name)}} {other}\n".encode()))
        replies.append(await ask(reader, writer, b"GET FULL VARIABLE ${CHANNEL(name)} Nope/none\n"))
        replies.append(await ask(reader, writer, b"CHANNEL STATUS\n"))
        replies.append(await ask(reader, writer, f"CHANNEL STATUS {other}\n".encode()))
        replies.append(await ask(reader, writer, b"CHANNEL STATUS Nope/none\n"))
        return replies, other

    out = run_virtual(call_with_agi(tmp_path, handler))
    replies, other = out["handler"]
    assert replies[:5] == [b"200 result=1\n", b"200 result=1 (1 2)\n", b"200 result=1\n", b"200 result=0\n",
                           b"200 result=0\n"]
    assert replies[5:8] == [b"200 result=1\n", "200 result=1 (王 芳)\n".encode(), b"200 result=0\n"]
    assert replies[8] == "200 result=1 (13800138000/张伟)\n".encode()
    assert replies[10] == f"200 result=1 ({other})\n".encode()
    assert replies[11:] == [b"200 result=0\n", b"200 result=6\n", b"200 result=6\n", b"200 result=-1\n"]


def test_digits_reach_stream_file_wait_and_get_data(tmp_path):
    async def handler(reader, writer):
        return [await ask(reader, writer, b"STREAM FILE tt-monkeys \"0123456789*#\"\n"),
                await ask(reader, writer, b"GET DATA beep 3000 5\n"),
                await ask(reader, writer, b"WAIT FOR DIGIT 1500\n")]

    out = run_virtual(call_with_agi(tmp_path, handler, caller="press"))
    stream, data, wait = out["handler"]
    assert stream.startswith(b"200 result=52 endpos=")      # '4' pressed about 2 s into the prompt
    assert 0 < int(stream.split(b"endpos=")[1]) < 52000
    assert data == b"200 result=2\n"                        # '2' then '#' ends the input
    assert wait == b"200 result=0\n"
    dtmf = [e for e in out["events"] if e.name == "DTMFEnd"]
    assert [e.get("Digit") for e in dtmf][:3] == ["4", "2", "#"]


def test_caller_hangup_while_idle_sends_hangup_then_511_and_the_socket_stays_open(tmp_path):
    async def handler(reader, writer):
        loop = asyncio.get_running_loop()
        answer = await ask(reader, writer, b"ANSWER\n")
        t0 = loop.time()
        hangup = await asyncio.wait_for(reader.readline(), 30)       # the caller hangs up at ~3 s
        waited = loop.time() - t0
        await asyncio.sleep(5)                                         # Asterisk keeps waiting for us
        after = [await ask(reader, writer, b"STREAM FILE beep \"\"\n"),
                 await ask(reader, writer, b"NOOP\n"),
                 await ask(reader, writer, b"SET VARIABLE DONE yes\n"),
                 await ask(reader, writer, b"VERBOSE \"still here\" 1\n"),
                 await ask(reader, writer, b"DATABASE PUT a b c\n"),
                 await ask(reader, writer, b"SET MUSIC ON\n"),
                 await ask(reader, writer, b"HANGUP\n")]
        return answer, hangup, waited, after

    out = run_virtual(call_with_agi(tmp_path, handler, caller="bye"))
    answer, hangup, waited, after = out["handler"]
    assert answer == b"200 result=0\n" and hangup == b"HANGUP\n" and 2.5 < waited < 4
    dead = b"511 Command Not Permitted on a dead channel or intercept routine\n"
    assert after == [dead, b"200 result=0\n", b"200 result=1\n", b"200 result=1\n", b"200 result=1\n", dead, dead]
    assert out["agistatus"] == "HANGUP"


def test_server_closing_mid_playback_ends_the_session_at_once(tmp_path):
    async def handler(reader, writer):
        writer.write(b"STREAM FILE tt-monkeys \"\"\n")           # 6.5 s prompt
        await writer.drain()
        await asyncio.sleep(0.5)
        writer.close()
        return asyncio.get_running_loop().time()

    out = run_virtual(call_with_agi(tmp_path, handler))
    assert out["agistatus"] == "SUCCESS"
    after = [e for e in out["events"] if e.name == "Newexten" and e.get("AppData", "").startswith("after AGI")]
    assert after, "the dialplan continues after the AGI"
    ends = [e for e in out["events"] if e.name == "AGIExecEnd"]
    assert ends and ends[0].get("Command") == "STREAM FILE tt-monkeys \"\""


def test_bytes_arriving_during_wait_for_digit_wake_it_like_asterisk(tmp_path):
    async def handler(reader, writer):
        writer.write(b"WAIT FOR DIGIT 10000\n")
        await writer.drain()
        await asyncio.sleep(0.3)
        writer.write(b"NOOP\n")
        await writer.drain()
        return await reader.readline() + await reader.readline()

    out = run_virtual(call_with_agi(tmp_path, handler))
    assert out["handler"] == b"200 result=1\n200 result=0\n"


def test_set_context_extension_priority_continue_the_dialplan_there(tmp_path):
    async def handler(reader, writer):
        return [await ask(reader, writer, b"SET CONTEXT test\n"),
                await ask(reader, writer, b"SET EXTENSION jump\n"),
                await ask(reader, writer, b"SET PRIORITY 1\n"),
                await ask(reader, writer, b"SET CALLERID \"\\\"Li Lei\\\" <10086>\"\n"),   # one argument
                await ask(reader, writer, b"GET VARIABLE CALLERID(all)\n")]

    out = run_virtual(call_with_agi(tmp_path, handler))
    assert out["handler"][:4] == [b"200 result=0\n"] * 3 + [b"200 result=1\n"]
    assert out["handler"][4] == b"200 result=1 (\"Li Lei\" <10086>)\n"
    jumped = [e for e in out["events"] if e.name == "Newexten" and e.get("Extension") == "jump"]
    assert jumped and jumped[0].get("AppData") == "jumped SUCCESS"


def test_garbage_and_abrupt_reset_never_crash_the_simulator(tmp_path):
    async def handler(reader, writer):
        writer.write(b"\x00\x01\x02 binary junk \xff\n" * 20 + b"NO NEWLINE AT ALL")
        await writer.drain()
        for _ in range(20):
            await reader.readline()
        writer.transport.abort()                                     # RST instead of FIN
        return None

    out = run_virtual(call_with_agi(tmp_path, handler))
    assert out["agistatus"] == "SUCCESS"
    ends = [e for e in out["events"] if e.name == "AGIExecEnd"]
    assert len(ends) >= 20 and all(e.get("ResultCode") == "510" for e in ends)


def test_say_option_control_record_and_misc_commands(tmp_path):
    async def handler(reader, writer):
        return [await ask(reader, writer, b"SAY ALPHA hotline \"\"\n"),
                await ask(reader, writer, b"SAY DATE 1795434700 \"\"\n"),
                await ask(reader, writer, b"SAY TIME 1795434700 \"\"\n"),
                await ask(reader, writer, b"SAY DATETIME 1795434700 \"\" HMS\n"),
                await ask(reader, writer, b"SAY PHONETIC ab \"\"\n"),
                await ask(reader, writer, b"GET OPTION beep \"123\" 100\n"),
                await ask(reader, writer, b"GET OPTION no-such-prompt \"1\"\n"),
                await ask(reader, writer, b"CONTROL STREAM FILE beep \"\"\n"),
                await ask(reader, writer, b"CONTROL STREAM FILE beep \"#\" 3000 6 4 5\n"),
                await ask(reader, writer, f"RECORD FILE {tmp_path}/msg wav \"#\" 1000 s=3\n".encode()),
                await ask(reader, writer, b"ASYNCAGI BREAK\n"),
                await ask(reader, writer, b"SET MUSIC ON default\n"),
                await ask(reader, writer, b"SET MUSIC OFF\n"),
                await ask(reader, writer, b"TDD MODE on\n"),
                await ask(reader, writer, b"SEND TEXT \"hi\"\n"),
                await ask(reader, writer, b"RECEIVE CHAR 100\n"),
                await ask(reader, writer, b"SET AUTOHANGUP 2\n"),
                await ask(reader, writer, b"WAIT FOR DIGIT -1\n"),                 # ends by the autohangup
                await asyncio.wait_for(reader.readline(), 5)]

    out = run_virtual(call_with_agi(tmp_path, handler))
    replies = out["handler"]
    assert replies[:5] == [b"200 result=0\n"] * 5
    assert replies[5] == b"200 result=0 endpos=3404\n"
    assert replies[6] == b"200 result=-1 endpos=0\n"
    assert replies[7:9] == [b"200 result=0 endpos=-1\n"] * 2          # played to the end: endpos -1
    assert replies[9] == b"200 result=0 (timeout) endpos=0\n"
    assert replies[10:16] == [b"200 result=0\n"] * 4 + [b"200 result=0\n", b"200 result=0 (timeout)\n"]
    assert replies[16] == b"200 result=0\n"
    assert replies[17:] == [b"200 result=-1\n", b"HANGUP\n"]
    moh = [e.name for e in out["events"] if e.name.startswith("MusicOnHold")]
    assert moh == ["MusicOnHoldStart", "MusicOnHoldStop"]


def test_get_data_partial_input_then_timeout(tmp_path):
    async def handler(reader, writer):
        return await ask(reader, writer, b"GET DATA silence/2 3000 4\n")

    out = run_virtual(call_with_agi(tmp_path, handler, caller="partial"))
    assert out["handler"] == b"200 result=7 (timeout)\n"


def test_exec_data_is_verbatim_unless_agiexecfull(tmp_path):
    async def handler(reader, writer):
        return [await ask(reader, writer, b"EXEC Set \"RAW=${CALLERID(num)}\"\n"),
                await ask(reader, writer, b"GET VARIABLE RAW\n"),
                await ask(reader, writer, b"SET VARIABLE AGIEXECFULL yes\n"),
                await ask(reader, writer, b"EXEC Set \"FULL=${CALLERID(num)}\"\n"),
                await ask(reader, writer, b"GET VARIABLE FULL\n"),
                await ask(reader, writer, b"EXEC Playback beep extra words\n")]     # only argv[2] is data

    out = run_virtual(call_with_agi(tmp_path, handler))
    assert out["handler"] == [b"200 result=0\n", b"200 result=1 (${CALLERID(num)})\n", b"200 result=1\n",
                              b"200 result=0\n", b"200 result=1 (13800138000)\n", b"200 result=0\n"]


def test_control_stream_file_stop_key_sets_cplayback_variables(tmp_path):
    async def handler(reader, writer):
        return [await ask(reader, writer, b"CONTROL STREAM FILE tt-monkeys \"4\"\n"),
                await ask(reader, writer, b"GET VARIABLE CPLAYBACKSTATUS\n"),
                await ask(reader, writer, b"GET VARIABLE CPLAYBACKSTOPKEY\n"),
                await ask(reader, writer, b"GET VARIABLE CPLAYBACKOFFSET\n")]

    out = run_virtual(call_with_agi(tmp_path, handler, caller="press"))
    control, status, key, offset = out["handler"]
    assert control.startswith(b"200 result=52 endpos=")
    ms = int(control.split(b"endpos=")[1])
    assert 1500 < ms < 4000
    assert (status, key) == (b"200 result=1 (USERSTOPPED)\n", b"200 result=1 (4)\n")
    assert offset == f"200 result=1 ({ms})\n".encode()


def test_server_half_close_gets_a_last_hangup_line(tmp_path):
    async def handler(reader, writer):
        noop = await ask(reader, writer, b"NOOP\n")
        writer.write_eof()                                  # we are done; keep reading
        rest = await asyncio.wait_for(reader.read(), 10)
        return noop, rest

    out = run_virtual(call_with_agi(tmp_path, handler))
    assert out["handler"] == (b"200 result=0\n", b"HANGUP\n")
    assert out["agistatus"] == "SUCCESS"
