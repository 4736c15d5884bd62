"""The AMI client session: connection life cycle, actions and their responses, events to the CTI.

It used to sit on panoramisk 1.4's Manager; what was left of panoramisk was its Message parsing and
response matching, and both cost more than they gave: panoramisk turns a repeated header into a list
(one Newchannel with ``Channel:`` twice made the HTTP API answer 500), decodes each TCP read on its own
(a UTF-8 character split across reads is lost), parses every Newexten/VarSet before anything can drop
it (63,500 messages/s through reader + filter + model, where a plain splitter does 279,000), re-sends
unanswered actions after a reconnect (an Originate would dial twice) and checks no Pong. The wire is
now cti.ami_reader (bytes -> messages, noise dropped unparsed, bounded); matching responses to actions
by ActionID, list actions included, is the ~40 lines of :class:`_Pending` below.

* one ``run()`` loop (owned by the caller's TaskGroup) connects, logs in, runs
  the connect hooks (resync) and pings; a PBX that sends nothing for
  ``ping_timeout`` after a Ping is dropped, but any traffic counts as life (a
  Pong queued behind an event flood is late, the connection is fine);
  reconnects back off exponentially up to ``reconnect_max_delay``;
* actions that were in flight when the connection died fail with
  ``AmiActionLost`` - nothing is ever re-sent;
* every action has a timeout (``AmiActionTimeout`` names action and ActionID);
* events pass a noise filter, then inline observers (fast, synchronous state
  updates such as the live model) and then async handlers that run on one
  ordered worker per call (Linkedid), so a slow or failing handler stalls only
  its own call and never the reader.
"""
from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import sys
from collections import deque
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterable, Mapping

from cti.ami_reader import AmiMessage, AmiReader, noise_filter

log = logging.getLogger("hotline.cti.ami")

Message = AmiMessage            # what observers and handlers receive

# Actions that only read state: safe to repeat by hand after a reconnect. Every
# other action (Originate, Redirect, Hangup, BlindTransfer, Atxfer, Bridge,
# MixMonitor, Setvar...) changes the PBX and is never repeated by the session.
READ_ONLY_ACTIONS = frozenset({
    "ping", "coreshowchannels", "status", "getvar", "pjsipshowendpoints", "pjsipshowendpoint",
    "pjsipshowcontacts", "devicestatelist", "extensionstatelist", "queuestatus", "queuesummary",
    "bridgelist", "bridgeinfo", "corestatus", "coresettings", "listcommands",
})

# Variables worth a VarSet event; all other VarSets are dropped by the reader.
INTERESTING_VARIABLES = frozenset({"MIXMONITOR_FILENAME", "DIALSTATUS"})
INTERESTING_VARIABLE_PREFIXES = ("HOTLINE_",)
NOISE_EVENTS = frozenset({
    "newexten", "rtcpsent", "rtcpreceived", "agiexecstart", "agiexecend", "cdr", "cel",
    "successfulauth", "challengesent", "varset", "newaccountcode", "dtmfbegin",
})
QUIET_DEVICE_PREFIXES = ("Local/", "Queue:", "Custom:")


class AmiError(Exception):
    """Base class of every AMI failure the session reports."""


class AmiNotConnected(AmiError):
    pass


class AmiAuthError(AmiError):
    pass


class AmiActionError(AmiError):
    """The PBX answered the action with Response: Error/Failure."""

    def __init__(self, action: str, action_id: str, message: str):
        self.action, self.action_id, self.message = action, action_id, message
        super().__init__(f"AMI action {action} (ActionID {action_id}) failed: {message or 'no message'}")


class AmiActionTimeout(AmiError):
    def __init__(self, action: str, action_id: str, timeout: float):
        self.action, self.action_id, self.timeout = action, action_id, timeout
        super().__init__(f"AMI action {action} (ActionID {action_id}) got no response within {timeout:g} s")


class AmiActionLost(AmiError):
    """The connection died before the action was answered; it is not re-sent."""

    def __init__(self, action: str, action_id: str):
        self.action, self.action_id = action, action_id
        read_only = action.lower() in READ_ONLY_ACTIONS
        why = ("it only reads state, retrying is safe" if read_only
               else "it may already have taken effect on the PBX, so it is not re-sent")
        super().__init__(f"AMI connection lost before {action} (ActionID {action_id}) was answered; {why}")


@dataclass
class AmiConfig:
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "hotline"
    secret: str = ""
    ping_interval: float = 10.0
    ping_timeout: float = 5.0
    action_timeout: float = 10.0
    reconnect_max_delay: float = 30.0
    reconnect_initial_delay: float = 0.5
    events: str = "on"

    @classmethod
    def from_settings(cls, ami: object) -> "AmiConfig":
        """Build from ``settings.ami`` (hotline.config); missing attributes keep the defaults."""
        values = {name: getattr(ami, name) for name in cls.__dataclass_fields__ if hasattr(ami, name)}
        return cls(**values)


def event_call_key(event: Mapping[str, str]) -> str:
    """Which ordered worker an event belongs to: its call, else its device, else the global one."""
    for header in ("Linkedid", "Uniqueid", "DestLinkedid", "BridgeUniqueid"):
        value = event.get(header)
        if value:
            return value
    for header in ("Device", "Endpoint", "EndpointName", "AOR", "Queue"):
        value = event.get(header)
        if value:
            return f"{header}:{value}"
    return "_global"


def is_noise(event: Mapping[str, str]) -> bool:
    name = event.get("Event", "").lower()
    if name == "varset":
        variable = event.get("Variable", "")
        return not (variable in INTERESTING_VARIABLES or variable.startswith(INTERESTING_VARIABLE_PREFIXES))
    if name in NOISE_EVENTS:
        return True
    if name == "devicestatechange":
        device = event.get("Device", "")
        return device.startswith(QUIET_DEVICE_PREFIXES)
    return False


skip_noise = noise_filter(NOISE_EVENTS, INTERESTING_VARIABLES, INTERESTING_VARIABLE_PREFIXES, QUIET_DEVICE_PREFIXES)
"""is_noise on the raw bytes of a message, so noise is never parsed (tests/fuzz checks they agree)."""


class OrderedDispatcher:
    """Runs async handlers with one worker per key: ordered within a call, independent across calls.

    Bounded as a whole: once ``high_water`` events wait (handlers slower than the PBX for long, a database
    that stalls), ``on_pressure(True)`` asks the reader to stop reading (the kernel's buffers and TCP then hold
    the PBX back); at ``low_water`` it reads again. Nothing is dropped: the live model stays exact."""

    def __init__(self, idle_seconds: float = 5.0, high_water: int = 50_000, low_water: int = 10_000):
        self.handlers: list[Callable[[Any], Any]] = []
        self.on_pressure: Callable[[bool], None] | None = None
        self.backlog = 0                    # events submitted and not yet handled, every call together
        self.pressed = False                # reading stopped for the backlog
        self.high_water, self.low_water = high_water, low_water
        self._queues: dict[str, asyncio.Queue] = {}
        self._workers: dict[str, asyncio.Task] = {}
        self._idle = idle_seconds

    def submit(self, key: str, event: Mapping[str, Any]) -> None:
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = asyncio.Queue()
            self._workers[key] = asyncio.get_running_loop().create_task(
                self._work(key, queue), name=f"ami-events-{key}")
        queue.put_nowait(event)
        self.backlog += 1
        if self.backlog >= self.high_water and not self.pressed:
            self.pressed = True
            log.warning("AMI: %d events wait for their handlers; reading from the PBX pauses until %d are left",
                        self.backlog, self.low_water)
            if self.on_pressure is not None:
                self.on_pressure(True)

    def _handled(self) -> None:
        self.backlog -= 1
        if self.pressed and self.backlog <= self.low_water:
            self.pressed = False
            log.info("AMI: the event backlog is down to %d; reading from the PBX again", self.backlog)
            if self.on_pressure is not None:
                self.on_pressure(False)

    async def _work(self, key: str, queue: asyncio.Queue) -> None:
        try:
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), self._idle)
                except TimeoutError:
                    if queue.empty():
                        return
                    continue
                try:
                    for handler in list(self.handlers):
                        try:
                            result = handler(event)
                            if inspect.isawaitable(result):
                                await result
                        except Exception:
                            log.exception("AMI event handler %r failed on %s (call %s)",
                                          handler, event.get("Event"), key)
                finally:
                    queue.task_done()
                    self._handled()
        finally:
            if self._queues.get(key) is queue:
                del self._queues[key]
                self._workers.pop(key, None)

    async def drain(self) -> None:
        """Wait until every queued event has been handled (used by tests and at shutdown)."""
        while True:
            queues = list(self._queues.values())
            await asyncio.gather(*(q.join() for q in queues))
            if all(q in queues and q.empty() for q in self._queues.values()):
                return

    async def close(self) -> None:
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._queues.clear()
        self._workers.clear()
        self.backlog, self.pressed = 0, False


ERROR_RESPONSES = frozenset({"Error", "Fail", "Failure"})


def format_action(action: Mapping[str, Any]) -> bytes:
    """``{"Action": "Originate", "Variable": ["A=1", "B=2"]}`` -> the wire bytes. A value holding a line
    break would smuggle a second header (or action) in: refused."""
    lines = []
    for key, value in action.items():
        for item in (value if isinstance(value, (list, tuple)) else (value,)):
            text = "" if item is None else str(item)
            if "\r" in text or "\n" in text or "\r" in key or "\n" in key or ":" in key:
                raise AmiError(f"AMI header {key!r} of {action.get('Action')!r}: line breaks are not allowed")
            lines.append(f"{key}: {text}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("utf-8")


class _Pending:
    """One action waiting for its response (or, for a list action, for its items up to ``…Complete``)."""

    __slots__ = ("name", "id", "future", "as_list", "items")

    def __init__(self, name: str, action_id: str, future: asyncio.Future, as_list: bool | None) -> None:
        self.name, self.id, self.future, self.as_list = name, action_id, future, as_list
        self.items: list[AmiMessage] | None = None

    def add(self, msg: AmiMessage) -> bool:
        """Take a message carrying this ActionID; True when the action is complete."""
        if self.items is None:
            if "Response" not in msg:
                return False          # an event before the response (never seen from Asterisk): not ours
            listing = self.as_list is True or (self.as_list is None and msg.get("EventList", "").lower() == "start")
            if not listing or msg["Response"] in ERROR_RESPONSES:
                self._done([msg] if self.as_list else msg)
                return True
            self.items = [msg]
            return False
        self.items.append(msg)
        if msg.get("EventList", "").lower() == "complete":
            self._done(self.items)
            return True
        return False

    def _done(self, result: Any) -> None:
        if not self.future.done():
            self.future.set_result(result)


class _AmiProtocol(asyncio.Protocol):
    """Bytes in -> AmiReader -> the session; notes when anything last arrived (the watchdog's 'alive')."""

    def __init__(self, session: "AmiSession") -> None:
        self.session = session
        self.reader = AmiReader(skip_noise)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reading = True             # False while the session's event backlog holds the PBX back
        self.last_rx = 0.0
        self._loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.last_rx = self._loop.time()

    def data_received(self, data: bytes) -> None:
        self.last_rx = self._loop.time()
        on_message = self.session._on_message
        for msg in self.reader.feed(data):
            try:
                on_message(self, msg)
            except Exception:
                log.exception("AMI: failed to handle %s", msg.get("Event") or msg.get("Response"))

    def eof_received(self) -> bool:
        for msg in self.reader.eof():
            self.session._on_message(self, msg)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.session.connection_lost(exc)

    def set_reading(self, reading: bool) -> None:
        if self.closed or self.transport is None or reading == self.reading:
            return
        self.reading = reading
        if reading:
            self.transport.resume_reading()
        else:
            self.transport.pause_reading()

    def send(self, data: bytes) -> None:
        if self.closed or self.transport is None:
            raise AmiNotConnected("AMI not connected")
        self.transport.write(data)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.transport is not None:
                self.transport.close()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


ConnectHook = Callable[["AmiSession"], Awaitable[None]]
PeriodicHook = Callable[["AmiSession"], Awaitable[object]]      # its result is not used


class AmiSession:
    """A supervised AMI connection. Use ``await session.run()`` inside a TaskGroup."""

    _ids = itertools.count(1)

    def __init__(self, config: AmiConfig):
        self.cfg = config
        self.connected = asyncio.Event()
        self.authenticated = False
        self.connection_count = 0
        self.protocol: _AmiProtocol | None = None
        self.observers: list[Callable[[AmiMessage], None]] = []
        self.dispatcher = OrderedDispatcher()
        self.dispatcher.on_pressure = self._on_pressure
        self.connect_hooks: list[ConnectHook] = []
        self.periodic_hooks: list[tuple[PeriodicHook, float]] = []
        self.disconnect_hooks: list[Callable[[], None]] = []
        self.actions_sent: deque[tuple[str, str]] = deque(maxlen=1000)  # (action, ActionID): audit for "nothing dialled twice"
        self.late_pongs = 0                   # Pings answered late while other traffic flowed (not a drop)
        self._pending: dict[str, _Pending] = {}
        self._lost: asyncio.Future | None = None
        self._held_events: list[AmiMessage] | None = None
        self._delay = config.reconnect_initial_delay
        self._stopping = False
        self._drop_reason = ""          # set when hotline itself drops the connection (not the PBX)
        self._prefix = f"hotline-{next(self._ids)}-"
        self._counter = itertools.count(1)

    # -- registration -------------------------------------------------------------------------
    def add_observer(self, observer: Callable[[AmiMessage], None]) -> None:
        """A fast synchronous state update run in the reader, in wire order (exceptions logged)."""
        self.observers.append(observer)

    def add_handler(self, handler: Callable[[AmiMessage], Any]) -> None:
        """An async (or sync) handler run on the event's call worker, off the reader."""
        self.dispatcher.handlers.append(handler)

    def add_connect_hook(self, hook: ConnectHook) -> None:
        """Run after every login before events flow again (resync). A failing hook drops the connection."""
        self.connect_hooks.append(hook)

    def add_periodic_hook(self, hook: PeriodicHook, every: float = 1.0) -> None:
        """Run every ``every`` seconds while connected (after the connect hooks); failures are logged, the
        connection stays. Used for the light reconciliation, which decides itself whether it is due."""
        self.periodic_hooks.append((hook, every))

    @contextlib.asynccontextmanager
    async def holding_events(self):
        """Events that arrive meanwhile wait and are delivered afterwards, in order (a snapshot taken by
        an action inside applies before them)."""
        if self._held_events is not None:       # already holding (connect hooks): nothing to add
            yield
            return
        held: list[AmiMessage] = []
        self._held_events = held
        try:
            yield
        finally:
            self._held_events = None
            for event in held:
                self._deliver(event)

    # -- life cycle ---------------------------------------------------------------------------
    async def run(self) -> None:
        """Connect, stay connected, reconnect with backoff; returns after stop()."""
        while not self._stopping:
            try:
                await self._run_connection()
            except asyncio.CancelledError:
                raise
            except (OSError, AmiError, TimeoutError) as exc:
                log.warning("AMI %s:%s: %s", self.cfg.host, self.cfg.port, exc)
            except Exception:
                log.exception("AMI session failed")
            if self._stopping:
                break
            log.info("AMI reconnecting in %.1f s", self._delay)
            await asyncio.sleep(self._delay)
            self._delay = min(self._delay * 2, self.cfg.reconnect_max_delay)

    async def stop(self) -> None:
        self._stopping = True
        protocol = self.protocol
        if protocol is not None and not protocol.closed:
            try:
                await self.send_action({"Action": "Logoff"}, timeout=1.0)
            except AmiError:
                pass
            protocol.close()
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)
        await self.dispatcher.close()

    async def wait_connected(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self.connected.wait(), timeout)

    async def _run_connection(self) -> None:
        loop = asyncio.get_running_loop()
        transport, protocol = await asyncio.wait_for(
            loop.create_connection(lambda: _AmiProtocol(self), self.cfg.host, self.cfg.port), self.cfg.action_timeout)
        self.protocol = protocol
        self._lost = lost = loop.create_future()
        self._held_events = []
        try:
            login = await self._send(protocol, {"Action": "Login", "Username": self.cfg.username,
                                                "Secret": self.cfg.secret, "Events": self.cfg.events},
                                     self.cfg.action_timeout, check=False)
            if not login.success:
                raise AmiAuthError(f"AMI login as {self.cfg.username!r} refused: {login.get('Message', '')}")
            self.authenticated = True
            self.connection_count += 1
            self._delay = self.cfg.reconnect_initial_delay
            log.info("AMI connected to %s:%s (connection %d)", self.cfg.host, self.cfg.port,
                     self.connection_count)
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._ping_loop(protocol, lost))
                for hook in self.connect_hooks:
                    await hook(self)
                held, self._held_events = self._held_events, None
                for event in held:
                    self._deliver(event)
                if self.dispatcher.pressed:     # reconnected with a backlog still above the low-water mark
                    protocol.set_reading(False)
                self.connected.set()
                for periodic, every in self.periodic_hooks:
                    tg.create_task(self._periodic(periodic, every, lost))
                await lost
        finally:
            self.connected.clear()
            self.authenticated = False
            self._held_events = None
            if not lost.done() and not self._drop_reason:
                exc = sys.exc_info()[1]
                self._drop_reason = f"{type(exc).__name__}: {exc}" if exc else "hotline closed it"
            protocol.close()
            if not lost.done():
                lost.set_result(None)
            self._fail_pending()
            for on_disconnect in self.disconnect_hooks:
                try:
                    on_disconnect()
                except Exception:
                    log.exception("AMI disconnect hook failed")

    async def _periodic(self, hook: PeriodicHook, every: float, lost: asyncio.Future) -> None:
        while not lost.done():
            await asyncio.wait({lost}, timeout=every)
            if lost.done():
                return
            try:
                await hook(self)
            except AmiError as exc:
                log.warning("AMI periodic %s: %s", getattr(hook, "__name__", hook), exc)
            except Exception:
                log.exception("AMI periodic %s failed", getattr(hook, "__name__", hook))

    async def _ping_loop(self, protocol: _AmiProtocol, lost: asyncio.Future) -> None:
        """Ping every ping_interval. No Pong within ping_timeout AND nothing else received meanwhile ->
        the PBX is gone. A Pong late behind a flood of events is not silence: any byte counts as life."""
        loop = asyncio.get_running_loop()
        while not lost.done():
            await asyncio.wait({lost}, timeout=self.cfg.ping_interval)
            if lost.done():
                return
            if not protocol.reading:        # hotline holds the PBX back itself: no Pong could be read
                continue
            sent_at = loop.time()
            try:
                pong = await self._send(protocol, {"Action": "Ping"}, self.cfg.ping_timeout, check=False)
            except AmiActionTimeout:
                if protocol.last_rx > sent_at or not protocol.reading:
                    self.late_pongs += 1
                    log.debug("AMI Pong late behind other traffic; the connection is alive")
                    continue
                log.error("AMI silent: no Pong and nothing else within %g s; dropping the connection",
                          self.cfg.ping_timeout)
                self._drop_reason = f"no Pong and nothing else within {self.cfg.ping_timeout:g} s"
                protocol.abort()
                return
            except AmiError:
                return
            if pong.get("Ping") != "Pong":
                log.error("AMI answered Ping without a Pong (%r); dropping the connection", dict(pong))
                self._drop_reason = "Ping answered without a Pong"
                protocol.abort()
                return

    def connection_lost(self, exc) -> None:  # called by the protocol
        reason, self._drop_reason = self._drop_reason, ""
        if self._stopping:      # our own Logoff
            log.info("AMI connection closed")
        elif reason:            # hotline dropped it (ping timeout, refused login, …): not the PBX
            log.info("AMI connection dropped by hotline (%s)", reason)
        elif exc is not None:
            log.warning("AMI connection lost: %s", exc)
        else:
            log.warning("AMI connection closed by the PBX")
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)
        self._fail_pending()

    def _fail_pending(self) -> None:
        pending, self._pending = self._pending, {}
        for action in pending.values():
            if not action.future.done():
                action.future.set_exception(AmiActionLost(action.name, action.id))

    def _on_pressure(self, pressed: bool) -> None:
        """The handlers' backlog crossed a water mark: stop or resume reading (see OrderedDispatcher)."""
        if self.protocol is not None:
            self.protocol.set_reading(not pressed)

    # -- incoming -----------------------------------------------------------------------------
    def _on_message(self, protocol: _AmiProtocol, msg: AmiMessage) -> None:
        action_id = msg.get("ActionID")
        if action_id is not None:
            pending = self._pending.get(action_id)
            if pending is not None:
                if pending.add(msg):
                    del self._pending[action_id]
                    return
                if pending.items is not None and (pending.items[-1] is msg):
                    return            # an item of a list still being collected
        if "Event" in msg:
            self.dispatch(msg)
            if msg["Event"] == "Shutdown":
                protocol.close()

    def dispatch(self, event: AmiMessage) -> None:
        """An event from the reader (its noise already dropped unparsed: skip_noise, the bytes twin of is_noise)."""
        if self._held_events is not None:
            self._held_events.append(event)
        else:
            self._deliver(event)

    def _deliver(self, event: AmiMessage) -> None:
        for observer in self.observers:
            try:
                observer(event)
            except Exception:
                log.exception("AMI observer %r failed on %s", observer, event.get("Event"))
        if self.dispatcher.handlers:
            self.dispatcher.submit(event_call_key(event), event)

    # -- actions ------------------------------------------------------------------------------
    async def send_action(self, action: Mapping[str, Any], as_list: bool | None = None, *,
                          timeout: float | None = None, check: bool = True, **kwargs) -> Any:
        """Send one action and return its response (a list for list actions).

        ``check`` raises AmiActionError for Response: Error; ``timeout`` defaults to action_timeout.
        Originate is answered as soon as it is queued (``Async: true``); its outcome arrives as an
        OriginateResponse event carrying the same ActionID.
        """
        action = dict(action, **kwargs)
        protocol = self.protocol
        if protocol is None or protocol.closed or not self.authenticated:
            raise AmiNotConnected(f"AMI not connected: {action.get('Action')} not sent")
        if str(action.get("Action", "")).lower() == "originate" and as_list is None:
            as_list = False
        return await self._send(protocol, action, timeout or self.cfg.action_timeout, check=check,
                                as_list=as_list)

    async def _send(self, protocol: _AmiProtocol, action: dict, timeout: float, *, check: bool,
                    as_list: bool | None = None) -> Any:
        name = str(action.get("Action", ""))
        if protocol.closed:
            raise AmiNotConnected(f"AMI not connected: {name} not sent")
        action_id = str(action.get("ActionID") or f"{self._prefix}{next(self._counter)}")
        data = format_action({"Action": name, "ActionID": action_id,
                              **{k: v for k, v in action.items() if k not in ("Action", "ActionID")}})
        future = asyncio.get_running_loop().create_future()
        self._pending[action_id] = _Pending(name, action_id, future, as_list)
        self.actions_sent.append((name, action_id))
        protocol.send(data)
        try:
            result = await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            if not future.done():
                future.cancel()
            raise AmiActionTimeout(name, action_id, timeout) from None
        finally:
            self._pending.pop(action_id, None)
        first = result[0] if isinstance(result, list) else result
        if check and first.get("Response", "") in ERROR_RESPONSES:
            raise AmiActionError(name, action_id, first.get("Message", ""))
        return result

    async def send_list(self, action: dict, item_event: str, *, timeout: float | None = None,
                        empty_messages: Iterable[str] = ()) -> list[AmiMessage]:
        """A list action (CoreShowChannels...): the item events only. ``empty_messages`` are
        error texts that mean "no items" (PJSIPShowEndpoints says 'No endpoints found')."""
        try:
            result = await self.send_action(action, as_list=None, timeout=timeout)
        except AmiActionError as exc:
            if exc.message in tuple(empty_messages):
                return []
            raise
        if not isinstance(result, list):
            return []
        return [m for m in result if m.get("Event", "").lower() == item_event.lower()]
