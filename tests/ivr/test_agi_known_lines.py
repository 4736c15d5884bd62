"""The FastAGI lines parsed or built once per process (reply lines, command lines): shared only where that cannot
change what is sent or understood, and bounded whatever a peer sends."""
from __future__ import annotations

import asyncio

from ivr.agi import connection, protocol
from ivr.agi.connection import AgiConnection
from ivr.agi.protocol import HANGUP, AgiReader, AgiReply, Quoted, State, format_command


class Wire(asyncio.Transport):
    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: object = None) -> object:
        return default


def _ready_connection() -> AgiConnection:
    parser = AgiReader()
    parser.state = State.READY
    conn = AgiConnection(parser)
    conn.connection_made(Wire())
    return conn


def _items(conn: AgiConnection) -> list[object]:
    return list(conn._items)


def test_a_reply_line_is_parsed_once_and_shared():
    connection._KNOWN_REPLIES.clear()
    first, second = _ready_connection(), _ready_connection()
    first.data_received(b"200 result=0 endpos=8000\n")
    second.data_received(b"200 result=0 endpos=8000\n")
    assert _items(first) == [AgiReply(200, "0", endpos=8000)]
    assert _items(second)[0] is _items(first)[0]
    assert b"200 result=0 endpos=8000\n" in connection._KNOWN_REPLIES


def test_only_whole_short_reply_lines_outside_a_usage_block_are_remembered():
    connection._KNOWN_REPLIES.clear()
    conn = _ready_connection()
    long_data = "x" * connection.KNOWN_REPLY_BYTES
    conn.data_received(b"HANGUP\n")
    conn.data_received(f"200 result=1 ({long_data})\n".encode())
    conn.data_received(b"520-Invalid command syntax.  Proper usage follows:\n200 result=0\n520 End of proper usage.\n")
    items = _items(conn)
    assert items[0] is HANGUP
    assert items[1] == AgiReply(200, "1", data=long_data)
    assert items[2].code == 520 and items[2].usage == "200 result=0"   # a usage line is text, not a reply
    assert list(connection._KNOWN_REPLIES) == []
    # a remembered line inside a usage block is still usage text
    conn.data_received(b"200 result=0\n")
    conn.data_received(b"520-Invalid command syntax.  Proper usage follows:\n")
    conn.data_received(b"200 result=0\n")
    conn.data_received(b"520 End of proper usage.\n")
    assert _items(conn)[3] == AgiReply(200, "0")
    assert _items(conn)[4].code == 520 and _items(conn)[4].usage == "200 result=0"


def test_the_reply_table_stays_bounded_whatever_the_peer_sends():
    connection._KNOWN_REPLIES.clear()
    conn = _ready_connection()
    for n in range(connection.KNOWN_REPLIES_MAX * 3):
        conn.data_received(f"200 result=1 ({n})\n".encode())
        conn._items.clear()
    assert 0 < len(connection._KNOWN_REPLIES) <= connection.KNOWN_REPLIES_MAX


def test_a_quoted_argument_and_the_same_plain_text_stay_different_lines():
    protocol._COMMAND_LINES.clear()
    assert format_command("STREAM FILE", "beep", "#") == b"STREAM FILE beep #\n"
    assert format_command("STREAM FILE", "beep", Quoted("#")) == b'STREAM FILE beep "#"\n'
    assert format_command("STREAM FILE", "beep", "#") == b"STREAM FILE beep #\n"
    assert format_command("GET DATA", "beep", 3000, 1) == format_command("GET DATA", "beep", "3000", "1")
    assert format_command("VERBOSE", ["not", "hashable"]) == b"VERBOSE \"['not', 'hashable']\"\n"


def test_the_command_table_keeps_short_lines_only_and_stays_bounded():
    protocol._COMMAND_LINES.clear()
    format_command("SET VARIABLE", "NOTE", "x" * protocol.COMMAND_LINE_BYTES)
    assert protocol._COMMAND_LINES == {}
    for n in range(protocol.COMMAND_LINES_MAX * 2):
        format_command("SET VARIABLE", "N", n)
    assert 0 < len(protocol._COMMAND_LINES) <= protocol.COMMAND_LINES_MAX
