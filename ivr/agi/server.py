"""asyncio FastAGI server: one task per call, routed by the agi_request path.

    server = FastAgiServer({"hotline": run_hotline}, host="127.0.0.1", port=0)
    await server.start(); ...; await server.close(timeout=5)

A handler is ``async def handler(channel: AgiChannel) -> None``; the request (path, query, agi_arg_N,
header) is ``channel.request``. Whatever happens inside — the caller hanging up, a dropped socket, a
bug — the session ends with the socket closed and the task gone; handlers put their durable writes in
``finally`` blocks, which run before the socket is closed.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Mapping

from .channel import MAX_LINE, AgiChannel, AgiHandler, AgiRequest
from .errors import AgiError, AgiHangup, AgiHeaderError
from .protocol import AgiReader

log = logging.getLogger(__name__)

HEADER_TIMEOUT_S = 10.0


class FastAgiServer:
    def __init__(self, routes: Mapping[str, AgiHandler], *, host: str = "127.0.0.1", port: int = 0,
                 header_timeout: float = HEADER_TIMEOUT_S) -> None:
        self.routes = dict(routes)
        self.host = host
        self._port = port
        self.header_timeout = header_timeout
        self._server: asyncio.base_events.Server | None = None
        self._sessions: set[asyncio.Task] = set()
        self.completed = 0           # sessions that ran to their end (any outcome)
        self.failed = 0              # sessions that ended on an unexpected error
        self.rejected = 0            # connections without a usable header / route

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return self._port
        return self._server.sockets[0].getsockname()[1]

    @property
    def active_sessions(self) -> int:
        return len(self._sessions)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_connection, self.host, self._port, limit=MAX_LINE)
        log.info("FastAGI listening on %s:%s (routes: %s)", self.host, self.port, ", ".join(sorted(self.routes)))

    async def __aenter__(self) -> "FastAgiServer":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        try:
            await self._session(reader, writer)
        finally:
            self._sessions.discard(task)
            if not writer.is_closing():
                writer.close()
            try:
                await asyncio.shield(self._wait_closed(writer))
            except asyncio.CancelledError:
                pass

    @staticmethod
    async def _wait_closed(writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(writer.wait_closed(), 1.0)
        except (ConnectionError, OSError, asyncio.TimeoutError):
            pass

    async def _read_header(self, reader: asyncio.StreamReader, parser: AgiReader) -> dict[str, str]:
        while True:
            try:
                raw = await reader.readuntil(b"\n")
            except asyncio.IncompleteReadError as exc:
                if exc.partial:
                    log.warning("FastAGI: partial header line before EOF: %r", exc.partial[:80])
                parser.eof()  # raises AgiHeaderError
                raise AgiHeaderError("connection closed in the header block")  # pragma: no cover
            except asyncio.LimitOverrunError:
                raise AgiHeaderError(f"agi_ header line longer than {MAX_LINE} bytes") from None
            header = parser.feed(raw)
            if header is not None:
                return header  # type: ignore[return-value]

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        parser = AgiReader()
        try:
            header = await asyncio.wait_for(self._read_header(reader, parser), self.header_timeout)
        except (AgiHeaderError, asyncio.TimeoutError, ConnectionError, OSError) as exc:
            self.rejected += 1
            log.warning("FastAGI connection from %s dropped: %s", peer, exc or "header timeout")
            return
        request = AgiRequest.from_header(header)
        channel = AgiChannel(reader, writer, request, parser)
        handler = self.routes.get(request.path)
        if handler is None:
            self.rejected += 1
            log.warning("FastAGI: no flow for request %r (have %s)", request.get("request"), sorted(self.routes))
            try:
                await channel.set_variable("IVRSTATUS", "NOFLOW")
                await channel.verbose(f"hotline: no flow named {request.path!r}", 1)
            except AgiError:
                pass
            await channel.close()
            return
        try:
            await handler(channel)
        except AgiHangup as exc:
            log.info("%s: session ended by hang-up: %s", request.channel, exc)
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
            await channel.close()

    async def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, give running calls ``timeout`` seconds to finish, then cancel the rest."""
        if self._server is not None:
            self._server.close()
        pending = set(self._sessions)
        if pending:
            done, still = await asyncio.wait(pending, timeout=timeout)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still, timeout=2.0)
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            except asyncio.TimeoutError:
                log.warning("FastAGI server: connections still open after close")
            self._server = None
