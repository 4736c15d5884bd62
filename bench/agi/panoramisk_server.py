"""panoramisk 1.4's ``fast_agi.Application`` with the benchmark flow, run as its own process (the peer).

The same five commands as fastagi_server.py (ANSWER, STREAM FILE, GET DATA, SET VARIABLE, HANGUP) on
``asyncio.start_server(app.handler, backlog=1024)``, the way panoramisk's documentation runs it.
Prints ``PORT <n>``, serves until its stdin closes.
"""
from __future__ import annotations

import asyncio
import logging
import sys

from stdin_wait import serve_streams

from panoramisk.fast_agi import Application


async def bench_flow(request) -> None:
    await request.send_command("ANSWER")
    await request.send_command('STREAM FILE bench-prompt ""')
    await request.send_command("GET DATA bench-prompt 300 4")
    await request.send_command("SET VARIABLE BENCH_RESULT timeout")
    await request.send_command("HANGUP")


async def serve() -> None:
    app = Application(loop=asyncio.get_running_loop())
    app.add_route("bench", bench_flow)
    await serve_streams(app.handler)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(serve())
