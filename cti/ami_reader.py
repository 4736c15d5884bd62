"""The AMI wire: bytes from Asterisk -> messages, bounded, with the noise dropped before it is parsed.

Asterisk sends a banner line (``Asterisk Call Manager/11.0.0\\r\\n``), then messages: ``Key: value`` lines
ending ``\\r\\n``, a blank line ending each message. The reader splits on bytes (a UTF-8 character never
contains ``\\r`` or ``\\n``, so one cut across two TCP reads is simply joined again) and decodes a message
only once it is complete and not noise.

Repeated keys: Asterisk's own ``astman_get_header()`` takes the FIRST match (manager.c,
GET_HEADER_FIRST_MATCH), and so does :class:`AmiMessage`: ``msg["Channel"]`` is always one string, the
first one sent. Every value of a repeated key stays readable with ``msg.all(key)`` (``Variable``,
``ChanVariable``); ``Output`` (the lines of a Command response) is the lines joined with ``\\n``.

Bounds: a field may be up to 1 MiB (MAX_FIELD); a message that grows past MAX_MESSAGE bytes without its
blank line is skipped up to its end, never buffered whole, and said once in the log.
"""
from __future__ import annotations

import logging
import re
from typing import Callable, Iterable

log = logging.getLogger("hotline.cti.ami")

BANNER_PREFIX = b"Asterisk Call Manager/"
_VERSION = re.compile(r"\d+\.\d+(\.\d+)?")
END = b"\r\n\r\n"
MAX_FIELD = 1024 * 1024
MAX_MESSAGE = 2 * MAX_FIELD + 64 * 1024
JOINED_KEYS = frozenset({"Output"})          # repeated lines that form one text


class AmiMessage(dict):
    """One AMI message: ``str -> str`` (first value of a repeated key), plus every value via :meth:`all`."""

    repeated: dict[str, list[str]] | None = None      # set on the instance only when a key repeats
    success_responses = frozenset({"Success", "Follows", "Goodbye"})

    def all(self, key: str) -> list[str]:
        """Every value sent for ``key``, in wire order ([] when absent)."""
        if self.repeated is not None and key in self.repeated:
            return list(self.repeated[key])
        return [self[key]] if key in self else []

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    @property
    def id(self) -> str | None:           # panoramisk's name for it
        return self.get("ActionID")

    @property
    def success(self) -> bool:
        return "Event" in self or self.get("Response") in self.success_responses

    def __repr__(self) -> str:
        return f"<AmiMessage {dict.__repr__(self)}>"


def parse_message(text: str) -> AmiMessage:
    """One message's text (without the blank line) -> AmiMessage. Lines without ``:`` (the body of an old
    ``Response: Follows``) become the ``Output``."""
    lines = text.split("\r\n")
    try:        # the usual message: every line "Key: value", no key twice
        msg = AmiMessage([line.split(": ", 1) for line in lines])
    except ValueError:
        return _parse_lines(lines)
    if len(msg) != len(lines):
        return _parse_lines(lines)
    return msg


def _parse_lines(lines: list[str]) -> AmiMessage:
    msg = AmiMessage()
    body: list[str] | None = None
    for line in lines:
        key, sep, value = line.partition(": ")
        if not sep:
            key, sep, value = line.partition(":")
            if not sep or " " in key:
                if line:
                    if body is None:
                        body = []
                    body.append(line)
                continue
        if key in msg:
            repeated = msg.repeated
            if repeated is None:
                repeated = msg.repeated = {}
            values = repeated.get(key)
            if values is None:
                values = repeated[key] = [msg[key]]
            values.append(value)
            if key in JOINED_KEYS:
                msg[key] = msg[key] + "\n" + value
        else:
            msg[key] = value
    if body is not None:
        text_body = "\n".join(line for line in body if line != "--END COMMAND--")
        msg["Output"] = msg["Output"] + "\n" + text_body if "Output" in msg else text_body
    return msg


def decode(block: bytes) -> str:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        return block.decode("utf-8", errors="replace")


class AmiReader:
    """Incremental: ``feed(bytes)`` returns the complete messages; ``skip(block)`` drops noise unparsed."""

    def __init__(self, skip: "Skip | None" = None) -> None:
        self.skip = skip
        self.version: str | None = None     # from the banner; "" when the peer sent none
        self._pieces: list[bytes] = []      # the unfinished message, as read (joined once its end arrives)
        self._pending = 0                   # bytes in _pieces
        self._discarding = False            # inside an oversized message: drop up to its end
        self.skipped = 0                    # noise messages dropped before parsing
        self.oversized = 0                  # messages dropped for their size

    def _no_banner(self, first: bytes) -> None:
        self.version = ""
        log.warning("AMI peer sent no banner (expected %r…, got %r); is this an Asterisk AMI port?",
                    decode(BANNER_PREFIX), decode(first[:80]))

    @property
    def pending(self) -> int:
        """Bytes read of a message whose end has not arrived yet."""
        return self._pending

    def _keep(self, rest: bytes) -> None:
        self._pieces = [rest] if rest else []
        self._pending = len(rest)

    def feed(self, data: bytes) -> list[AmiMessage]:
        pieces = self._pieces
        if pieces:
            if self.version is not None and END not in data and END not in pieces[-1][-3:] + data[:3]:
                # still inside one long message: keep the piece; joining and scanning every read again
                # would cost the square of a 1 MiB message's reads
                if self._discarding:        # inside a dropped message: only a terminator's start matters
                    self._keep((pieces[-1][-3:] + data)[-3:])
                    return []
                tail = (pieces[-1][-3:] + data)[-3:]
                pieces.append(data)
                self._pending += len(data)
                if self._pending > MAX_MESSAGE:
                    self._oversized(self._pending)
                    self._discarding = True
                    self._keep(tail)
                return []
            buffer = b"".join(pieces) + data
        else:
            buffer = data
        if self.version is None:
            eol = buffer.find(b"\r\n")
            if eol < 0:
                if len(buffer) > 256:
                    self._no_banner(buffer)
                else:
                    self._keep(buffer)
                    return []
            elif buffer.startswith(BANNER_PREFIX):
                self.version = decode(buffer[len(BANNER_PREFIX):eol]).strip()
                if not _VERSION.fullmatch(self.version):
                    log.warning("AMI banner %r: not an Asterisk manager version; is this an Asterisk AMI port?",
                                decode(buffer[:min(eol, 80)]))
                buffer = buffer[eol + 2:]
            else:
                self._no_banner(buffer[:eol])
        out: list[AmiMessage] = []
        start = 0
        skip = self.skip
        find = buffer.find
        if self._discarding:
            end = find(END)
            if end < 0:
                self._keep(buffer[-3:])         # a terminator may be cut across reads
                return out
            self._discarding = False
            start = end + 4
        while True:
            end = find(END, start)
            if end < 0:
                break
            if end > start:
                if skip is None or not skip(buffer, start, end):
                    block = buffer[start:end]
                    if end - start > MAX_FIELD and (end - start > MAX_MESSAGE or _field_too_long(block)):
                        self._oversized(end - start)
                    else:
                        out.append(parse_message(decode(block).lstrip("\r\n")))
                else:
                    self.skipped += 1
            start = end + 4
        rest = buffer[start:] if start else buffer
        if len(rest) > MAX_MESSAGE:
            self._oversized(len(rest))
            self._discarding = True
            rest = rest[-3:]
        self._keep(rest)
        return out

    def eof(self) -> list[AmiMessage]:
        """The peer closed: a last message without its blank line (or final CRLF) still counts."""
        rest = b"".join(self._pieces)
        self._keep(b"")
        if self._discarding or not rest.strip(b"\r\n"):
            return []
        block = rest.rstrip(b"\r\n")
        if self.skip is not None and self.skip(block, 0, len(block)):
            return []
        if _field_too_long(block):
            self._oversized(len(block))
            return []
        return [parse_message(decode(block).lstrip("\r\n"))]

    def _oversized(self, size: int) -> None:
        self.oversized += 1
        log.warning("AMI: a message of %d+ bytes (over the %d-byte message or %d-byte field limit) was dropped",
                    size, MAX_MESSAGE, MAX_FIELD)


def _field_too_long(block: bytes) -> bool:
    if len(block) <= MAX_FIELD:
        return False
    return any(len(line) > MAX_FIELD + 256 for line in block.split(b"\r\n"))


Skip = Callable[[bytes, int, int], bool]        # (buffer, start, end of one message) -> drop it unparsed


def parse_stream(data: bytes, skip: Skip | None = None) -> list[AmiMessage]:
    """A whole capture (banner included) -> its messages, as the reader would deliver them."""
    reader = AmiReader(skip)
    return reader.feed(data) + reader.eof()


def noise_filter(noise_events: Iterable[str], interesting_variables: Iterable[str],
                 interesting_prefixes: tuple[str, ...], quiet_device_prefixes: tuple[str, ...]) -> Skip:
    """A bytes-level twin of cti.ami.is_noise: True for a message that would be dropped anyway. It looks
    at the message inside the read buffer, so noise costs neither a copy nor a decode."""
    noise_names = frozenset(name.lower().encode() for name in noise_events if name != "varset")
    variables = frozenset(v.encode() for v in interesting_variables)
    prefixes = tuple(p.encode() for p in interesting_prefixes)
    devices = tuple(p.encode() for p in quiet_device_prefixes)
    known: dict[bytes, int] = {}             # event name as sent -> 0 keep, 1 noise, 2 VarSet, 3 DeviceStateChange

    def kind_of(name: bytes) -> int:
        kind = known.get(name)
        if kind is None:
            low = name.lower()
            kind = 1 if low in noise_names else 2 if low == b"varset" else 3 if low == b"devicestatechange" else 0
            if len(known) < 4096:
                known[name] = kind
        return kind

    def first_value(buffer: bytes, key: bytes, start: int, end: int) -> bytes | None:
        at = buffer.find(key, start, end)
        if at < 0:
            return None
        at += len(key)
        stop = buffer.find(b"\r\n", at, end)
        return buffer[at:stop if stop >= 0 else end]

    def skip(buffer: bytes, start: int, end: int) -> bool:
        if not buffer.startswith(b"Event: ", start, end):
            return False
        eol = buffer.find(b"\r\n", start, end)
        kind = kind_of(buffer[start + 7:eol if eol >= 0 else end])
        if kind < 2:
            return kind == 1
        if kind == 2:
            variable = first_value(buffer, b"\r\nVariable: ", start, end)
            return variable is None or not (variable in variables or variable.startswith(prefixes))
        device = first_value(buffer, b"\r\nDevice: ", start, end)
        return device is not None and device.startswith(devices)

    return skip
