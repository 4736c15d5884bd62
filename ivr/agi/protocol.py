"""FastAGI wire protocol as an explicit reader state machine (no I/O here).

Asterisk sends, per connection: an ``agi_name: value`` header block ended by an empty line, then one reply
per command the server writes. Replies (as captured from Asterisk 22, see /work/shared/asterisk/agi/):

    200 result=0                        200 result=1 (5551234)          200 result=0 endpos=11234
    200 result= (timeout)               200 result=0 (timeout) endpos=0 200 result=-1 / result=-2
    100 result=0 Trying...              (informational, skipped)
    510 Invalid or unknown command      511 Command Not Permitted on a dead channel or intercept routine
    520-Invalid command syntax.  Proper usage follows:
    <usage lines>
    520 End of proper usage.

and, unsolicited, ``HANGUP`` when the caller hangs up — before or after the reply to the command in flight.

:class:`AgiReader` is fed one raw line at a time and returns what it completed: the header (a dict),
a :class:`AgiReply`, or :data:`HANGUP`. States: HEADER → READY ⇄ USAGE; EOF → CLOSED.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from .errors import AgiHeaderError, AgiProtocolError

MAX_HEADER_LINES = 256   # Asterisk sends ~25 agi_ lines plus the agi_arg_N ones
MAX_USAGE_LINES = 200    # the longest usage text of Asterisk 22 (RECORD FILE) has ~30 lines
MAX_USAGE_BYTES = 64 * 1024
DTMF = frozenset("0123456789*#ABCDabcd")


class State(enum.Enum):
    HEADER = "header"   # reading agi_ lines until the empty line
    READY = "ready"     # between replies: status lines, HANGUP, 100 Trying
    USAGE = "usage"     # inside a 520- … 520 End block
    CLOSED = "closed"   # EOF seen


class AgiReply(NamedTuple):
    """One reply (a tuple: cheap to build, immutable, compared by value)."""

    code: int                      # 200, 510, 511, 520
    result: str = ""               # text after result= ("" for "result= (timeout)")
    data: str | None = None        # the (...) part, without parentheses
    endpos: int | None = None
    message: str = ""              # the text of a non-200 line
    usage: str = ""                # the body of a 520 block

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def result_int(self) -> int | None:
        try:
            return int(self.result)
        except ValueError:
            return None


class _Hangup:
    def __repr__(self) -> str:
        return "HANGUP"


HANGUP = _Hangup()
"""Returned by :meth:`AgiReader.feed` for the unsolicited ``HANGUP`` line."""


@dataclass
class Header:
    """The agi_ variables of the session, keys without the ``agi_`` prefix kept as sent (``agi_callerid``)."""

    values: dict[str, str] = field(default_factory=dict)


_STATUS_RE = re.compile(r"^(\d{3})(?:([ -])(.*))?$")
_ENDPOS_RE = re.compile(r"(?:^|\s)endpos=(-?\d+)\s*$")


def decode_line(raw: bytes) -> str:
    """Bytes of one line → text without the line end; a caller-ID name cut mid-UTF-8 character survives."""
    return raw.decode("utf-8", errors="replace").rstrip("\r\n")


_HEADER_LINE = re.compile(r"^(agi_[^:\s]*): ?(.*)$", re.M).findall    # greedy: no backtracking
_NEEDS_QUOTES = re.compile(r'[ "\\\t]').search
_SIMPLE_RESULT = re.compile(r"200 result=(-?\d{1,9})$").match


def parse_status_line(text: str) -> AgiReply:
    """Parse a one-line reply (``200 …``, ``510 …``, ``511 …``, a single-line ``520 …``)."""
    simple = _SIMPLE_RESULT(text)
    if simple is not None:               # the common case: "200 result=0"
        return AgiReply(200, simple.group(1))
    m = _STATUS_RE.match(text)
    if not m:
        raise AgiProtocolError(f"not a FastAGI reply line: {text[:80]!r}")
    code = int(m.group(1))
    rest = m.group(3) or ""
    if code != 200:
        return AgiReply(code=code, message=rest)
    if not rest.startswith("result="):
        raise AgiProtocolError(f"200 reply without result=: {text[:80]!r}")
    rest = rest[len("result="):]
    endpos = None
    em = _ENDPOS_RE.search(rest)
    if em:
        endpos = int(em.group(1))
        rest = rest[: em.start()]
    result, _, tail = rest.partition(" ")
    tail = tail.strip()
    data = None
    if tail:
        if tail.startswith("(") and tail.endswith(")"):
            data = tail[1:-1]
        else:
            data = tail  # e.g. "100 result=0 Trying..." style free text; kept verbatim
    return AgiReply(code=200, result=result, data=data, endpos=endpos)


class AgiReader:
    """Line-by-line state machine for the Asterisk → server direction of one FastAGI connection."""

    def __init__(self, max_header_lines: int = MAX_HEADER_LINES, max_usage_lines: int = MAX_USAGE_LINES) -> None:
        self.state = State.HEADER
        self.header: dict[str, str] = {}
        self._usage_lines: list[str] = []
        self._usage_bytes = 0
        self._usage_message = ""
        self.max_header_lines = max_header_lines
        self.max_usage_lines = max_usage_lines

    def feed(self, raw: bytes) -> dict[str, str] | AgiReply | _Hangup | None:
        """Feed one line (with or without its ``\\n``). Returns a completed item, or None if more is needed."""
        if self.state is State.CLOSED:
            raise AgiProtocolError("line after end of stream")
        text = decode_line(raw)
        if self.state is State.HEADER:
            return self._header_line(text)
        if self.state is State.USAGE:
            return self._usage_line(text)
        return self._ready_line(text)

    def feed_header_block(self, raw: bytes) -> dict[str, str]:
        """The rest of the header block up to and including its empty line (``…\n\n``), parsed in one go:
        what :meth:`feed` does line by line, for the common case of a header arriving in one read."""
        if self.state is not State.HEADER:
            raise AgiProtocolError("header block fed after the header")
        header = self.header
        limit = self.max_header_lines
        text = raw.decode("utf-8", errors="replace")
        pairs = _HEADER_LINE(text) if "\r" not in text else None
        if pairs and len(pairs) == text.count("\n") - 1 and len(header) + len(pairs) <= limit:
            header.update(pairs)        # every line is a well-formed agi_ line (the usual case)
            self.state = State.READY
            return header
        for text in text.split("\n")[:-2]:
            if text.endswith("\r"):
                text = text[:-1]
            if text == "":
                continue
            name, sep, value = text.partition(":")
            if not sep or not name.startswith("agi_") or " " in name:
                raise AgiHeaderError(f"malformed agi_ header line: {text[:80]!r}")
            header[name] = value[1:] if value[:1] == " " else value
            if len(header) > limit:
                raise AgiHeaderError(f"agi_ header block longer than {limit} lines")
        if not header:
            raise AgiHeaderError("empty agi_ header block")
        self.state = State.READY
        return header

    def eof(self) -> None:
        """The peer closed. Raises :class:`AgiHeaderError` when the header block was not complete."""
        previous, self.state = self.state, State.CLOSED
        if previous is State.HEADER:
            got = f"{len(self.header)} header line(s)" if self.header else "no header"
            raise AgiHeaderError(f"connection closed before the end of the agi_ header block ({got})")

    def _header_line(self, text: str) -> dict[str, str] | None:
        if text == "":
            if not self.header:
                raise AgiHeaderError("empty agi_ header block")
            self.state = State.READY
            return dict(self.header)
        name, sep, value = text.partition(":")
        if not sep or not name.startswith("agi_") or " " in name:
            raise AgiHeaderError(f"malformed agi_ header line: {text[:80]!r}")
        if len(self.header) >= self.max_header_lines and name not in self.header:
            raise AgiHeaderError(f"agi_ header block longer than {self.max_header_lines} lines")
        self.header[name] = value[1:] if value.startswith(" ") else value
        return None

    def _ready_line(self, text: str) -> AgiReply | _Hangup | None:
        if text == "HANGUP":
            return HANGUP
        if text == "":
            return None  # stray blank line between replies: harmless
        if text.startswith("100"):
            return None  # "100 result=0 Trying..." precedes the real reply
        if text.startswith("520-"):
            self.state = State.USAGE
            self._usage_message = text[4:]
            self._usage_lines = []
            self._usage_bytes = 0
            return None
        return parse_status_line(text)

    def _usage_line(self, text: str) -> AgiReply | _Hangup | None:
        if text == "HANGUP":
            return HANGUP
        if text.startswith("520 "):
            self.state = State.READY
            usage = "\n".join(self._usage_lines)
            self._usage_lines = []
            return AgiReply(code=520, message=self._usage_message, usage=usage)
        self._usage_bytes += len(text) + 1
        if len(self._usage_lines) >= self.max_usage_lines or self._usage_bytes > MAX_USAGE_BYTES:
            raise AgiProtocolError(f"520 usage block longer than {self.max_usage_lines} lines or "
                                   f"{MAX_USAGE_BYTES} bytes without its '520 End' line")
        self._usage_lines.append(text)
        return None


def digit_from_code(code: int | None) -> str | None:
    """A result code as the DTMF digit it names (49 -> "1"); anything that is no DTMF digit -> None."""
    if code is None or not 0 < code < 128:
        return None
    char = chr(code)
    return char if char in DTMF else None


class Quoted(str):
    """An argument always sent in double quotes (escape digits: ``"#"``, ``""``, as Asterisk's own examples)."""


def quote_arg(value: str) -> str:
    """Quote one command argument the way Asterisk's AGI parser reads it (double quotes, backslash escapes)."""
    text = str(value)
    if text and not isinstance(value, Quoted) and _NEEDS_QUOTES(text) is None:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_COMMAND_LINES: dict[tuple[tuple[object, ...], tuple[type, ...]], bytes] = {}   # a flow sends the same lines
COMMAND_LINES_MAX = 1024
COMMAND_LINE_BYTES = 256


def format_command(*parts: object) -> bytes:
    """Build one command line; newlines inside arguments are refused (they would split the command)."""
    try:                    # the types are part of the key: Quoted("#") == "#" but is sent as '"#"'
        key = (parts, tuple(map(type, parts)))
        line = _COMMAND_LINES.get(key)
    except TypeError:       # an unhashable argument: format it every time
        return _format_command(parts)
    if line is None:
        line = _format_command(parts)
        if len(line) <= COMMAND_LINE_BYTES:
            if len(_COMMAND_LINES) >= COMMAND_LINES_MAX:
                _COMMAND_LINES.clear()
            _COMMAND_LINES[key] = line
    return line


def _format_command(parts: tuple[object, ...]) -> bytes:
    words = [str(parts[0])]
    for part in parts[1:]:
        words.append(quote_arg(part if isinstance(part, (str, Quoted)) else str(part)))
    line = " ".join(words)
    if "\n" in line or "\r" in line:
        raise ValueError(f"newline in FastAGI command argument: {line[:200]!r}")
    return (line + "\n").encode("utf-8")
