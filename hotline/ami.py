"""The service's AMI link: runs the CTI's AMI client (`cti.ami.AmiSession`: hotline's own AMI reader, a ping
watchdog that counts any traffic as life, per-action timeouts, no re-sent actions) in the service's TaskGroup.
`AmiLink.session` is the AMI client the other parts send actions with and observe events on;
`AmiLink.connected` says whether it is logged in.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from cti.ami import AmiConfig as SessionConfig
from cti.ami import AmiSession
from hotline.config import AmiConfig

log = logging.getLogger(__name__)


class AmiLink:
    def __init__(self, config: AmiConfig) -> None:
        self.config = config
        self.session = AmiSession(SessionConfig.from_settings(config))
        self.kind = "cti"
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self.session.connected.is_set()

    def status(self) -> dict[str, Any]:
        return {"ok": self.connected, "host": self.config.host, "port": self.config.port,
                "username": self.config.username, "client": self.kind}

    async def start(self, tasks: asyncio.TaskGroup) -> None:
        self._task = tasks.create_task(self.session.run(), name="ami")
        log.info("AMI client connecting to %s:%s as %s", self.config.host, self.config.port, self.config.username)

    async def wait_connected(self, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.connected:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def stop(self) -> None:
        await self.session.stop()
        if self._task is not None:
            try:
                async with asyncio.timeout(5):
                    await asyncio.shield(self._task)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
            except Exception:
                log.exception("AMI session ended with an error")
