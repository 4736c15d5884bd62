"""The FastAGI socket transport (ivr/agi/transport.py) over real sockets: writes the kernel does not take at once
are kept in order with back-pressure, close waits for them, EOF and resets end the connection once, reading
pauses; and a finished session leaves nothing for the cyclic garbage collector."""
from __future__ import annotations

import asyncio
import gc
import socket
import weakref

from ivr.agi import AgiChannel, FastAgiServer
from ivr.agi.connection import AgiConnection
from ivr.agi.transport import WRITE_HIGH, SocketTransport

from .fakepbx import header_bytes


class Recorder(asyncio.Protocol):
    def __init__(self) -> None:
        self.events: list[str] = []
        self.data = b""
        self.lost: list[Exception | None] = []
        self.eof_keeps_open = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.events.append("made")

    def data_received(self, data: bytes) -> None:
        self.data += data

    def eof_received(self) -> bool:
        self.events.append("eof")
        return self.eof_keeps_open

    def connection_lost(self, exc: Exception | None) -> None:
        self.events.append("lost")
        self.lost.append(exc)

    def pause_writing(self) -> None:
        self.events.append("pause")

    def resume_writing(self) -> None:
        self.events.append("resume")


def _pair() -> tuple[socket.socket, socket.socket]:
    """A connected pair with small kernel buffers, so that a few hundred KiB do not fit in them."""
    listener = socket.create_server(("127.0.0.1", 0))
    peer = socket.socket()
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    peer.connect(listener.getsockname())
    ours, _ = listener.accept()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    listener.close()
    ours.setblocking(False)
    peer.setblocking(False)
    return ours, peer


async def _until(predicate, tries: int = 300) -> None:
    for _ in range(tries):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def _read_all(loop: asyncio.AbstractEventLoop, peer: socket.socket, size: int) -> bytes:
    got = bytearray()
    while len(got) < size:
        chunk = await asyncio.wait_for(loop.sock_recv(peer, 1 << 20), 5)
        if not chunk:
            break
        got += chunk
    return bytes(got)


async def test_a_write_the_kernel_cannot_take_is_buffered_in_order_with_back_pressure():
    loop = asyncio.get_running_loop()
    ours, peer = _pair()
    proto = Recorder()
    transport = SocketTransport(loop, ours, proto, ("127.0.0.1", 1))
    payload = bytes(range(256)) * (WRITE_HIGH // 32)           # 8 × WRITE_HIGH: more than the buffers take
    for i in range(0, len(payload), 4096):
        transport.write(payload[i:i + 4096])
    assert transport.get_write_buffer_size() > 0
    assert "pause" in proto.events                              # the session is told to wait
    assert await _read_all(loop, peer, len(payload)) == payload
    await _until(lambda: transport.get_write_buffer_size() == 0)
    assert proto.events[-1] == "resume"
    transport.close()
    assert proto.events[-1] == "lost" and proto.lost == [None]
    peer.close()


async def test_close_sends_what_is_buffered_first_then_closes_once():
    loop = asyncio.get_running_loop()
    ours, peer = _pair()
    proto = Recorder()
    transport = SocketTransport(loop, ours, proto, None)
    payload = b"x" * (WRITE_HIGH * 8)
    transport.write(payload)
    transport.close()
    transport.close()
    assert transport.is_closing() and "lost" not in proto.events    # still sending
    assert await _read_all(loop, peer, len(payload) + 1) == payload  # everything, then EOF
    await _until(lambda: "lost" in proto.events)
    assert proto.events.count("lost") == 1 and ours.fileno() == -1
    peer.close()


async def test_eof_from_the_peer_closes_and_data_before_it_is_delivered():
    loop = asyncio.get_running_loop()
    ours, peer = _pair()
    proto = Recorder()
    SocketTransport(loop, ours, proto, None)
    peer.sendall(b"200 result=0\n")
    peer.shutdown(socket.SHUT_WR)
    await _until(lambda: "lost" in proto.events)
    assert proto.data == b"200 result=0\n"
    assert proto.events == ["made", "eof", "lost"] and proto.lost == [None]
    peer.close()


async def test_a_reset_connection_reports_its_error_and_abort_drops_the_buffer():
    loop = asyncio.get_running_loop()
    ours, peer = _pair()
    proto = Recorder()
    SocketTransport(loop, ours, proto, None)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")   # close -> RST
    peer.close()
    await _until(lambda: "lost" in proto.events)
    assert isinstance(proto.lost[0], ConnectionResetError)

    ours, peer = _pair()
    proto = Recorder()
    transport = SocketTransport(loop, ours, proto, None)
    transport.write(b"y" * (WRITE_HIGH * 4))
    transport.abort()
    assert proto.events[-1] == "lost" and transport.get_write_buffer_size() == 0
    peer.close()


async def test_paused_reading_delivers_nothing_until_resumed():
    loop = asyncio.get_running_loop()
    ours, peer = _pair()
    proto = Recorder()
    transport = SocketTransport(loop, ours, proto, None)
    transport.pause_reading()
    assert not transport.is_reading()
    peer.sendall(b"HANGUP\n")
    await asyncio.sleep(0.05)
    assert proto.data == b""
    transport.resume_reading()
    await _until(lambda: proto.data == b"HANGUP\n")
    transport.close()
    peer.close()


async def test_a_finished_session_is_freed_by_reference_counting_alone():
    """No transport <-> connection cycle and no stored error holding the session's frames: with hundreds of calls
    a second, every object left to the cyclic collector is walked again and again (see hotline/gcpolicy.py)."""
    conns: list[weakref.ref] = []
    original = AgiConnection.connection_made

    def remember(self: AgiConnection, transport: asyncio.BaseTransport) -> None:
        conns.append(weakref.ref(self))
        original(self, transport)

    async def flow(ch: AgiChannel) -> None:
        await ch.answer()
        await ch.stream_file("hello")        # the PBX closes the socket here: AgiConnectionLost is raised

    AgiConnection.connection_made = remember      # type: ignore[method-assign]
    gc.disable()
    try:
        async with FastAgiServer({"hotline": flow}) as server:
            for hang_up in (False, True):
                r, w = await asyncio.open_connection("127.0.0.1", server.port)
                w.write(header_bytes("hotline"))
                assert await r.readline() == b"ANSWER\n"
                w.write(b"200 result=0\n")
                assert await r.readline() == b'STREAM FILE hello ""\n'
                if hang_up:
                    w.close()
                else:
                    w.write(b"200 result=0 endpos=8000\n")
                    assert await r.read() == b""
                    w.close()
                await _until(lambda: server.active_sessions == 0)
            await asyncio.sleep(0.05)
            assert len(conns) == 2
            assert [ref() for ref in conns] == [None, None]
    finally:
        gc.enable()
        AgiConnection.connection_made = original  # type: ignore[method-assign]
