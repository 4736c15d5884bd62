"""What the service shell itself holds: settings, database, event bus, and the health checks behind
/api/health. Domain components do not receive it: hotline/service.py hands each one its collaborators,
typed, through its constructor."""
from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hotline.bus import EventBus
from hotline.config import Settings

# A health check returns {"ok": bool, ...details}; it may be async.
HealthCheck = Callable[[], "dict[str, Any] | Awaitable[dict[str, Any]]"]


@dataclass
class Deps:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bus: EventBus | None
    health_checks: dict[str, HealthCheck] = field(default_factory=dict)

    async def health(self) -> dict[str, dict[str, Any]]:
        results: dict[str, dict[str, Any]] = {}
        for name, check in self.health_checks.items():
            try:
                value = check()
                if inspect.isawaitable(value):
                    value = await value
                results[name] = dict(value)
            except Exception as exc:  # a broken check is an unhealthy part, not a 500
                results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        return results
