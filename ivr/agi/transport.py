"""The accepted FastAGI socket on the event loop's selector, for one :class:`AgiConnection`.

Why not asyncio's socket transport: it reads 256 KiB at a time, a size glibc serves with mmap, mremap and
munmap around every read (three system calls and a fresh page for a 15-byte "200 result=0"; ``strace -c`` of
the bench server: 1.4 of each per FastAGI session), schedules its start and end through the loop and re-checks
sendfile, EOF and buffer state on every write. A FastAGI session is a few short lines each way, so those layers
cost more than its bytes. This transport does only what the session uses: read (64 KiB at most, from the heap)
into ``data_received``, write at once (buffering what the kernel did not take, with pause/resume_writing on the
protocol), close, abort. Like the server's accept loop it needs ``loop.add_reader`` (asyncio's selector loops).
"""
from __future__ import annotations

import asyncio
import socket

READ_SIZE = 64 * 1024                            # under glibc's mmap threshold (128 KiB)
WRITE_HIGH, WRITE_LOW = 64 * 1024, 16 * 1024     # pause_writing above, resume_writing at or below


class SocketTransport(asyncio.Transport):
    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket, protocol: asyncio.Protocol,
                 peer: object) -> None:
        super().__init__()
        self._loop = loop
        self._sock = sock
        self._fd = sock.fileno()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # an interrupting NOOP must leave at once
        self._protocol: asyncio.Protocol | None = protocol    # None once the connection is lost (no cycle left)
        self._peer = peer
        self._buffer = bytearray()
        self._closing = False
        self._reading = False
        self._write_paused = False
        protocol.connection_made(self)
        if not self._closing:
            loop.add_reader(self._fd, self._readable)
            self._reading = True

    # -- reading ------------------------------------------------------------------------------
    def _readable(self) -> None:
        protocol = self._protocol
        if protocol is None:
            return
        try:
            data = self._sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._connection_lost(exc)
            return
        if data:
            protocol.data_received(data)
            return
        self._stop_reading()
        if not protocol.eof_received():
            self.close()

    def _stop_reading(self) -> None:
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._fd)

    def pause_reading(self) -> None:
        self._stop_reading()

    def resume_reading(self) -> None:
        if not self._reading and not self._closing:
            self._reading = True
            self._loop.add_reader(self._fd, self._readable)

    def is_reading(self) -> bool:
        return self._reading

    # -- writing ------------------------------------------------------------------------------
    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or not data:
            return
        if not self._buffer:
            try:
                sent = self._sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self._connection_lost(exc)
                return
            if sent == len(data):
                return
            data = data[sent:]
            self._loop.add_writer(self._fd, self._writable)
        self._buffer.extend(data)
        if not self._write_paused and len(self._buffer) > WRITE_HIGH and self._protocol is not None:
            self._write_paused = True
            self._protocol.pause_writing()

    def _writable(self) -> None:
        try:
            sent = self._sock.send(self._buffer)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._connection_lost(exc)
            return
        del self._buffer[:sent]
        if self._write_paused and len(self._buffer) <= WRITE_LOW and self._protocol is not None:
            self._write_paused = False
            self._protocol.resume_writing()
        if not self._buffer:
            self._loop.remove_writer(self._fd)
            if self._closing:
                self._connection_lost(None)

    def get_write_buffer_size(self) -> int:
        return len(self._buffer)

    # -- the end ------------------------------------------------------------------------------
    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        """Stop reading; the socket closes once what was written has left (at once, usually)."""
        if self._closing:
            return
        self._closing = True
        self._stop_reading()
        if not self._buffer:
            self._connection_lost(None)

    def abort(self) -> None:
        self._closing = True
        self._connection_lost(None)

    def _connection_lost(self, exc: Exception | None) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is None:
            return
        self._closing = True
        self._stop_reading()
        if self._buffer:
            self._buffer.clear()
            self._loop.remove_writer(self._fd)
        try:
            protocol.connection_lost(exc)
        finally:
            self._sock.close()

    def get_extra_info(self, name: str, default: object = None) -> object:
        if name == "peername":
            return self._peer
        if name == "socket":
            return self._sock
        return default
