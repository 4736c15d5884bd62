"""asyncio FastAGI server: one task per call, routed by the agi_request path.

    server = FastAgiServer({"hotline": run_hotline}, host="127.0.0.1", port=0, limits=AgiLimits(...))
    await server.start(); ...; await server.close(timeout=5)

A handler is ``async def handler(channel: AgiChannel) -> None``; the request (path, query, agi_arg_N,
header) is ``channel.request``. Whatever happens inside — the caller hanging up, a dropped socket, a PBX
that stops answering, a bug — the session ends with the socket closed and the task gone; handlers put
their durable writes in ``finally`` blocks, which run before the socket is closed.

The server accepts on its own listening socket instead of ``asyncio.start_server`` so that it can
refuse a connection before reading a byte (address not allowed, session limit reached) and back off
quietly when the process runs out of file descriptors (asyncio's own accept loop logs one traceback
per attempt, hundreds of thousands a minute).
"""
from __future__ import annotations

import asyncio
import dataclasses
import errno
import logging
import socket
from typing import Any, Callable, Mapping

from .channel import AgiChannel, AgiHandler, AgiRequest
from .connection import AgiConnection
from .errors import AgiError, AgiHangup, AgiTimeout
from .limits import AgiLimits
from .protocol import AgiReader

log = logging.getLogger(__name__)

HEADER_TIMEOUT_S = 10.0
# asyncio's transport reads 256 KiB at a time, a size glibc serves with mmap, mremap and munmap around every read
# (three system calls and a fresh page for a 15-byte "200 result=0": half the server's system time per session,
# `strace -c` of bench/agi/fastagi_server.py). 64 KiB comes from the heap and holds any FastAGI line.
READ_SIZE = 64 * 1024
ACCEPT_BATCH = 64
OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
BACKOFF_FIRST_S, BACKOFF_MAX_S = 0.05, 2.0
REFUSAL_LOG_EVERY_S = 10.0


class FastAgiServer:
    def __init__(self, routes: Mapping[str, AgiHandler], *, host: str = "127.0.0.1", port: int = 0,
                 header_timeout: float | None = None, limits: AgiLimits | None = None) -> None:
        limits = limits or AgiLimits()
        if header_timeout is not None:
            limits = dataclasses.replace(limits, header_timeout=header_timeout)
        self.routes = dict(routes)
        self.host = host
        self._port = port
        self.limits = limits
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sessions: set[asyncio.Task] = set()
        self._accepting = False
        self._backoff = BACKOFF_FIRST_S
        self._resume: asyncio.TimerHandle | None = None
        self._refusals: dict[str, tuple[float, int]] = {}   # reason -> (last logged at, refused since)
        self._make_transport: Callable[..., Any] | None = None      # the loop's, once started
        self.completed = 0           # sessions that ran to their end (any outcome)
        self.failed = 0              # sessions that ended on an unexpected error
        self.rejected = 0            # connections without a usable header / route
        self.refused = 0             # connections closed unread: address not allowed or session limit
        self.timeouts = 0            # sessions dropped because the PBX stopped answering

    @property
    def header_timeout(self) -> float:
        return self.limits.header_timeout

    @property
    def port(self) -> int:
        if self._sock is None:
            return self._port
        return self._sock.getsockname()[1]

    @property
    def active_sessions(self) -> int:
        return len(self._sessions)

    def is_serving(self) -> bool:
        """Listening (accepting, or pausing accepts for a moment after EMFILE)."""
        return self._sock is not None

    async def start(self) -> None:
        self._loop = loop = asyncio.get_running_loop()
        if not isinstance(loop, asyncio.SelectorEventLoop):
            raise RuntimeError("the FastAGI server runs on asyncio's selector event loop (it accepts with add_reader)")
        # asyncio's own socket transport, made directly: connect_accepted_socket() would add a coroutine per call
        self._make_transport = loop._make_socket_transport  # type: ignore[attr-defined]
        infos = await self._loop.getaddrinfo(self.host, self._port, type=socket.SOCK_STREAM,
                                             flags=socket.AI_PASSIVE)
        family, _, _, _, address = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(self.limits.backlog)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self._start_accepting()
        log.info("FastAGI listening on %s:%s (routes: %s; allow %s; at most %d sessions)", self.host, self.port,
                 ", ".join(sorted(self.routes)), ", ".join(self.limits.allow), self.limits.max_sessions)

    async def __aenter__(self) -> "FastAgiServer":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # -- accepting ---------------------------------------------------------------------------------
    def _start_accepting(self) -> None:
        self._resume = None
        if self._sock is not None and self._loop is not None and not self._accepting:
            self._accepting = True
            self._loop.add_reader(self._sock.fileno(), self._accept_ready)

    def _stop_accepting(self) -> None:
        if self._accepting and self._sock is not None and self._loop is not None:
            self._loop.remove_reader(self._sock.fileno())
        self._accepting = False

    def _accept_ready(self) -> None:
        sock = self._sock
        if sock is None:
            return
        for _ in range(ACCEPT_BATCH):
            try:
                conn, addr = sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                break
            except OSError as exc:
                if exc.errno in OUT_OF_RESOURCES:
                    self._out_of_resources(exc)
                else:
                    log.warning("FastAGI accept failed: %s", exc)
                break
            self._backoff = BACKOFF_FIRST_S
            host = addr[0] if isinstance(addr, tuple) else str(addr)
            if not self.limits.allows(host):
                self._refuse(conn, "not-allowed", f"connection from {host} refused: not in [fastagi] allow")
            elif len(self._sessions) >= self.limits.max_sessions:
                self._refuse(conn, "limit", f"{len(self._sessions)} sessions open, the [fastagi] max_sessions "
                                            f"limit: connection from {host} closed")
            else:
                conn.setblocking(False)
                self._start_session(conn, addr)

    def _start_session(self, sock: socket.socket, addr: object) -> None:
        loop, make_transport = self._loop, self._make_transport
        assert loop is not None and make_transport is not None
        conn = AgiConnection(AgiReader())
        try:
            transport = make_transport(sock, conn, None, extra={"peername": addr})
        except OSError:
            sock.close()
            return
        transport.max_size = READ_SIZE
        task = loop.create_task(self._session(conn))
        self._sessions.add(task)
        task.add_done_callback(self._sessions.discard)

    def _out_of_resources(self, exc: OSError) -> None:
        """EMFILE and friends: stop accepting for a while (the kernel keeps the backlog), one line per pause."""
        self._stop_accepting()
        delay, self._backoff = self._backoff, min(self._backoff * 2, BACKOFF_MAX_S)
        suppressed = self._refusals.get("resources", (0.0, 0))[1]
        if self._log_due("resources"):          # at most one line per REFUSAL_LOG_EVERY_S
            more = f" ({suppressed} more pauses since the last such line)" if suppressed else ""
            log.error("FastAGI: cannot accept (%s) with %d sessions open; pausing accepts for %.2f s%s",
                      errno.errorcode.get(exc.errno or 0, exc), len(self._sessions), delay, more)
        if self._loop is not None:
            self._resume = self._loop.call_later(delay, self._start_accepting)

    def _refuse(self, conn: socket.socket, reason: str, message: str) -> None:
        self.refused += 1
        conn.close()
        last, count = self._refusals.get(reason, (-1e9, 0))
        now = self._loop.time() if self._loop else 0.0
        if now - last >= REFUSAL_LOG_EVERY_S:
            more = f" ({count} more since the last such line)" if count else ""
            log.warning("FastAGI: %s%s", message, more)
            self._refusals[reason] = (now, 0)
        else:
            self._refusals[reason] = (last, count + 1)

    def _log_due(self, reason: str) -> bool:
        now = self._loop.time() if self._loop else 0.0
        last, count = self._refusals.get(reason, (-1e9, 0))
        if now - last >= REFUSAL_LOG_EVERY_S:
            self._refusals[reason] = (now, 0)
            return True
        self._refusals[reason] = (last, count + 1)
        return False

    # -- one session ---------------------------------------------------------------------------------
    async def _session(self, conn: AgiConnection) -> None:
        """One call from its agi_ header to the socket closed, whatever happens in between."""
        try:
            try:
                header = await conn.next_item(self.limits.header_timeout, "complete agi_ header block")
            except AgiError as exc:
                self.rejected += 1
                log.warning("FastAGI connection from %s dropped: %s", conn.peer, exc)
                conn.abort()
                return
            request = AgiRequest.from_header(header)
            channel = AgiChannel(conn, request, self.limits)
            handler = self.routes.get(request.path)
            if handler is None:
                self.rejected += 1
                log.warning("FastAGI: no flow for request %r (have %s)", request.get("request")[:200],
                            sorted(self.routes))
                try:
                    await channel.set_variable("IVRSTATUS", "NOFLOW")
                    await channel.verbose(f"hotline: no flow named {request.path[:80]!r}", 1)
                except AgiError:
                    pass
                return
            try:
                await handler(channel)
            except AgiHangup as exc:
                if isinstance(exc, AgiTimeout):
                    self.timeouts += 1
                    log.warning("%s: PBX stopped answering in %r, session dropped: %s", request.channel,
                                request.path, exc)
                else:
                    log.debug("%s: session ended by hang-up: %s", request.channel, exc)
            except AgiError as exc:
                self.failed += 1
                log.error("%s: FastAGI error in %r: %s", request.channel, request.path, exc)
            except asyncio.CancelledError:
                log.info("%s: session cancelled (server closing)", request.channel)
                raise
            except Exception:
                self.failed += 1
                log.exception("%s: flow %r crashed", request.channel, request.path)
            finally:
                self.completed += 1
        finally:
            conn.close()

    async def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, give running calls ``timeout`` seconds to finish, then cancel the rest."""
        self._stop_accepting()
        if self._resume is not None:
            self._resume.cancel()
            self._resume = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        pending = set(self._sessions)
        if pending:
            done, still = await asyncio.wait(pending, timeout=timeout)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still, timeout=2.0)
