"""What the service hands to every part: settings, database, event bus, the AMI link, the FastAGI listener.

Domain packages receive one `Deps` (in `<pkg>.http.router(deps)`, `<pkg>.service.component(deps)`,
`ivr.service.agi_routes(deps)`) and put what they offer to the others into `deps.extras`
(e.g. `deps.extras["acd"]`, the queue interface the IVR runtime calls).
"""
from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from hotline.config import Settings

# A health check returns {"ok": bool, ...details}; it may be async.
HealthCheck = Callable[[], "dict[str, Any] | Awaitable[dict[str, Any]]"]


@dataclass
class Deps:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker
    bus: Any                                    # hotline.bus.EventBus
    ami: Any = None                             # hotline.ami.AmiLink (its .session is the AMI client)
    agi: Any = None                             # the FastAGI server (ivr.agi.server.FastAgiServer)
    health_checks: dict[str, HealthCheck] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

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
