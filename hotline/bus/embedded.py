"""An MQTT broker inside the service (amqtt 0.12), for a fresh machine without Mosquitto.

Binds 127.0.0.1 on a free port unless told otherwise and reports the URL the service connects to, with the
service account's credentials in it. Every client authenticates; topics are checked against
``hotline.bus.access.BrokerAccess`` (the agents' ACL). amqtt's own loggers never go below INFO here: at
DEBUG they print whole packets, tokens included.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from amqtt.adapters import StreamReaderAdapter, StreamWriterAdapter
from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.errors import AMQTTError
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session

from hotline.bus.access import SERVICE_USER, BrokerAccess

log = logging.getLogger(__name__)

MAX_PACKET_BYTES = 256 * 1024      # hotline's own messages stay under 64 KiB (hotline.bus.payload)


class PacketTooLarge(AMQTTError):
    """A client announced a packet part over MAX_PACKET_BYTES: its connection is closed, nothing more is read."""


class _BoundedReader(StreamReaderAdapter):
    """amqtt reads a packet's remaining length, then that many bytes (up to 256 MiB by the protocol) before
    anything can look at them: refused here before they are read."""

    async def read(self, n: int = -1) -> bytes:
        if n < 0 or n > MAX_PACKET_BYTES:
            raise PacketTooLarge(f"an MQTT packet of {n} bytes (over {MAX_PACKET_BYTES}): connection closed")
        return await super().read(n)


class _BoundedBroker(Broker):
    async def stream_connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                               listener_name: str) -> None:
        await self._client_connected(listener_name, _BoundedReader(reader), StreamWriterAdapter(writer))


class _AccessAuthPlugin(BaseAuthPlugin):
    """CONNECT: the username and password must satisfy BrokerAccess.authenticate."""

    @dataclass
    class Config:
        access: Any = None

    async def authenticate(self, *, session: Session) -> bool | None:
        access: BrokerAccess = self.context.config.access
        source = f"mqtt:{session.remote_address}" if getattr(session, "remote_address", None) else "mqtt"
        try:
            return await access.authenticate(session.username, session.password, source)
        except Exception:
            log.exception("MQTT: authentication check failed; connection refused")
            return False


class _AccessTopicPlugin(BaseTopicPlugin):
    """PUBLISH / SUBSCRIBE / delivery: BrokerAccess.allowed for the session's username."""

    @dataclass
    class Config:
        access: Any = None

    async def topic_filtering(self, *, session: Session | None = None, topic: str | None = None,
                              action: Action | None = None) -> bool | None:
        access: BrokerAccess = self.context.config.access
        if session is None or not topic or action is None:
            return False
        allowed = access.allowed(session.username, topic, str(action.value))
        if not allowed and action != Action.RECEIVE:
            log.warning("MQTT: %r may not %s %s", (session.username or "")[:64], action.value, topic[:200])
        return allowed


class EmbeddedBroker:
    """`async with EmbeddedBroker() as broker: broker.url  # mqtt://hotline-service:...@127.0.0.1:PORT`"""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, access: BrokerAccess | None = None) -> None:
        self.host = host
        self._requested_port = port
        self.access = access or BrokerAccess()
        self._broker: Broker | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        """The service account's URL (carries its password: never log it)."""
        if self.port is None:
            raise RuntimeError("the embedded broker is not running")
        return f"mqtt://{SERVICE_USER}:{self.access.service_password}@{self.host}:{self.port}"

    @property
    def public_url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    async def start(self) -> str:
        for name in ("amqtt", "transitions"):
            logger = logging.getLogger(name)
            if logger.getEffectiveLevel() < logging.INFO:
                logger.setLevel(logging.INFO)
        plugin_config = {"access": self.access}
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self._requested_port}",
                                      "max_connections": 1000}},
            "plugins": {f"{__name__}._AccessAuthPlugin": plugin_config,
                        f"{__name__}._AccessTopicPlugin": plugin_config},
        }
        self._broker = _BoundedBroker(config)
        await self._broker.start()
        # amqtt keeps its asyncio.Server per listener; with port 0 only the socket knows the port.
        server = self._broker._servers["default"].instance
        self.port = server.sockets[0].getsockname()[1]
        log.info("embedded MQTT broker listening on %s (authenticated clients only)", self.public_url)
        return self.url

    async def stop(self) -> None:
        if self._broker is not None:
            broker, self._broker = self._broker, None
            await broker.shutdown()
            self.port = None

    async def __aenter__(self) -> "EmbeddedBroker":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()
