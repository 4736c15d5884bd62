"""panoramisk 1.4's ``fast_agi.Application`` with the benchmark flow, run as its own process (the peer).

The same five commands as fastagi_server.py (ANSWER, STREAM FILE, GET DATA, SET VARIABLE, HANGUP) on
``asyncio.start_server(app.handler, backlog=1024)``, the way panoramisk's documentation runs it.
Prints ``PORT <n>``, serves until its stdin closes.
"""
from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from stdin_wait import until_stdin_closes

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from hotline import gcpolicy  # noqa: E402

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
    server = await asyncio.start_server(app.handler, "127.0.0.1", 0, backlog=1024)
    gcpolicy.settle()                # the same process policy as hotline's server: only the servers' code differs
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    await until_stdin_closes()
    server.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(serve())
