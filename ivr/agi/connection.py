"""One FastAGI socket as an asyncio Protocol: bytes -> lines -> AgiReader items, bounded in size and time.

No StreamReader: lines are cut in ``data_received`` and fed to the protocol state machine at once, and the
one task of the session waits on a plain future for the next item (the header, a reply, ``HANGUP``) with a
timer armed for that wait only. A busy hotline runs hundreds of these; each costs one object, one future
per command and no extra task.
"""
from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from .errors import AgiConnectionLost, AgiError, AgiHeaderError, AgiProtocolError, AgiTimeout
from .protocol import AgiReader, AgiReply, State

# Asterisk sends the same few reply lines over and over ("200 result=0\n"): each is parsed once per process.
# Replies are immutable tuples, so every connection may share them; the table is bounded in lines and bytes.
_KNOWN_REPLIES: dict[bytes, AgiReply] = {}
KNOWN_REPLIES_MAX = 512
KNOWN_REPLY_BYTES = 128

MAX_LINE = 64 * 1024
MAX_HEADER_BYTES = 256 * 1024
MAX_QUEUED = 64        # unread items before reading from the socket pauses (a peer sending replies unasked)


class AgiConnection(asyncio.Protocol):
    def __init__(self, parser: AgiReader | None = None) -> None:
        self.parser = parser or AgiReader()
        self.transport: asyncio.Transport | None = None
        self.peer: Any = None
        self.closed = False
        self._buffer = b""
        self._items: deque[Any] = deque()
        self._error: AgiError | None = None
        self._waiter: asyncio.Future | None = None
        self._paused = False
        self._drain: asyncio.Future | None = None
        self._deadline = 0.0
        self._timer: asyncio.TimerHandle | None = None   # one per connection, moved lazily (see _arm)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._header_bytes = 0

    # -- asyncio.Protocol ------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.peer = transport.get_extra_info("peername")

    def data_received(self, data: bytes) -> None:
        if self._error is not None:
            return
        if not self._buffer and self.parser.state is State.READY:
            known = _KNOWN_REPLIES.get(data)     # one whole reply line seen before: most reads
            if known is not None:
                self._deliver(known)
                return
        buffer = self._buffer + data if self._buffer else data
        start = 0
        parser = self.parser
        try:
            if parser.state is State.HEADER:
                end = buffer.find(b"\n\n")
                room = MAX_HEADER_BYTES - self._header_bytes
                if end > room or (end < 0 and len(buffer) > room):
                    raise AgiHeaderError(f"agi_ header block longer than {MAX_HEADER_BYTES} bytes")
                if end >= 0:
                    self._deliver(parser.feed_header_block(buffer[:end + 2]))
                    start = end + 2
            while True:
                end = buffer.find(b"\n", start)
                if end < 0:
                    break
                line = buffer[start:end + 1]
                ready = parser.state is State.READY
                item = parser.feed(line)
                start = end + 1
                if item is not None:
                    if ready and type(item) is AgiReply and len(line) <= KNOWN_REPLY_BYTES:
                        if len(_KNOWN_REPLIES) >= KNOWN_REPLIES_MAX:
                            _KNOWN_REPLIES.clear()
                        _KNOWN_REPLIES[line] = item
                    self._deliver(item)
        except AgiError as exc:
            self._fail(exc)
            return
        if parser.state is State.HEADER:
            self._header_bytes += start          # header lines taken one by one (a header split across reads)
        self._buffer = buffer[start:] if start < len(buffer) else b""
        if len(self._buffer) > MAX_LINE:
            self._fail(AgiProtocolError(f"line longer than {MAX_LINE} bytes"))

    def eof_received(self) -> bool:
        try:
            self.parser.eof()
        except AgiError as exc:
            self._fail(exc)
        else:
            self._fail(AgiConnectionLost("FastAGI connection closed by the PBX"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._stop_timer()
        if self._error is None:
            self._error = AgiConnectionLost(f"FastAGI socket broke: {exc}" if exc else "FastAGI connection closed")
        self._wake()
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def pause_writing(self) -> None:
        self._drain = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
        self._drain = None

    # -- used by the session ---------------------------------------------------------------------
    def _deliver(self, item: Any) -> None:
        """Hand an item to the waiting session directly, or queue it (pausing the socket if the peer runs ahead)."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(item)
            return
        self._items.append(item)
        if len(self._items) >= MAX_QUEUED and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def _fail(self, exc: AgiError) -> None:
        if self._error is None:
            self._error = exc
        self._wake()

    def _wake(self) -> None:
        """End the current wait without an item (error, EOF, deadline)."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next_item(self, timeout: float, what: str, command: str = "") -> Any:
        """The next header/reply/HANGUP item; AgiTimeout after ``timeout`` s (the message names ``what`` and the
        ``command`` it answers: put together only then, not for every command), AgiConnectionLost at EOF."""
        items = self._items
        if items:
            item = items.popleft()
            if self._paused and len(items) < MAX_QUEUED // 2 and self.transport is not None:
                self._paused = False
                self.transport.resume_reading()
            return item
        if self._error is not None:
            raise self._error
        loop = self._loop
        if loop is None:            # asked once: asyncio checks the process id on every call (a syscall)
            loop = self._loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        self._arm(loop, timeout)
        try:
            item = await waiter
        finally:
            self._waiter = None
        if item is None:
            if items:                   # arrived after the deadline woke us, before we ran: still in time
                return items.popleft()
            if self._error is None:
                self._error = AgiTimeout(f"no {what}{' to ' + command if command else ''} within {timeout:g} s")
            raise self._error
        return item

    def _arm(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        """Set the deadline of the current wait. The one timer only moves when it would fire too late;
        firing early it re-arms itself for the deadline, so a fast PBX costs one timer per session."""
        self._deadline = deadline = loop.time() + timeout
        timer = self._timer
        if timer is None or timer.when() > deadline:
            if timer is not None:
                timer.cancel()
            self._timer = loop.call_at(deadline, self._on_timer, loop)

    def _on_timer(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if loop.time() >= self._deadline:
            waiter.set_result(None)
        else:
            self._timer = loop.call_at(self._deadline, self._on_timer, loop)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def send(self, data: bytes) -> asyncio.Future | None:
        """Write one command; returns a future to await when the socket's buffer is full (else None)."""
        transport = self.transport
        if self.closed or transport is None or transport.is_closing():
            self.closed = True
            raise AgiConnectionLost("FastAGI connection already closed")
        transport.write(data)
        return self._drain

    async def write(self, data: bytes) -> None:
        drain = self.send(data)
        if drain is not None:
            await drain

    def close(self) -> None:
        self.closed = True
        self._stop_timer()
        if self._error is not None:         # raised, it holds the session's frames, which hold this object
            self._error.__traceback__ = None
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def abort(self) -> None:
        self.closed = True
        self._stop_timer()
        if self.transport is not None:
            self.transport.abort()
