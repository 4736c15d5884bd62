"""The virtual clock and bytes on loopback: while bytes one of the loop's sockets sent have not reached the
other end (a saturated machine delays loopback delivery), the clock does not jump over a timer."""
from __future__ import annotations

import asyncio
import threading
import time

from pbxsim.clock import run_virtual


def test_bytes_still_on_their_way_hold_the_clock():
    """The client's bytes leave after 150 ms of real time (the ledger is told they were sent at once, as a
    loaded kernel would hold them): the server must see them before a 5 s timer fires."""
    async def main():
        loop = asyncio.get_running_loop()
        got: list[float] = []
        arrived = asyncio.Event()

        async def serve(reader, writer):
            await reader.readexactly(5)
            got.append(loop.time())
            arrived.set()
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
        counted = writer.transport.get_extra_info("socket")
        raw = writer.transport._sock._sock                  # the real socket under the counting one
        ledger = loop._ledger
        direction = (counted.getsockname(), counted.getpeername())
        await asyncio.sleep(0.01)                            # the server side's transport exists
        ledger.sent[direction] += 5                         # "sent", not yet delivered
        threading.Timer(0.15, lambda: raw.send(b"hello")).start()
        timer = asyncio.create_task(asyncio.sleep(5))
        start = loop.time()
        await asyncio.wait_for(arrived.wait(), 60)
        fired_first = timer.done()
        await timer
        writer.close()
        server.close()
        return got[0] - start, fired_first

    waited, fired_first = run_virtual(main())
    assert not fired_first and waited < 5.0


def test_bytes_in_the_receivers_queue_do_not_hold_the_clock():
    """Delivered but not yet read (the receiver is busy elsewhere): nothing is in flight, timers run."""
    async def main():
        loop = asyncio.get_running_loop()
        server_reader: list[asyncio.StreamReader] = []
        connected = asyncio.Event()

        async def serve(reader, writer):
            server_reader.append(reader)
            connected.set()
            await asyncio.sleep(3600)

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
        await connected.wait()
        server_transport = server_reader[0]._transport
        server_transport.pause_reading()                    # delivered bytes stay in the kernel queue
        writer.write(b"x" * 1000)
        await writer.drain()
        time.sleep(0.05)
        before = loop.time()
        await asyncio.sleep(60)
        jumped = loop.time() - before
        in_flight = loop._ledger.in_flight()
        server_transport.resume_reading()
        writer.close()
        server.close()
        return jumped, in_flight

    jumped, in_flight = run_virtual(main())
    assert jumped == 60.0 and not in_flight
