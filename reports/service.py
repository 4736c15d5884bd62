"""What `hotline serve` builds for the reports: the call-detail writer (``reports.writer.CdrWriter``) over a
builder that knows the queues and teams; hotline/service.py runs the writer for the service's lifetime."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.config import queue_settings
from hotline.config import Settings
from reports.cdr import CdrBuilder


def builder_for(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> CdrBuilder:
    return CdrBuilder(sessions, queues={q.name: queue_settings(q) for q in settings.queues},
                      teams={a.id: a.team for a in settings.agents})


def longest_wrapup_s(settings: Settings) -> float:
    """How long after a call its agents may still be wrapping up (the record is built again then)."""
    queues = [queue_settings(q).wrapup_s for q in settings.queues]
    agents = [float(a.extra["wrapup_seconds"]) for a in settings.agents if "wrapup_seconds" in (a.extra or {})]
    return max([30.0, *queues, *agents])
