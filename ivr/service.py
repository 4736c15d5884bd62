"""The IVR inside hotline: the flow engine over its collaborators, and the FastAGI routes that run it.

hotline/service.py builds ``IvrDeps`` (the ACD's queue handoff, the bus's publish, the recordings search for
the QA replay, the clock) and calls ``build_engine(settings, deps)``, then serves ``flow_routes(engine)`` on
its FastAGI server. ``start_ivr(settings, deps)`` is the same on a FastAGI server of its own (tests).

What the IVR needs from the others is declared in ivr.runtime.interfaces (QueueHandoff, RecordingsSearch,
SurveyRatings, CustomerDirectory, OrderDirectory, CallerPreferences, Publisher).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import Settings
from ivr.agi.channel import AgiHandler
from ivr.agi.server import FastAgiServer
from ivr.customers_sql import SqlCustomerDirectory, SqlOrderDirectory
from ivr.flowdef.calendars import Calendar, load_calendars
from ivr.flowdef.expr import runtime_functions
from ivr.flowdef.loader import load_flows
from ivr.flowdef.model import Flow
from ivr.prompts.catalogue import PromptCatalogue
from ivr.runtime.call import RuntimeDeps
from ivr.runtime.engine import FlowEngine
from ivr.runtime.interfaces import (CustomerDirectory, OrderDirectory, Publisher, QueueHandoff, RecordingsSearch,
                                    SurveyRatings)
from ivr.runtime.preferences import SqlCallerPreferences
from ivr.runtime.qa_lockouts import QaLockouts

log = logging.getLogger(__name__)


@dataclass
class IvrDeps:
    queues: QueueHandoff                                        # the ACD (acd.handoff.AcdHandoff)
    sessions: async_sessionmaker[AsyncSession] | None = None    # None: nothing stored (unit tests)
    publish: Publisher | None = None                            # bus.publish(topic_suffix, payload)
    customers: CustomerDirectory | None = None     # default: SqlCustomerDirectory(sessions)
    orders: OrderDirectory | None = None           # default: SqlOrderDirectory(sessions)
    flows: Mapping[str, Flow] | None = None        # default: load_flows(settings.paths.flows_dir, …)
    catalogue: PromptCatalogue | None = None       # default: PromptCatalogue.load(settings.paths.prompts_catalogue)
    calendars: Mapping[str, Calendar] | None = None    # default: flows_dir/calendars.yaml
    now: Callable[[], datetime] | None = None      # clock for business hours (tests, simulated days)
    recordings: RecordingsSearch | None = None     # the QA replay's search (recordings.service.RecordingsService)
    ratings: SurveyRatings | None = None           # the survey node's ratings onto the recordings (the same service)
    qa_lockouts: QaLockouts | None = None          # the service's login throttle (cti.auth's); default: a private one


class IvrServer:
    """The FastAGI server running the flows, plus the engine (for results and stats in tests/demo)."""

    def __init__(self, agi: FastAgiServer, engine: FlowEngine) -> None:
        self.agi = agi
        self.engine = engine

    @property
    def port(self) -> int:
        return self.agi.port

    async def close(self, timeout: float = 5.0) -> None:
        await self.agi.close(timeout)

    async def __aenter__(self) -> "IvrServer":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def load_catalogue(settings: Settings) -> PromptCatalogue | None:
    """config's prompt catalogue, or None when the file is missing."""
    path = Path(settings.paths.prompts_catalogue)
    return PromptCatalogue.load(path) if path.is_file() else None


def load_site_calendars(settings: Settings) -> dict[str, Calendar] | None:
    """flows_dir/calendars.yaml (business hours, holidays), or None when there is none. Raises FlowError."""
    path = Path(settings.paths.flows_dir) / "calendars.yaml"
    return load_calendars(path, settings.service.time_zone) if path.is_file() else None


def load_site_flows(settings: Settings, catalogue: PromptCatalogue | None,
                    calendars: Mapping[str, Calendar] | None) -> dict[str, Flow]:
    """Every flow of flows_dir, checked against the catalogue, calendars and queues. Raises FlowError."""
    return load_flows(Path(settings.paths.flows_dir), catalogue, calendars=calendars,
                      queues=[q.name for q in settings.queues])


def build_engine(settings: Settings, deps: IvrDeps) -> FlowEngine:
    """The flow engine over ``deps``; flows, prompts and calendars are read from the configuration unless given."""
    catalogue = deps.catalogue if deps.catalogue is not None else load_catalogue(settings)
    calendars = deps.calendars if deps.calendars is not None else load_site_calendars(settings)
    flows = deps.flows if deps.flows is not None else load_site_flows(settings, catalogue, calendars)
    customers, orders, preferences = deps.customers, deps.orders, None
    if deps.sessions is not None:
        preferences = SqlCallerPreferences(deps.sessions)
        customers = customers or SqlCustomerDirectory(deps.sessions)
        orders = orders or SqlOrderDirectory(deps.sessions)
    runtime = RuntimeDeps(
        flows=flows, sessions=deps.sessions, publish=deps.publish, customers=customers, orders=orders,
        queues=deps.queues, preferences=preferences, functions=runtime_functions(calendars, now=deps.now),
        catalogue=catalogue, recordings=deps.recordings, ratings=deps.ratings, staff={a.id: a for a in settings.agents},
        voicemail_dir=str(Path(settings.paths.recordings_dir) / "voicemail"),
        time_zone=settings.service.time_zone)
    if deps.qa_lockouts is not None:
        runtime.qa_lockouts = deps.qa_lockouts
    if deps.now is not None:
        runtime.now = deps.now
    return FlowEngine(runtime)


def flow_routes(engine: FlowEngine) -> dict[str, AgiHandler]:
    """{flow name: FastAGI handler}: ``agi://HOST:PORT/<flow>`` runs that flow."""
    return {name: engine.handler(name) for name in engine.deps.flows}


async def start_ivr(settings: Settings, deps: IvrDeps) -> IvrServer:
    """Start a FastAGI server on settings.fastagi.host:port running every flow. Close it with ``await .close()``."""
    engine = build_engine(settings, deps)
    agi = FastAgiServer(flow_routes(engine), host=settings.fastagi.host, port=settings.fastagi.port)
    await agi.start()
    return IvrServer(agi, engine)
