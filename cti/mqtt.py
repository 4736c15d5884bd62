"""Agent commands over MQTT: ``{prefix}/agents/{id}/cmd`` -> reply on ``{prefix}/agents/{id}/cmd/reply``.

Command payload: {"id": "<request id>", "command": "ready", "args": {...}, "token": "..."}
(or "auth": {"agent_id": "1001", "pin": "1234"} instead of the token). The reply carries the same id:
{"v": 1, "id": ..., "command": ..., "ok": true, "result": {...}} or {"ok": false, "status": 4xx, "error": "..."}.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from cti.agents import CtiError
from cti.ports import CommandBus

if TYPE_CHECKING:
    from cti.core import Cti

log = logging.getLogger("hotline.cti.mqtt")


class MqttCommands:
    def __init__(self, cti: "Cti", bus: CommandBus) -> None:
        self.cti = cti
        self.bus = bus
        # the bus runs each message in its own task: one lock per agent keeps an agent's commands in order
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def register(self) -> None:
        self.bus.subscribe("agents/+/cmd", self.handle)

    async def handle(self, suffix: str, payload: dict[str, Any]) -> None:
        parts = suffix.split("/")
        if len(parts) != 3 or parts[0] != "agents" or parts[2] != "cmd":
            return
        async with self._locks[parts[1]]:
            await self._handle(parts[1], payload)

    async def _handle(self, agent_id: str, payload: dict[str, Any]) -> None:
        request_id = payload.get("id")
        command = payload.get("command")
        reply: dict[str, Any] = {"id": request_id, "command": command}
        try:
            if request_id is None:
                raise CtiError("a command needs an 'id' to answer to")
            if not isinstance(command, str) or not command:
                raise CtiError("a command needs a 'command' name")
            args = payload.get("args") or {}
            if not isinstance(args, dict):
                raise CtiError("'args' must be a JSON object")
            principal = self.cti.auth.from_payload(payload)
            result = await self.cti.dispatch(principal, agent_id, command, args)
            reply.update(ok=True, result=result)
        except CtiError as exc:
            reply.update(ok=False, status=exc.status, error=str(exc))
        except Exception as exc:
            log.exception("MQTT command %r for agent %s failed", command, agent_id)
            reply.update(ok=False, status=500, error=f"internal error: {type(exc).__name__}: {exc}")
        self.cti.notifier.command_reply(agent_id, reply)
