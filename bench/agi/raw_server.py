"""A bare asyncio FastAGI server (~30 lines, no parsing beyond the line): the floor of what Python can do.

Same flow and process model as fastagi_server.py and panoramisk_server.py. Prints ``PORT <n>``.
"""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from stdin_wait import until_stdin_closes

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from hotline import gcpolicy  # noqa: E402

FLOW = (b"ANSWER\n", b'STREAM FILE bench-prompt ""\n', b"GET DATA bench-prompt 300 4\n",
        b"SET VARIABLE BENCH_RESULT timeout\n", b"HANGUP\n")


async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await reader.readuntil(b"\n\n")
        for command in FLOW:
            writer.write(command)
            await reader.readline()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    writer.close()


async def serve() -> None:
    server = await asyncio.start_server(session, "127.0.0.1", 0, backlog=1024)
    gcpolicy.settle()                # the same process policy as hotline's server
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    await until_stdin_closes()
    server.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    asyncio.run(serve())
