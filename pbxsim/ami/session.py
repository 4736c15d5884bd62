"""One AMI connection of the simulator (:class:`AmiSession`): output, event filter, security events, and the
read loop that hands each action to the dispatcher the server gives it.

Like Asterisk's manager, each session handles its actions one at a time; events
raised while an action runs are written after that action's response (the
session thread is busy in Asterisk), and otherwise as soon as the PBX emits
them, in emit order, filtered by the user's ``read`` classes and the session's
``Events:`` mask. Writes never block the PBX: a client that stops reading is
disconnected once its unsent backlog passes ``max_backlog`` bytes (Asterisk
drops it after ``writetimeout``).
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Awaitable, Callable, Protocol

from ..events import Event, make_event
from . import codec
from .codec import AmiReader, Message
from .users import ALL, AmiUser, privilege_classes

if TYPE_CHECKING:
    from ..pbx import Pbx

log = logging.getLogger("pbxsim.ami")

CLOSE = object()  # a handler returns this to end the session after its response


@lru_cache(maxsize=512)
def _rendered(event: Event) -> tuple[bytes, frozenset[str]]:
    return codec.render_event(event), privilege_classes(event.privilege)


def _tv(wall: float) -> str:
    """Security-event time: 2026-11-23T11:51:40.350+0000."""
    t = time.gmtime(wall)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{int(wall * 1000) % 1000:03d}+0000"


class AmiHost(Protocol):
    """What a session and its action handlers use of the server that accepted the connection (AmiServer)."""

    pbx: Pbx
    max_backlog: int
    max_pending_events: int
    auth_timeout: float
    globals: dict[str, str]

    def wall_time(self) -> float: ...

    def find_user(self, username: str) -> AmiUser | None: ...

    def spawn(self, coro: Awaitable, name: str = ...) -> asyncio.Task: ...


Dispatch = Callable[["AmiSession", Message], Awaitable[object]]


class AmiSession:
    """One manager connection: reader state machine, login state, event filter."""

    _session_ids = itertools.count(0x7F2384001460, 0x1C0)

    def __init__(self, server: AmiHost, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.server = server
        self.pbx = server.pbx
        self._reader = reader
        self._writer = writer
        self._parser = AmiReader()
        self.user: AmiUser | None = None
        self.authenticated = False
        self.send_events: set[str] = set(ALL)
        self.challenge = ""
        self.session_id = hex(next(self._session_ids))
        self.connected_wall = self.server.wall_time()
        self._in_action = False
        self._pending: list[Event] = []
        self._closed = False
        peer = writer.get_extra_info("peername") or ("0.0.0.0", 0)
        sock = writer.get_extra_info("sockname") or ("0.0.0.0", 0)
        self.remote = (str(peer[0]), int(peer[1]))
        self.local = (str(sock[0]), int(sock[1]))

    # ---- output -------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed or self._writer.transport.is_closing()

    def send(self, text: str | bytes) -> None:
        if self.closed:
            return
        data = text if isinstance(text, bytes) else codec.encode(text)
        transport = self._writer.transport
        try:
            transport.write(data)
        except (ConnectionError, RuntimeError) as exc:   # peer vanished under us
            log.info("AMI %s:%s write failed: %s", *self.remote, exc)
            self.abort()
            return
        if transport.get_write_buffer_size() > self.server.max_backlog:
            log.warning("AMI %s:%s does not read its events (backlog %d bytes): disconnecting",
                        *self.remote, transport.get_write_buffer_size())
            self.abort()

    def ack(self, m: Message, message: str | None = None) -> None:
        self.send(codec.response("Success", m.action_id, message))

    def error(self, m: Message, message: str) -> None:
        self.send(codec.response("Error", m.action_id, message))

    def abort(self) -> None:
        self._closed = True
        try:
            self._writer.transport.abort()
        except Exception:  # already gone
            pass

    # ---- events -------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        if self._in_action:
            self._pending.append(event)
            if len(self._pending) > self.server.max_pending_events:
                log.warning("AMI %s:%s: action runs too long, event backlog overflow", *self.remote)
                self._pending.clear()
                self.abort()
            return
        self._deliver(event)

    def _deliver(self, event: Event) -> None:
        if not self.authenticated or self.closed:
            return
        data, classes = _rendered(event)
        if classes <= self.user.read and classes <= self.send_events:
            self.send(data)

    def _flush_pending(self) -> None:
        pending, self._pending = self._pending, []
        for event in pending:
            self._deliver(event)

    # ---- security events (res_security_log / manager.c report_*) -----------------------
    def _security(self, name: str, severity: str, version: str, account: str, extra=()) -> Event:
        return make_event(name, "security,all", [
            ("EventTV", _tv(self.server.wall_time())), ("Severity", severity), ("Service", "AMI"),
            ("EventVersion", version), ("AccountID", account), ("SessionID", self.session_id),
            ("LocalAddress", f"IPV4/TCP/{self.local[0]}/{self.local[1]}"),
            ("RemoteAddress", f"IPV4/TCP/{self.remote[0]}/{self.remote[1]}"),
            *extra, ("SessionTV", _tv(self.connected_wall))])

    def report_auth_success(self) -> None:
        self.pbx.emit(self._security("SuccessfulAuth", "Informational", "1", self.user.username,
                                     [("UsingPassword", "0")]))

    def report_invalid_user(self, username: str) -> None:
        self.pbx.emit(self._security("InvalidAccountID", "Error", "1", username))

    def report_invalid_password(self, username: str) -> None:
        self.pbx.emit(self._security("InvalidPassword", "Error", "2", username))

    # ---- main loop ----------------------------------------------------------------------
    async def run(self, dispatch: Dispatch) -> None:
        """Serve the connection until it closes; ``dispatch`` handles one action (actions.dispatch)."""
        unsubscribe = self.pbx.subscribe(self.on_event)
        loop = asyncio.get_running_loop()
        auth_timer = loop.call_later(self.server.auth_timeout, self._auth_timeout)
        try:
            self.send(codec.BANNER)
            while not self.closed:
                try:
                    data = await self._reader.read(65536)
                except (ConnectionError, OSError):
                    break
                if not data:
                    break
                for message in self._parser.feed(data):
                    if self.closed:
                        break
                    self._in_action = True
                    try:
                        outcome = await dispatch(self, message)
                    except asyncio.CancelledError:
                        raise
                    except Exception:   # a bug in one action must not kill the session
                        log.exception("AMI action failed: %r", message.lines)
                        self.error(message, "Internal error processing action")
                        outcome = None
                    finally:
                        self._in_action = False
                    self._flush_pending()
                    if outcome is CLOSE:
                        await self._close_gracefully()
                        return
        finally:
            auth_timer.cancel()
            unsubscribe()
            self._pending.clear()
            if not self._writer.transport.is_closing():
                self._writer.close()
            self._closed = True

    def _auth_timeout(self) -> None:
        if not self.authenticated and not self.closed:
            log.info("AMI client %s:%s failed to authenticate in %ss", *self.remote, self.server.auth_timeout)
            self.abort()

    async def _close_gracefully(self) -> None:
        self._closed = True
        try:
            self._writer.close()
            await asyncio.wait_for(self._writer.wait_closed(), 2)
        except (Exception, asyncio.TimeoutError):
            self._writer.transport.abort()
