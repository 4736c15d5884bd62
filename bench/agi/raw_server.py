"""A bare asyncio FastAGI server (~30 lines, no parsing beyond the line): the floor of what Python can do.

Same flow and process model as fastagi_server.py and panoramisk_server.py. Prints ``PORT <n>``.
"""
from __future__ import annotations

import asyncio

from stdin_wait import serve_streams

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


if __name__ == "__main__":
    asyncio.run(serve_streams(session))
