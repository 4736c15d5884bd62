"""The service's AMI link: the seam between the service shell and whatever speaks AMI.

With the CTI package present, the link runs `cti.ami.AmiSession` (hotline's own AMI reader and session:
ping watchdog, per-action timeouts, no re-sent actions). Without it, a minimal panoramisk Manager logs in
with the configured user so `hotline serve` still connects to Asterisk and reports it in /api/health.
Either way `AmiLink.session` is the AMI client other parts send actions with, and `AmiLink.connected`
says whether it is logged in.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from panoramisk.manager import Manager

from hotline.config import AmiConfig
from hotline.plugins import optional_module

log = logging.getLogger(__name__)




class _MinimalManager(Manager):
    """panoramisk's Manager that stops reconnecting once closed (stock 1.4 reconnects forever)."""

    closing = False

    def connection_lost(self, exc):
        if self.closing:
            self._connected = False
            return
        super().connection_lost(exc)

    def connection_made(self, f):
        if self.closing:
            return
        super().connection_made(f)


class AmiLink:
    def __init__(self, config: AmiConfig, *, client: str = "auto") -> None:
        """client: "auto" (cti.ami.AmiSession when installed, else panoramisk) or "panoramisk"."""
        self.config = config
        self.client = client
        self.session: Any = None
        self.kind = ""
        self._task: asyncio.Task | None = None

    @property
    def connected(self) -> bool:
        session = self.session
        if session is None:
            return False
        if self.kind == "cti":
            flag = session.connected
            return flag.is_set() if isinstance(flag, asyncio.Event) else bool(flag)
        return bool(session._connected and session.authenticated)

    def status(self) -> dict[str, Any]:
        return {"ok": self.connected, "host": self.config.host, "port": self.config.port,
                "username": self.config.username, "client": self.kind}

    async def start(self, tasks: asyncio.TaskGroup) -> None:
        cti_ami = optional_module("cti.ami") if self.client == "auto" else None
        if cti_ami is not None and hasattr(cti_ami, "AmiSession"):
            self.kind = "cti"
            self.session = cti_ami.AmiSession(cti_ami.AmiConfig.from_settings(self.config))
            self._task = tasks.create_task(self.session.run(), name="ami")
        else:
            self.kind = "panoramisk"
            self.session = _MinimalManager(
                loop=asyncio.get_running_loop(), host=self.config.host, port=self.config.port,
                username=self.config.username, secret=self.config.secret,
                ping_delay=self.config.ping_interval, ping_interval=self.config.ping_interval,
                reconnect_timeout=max(1, int(min(self.config.reconnect_max_delay, 5))))
            self.session.connect()
        log.info("AMI client (%s) connecting to %s:%s as %s", self.kind, self.config.host, self.config.port,
                 self.config.username)

    async def wait_connected(self, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.connected:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def stop(self) -> None:
        session = self.session
        if session is None:
            return
        if self.kind == "cti":
            await session.stop()
            if self._task is not None:
                try:
                    async with asyncio.timeout(5):
                        await asyncio.shield(self._task)
                except (TimeoutError, asyncio.CancelledError):
                    self._task.cancel()
                except Exception:
                    log.exception("AMI session ended with an error")
        else:
            session.closing = True
            session.close()
            session.authenticated = False
