"""The FastAGI reader state machine against the bytes real Asterisk 22 sent (/work/shared/asterisk/agi)."""
from __future__ import annotations

import pytest

from ivr.agi.errors import AgiHeaderError, AgiProtocolError
from ivr.agi.protocol import HANGUP, AgiReader, AgiReply, Quoted, State, format_command, parse_status_line

from .fakepbx import load_captures


def _ready_reader() -> AgiReader:
    reader = AgiReader()
    assert reader.feed(b"agi_network: yes\n") is None
    assert reader.feed(b"\n") == {"agi_network": "yes"}
    return reader


def test_header_block_from_capture_gives_every_agi_variable():
    session = load_captures("agi_final.log")[0]
    reader = AgiReader()
    results = [reader.feed(line) for line in session.header]
    header = results[-1]
    assert all(r is None for r in results[:-1])
    assert header["agi_request"] == "agi://127.0.0.1:4573/ivr?lang=en"
    assert header["agi_arg_2"] == "arg two"
    assert header["agi_accountcode"] == ""
    assert len(header) == 24
    assert reader.state is State.READY


@pytest.mark.parametrize("capture", ["agi_raw.log", "agi_final.log", "agi_raw2.log", "agi_digits.log", "agi_sip.log"])
def test_every_captured_reply_parses(capture):
    replies = 0
    for session in load_captures(capture):
        reader = _ready_reader()
        for kind, data in session.steps:
            if kind == "send":
                item = reader.feed(data)
                replies += isinstance(item, AgiReply)
                assert item is None or item is HANGUP or isinstance(item, AgiReply)
        assert reader.state is State.READY
    assert replies > 0


@pytest.mark.parametrize("line, expected", [
    (b"200 result=0\n", AgiReply(200, "0")),
    (b"200 result=1 (5551234)\n", AgiReply(200, "1", "5551234")),
    (b"200 result=1 (1 two-Local/s@callerctx-00000000;1)\n", AgiReply(200, "1", "1 two-Local/s@callerctx-00000000;1")),
    (b"200 result=0 endpos=11234\n", AgiReply(200, "0", None, 11234)),
    (b"200 result=49 endpos=10400\n", AgiReply(200, "49", None, 10400)),
    (b"200 result= (timeout)\n", AgiReply(200, "", "timeout")),
    (b"200 result=0 (timeout) endpos=0\n", AgiReply(200, "0", "timeout", 0)),
    (b"200 result=-1 endpos=0\n", AgiReply(200, "-1", None, 0)),
    (b"200 result=-2\n", AgiReply(200, "-2")),
    (b"200 result=34\n", AgiReply(200, "34")),
    (b"510 Invalid or unknown command\n", AgiReply(510, message="Invalid or unknown command")),
    (b"511 Command Not Permitted on a dead channel or intercept routine\n",
     AgiReply(511, message="Command Not Permitted on a dead channel or intercept routine")),
])
def test_reply_lines(line, expected):
    reader = _ready_reader()
    assert reader.feed(line) == expected


def test_result_int_and_timeout():
    assert parse_status_line("200 result=-1").result_int == -1
    assert parse_status_line("200 result= (timeout)").result_int is None


def test_usage_block_is_one_reply_with_its_text():
    reader = _ready_reader()
    assert reader.feed(b"520-Invalid command syntax.  Proper usage follows:\n") is None
    assert reader.state is State.USAGE
    assert reader.feed(b"Stream the given <replaceable>file</replaceable>, and receive DTMF data.\n") is None
    assert reader.feed(b"Returns the digits received from the channel at the other end.\n") is None
    reply = reader.feed(b"520 End of proper usage.\n")
    assert reply.code == 520
    assert reply.message == "Invalid command syntax.  Proper usage follows:"
    assert reply.usage.splitlines() == [
        "Stream the given <replaceable>file</replaceable>, and receive DTMF data.",
        "Returns the digits received from the channel at the other end."]
    assert reader.state is State.READY


def test_trying_line_is_skipped_and_hangup_is_its_own_item():
    reader = _ready_reader()
    assert reader.feed(b"100 result=0 Trying...\n") is None
    assert reader.feed(b"HANGUP\n") is HANGUP
    assert reader.feed(b"200 result=-1\n") == AgiReply(200, "-1")


def test_hangup_after_the_reply_as_in_agi_raw2():
    session = load_captures("agi_raw2.log")[0]
    reader = _ready_reader()
    items = [reader.feed(d) for k, d in session.steps if k == "send"]
    assert items[:3] == [AgiReply(200, "0"), AgiReply(200, "-1"), HANGUP]
    assert items[4].code == 511


def test_eof_in_header_is_a_header_error():
    reader = AgiReader()
    reader.feed(b"agi_network: yes\n")
    with pytest.raises(AgiHeaderError, match="1 header line"):
        reader.eof()
    with pytest.raises(AgiHeaderError, match="no header"):
        AgiReader().eof()


def test_eof_after_header_is_quiet():
    reader = _ready_reader()
    reader.eof()
    assert reader.state is State.CLOSED


def test_caller_name_cut_mid_utf8_character_survives():
    name = "张伟".encode("utf-8")[:-1]  # the last character cut after its first two bytes
    reader = AgiReader()
    reader.feed(b"agi_calleridname: " + name + b"\n")
    header = reader.feed(b"\n")
    assert header["agi_calleridname"] == "张\ufffd"


def test_malformed_header_and_reply_lines_are_refused_clearly():
    with pytest.raises(AgiHeaderError, match="malformed"):
        AgiReader().feed(b"this is not a header\n")
    reader = _ready_reader()
    with pytest.raises(AgiProtocolError, match="not a FastAGI reply"):
        reader.feed(b"garbage\n")
    with pytest.raises(AgiProtocolError, match="without result"):
        parse_status_line("200 ok")


def test_commands_are_quoted_like_the_captures():
    assert format_command("STREAM FILE", "hello-world", Quoted("")) == b'STREAM FILE hello-world ""\n'
    assert format_command("SET VARIABLE", "IVR_CHOICE", "1 two") == b'SET VARIABLE IVR_CHOICE "1 two"\n'
    assert format_command("GET DATA", "beep", 3000, 1) == b"GET DATA beep 3000 1\n"
    assert format_command("STREAM FILE", "beep", Quoted("#")) == b'STREAM FILE beep "#"\n'
    with pytest.raises(ValueError):
        format_command("VERBOSE", "two\nlines")
