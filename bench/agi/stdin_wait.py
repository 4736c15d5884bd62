"""The benchmark's servers run until the bench closes their stdin (so it can read /proc of each on its own)."""
from __future__ import annotations

import asyncio
import sys


async def until_stdin_closes() -> None:
    loop = asyncio.get_running_loop()
    closed = asyncio.Event()
    loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.buffer.read1(4096) or closed.set())
    await closed.wait()
    loop.remove_reader(sys.stdin.fileno())
