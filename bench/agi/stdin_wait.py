"""The benchmark's servers run until the bench closes their stdin (so it can read /proc of each on its own), each
under the GC policy `hotline serve` applies once started (hotline/gcpolicy.py): only the servers' code differs."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Awaitable, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from hotline import gcpolicy  # noqa: E402

StreamHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def until_stdin_closes() -> None:
    loop = asyncio.get_running_loop()
    closed = asyncio.Event()
    loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.buffer.read1(4096) or closed.set())
    await closed.wait()
    loop.remove_reader(sys.stdin.fileno())


async def serve_streams(handler: StreamHandler) -> None:
    """A peer on ``asyncio.start_server(handler, backlog=1024)``: prints ``PORT <n>``, serves until stdin closes."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0, backlog=1024)
    gcpolicy.settle()
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    await until_stdin_closes()
    server.close()
    print("DONE", flush=True)
