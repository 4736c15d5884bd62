"""What one FastAGI session costs the server's process beyond its CPU: nothing left for the cyclic garbage
collector once the session is over, and reads sized to come from the heap (see ivr/agi/server.py READ_SIZE)."""
from __future__ import annotations

import asyncio
import gc
import weakref

from ivr.agi import AgiChannel, FastAgiServer
from ivr.agi.connection import AgiConnection
from ivr.agi.server import READ_SIZE

from .fakepbx import header_bytes


async def _until(predicate, tries: int = 300) -> None:
    for _ in range(tries):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_a_finished_session_is_freed_by_reference_counting_alone():
    """No transport <-> connection cycle and no stored error holding the session's frames: with hundreds of calls
    a second, every object left to the cyclic collector is walked again and again (see hotline/gcpolicy.py)."""
    conns: list[weakref.ref] = []
    read_sizes: list[int | None] = []
    original = AgiConnection.connection_made

    def remember(self: AgiConnection, transport: asyncio.BaseTransport) -> None:
        conns.append(weakref.ref(self))
        original(self, transport)
        read_sizes.append(getattr(transport, "max_size", None))

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
            assert read_sizes == [READ_SIZE, READ_SIZE]         # 64 KiB from the heap, not asyncio's 256 KiB
    finally:
        gc.enable()
        AgiConnection.connection_made = original  # type: ignore[method-assign]
