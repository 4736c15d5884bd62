"""The deadline watch: every minute, open requests near their due time are escalated to the supervisors
and those past it are marked overdue (each once), announced on ``requests/{id}``."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

log = logging.getLogger("hotline.crm.deadlines")


class DeadlineSweeper(Protocol):
    async def sweep_deadlines(self) -> list[dict[str, Any]]: ...


async def watch_deadlines(requests: DeadlineSweeper, interval_s: float = 60.0) -> None:
    while True:
        try:
            await requests.sweep_deadlines()
        except Exception:
            log.exception("deadline sweep failed; trying again in %.0f s", interval_s)
        await asyncio.sleep(interval_s)
