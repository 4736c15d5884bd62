"""The reports as a component of `hotline serve`: the call-detail writer, run for the service's lifetime.

Wiring (hotline.service): ``component(deps)`` after the IVR's; it reads deps.sessions, deps.settings
(queues, agents), deps.bus (the ``ivr/call_end`` events) and, in the demo, deps.extras["wall_clock"]."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from acd.config import queue_settings
from reports.cdr import CdrBuilder
from reports.writer import CdrWriter


def builder_for(settings: Any, sessions: Any) -> CdrBuilder:
    return CdrBuilder(sessions, queues={q.name: queue_settings(q) for q in settings.queues},
                      teams={a.id: a.team for a in settings.agents})


def longest_wrapup_s(settings: Any) -> float:
    queues = [queue_settings(q).wrapup_s for q in settings.queues]
    agents = [float(a.extra["wrapup_seconds"]) for a in settings.agents if "wrapup_seconds" in (a.extra or {})]
    return max([30.0, *queues, *agents])


@contextlib.asynccontextmanager
async def component(deps: Any) -> AsyncIterator[CdrWriter]:
    writer = CdrWriter(builder_for(deps.settings, deps.sessions), deps.bus,
                       after_wrapup_s=longest_wrapup_s(deps.settings) + 5.0,
                       wall_clock=deps.extras.get("wall_clock"))
    async with writer:
        deps.extras["cdr_writer"] = writer
        yield writer
