"""hotline's asyncio FastAGI server with the benchmark flow, run as its own process.

Prints ``PORT <n>`` once listening on 127.0.0.1 (port 0: a free one) and serves until its stdin
closes, so the benchmark can read this process's memory and CPU from /proc on its own.
The flow is the one pyst2_call.py runs: ANSWER, STREAM FILE, GET DATA, SET VARIABLE, HANGUP.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hotline import gcpolicy  # noqa: E402
from ivr.agi import AgiChannel, FastAgiServer  # noqa: E402
from stdin_wait import until_stdin_closes  # noqa: E402


async def bench_flow(channel: AgiChannel) -> None:
    prompt = channel.request.query.get("prompt", "bench-prompt")
    timeout_ms = int(channel.request.query.get("timeout", "300"))
    await channel.answer()
    await channel.stream_file(prompt)
    digits, _timed_out = await channel.get_data(prompt, timeout_ms, 4)
    await channel.set_variable("BENCH_RESULT", digits or "timeout")
    await channel.hangup()


async def serve(port: int) -> None:
    server = FastAgiServer({"bench": bench_flow}, host="127.0.0.1", port=port)
    await server.start()
    gcpolicy.settle()                # as `hotline serve` does once started
    print(f"PORT {server.port}", flush=True)
    await until_stdin_closes()
    await server.close(timeout=10.0)
    print(f"DONE completed={server.completed} failed={server.failed} rejected={server.rejected}", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(serve(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
