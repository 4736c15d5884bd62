"""An MQTT broker inside the service (amqtt 0.12), for a fresh machine without Mosquitto.

Binds 127.0.0.1 on a free port unless told otherwise and reports the URL clients connect to.
"""
from __future__ import annotations

import logging

from amqtt.broker import Broker

log = logging.getLogger(__name__)

# Only anonymous access on loopback; the $SYS publisher and the packet loggers are left out on purpose
# (the $SYS plugin wakes up on a timer and the loggers are very chatty at debug level).
_PLUGINS = {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}


class EmbeddedBroker:
    """`async with EmbeddedBroker() as broker: broker.url  # mqtt://127.0.0.1:PORT`"""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._requested_port = port
        self._broker: Broker | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the embedded broker is not running")
        return f"mqtt://{self.host}:{self.port}"

    async def start(self) -> str:
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self._requested_port}"}},
            "plugins": dict(_PLUGINS),
        }
        self._broker = Broker(config)
        await self._broker.start()
        # amqtt keeps its asyncio.Server per listener; with port 0 only the socket knows the port.
        server = self._broker._servers["default"].instance
        self.port = server.sockets[0].getsockname()[1]
        log.info("embedded MQTT broker listening on %s", self.url)
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
