"""Helpers for the recordings tests: real WAV files and recording rows."""
from __future__ import annotations

import array
import asyncio
import contextlib
import math
import wave
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.pool import Pool

from recordings.models import STATUS_COMPLETE, Recording
from recordings.storage import sha256_file


def write_wav(path: Path, seconds: float, *, rate: int = 8000, channels: int = 1, freq: float = 440.0,
              amplitude: float = 0.3) -> Path:
    """A tone, 16-bit PCM, like MixMonitor writes (8 kHz mono unless asked otherwise)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = int(seconds * rate)
    samples = array.array("h")
    for i in range(frames):
        value = int(32767 * amplitude * math.sin(2 * math.pi * freq * i / rate))
        samples.extend([value] * channels)
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(channels)
        wf.setsampwidth(2)
        wf.setframerate(rate)
        wf.writeframes(samples.tobytes())
    return path


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wf:
        return wf.getnframes() / wf.getframerate()


async def add_recording(ctx, *, started_at: datetime, agent_id: str = "1001", caller: str = "13800000000",
                        queue: str = "presales", seconds: float | None = None, linkedid: str | None = None,
                        segment: int = 1, customer_id: str | None = None, duration_s: float | None = None,
                        status: str = STATUS_COMPLETE) -> Recording:
    """A complete recording row; with `seconds`, also its WAV file in primary storage with the right checksum."""
    linkedid = linkedid or f"{int(started_at.timestamp())}.{abs(hash((agent_id, started_at, caller))) % 100000}"
    key = f"{started_at:%Y/%m/%d}/{linkedid}-{segment}.wav"
    rec = Recording(linkedid=linkedid, segment=segment, caller=caller, called="4008001234", agent_id=agent_id,
                    agent_name="张伟", queue=queue, customer_id=customer_id, started_at=started_at,
                    answered_at=started_at, ended_at=started_at, duration_s=duration_s if duration_s is not None else seconds,
                    path=key, format="wav", status=status)
    if seconds is not None:
        path = write_wav(ctx.primary.local_path(key), seconds)
        rec.size_bytes = path.stat().st_size
        rec.sha256 = sha256_file(path)
    async with ctx.sessions() as session:
        session.add(rec)
        await session.commit()
    return rec


@contextlib.contextmanager
def hold_clock_while_connected():
    """The virtual clock jumps when the loop looks idle, and a PostgreSQL round trip (a socket, no thread)
    looks idle: keep the clock still from connecting until asyncpg reports the connection closed (its close
    waits for the server's EOF), as the clock does by itself for aiosqlite's worker thread. For every engine
    created inside the block (SQLAlchemy's class-level events)."""
    loop = asyncio.get_running_loop()
    connecting, connected = [0], set()

    def on_connecting(dialect, *_):
        if dialect.name == "postgresql":
            connecting[0] += 1

    def on_connected(dbapi_connection, _record):
        driver = getattr(dbapi_connection, "driver_connection", None)
        if not hasattr(driver, "add_termination_listener"):   # asyncpg's Connection
            return
        connecting[0] -= 1
        connected.add(driver)
        driver.add_termination_listener(lambda conn: connected.discard(driver))

    event.listen(Engine, "do_connect", on_connecting)
    event.listen(Pool, "connect", on_connected)
    remove = loop.add_busy_probe(lambda: connecting[0] > 0 or bool(connected))
    try:
        yield
    finally:
        remove()
        event.remove(Engine, "do_connect", on_connecting)
        event.remove(Pool, "connect", on_connected)
