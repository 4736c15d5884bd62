"""EventBus: the service's MQTT connection (aiomqtt).

- `publish(suffix, payload, retain=False)` never blocks and never raises because of the broker: the message
  goes into a bounded outgoing queue (oldest dropped first when full) that a sender task drains while
  connected. A dead broker therefore never holds up call handling.
- `subscribe(pattern, handler)` registers a handler for `{prefix}/{pattern}` (MQTT wildcards allowed);
  subscriptions are renewed on every reconnect. Handlers get `(topic_suffix, payload_dict)` and may be async.
- The connection is re-established with exponential back-off; all loops live in one TaskGroup owned by
  `async with EventBus(...)`.
Payloads are JSON objects carrying `"v": 1` (the payload schema version).
"""
from __future__ import annotations

import asyncio
import inspect
import json
import logging
import random
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiomqtt

from hotline.bus.payload import MAX_DEPTH, MAX_PAYLOAD_BYTES, PayloadError, decode_object
from hotline.config import parse_mqtt_url

log = logging.getLogger(__name__)

PAYLOAD_VERSION = 1
Handler = Callable[[str, dict[str, Any]], Awaitable[None] | None]


@dataclass(frozen=True)
class _Outgoing:
    topic: str
    payload: bytes
    retain: bool
    qos: int


class Queued:
    """What `publish` returns: truthy when the message was queued. Awaiting it is allowed and returns at once."""

    __slots__ = ("accepted",)

    def __init__(self, accepted: bool) -> None:
        self.accepted = accepted

    def __bool__(self) -> bool:
        return self.accepted

    def __await__(self):
        return self.accepted
        yield  # pragma: no cover - makes this a generator, i.e. awaitable


def encode_payload(payload: dict[str, Any]) -> bytes:
    if not isinstance(payload, dict):
        raise TypeError(f"MQTT payloads are JSON objects, got {type(payload).__name__}")
    body = {"v": PAYLOAD_VERSION, **payload}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def topic_matches(topic: str, pattern: str) -> bool:
    return aiomqtt.Topic(topic).matches(pattern)


class EventBus:
    def __init__(self, url: str, topic_prefix: str = "hotline", *, client_id: str | None = None,
                 queue_size: int = 10_000, keepalive: int = 30, reconnect_max_delay: float = 30.0,
                 announce_status: bool = True, max_payload_bytes: int = MAX_PAYLOAD_BYTES,
                 max_payload_depth: int = MAX_DEPTH) -> None:
        self.host, self.port, self._username, self._password = parse_mqtt_url(url)
        self.url = url
        self.prefix = topic_prefix.rstrip("/")
        self.client_id = client_id or f"hotline-{uuid.uuid4().hex[:10]}"
        self.keepalive = keepalive               # 0 disables MQTT pings (used on a virtual clock, see demo)
        self.reconnect_max_delay = reconnect_max_delay
        self.announce_status = announce_status
        self.max_payload_bytes = max_payload_bytes    # incoming payloads over these limits are refused unparsed
        self.max_payload_depth = max_payload_depth
        self.refused = 0
        self._queue: deque[_Outgoing] = deque(maxlen=queue_size)
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()             # set when nothing is queued or in flight
        self._idle.set()
        self._subscriptions: dict[str, Handler] = {}
        self._client: aiomqtt.Client | None = None
        self._tasks: asyncio.TaskGroup | None = None
        self._stopping = asyncio.Event()
        self.connected = False
        self.last_error: str | None = None
        self.dropped = 0                          # messages lost because the queue was full
        self.published = 0
        self.connects = 0
        self._local_listeners: list[Callable[[str, dict[str, Any]], None]] = []

    # ------------------------------------------------------------ public API

    def add_local_listener(self, listener: Callable[[str, dict[str, Any]], None]) -> Callable[[], None]:
        """In-process fan-out: `listener(topic_suffix, payload)` is called on every publish, before the
        message is queued for the broker (e.g. the web pages' live feed, web.live). It must not block;
        a failing listener is logged and never stops the publish. Returns a function that removes it."""
        self._local_listeners.append(listener)
        return lambda: self._local_listeners.remove(listener) if listener in self._local_listeners else None

    def _tell_local(self, topic_suffix: str, payload: dict[str, Any]) -> None:
        for listener in list(self._local_listeners):
            try:
                listener(topic_suffix, payload)
            except Exception:
                log.exception("local listener of %s failed", topic_suffix)

    def topic(self, suffix: str) -> str:
        return f"{self.prefix}/{suffix.lstrip('/')}"

    def publish(self, topic_suffix: str, payload: dict[str, Any], retain: bool = False, qos: int = 0) -> Queued:
        """Queue one message for `{prefix}/{topic_suffix}`; raises ValueError/TypeError on a caller's mistake
        (wildcards or an empty level in the topic, a payload that is not a JSON object, bad QoS)."""
        if not topic_suffix or any(c in topic_suffix for c in "+#\0") or "//" in topic_suffix:
            raise ValueError(f"MQTT topic suffix {topic_suffix!r}: no wildcards, empty levels or NUL allowed")
        if qos not in (0, 1, 2):
            raise ValueError(f"MQTT QoS must be 0, 1 or 2, got {qos!r}")
        message = _Outgoing(self.topic(topic_suffix), encode_payload(payload), retain, qos)
        self._tell_local(topic_suffix, payload)
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("MQTT outgoing queue full (%d): dropped %d oldest message(s) so far",
                            self._queue.maxlen, self.dropped)
        self._queue.append(message)
        self._idle.clear()
        self._wakeup.set()
        return Queued(True)

    def subscribe(self, pattern: str, handler: Handler) -> None:
        """Handle messages on `{prefix}/{pattern}`; takes effect now if connected, else on connect."""
        topic = self.topic(pattern)
        self._subscriptions[topic] = handler
        client = self._client
        if client is not None and self.connected and self._tasks is not None:
            self._tasks.create_task(self._subscribe_now(client, topic))

    async def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued message has been handed to the broker (True) or timeout (False)."""
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
            return True
        except TimeoutError:
            return False

    async def wait_connected(self, timeout: float = 5.0) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.connected:
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    @property
    def queued(self) -> int:
        return len(self._queue)

    def status(self) -> dict[str, Any]:
        return {"ok": self.connected, "url": f"mqtt://{self.host}:{self.port}", "queued": self.queued,
                "dropped": self.dropped, "refused": self.refused, "published": self.published, "error": self.last_error}

    # ------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> "EventBus":
        self._tasks = asyncio.TaskGroup()
        await self._tasks.__aenter__()
        self._tasks.create_task(self._connection_loop(), name="mqtt-connection")
        return self

    async def __aexit__(self, *exc) -> None:
        if self.announce_status and self.connected:
            # a graceful stop says so itself; the will only covers a crash or a lost connection
            self.publish("service/status", {"state": "offline"}, retain=True, qos=1)
            await self.flush(timeout=2.0)
        self._stopping.set()
        self._wakeup.set()
        tasks, self._tasks = self._tasks, None
        if tasks is not None:
            await tasks.__aexit__(None, None, None)

    # ------------------------------------------------------------ internals

    async def _connection_loop(self) -> None:
        delay = 0.2
        while not self._stopping.is_set():
            will = aiomqtt.Will(self.topic("service/status"), encode_payload({"state": "offline"}), 1, True) \
                if self.announce_status else None
            client = aiomqtt.Client(self.host, self.port, username=self._username, password=self._password,
                                    identifier=self.client_id, keepalive=self.keepalive, will=will,
                                    clean_session=True, timeout=10)
            try:
                async with client:
                    self._client = client
                    self.connected = True
                    self.connects += 1
                    self.last_error = None
                    delay = 0.2
                    log.info("MQTT connected to %s:%s", self.host, self.port)
                    if self.announce_status:
                        self._queue.appendleft(_Outgoing(self.topic("service/status"),
                                                         encode_payload({"state": "online"}), True, 1))
                        self._idle.clear()
                    for topic in list(self._subscriptions):
                        await client.subscribe(topic)
                    await self._run_connected(client)
            except aiomqtt.MqttError as exc:
                self.last_error = str(exc) or type(exc).__name__
                if not self._stopping.is_set():
                    log.warning("MQTT connection to %s:%s lost or refused: %s; retrying in %.1fs",
                                self.host, self.port, self.last_error, delay)
            except Exception as exc:                        # never let the bus take the service down
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("MQTT connection loop failed; reconnecting in %.1fs", delay)
            finally:
                self.connected = False
                self._client = None
            if self._stopping.is_set():
                break
            try:
                async with asyncio.timeout(delay):
                    await self._stopping.wait()
            except TimeoutError:
                pass
            delay = min(delay * 2, self.reconnect_max_delay) * random.uniform(0.8, 1.0)

    async def _run_connected(self, client: aiomqtt.Client) -> None:
        """Send and receive until the connection fails (raises MqttError) or the bus stops (returns)."""
        sender = asyncio.create_task(self._send(client), name="mqtt-send")
        receiver = asyncio.create_task(self._receive(client), name="mqtt-receive")
        try:
            done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sender, receiver):
                task.cancel()
            await asyncio.gather(sender, receiver, return_exceptions=True)
        for task in done:
            if not task.cancelled() and (exc := task.exception()) is not None:
                raise exc

    async def _send(self, client: aiomqtt.Client) -> None:
        while True:
            while self._queue:
                message = self._queue[0]
                try:
                    await client.publish(message.topic, message.payload, qos=message.qos, retain=message.retain)
                except aiomqtt.MqttError:
                    raise                                   # the connection is gone: keep it, reconnect
                except Exception:                           # this message can never be sent: drop only it
                    log.exception("MQTT: dropping a message for %s that cannot be published", message.topic)
                    self.dropped += 1
                else:
                    self.published += 1
                if self._queue and self._queue[0] is message:
                    self._queue.popleft()
            self._idle.set()
            if self._stopping.is_set():
                return
            self._wakeup.clear()
            if not self._queue:
                await self._wakeup.wait()

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            try:
                self._dispatch(message.topic.value, message.payload)
            except Exception:                               # one bad message never ends the receive loop
                log.exception("MQTT: a message on %s could not be handled", message.topic.value[:200])

    def _dispatch(self, topic: str, raw: Any) -> None:
        handler = next((h for pattern, h in self._subscriptions.items() if topic_matches(topic, pattern)), None)
        if handler is None:
            return
        try:
            if not isinstance(raw, (bytes, bytearray, str)):
                raise PayloadError(f"unexpected payload type {type(raw).__name__}")
            payload = decode_object(bytes(raw) if isinstance(raw, bytearray) else raw,
                                    max_bytes=self.max_payload_bytes, max_depth=self.max_payload_depth)
        except PayloadError as exc:
            self.refused += 1
            log.warning("MQTT %s: ignoring a payload: %s", topic[:200], exc)
            return
        suffix = topic[len(self.prefix) + 1:]
        if self._tasks is not None:
            self._tasks.create_task(self._call(handler, suffix, payload))

    async def _call(self, handler: Handler, suffix: str, payload: dict[str, Any]) -> None:
        try:
            result = handler(suffix, payload)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("MQTT handler for %s failed", suffix)

    async def _subscribe_now(self, client: aiomqtt.Client, topic: str) -> None:
        try:
            await client.subscribe(topic)
        except aiomqtt.MqttError as exc:
            log.warning("MQTT subscribe %s failed (%s); renewed on reconnect", topic, exc)
