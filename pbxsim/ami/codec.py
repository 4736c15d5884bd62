"""AMI wire format: an explicit reader state machine and the renderers.

Asterisk's manager (main/manager.c) reads a session line by line into a
1025-byte buffer: a line ends at ``\\r\\n`` (or a bare ``\\n``); a blank line ends
a message; a line longer than 1024 bytes is dropped and the whole message is
answered ``Failed to parse message: line too long``; more than 128 header lines
are answered ``Too many lines in message or allocation failure``. A line without
a colon is kept but never matches a header name. This module reproduces that
without ever raising on bad input.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ..events import Event

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
MAX_LINE = 1024          # sizeof(inbuf) - 1 in manager.c
MAX_HEADERS = 128        # AST_MAX_MANHEADERS
ENCODING = "utf-8"
ERRORS = "surrogateescape"  # bytes that are not UTF-8 survive a round trip


@dataclass
class Message:
    """One request as Asterisk sees it: raw header lines, in order."""

    lines: list[str] = field(default_factory=list)
    parse_error: str | None = None

    def get(self, name: str, *, skip_empty: bool = False) -> str:
        """astman_get_header: first ``Name:`` line (case-insensitive), leading blanks skipped."""
        prefix = name.lower()
        n = len(prefix)
        for line in self.lines:
            if line[:n].lower() == prefix and line[n:n + 1] == ":":
                value = line[n + 1:].lstrip(" \t")
                if skip_empty and not value:
                    continue
                return value
        return ""

    def get_all(self, name: str) -> list[str]:
        prefix = name.lower()
        n = len(prefix)
        return [line[n + 1:].lstrip(" \t") for line in self.lines
                if line[:n].lower() == prefix and line[n:n + 1] == ":"]

    @property
    def action_id(self) -> str:
        return self.get("ActionID")


class _State(enum.Enum):
    HEADERS = "headers"          # collecting header lines of a message
    DISCARD_LINE = "discard"     # inside a line that overflowed MAX_LINE


class AmiReader:
    """Feed bytes in, get complete :class:`Message` objects out."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._state = _State.HEADERS
        self._current = Message()
        self._too_long = False
        self._too_many = False

    def feed(self, data: bytes) -> list[Message]:
        self._buf += data
        out: list[Message] = []
        while True:
            nl = self._buf.find(b"\n")
            if nl < 0:
                if len(self._buf) > MAX_LINE:
                    # No line end within the buffer: Asterisk dumps it and keeps reading.
                    self._state = _State.DISCARD_LINE
                    self._too_long = True
                    del self._buf[:-1]
                return out
            raw = bytes(self._buf[:nl])
            del self._buf[:nl + 1]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            if self._state is _State.DISCARD_LINE:
                # Tail of an overlong line: Asterisk keeps it as a (junk) header line.
                self._state = _State.HEADERS
            elif len(raw) > MAX_LINE:
                self._too_long = True
                continue
            line = raw.decode(ENCODING, ERRORS)
            if line == "":
                out.append(self._finish())
                continue
            if len(self._current.lines) < MAX_HEADERS:
                self._current.lines.append(line)
            else:
                self._too_many = True

    def _finish(self) -> Message:
        msg = self._current
        if self._too_many:
            msg.parse_error = "Too many lines in message or allocation failure"
        elif self._too_long:
            msg.parse_error = "Failed to parse message: line too long"
        self._current = Message()
        self._too_long = self._too_many = False
        return msg


def encode(text: str) -> bytes:
    return text.encode(ENCODING, ERRORS)


def render_headers(headers) -> str:
    return "".join(f"{k}: {v}\r\n" for k, v in headers)


def render_event(event: Event) -> bytes:
    return encode(f"Event: {event.name}\r\nPrivilege: {event.privilege}\r\n"
                  + render_headers(event.headers) + "\r\n")


def response_head(status: str, action_id: str, *, event_list: str | None = None) -> str:
    """astman_send_response_full up to (not including) the Message line."""
    text = f"Response: {status}\r\n"
    if action_id:
        text += f"ActionID: {action_id}\r\n"
    if event_list:
        text += f"EventList: {event_list}\r\n"
    return text


def response(status: str, action_id: str, message: str | None = None, *, event_list: str | None = None) -> str:
    text = response_head(status, action_id, event_list=event_list)
    if message is not None:
        return text + f"Message: {message}\r\n\r\n"
    return text + "\r\n"


def list_item(event: str, action_id: str, headers, *, privilege: str | None = None,
              action_id_last: bool = False) -> str:
    text = f"Event: {event}\r\n"
    if privilege:
        text += f"Privilege: {privilege}\r\n"
    if action_id and not action_id_last:
        text += f"ActionID: {action_id}\r\n"
    text += render_headers(headers)
    if action_id and action_id_last:
        text += f"ActionID: {action_id}\r\n"
    return text + "\r\n"


def list_complete(event: str, action_id: str, count: int, extra=()) -> str:
    text = f"Event: {event}\r\n"
    if action_id:
        text += f"ActionID: {action_id}\r\n"
    text += f"EventList: Complete\r\nListItems: {count}\r\n"
    return text + render_headers(extra) + "\r\n"


def parse_wire(data: bytes) -> list[list[tuple[str, str]]]:
    """Split captured/received AMI bytes into messages of (key, value) pairs (test helper too)."""
    text = data.decode(ENCODING, ERRORS)
    if text.startswith("Asterisk Call Manager/"):
        text = text.split("\r\n", 1)[1]
    msgs = []
    for block in text.split("\r\n\r\n"):
        if not block:
            continue
        pairs = []
        for line in block.split("\r\n"):
            k, _, v = line.partition(": ")
            pairs.append((k, v))
        msgs.append(pairs)
    return msgs
