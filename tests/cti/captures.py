"""Real Asterisk 22 AMI captures (/work/shared/asterisk/ami) turned back into bytes and events."""
from __future__ import annotations

import ast
import re

from panoramisk.message import Message

from tests.captures import CAPTURES as _SHARED
CAPTURES = _SHARED / "ami"
_LINE = re.compile(r"\s*[\d.]+ (?:\[[^\]]*\] )?<<< (b'.*'|b\".*\")$")


def capture_bytes(name: str, connection: str | None = None) -> bytes:
    """What Asterisk sent: the .log.bin file when it exists, else the <<< lines of the .log."""
    binary = CAPTURES / f"{name}.log.bin"
    if binary.exists() and connection is None:
        return binary.read_bytes()
    chunks = []
    for line in (CAPTURES / f"{name}.log").read_text().splitlines():
        if connection is not None and f"[{connection}]" not in line:
            continue
        m = _LINE.match(line)
        if m:
            chunks.append(ast.literal_eval(m.group(1)))
    return b"".join(chunks)


def parse_events(data: bytes) -> list[Message]:
    text = data.decode("utf-8")
    if text.startswith("Asterisk Call Manager/"):
        text = text.split("\r\n", 1)[1]
    events = []
    for block in text.split("\r\n\r\n"):
        msg = Message.from_line(block.strip("\r\n")) if block.strip() else None
        if msg is not None and "Event" in msg:
            events.append(msg)
    return events
