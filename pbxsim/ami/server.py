"""The AMI TCP server of the simulator: accepts connections and runs one :class:`AmiSession` per connection,
its actions dispatched by ``actions.dispatch``."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable

from ..events import make_event
from .actions import dispatch
from .session import AmiSession
from .users import AmiUser

log = logging.getLogger("pbxsim.ami")


class AmiServer:
    """``AmiServer(pbx, users)``; ``await start()``; ``port``; ``await close()``."""

    def __init__(self, pbx, users: dict[str, AmiUser], *, host: str = "127.0.0.1", port: int = 0,
                 max_backlog: int = 8 * 1024 * 1024, max_pending_events: int = 100_000,
                 auth_timeout: float = 30.0):
        self.pbx = pbx
        self.users = {name.lower(): user for name, user in users.items()}
        self.host = host
        self._port = port
        self.max_backlog = max_backlog
        self.max_pending_events = max_pending_events
        self.auth_timeout = auth_timeout
        self.globals: dict[str, str] = {}   # used only when the Pbx keeps no global variables
        self.sessions: set[AmiSession] = set()
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def port(self) -> int:
        if self._server and self._server.sockets:
            return self._server.sockets[0].getsockname()[1]
        return self._port

    def wall_time(self) -> float:
        """Wall-clock seconds as the PBX sees them (virtual in tests and the demo)."""
        wall = getattr(self.pbx, "wall_time", None)
        return wall() if callable(wall) else time.time()

    def find_user(self, username: str) -> AmiUser | None:
        return self.users.get(username.lower())

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_connect, self.host, self._port)

    def spawn(self, coro: Awaitable, name: str = "ami-background") -> asyncio.Task:
        """Run work that outlives the action (Async Originate, Atxfer); cancelled on close()."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("AMI background task failed", exc_info=task.exception())

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AmiSession(self, reader, writer)
        self.sessions.add(session)
        try:
            await session.run(dispatch)
        except asyncio.CancelledError:
            # The loop is shutting down: end this connection quietly (re-raising here makes
            # asyncio's StreamReaderProtocol log the cancellation as an error).
            session.abort()
        except Exception:
            log.exception("AMI session crashed")
            session.abort()
        finally:
            self.sessions.discard(session)

    async def close(self, *, announce_shutdown: bool = True) -> None:
        """Stop listening, tell logged-in clients ``Event: Shutdown`` (as ``core stop now``), close."""
        if self._server is not None:
            self._server.close()
        if announce_shutdown:
            event = make_event("Shutdown", "system,all", [("Shutdown", "Cleanly"), ("Restart", "False")])
            for session in list(self.sessions):
                session._deliver(event)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            try:
                await task
            except BaseException:
                pass
        for session in list(self.sessions):
            try:
                session._writer.close()
            except Exception:
                pass
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), 2)
            except (asyncio.TimeoutError, Exception):
                pass
            self._server = None
