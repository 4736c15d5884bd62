"""AgiChannel.interrupt(): bytes sent while WAIT FOR DIGIT or STREAM FILE runs end it on Asterisk (res_agi watches
the FastAGI socket); the NOOP sent as those bytes answers too, and its reply must never be taken for the next
command's. Driven byte by byte: the replies are fed in the order Asterisk writes them."""
from __future__ import annotations

import asyncio

from ivr.agi.channel import AgiChannel, AgiRequest
from ivr.agi.connection import AgiConnection
from ivr.agi.protocol import AgiReader, State


class Wire(asyncio.Transport):
    """The server's side of the socket: what the channel wrote, and Asterisk's replies to feed."""

    def __init__(self, conn: AgiConnection) -> None:
        super().__init__()
        self.conn = conn
        self.sent: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("192.0.2.1", 4573) if name == "peername" else default

    def abort(self) -> None:
        pass

    def reply(self, *lines: str) -> None:
        for line in lines:
            self.conn.data_received(line.encode() + b"\n")


def channel() -> tuple[AgiChannel, Wire]:
    parser = AgiReader()
    parser.state = State.READY                         # the agi_ header block was read by the server
    conn = AgiConnection(parser)
    wire = Wire(conn)
    conn.connection_made(wire)
    request = AgiRequest.from_header({"agi_channel": "PJSIP/trunk-00000001"})
    return AgiChannel(conn, request), wire


async def started(coro) -> asyncio.Task:
    task = asyncio.ensure_future(coro)
    await asyncio.sleep(0)                      # the command line is written, the reply awaited
    return task


async def test_wait_for_digit_answers_one_and_the_noop_reply_is_read_before_the_next_command():
    ch, wire = channel()
    task = await started(ch.wait_for_digit(60000))
    assert ch.interrupt()
    assert wire.sent == [b"WAIT FOR DIGIT 60000\n", b"NOOP\n"]
    wire.reply("200 result=1", "200 result=0", "200 result=1 (1390001)")
    assert await task is None                          # result=1 names no DTMF digit: no key was pressed
    assert await ch.get_variable("CALLERID(num)") == "1390001"
    assert wire.sent[-1] == b"GET VARIABLE CALLERID(num)\n"


async def test_an_interrupted_stream_file_gives_no_reply_of_its_own():
    ch, wire = channel()
    task = await started(ch.stream_file("hotline/zh-CN/queue_options", "12"))
    assert ch.interrupt()
    wire.reply("200 result=0", "200 result=1 (x)")      # only the NOOP's reply: it stands for the stream's
    assert await task == (None, 0)
    assert await ch.get_variable("X") == "x"


async def test_a_stream_that_ended_before_the_interrupt_still_owes_the_noop_reply():
    ch, wire = channel()
    task = await started(ch.stream_file("hotline/zh-CN/queue_options", "12"))
    assert ch.interrupt() and ch.interrupt()           # interrupted twice: both NOOPs answer after the stream
    wire.reply("200 result=0 endpos=24000", "200 result=0", "200 result=0", "200 result=1 (y)")
    assert await task == (None, 24000)
    assert await ch.get_variable("Y") == "y"


async def test_a_hangup_during_the_interrupted_wait_is_still_seen():
    ch, wire = channel()
    task = await started(ch.wait_for_digit(60000))
    assert ch.interrupt()
    wire.reply("200 result=-1", "HANGUP", "200 result=0", "511 Command Not Permitted on a dead channel or intercept routine")
    try:
        await task
    except Exception as exc:                           # AgiHangup after CHANNEL STATUS answered 511
        assert type(exc).__name__ == "AgiHangup"
    else:
        raise AssertionError("the hang-up was not reported")
    assert ch.hungup and wire.sent[-1] == b"CHANNEL STATUS\n"


async def test_nothing_to_interrupt_between_commands_or_during_other_commands():
    ch, wire = channel()
    assert not ch.interrupt()
    task = await started(ch.exec("Dial", "PJSIP/1001,15"))
    assert not ch.interrupt()                          # Dial is not cut short by bytes on the socket
    wire.reply("200 result=0")
    assert await task == 0
    assert wire.sent == [b"EXEC Dial PJSIP/1001,15\n"]


async def test_the_next_command_is_sent_before_the_noop_reply_is_awaited():
    # a NOOP that reached Asterisk in the same read as WAIT FOR DIGIT waits in res_agi's stdio buffer until more
    # bytes arrive: waiting for its reply before sending the next command would hang both sides
    ch, wire = channel()
    task = await started(ch.wait_for_digit(2000))
    assert ch.interrupt()
    wire.reply("200 result=0")                         # the wait ran to its timeout; the NOOP is not answered yet
    assert await task is None
    variable = await started(ch.get_variable("Z"))
    assert wire.sent[-1] == b"GET VARIABLE Z\n"
    wire.reply("200 result=0", "200 result=1 (z)")
    assert await variable == "z"
