"""AMI session on top of panoramisk's Manager, with its gaps closed.

panoramisk 1.4 sends Pings but never checks the Pong, re-sends every
unanswered action after a reconnect (an Originate would dial twice), has no
per-action timeout, decodes each TCP read on its own (a UTF-8 character split
across two reads is dropped) and runs event callbacks inline in the reader.
AmiSession keeps panoramisk's Action/Message parsing and response matching and
replaces the connection life cycle:

* one ``run()`` loop (owned by the caller's TaskGroup) connects, logs in, runs
  the connect hooks (resync) and pings; any silence longer than
  ``ping_timeout`` drops the connection; reconnects back off exponentially up
  to ``reconnect_max_delay``;
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
import codecs
import inspect
import logging
import re
import sys
from collections import deque
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterable

from panoramisk.actions import Action
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.manager import Manager
from panoramisk.message import Message

log = logging.getLogger("hotline.cti.ami")

EOL = "\r\n"
BANNER_PREFIX = "Asterisk Call Manager/"

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


def event_call_key(event: Message) -> str:
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


def is_noise(event: Message) -> bool:
    name = event.get("Event", "").lower()
    if name == "varset":
        variable = event.get("Variable", "")
        return not (variable in INTERESTING_VARIABLES or variable.startswith(INTERESTING_VARIABLE_PREFIXES))
    if name in NOISE_EVENTS:
        return True
    if name == "devicestatechange":
        device = event.get("Device", "")
        return device.startswith(("Local/", "Queue:", "Custom:"))
    return False


class OrderedDispatcher:
    """Runs async handlers with one worker per key: ordered within a call, independent across calls."""

    def __init__(self, idle_seconds: float = 5.0):
        self.handlers: list[Callable[[Message], Any]] = []
        self._queues: dict[str, asyncio.Queue] = {}
        self._workers: dict[str, asyncio.Task] = {}
        self._idle = idle_seconds

    def submit(self, key: str, event: Message) -> None:
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = asyncio.Queue()
            self._workers[key] = asyncio.get_running_loop().create_task(
                self._work(key, queue), name=f"ami-events-{key}")
        queue.put_nowait(event)

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


class _AmiProtocol(AMIProtocol):
    """panoramisk's protocol with an incremental UTF-8 decoder and no automatic re-sending."""

    def connection_made(self, transport):
        super().connection_made(transport)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._buffer = ""

    def data_received(self, data: bytes) -> None:
        self._buffer += self._decoder.decode(data)
        if self.version is None:
            if EOL not in self._buffer:
                return
            first, _, rest = self._buffer.partition(EOL)
            if first.startswith(BANNER_PREFIX):
                self.version = first[len(BANNER_PREFIX):].strip()
                self._buffer = rest
                if not re.fullmatch(r"\d+\.\d+(\.\d+)?", self.version):
                    log.warning("AMI banner %r: not an Asterisk manager version; is this an Asterisk AMI port?",
                                first[:80])
            else:
                self.version = ""
                log.warning("AMI peer sent no banner (expected %r…, got %r); is this an Asterisk AMI port?",
                            BANNER_PREFIX, first[:80])
        *blocks, self._buffer = self._buffer.split(EOL + EOL)
        for block in blocks:
            block = block.strip(EOL)
            if not block:
                continue
            message = Message.from_line(block)
            if message is None:
                log.warning("AMI: ignoring a block that is neither a response nor an event: %r", block[:200])
                continue
            try:
                self.handle_message(message)
            except Exception:
                log.exception("AMI: failed to handle %r", message)

    def handle_message(self, message: Message) -> None:
        response = self.responses.get(message.id)
        if response is None and message.action_id:
            response = self.responses.get(message.action_id)
        if response is not None:
            if response.add_message(message):
                self.responses.pop(response.id, None)
                if response.action_id:
                    self.responses.pop(response.action_id, None)
        elif "event" in message:
            self.factory.dispatch(message)
            if message["event"].lower() == "shutdown":
                self.transport.close()

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.factory is not None:
            self.factory.connection_lost(exc)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()


ConnectHook = Callable[["AmiSession"], Awaitable[None]]


class AmiSession(Manager):
    """A supervised AMI connection. Use ``await session.run()`` inside a TaskGroup."""

    def __init__(self, config: AmiConfig):
        super().__init__(host=config.host, port=config.port, username=config.username,
                         secret=config.secret, events=config.events, protocol_factory=_AmiProtocol,
                         ping_delay=config.ping_interval, ping_interval=config.ping_interval)
        self.cfg = config
        self.connected = asyncio.Event()
        self.connection_count = 0
        self.observers: list[Callable[[Message], None]] = []
        self.dispatcher = OrderedDispatcher()
        self.connect_hooks: list[ConnectHook] = []
        self.disconnect_hooks: list[Callable[[], None]] = []
        self.actions_sent: deque[tuple[str, str]] = deque(maxlen=1000)  # (action, ActionID): audit for "nothing dialled twice"
        self._pending: dict[str, Action] = {}
        self._lost: asyncio.Future | None = None
        self._held_events: list[Message] | None = None
        self._delay = config.reconnect_initial_delay
        self._stopping = False
        self._drop_reason = ""          # set when hotline itself drops the connection (not the PBX)

    # -- registration -------------------------------------------------------------------------
    def add_observer(self, observer: Callable[[Message], None]) -> None:
        """A fast synchronous state update run in the reader, in wire order (exceptions logged)."""
        self.observers.append(observer)

    def add_handler(self, handler: Callable[[Message], Any]) -> None:
        """An async (or sync) handler run on the event's call worker, off the reader."""
        self.dispatcher.handlers.append(handler)

    def add_connect_hook(self, hook: ConnectHook) -> None:
        """Run after every login before events flow again (resync). A failing hook drops the connection.
        (Not named on_connect: panoramisk's Manager keeps an ``on_connect`` callback attribute.)"""
        self.connect_hooks.append(hook)

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
            loop.create_connection(_AmiProtocol, self.cfg.host, self.cfg.port), self.cfg.action_timeout)
        protocol.factory = self
        protocol.log = log
        protocol.encoding = self.encoding = "utf8"
        self.protocol = protocol
        self.responses = protocol.responses
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
                self.connected.set()
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
            for hook in self.disconnect_hooks:
                try:
                    hook()
                except Exception:
                    log.exception("AMI disconnect hook failed")

    async def _ping_loop(self, protocol: _AmiProtocol, lost: asyncio.Future) -> None:
        while not lost.done():
            await asyncio.wait({lost}, timeout=self.cfg.ping_interval)
            if lost.done():
                return
            try:
                pong = await self._send(protocol, {"Action": "Ping"}, self.cfg.ping_timeout, check=False)
            except AmiActionTimeout:
                log.error("AMI silent: no Pong within %g s; dropping the connection", self.cfg.ping_timeout)
                self._drop_reason = f"no Pong within {self.cfg.ping_timeout:g} s"
                protocol.transport.abort()
                return
            except AmiError:
                return
            if pong.get("Ping") != "Pong":
                log.error("AMI answered Ping without a Pong (%r); dropping the connection", dict(pong.items()))
                self._drop_reason = "Ping answered without a Pong"
                protocol.transport.abort()
                return

    # panoramisk callbacks --------------------------------------------------------------------
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
                action.future.set_exception(AmiActionLost(action["Action"], action.id))

    def dispatch(self, event: Message) -> list:  # called by the protocol for every event
        if is_noise(event):
            return []
        event.manager = self
        if self._held_events is not None:
            self._held_events.append(event)
        else:
            self._deliver(event)
        return []

    def _deliver(self, event: Message) -> None:
        for observer in self.observers:
            try:
                observer(event)
            except Exception:
                log.exception("AMI observer %r failed on %s", observer, event.get("Event"))
        if self.dispatcher.handlers:
            self.dispatcher.submit(event_call_key(event), event)

    # -- actions ------------------------------------------------------------------------------
    async def send_action(self, action: dict, as_list: bool | None = None, *, timeout: float | None = None,
                          check: bool = True, **kwargs) -> Message | list[Message]:  # type: ignore[override]
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
        act = Action(dict(action), as_list=as_list)
        name = str(act["Action"])
        if protocol.closed:
            raise AmiNotConnected(f"AMI not connected: {name} not sent")
        self._pending[act.id] = act
        self.actions_sent.append((name, act.id))
        protocol.send(act, as_list=as_list)
        try:
            result = await asyncio.wait_for(asyncio.shield(act.future), timeout)
        except TimeoutError:
            protocol.responses.pop(act.id, None)
            self._pending.pop(act.id, None)
            if not act.future.done():
                act.future.cancel()
            raise AmiActionTimeout(name, act.id, timeout) from None
        finally:
            self._pending.pop(act.id, None)
        first = result[0] if isinstance(result, list) else result
        if check and first.get("Response", "") in ("Error", "Fail", "Failure"):
            raise AmiActionError(name, act.id, first.get("Message", ""))
        return result

    async def send_list(self, action: dict, item_event: str, *, timeout: float | None = None,
                        empty_messages: Iterable[str] = ()) -> list[Message]:
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

    # panoramisk's own life cycle is replaced by run()/stop()
    def connect(self, *args, **kwargs):  # pragma: no cover - guard
        raise RuntimeError("use `await AmiSession.run()` inside a TaskGroup")

    def ping(self):  # pragma: no cover - guard
        raise RuntimeError("the ping loop belongs to AmiSession.run()")
