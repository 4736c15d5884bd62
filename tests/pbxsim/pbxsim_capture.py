"""Reading the real Asterisk captures in ../shared/asterisk/ for comparisons."""
from __future__ import annotations

import ast
import asyncio
import re
from pathlib import Path

from pbxsim.clock import run_virtual
from pbxsim.simulator import Simulator
from tests.captures import CAPTURES as SHARED

CONF = Path(__file__).resolve().parent / "conf"
SITE_CONF = Path(__file__).resolve().parents[2] / "asterisk-conf"


def messages(raw: bytes) -> list[list[tuple[str, str]]]:
    """Split AMI bytes into messages, each a list of (key, value) in order."""
    text = raw.decode("utf-8")
    if text.startswith("Asterisk Call Manager/"):
        text = text.split("\r\n", 1)[1]
    out = []
    for block in text.split("\r\n\r\n"):
        if not block.strip():
            continue
        pairs = []
        for line in block.split("\r\n"):
            k, _, v = line.partition(": ")
            pairs.append((k.rstrip(":"), v))
        out.append(pairs)
    return out


def capture_bytes(name: str) -> bytes:
    """Bytes Asterisk sent: the .log.bin file, or rebuilt from the .log transcript."""
    binary = SHARED / "ami" / f"{name}.log.bin"
    if binary.exists():
        return binary.read_bytes()
    out = b""
    for line in (SHARED / "ami" / f"{name}.log").read_text().splitlines():
        m = re.match(r"\s*[\d.]+ (?:\[\w+\] )?<<< (b.*)$", line)
        if m:
            out += ast.literal_eval(m.group(1))
    return out


def capture_events(name: str) -> list[list[tuple[str, str]]]:
    raw = capture_bytes(name)
    return [m for m in messages(raw) if m and m[0][0] == "Event"]


def shape(headers: list[tuple[str, str]]) -> tuple[str, tuple[str, ...]]:
    """(event name, header keys in order) without Event/Privilege."""
    d = headers
    name = next(v for k, v in d if k == "Event") if any(k == "Event" for k, _ in d) else ""
    keys = tuple(k for k, _ in d if k not in ("Event", "Privilege"))
    return name, keys


def per_channel(events: list[list[tuple[str, str]]], ignore: set[str]) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Event shapes grouped by channel role (the order channels first appear), events without
    a Channel header under '-' ."""
    roles: dict[str, str] = {}
    out: dict[str, list] = {}
    for ev in events:
        name, keys = shape(ev)
        if name in ignore:
            continue
        d = dict(ev)
        chan = d.get("Channel") or d.get("DestChannel") or d.get("LocalOneChannel") or "-"
        if chan != "-":
            chan = roles.setdefault(chan, f"chan{len(roles)}")
        out.setdefault(chan, []).append((name, keys))
    return out


IGNORED_EVENTS = {"QueueMemberStatus", "OriginateResponse", "FullyBooted", "SuccessfulAuth", "DeviceStateChange"}


def event_rows(event) -> list[tuple[str, str]]:
    """A pbxsim Event as the (key, value) rows the AMI server would send."""
    return [("Event", event.name), ("Privilege", event.privilege)] + list(event.headers)


class ScriptedFastAgi:
    """A FastAGI server (port 0) that sends a fixed list of commands and records the replies."""

    def __init__(self, commands: list[bytes]) -> None:
        self.commands = commands
        self.headers: list[bytes] = []
        self.replies: list[tuple[bytes, list[bytes]]] = []
        self.done = asyncio.Event()
        self.server = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader, writer) -> None:
        while (line := await reader.readline()) not in (b"\n", b""):
            self.headers.append(line)
        for cmd in self.commands:
            writer.write(cmd + b"\n")
            await writer.drain()
            lines = []
            while True:
                line = await reader.readline()
                if not line:
                    break
                lines.append(line)
                if line == b"HANGUP\n" or line.startswith(b"520-") or (lines[0].startswith(b"520-") and not line.startswith(b"520 ")):
                    continue
                break
            self.replies.append((cmd, lines))
        writer.close()
        self.done.set()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


def run_site(body, tmp_path, *, start_ami: bool = False, **kwargs):
    """Run ``await body(sim, events)`` with a Simulator on asterisk-conf/ in a virtual-time loop."""
    async def main():
        async with Simulator(SITE_CONF, monitor_dir=tmp_path / "monitor", start_ami=start_ami,
                             epoch=1795434832, **kwargs) as sim:
            events = []
            sim.pbx.subscribe(events.append)
            return await body(sim, events)

    return run_virtual(main())


def names(events, channel_prefix: str | None = None) -> list[str]:
    out = []
    for e in events:
        chan = e.get("Channel") or e.get("DestChannel") or ""
        if channel_prefix is None or chan.startswith(channel_prefix):
            out.append(e.name)
    return out
