"""Wiring of the IVR into the hotline service.

Two entry points:

- ``agi_routes(deps) -> {flow name: handler}`` — what hotline/service.py calls with its ``hotline.deps.Deps``;
  the service runs the FastAGI server itself.
- ``async start_ivr(settings, deps) -> IvrServer`` — a FastAGI server on settings.fastagi.host/port (0 in tests)
  running every flow; ``deps`` is an :class:`IvrDeps` or a ``hotline.deps.Deps``.

Other domains plug in through ``deps.extras`` (hotline Deps) or :class:`IvrDeps` fields:
``extras["acd"]`` (QueueHandoff), ``extras["customers"]`` (CustomerDirectory), ``extras["orders"]``,
``extras["flows"]`` (pre-loaded flows). Defaults: DialQueueHandoff (ringall Dial of the queue's skilled agents),
SqlCustomerDirectory (CTI's customers table), SqlOrderDirectory, SqlCallerPreferences.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from ivr.agi.server import FastAgiServer
from ivr.flowdef.expr import runtime_functions
from ivr.flowdef.model import Flow
from ivr.runtime.call import RuntimeDeps
from ivr.runtime.engine import FlowEngine
from ivr.runtime.interfaces import CustomerDirectory, OrderDirectory, Publisher, QueueHandoff

log = logging.getLogger(__name__)


@dataclass
class IvrDeps:
    sessions: Any = None                           # async_sessionmaker (hotline.db.session_factory)
    publish: Publisher | None = None               # bus.publish(topic_suffix, payload)
    customers: CustomerDirectory | None = None     # default: SqlCustomerDirectory(sessions)
    orders: OrderDirectory | None = None           # default: SqlOrderDirectory(sessions)
    queues: QueueHandoff | None = None             # default: DialQueueHandoff(settings.agents, settings.queues)
    flows: Mapping[str, Flow] | None = None        # default: load_flows(settings.paths.flows_dir, …)
    catalogue: Any = None                          # default: PromptCatalogue.load(settings.paths.prompts_catalogue)
    calendars: Mapping[str, Any] | None = None     # default: flows_dir/calendars.yaml
    now: Callable | None = None                    # clock for business hours (tests, simulated days)
    recordings: Any = None                         # RecordingsSearch; default: over extras["recordings"] if present


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

    async def __aexit__(self, *exc) -> None:
        await self.close()


def _load_catalogue(settings) -> Any:
    path = Path(settings.paths.prompts_catalogue)
    if not path.is_file():
        return None
    from ivr.prompts.catalogue import PromptCatalogue
    return PromptCatalogue.load(path)


def _load_calendars(settings) -> Mapping[str, Any] | None:
    path = Path(settings.paths.flows_dir) / "calendars.yaml"
    if not path.is_file():
        return None
    from ivr.flowdef.calendars import load_calendars
    return load_calendars(path, settings.service.time_zone)


def _as_ivr_deps(deps: Any) -> IvrDeps:
    if isinstance(deps, IvrDeps):
        return deps
    extras = getattr(deps, "extras", {}) or {}
    bus = getattr(deps, "bus", None)
    acd = extras.get("acd")
    if acd is not None and not isinstance(acd, QueueHandoff):
        acd = getattr(acd, "handoff", None)
    return IvrDeps(sessions=getattr(deps, "sessions", None), publish=bus.publish if bus is not None else None,
                   customers=extras.get("customers"), orders=extras.get("orders"), queues=acd,
                   flows=extras.get("flows"), catalogue=extras.get("catalogue"), calendars=extras.get("calendars"),
                   now=extras.get("clock"), recordings=_recordings_search(extras.get("recordings")))


def _recordings_search(service: Any) -> Any:
    if service is None:
        return None
    if hasattr(service, "find"):
        return service
    from ivr.recordings_search import ServiceRecordingsSearch
    return ServiceRecordingsSearch(service)


def build_engine(settings, deps: Any) -> FlowEngine:
    """The flow engine with every dependency resolved (defaults for what is not injected)."""
    d = _as_ivr_deps(deps)
    catalogue = d.catalogue if d.catalogue is not None else _load_catalogue(settings)
    calendars = d.calendars if d.calendars is not None else _load_calendars(settings)
    flows = d.flows
    if flows is None:
        from ivr.flowdef.loader import load_flows
        flows = load_flows(Path(settings.paths.flows_dir), catalogue, calendars=calendars,
                           queues=[q.name for q in settings.queues])
    customers, orders, preferences = d.customers, d.orders, None
    if d.sessions is not None:
        from ivr.runtime.preferences import SqlCallerPreferences
        preferences = SqlCallerPreferences(d.sessions)
        if customers is None or orders is None:
            from ivr.customers_sql import SqlCustomerDirectory, SqlOrderDirectory
            customers = customers or SqlCustomerDirectory(d.sessions)
            orders = orders or SqlOrderDirectory(d.sessions)
    queues = d.queues
    if queues is None:
        from ivr.runtime.queue_dial import DialQueueHandoff
        queues = DialQueueHandoff(settings.agents, settings.queues)
    kwargs = {}
    if d.now is not None:
        kwargs["now"] = d.now
    runtime = RuntimeDeps(
        flows=flows, sessions=d.sessions, publish=d.publish, customers=customers, orders=orders, queues=queues,
        preferences=preferences, functions=runtime_functions(calendars, now=d.now), catalogue=catalogue,
        recordings=d.recordings, staff={a.id: a for a in settings.agents},
        voicemail_dir=str(Path(settings.paths.recordings_dir) / "voicemail"),
        time_zone=settings.service.time_zone, **kwargs)
    return FlowEngine(runtime)


def agi_routes(deps: Any) -> dict[str, Callable]:
    """{flow name: FastAGI handler} for hotline/service.py (deps: hotline.deps.Deps)."""
    engine = build_engine(deps.settings, deps)
    deps.extras["ivr_engine"] = engine
    routes = {name: engine.handler(name) for name in engine.deps.flows}
    if "hotline" not in routes:  # a site without flows/hotline.yaml keeps the foundation's greeting
        from hotline.demo_agi import make_greeting_handler
        log.warning("no flow named 'hotline' in %s: agi://…/hotline plays the greeting and hangs up",
                    deps.settings.paths.flows_dir)
        routes["hotline"] = make_greeting_handler(deps.settings.service.default_language)
    return routes


async def start_ivr(settings, deps: Any) -> IvrServer:
    """Start a FastAGI server on settings.fastagi.host:port running every flow. Close it with ``await .close()``."""
    engine = build_engine(settings, deps)
    routes = {name: engine.handler(name) for name in engine.deps.flows}
    agi = FastAgiServer(routes, host=settings.fastagi.host, port=settings.fastagi.port)
    await agi.start()
    return IvrServer(agi, engine)
