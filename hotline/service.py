"""The production service, and hotline's one composition root: every component is built here, in dependency
order, and handed its collaborators through its constructor. The domains meet only through the Protocols
their consumer owns (docs/architecture.md draws them); mypy checks each implementation where it is passed.

    async with Service(settings) as service:      # everything is up (or it raised StartupError)
        await service.wait_stopped()

Order: database → MQTT bus → AMI link → ACD engine → CTI → ACD running on the CTI's agents → recordings →
IVR flow engine → FastAGI → HTTP. Stopping runs the same list backwards.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import acd.component
import acd.http
import crm.http
import crm.service
import cti.http
import cti.service
import ivr.http
import kb.http
import recordings.http
import recordings.service
import reports.http
from acd.callback import CallbackDialer, callback_session, originate_over
from acd.config import queue_settings
from acd.handoff import AcdHandoff
from acd.service import AcdService, build_service
from crm.calls import IvrIntake, StoredCalls
from crm.card import CustomerCards
from crm.config import RequestConfigError, RequestRules, load_request_rules, queues_of_agents
from crm.dialer import AcdFollowUpDialer
from crm.followups import FollowUpRunner
from crm.requests import RequestService
from cti.agents import CtiError
from cti.core import Cti
from hotline.ami import AmiLink
from hotline.bus import EmbeddedBroker, EventBus
from hotline.bus.access import BrokerAccess
from hotline.config import Settings
from hotline.db import make_engine, session_factory
from hotline.deps import Deps
from hotline.http import HttpServer, create_app
from hotline.metrics import LiveParts, mount_metrics
from hotline.security.keys import KeyFileError, load_or_create_key
from migrations.runner import upgrade as upgrade_schema
from ivr.agi.channel import AgiHandler
from ivr.agi.limits import AgiLimits
from ivr.agi.server import FastAgiServer
from ivr.flowdef.model import FlowError
from ivr.runtime.engine import FlowEngine
from ivr.runtime.qa_lockouts import QaLockouts
from ivr.service import IvrDeps, build_engine, flow_routes, load_catalogue, load_site_calendars, load_site_flows
from kb.service import KnowledgeBase
from recordings.config import RecordingConfigError
from recordings.context import context_from_settings
from recordings.models import utcnow
from recordings.policy import RecordingPolicy
from recordings.postprocess import Postprocessor
from recordings.recorder import Recorder
from recordings.recovery import RecordingRecovery
from recordings.service import RecordingsService, call_info_from
from recordings.storage import LocalStorage
from recordings.tracking import CallTracker
from reports.service import builder_for, longest_wrapup_s
from reports.writer import CdrWriter
from web.http import WebDesk, build_router, desktop_options
from web.tv import TvTokens

log = logging.getLogger(__name__)

ENTRY_FLOW = "hotline"          # agi://HOST:PORT/hotline, what [hotline-inbound] runs for every call


@dataclass(frozen=True)
class Clocks:
    """The service's clocks. None: the real time (the ACD's wall clock then advances with the event loop's
    clock, so its timers agree with pbxsim's virtual clock). `hotline demo` pins both to its simulated day."""

    wall: Callable[[], float] | None = None        # epoch seconds: ACD timers, queue log, live figures
    utc: Callable[[], datetime] | None = None      # aware UTC: IVR business hours, recording rows


def _timed(what: str, stop: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
    async def timed_stop() -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await stop()
        log.debug("stopped %s in %.3f s", what, loop.time() - started)
    return timed_stop


def _loop_wall_clock() -> Callable[[], float]:
    """Wall time that advances with the event loop's clock."""
    loop = asyncio.get_running_loop()
    anchor = time.time() - loop.time()
    return lambda: anchor + loop.time()


class StartupError(Exception):
    """The service cannot start; the message says why in one line (or one line per flow problem)."""


def validate_flows(settings: Settings) -> int:
    """Load every flow file with the flow loader; raises StartupError on any problem. Returns the count."""
    flows_dir = settings.paths.flows_dir
    if not flows_dir.is_dir() or not any(flows_dir.glob("*.yaml")):
        return 0
    try:
        catalogue = load_catalogue(settings)
    except Exception as exc:
        raise StartupError(f"{settings.paths.prompts_catalogue}: {exc}") from None
    try:
        flows = load_site_flows(settings, catalogue, load_site_calendars(settings))
    except FlowError as exc:
        raise StartupError(str(exc)) from None
    return len(flows)


class Service:
    def __init__(self, settings: Settings, *, http: bool = True, bus_keepalive: int = 30, validate: bool = True,
                 engine_options: dict[str, Any] | None = None, clocks: Clocks = Clocks()) -> None:
        self.settings = settings
        self.clocks = clocks
        self.http_enabled = http
        self.bus_keepalive = bus_keepalive
        self.validate = validate
        self.engine_options = dict(engine_options or {})
        self.tasks: asyncio.TaskGroup | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._stopped = asyncio.Event()
        # the parts, once running (set by _start in this order)
        self.deps: Deps
        self.broker: EmbeddedBroker | None = None
        self.bus: EventBus
        self.ami: AmiLink
        self.acd: AcdService
        self.queue_handoff: AcdHandoff
        self.cti: Cti
        self.recordings: RecordingsService
        self.requests: RequestService
        self.cards: CustomerCards
        self.kb: KnowledgeBase
        self.cdr: CdrWriter
        self.call_tracker: CallTracker
        self.ivr: FlowEngine
        self.agi: FastAgiServer
        self.web: WebDesk | None = None
        self.http: HttpServer | None = None

    # ------------------------------------------------------------ ports and URLs once running

    @property
    def fastagi_port(self) -> int:
        return self.agi.port

    @property
    def http_url(self) -> str | None:
        return self.http.url if self.http else None

    @property
    def mqtt_url(self) -> str:
        return self.bus.url

    # ------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> "Service":
        if self.validate:
            validate_flows(self.settings)
        stack = contextlib.AsyncExitStack()
        await stack.__aenter__()
        try:
            await self._start(stack)
        except BaseException as exc:
            # unwind what did start, cleanly, then report the cause itself (not wrapped in an ExceptionGroup)
            await stack.__aexit__(None, None, None)
            if isinstance(exc, OSError):
                raise StartupError(str(exc)) from None
            raise
        self._stack = stack
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._stopped.set()
        stack, self._stack = self._stack, None
        if stack is not None:
            # Each part is stopped in reverse order whatever ended the body; an exception from the body
            # propagates as itself afterwards. A crashed background task surfaces from the TaskGroup here.
            await stack.__aexit__(None, None, None)

    def stop(self) -> None:
        self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    async def _start(self, stack: contextlib.AsyncExitStack) -> None:
        settings = self.settings
        tasks = self.tasks = await stack.enter_async_context(asyncio.TaskGroup())

        # database
        settings.service.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.database.url, **self.engine_options)
        stack.push_async_callback(_timed("database", engine.dispose))
        try:
            await upgrade_schema(engine)      # the one Alembic history (migrations/): `hotline db upgrade`
        except Exception as exc:
            raise StartupError(f"database {engine.url.render_as_string(hide_password=True)}: {exc}") from None
        sessions = session_factory(engine)

        # MQTT bus (the embedded broker unless a URL is configured)
        mqtt_url = settings.mqtt.url
        if settings.mqtt.embedded:
            self.broker = EmbeddedBroker(access=BrokerAccess(settings.mqtt.topic_prefix))
            mqtt_url = await self.broker.start()
            stack.push_async_callback(_timed("embedded broker", self.broker.stop))
        bus = self.bus = await stack.enter_async_context(EventBus(
            mqtt_url, settings.mqtt.topic_prefix, keepalive=self.bus_keepalive,
            reconnect_max_delay=min(settings.ami.reconnect_max_delay, 30.0)))
        self.deps = deps = Deps(settings=settings, engine=engine, sessions=sessions, bus=bus)
        deps.health_checks["db"] = lambda: self._db_health(engine)
        deps.health_checks["mqtt"] = bus.status

        # AMI link (the CTI's AMI client, supervised)
        ami = self.ami = AmiLink(settings.ami)
        await ami.start(tasks)
        stack.push_async_callback(_timed("AMI", ami.stop))
        deps.health_checks["ami"] = ami.status

        # ACD engine: built first because the CTI reads its figures; runs once the CTI's agents are up
        dialer = CallbackDialer(originate_over(ami.session), lambda: (settings.fastagi.host, self.agi.port))
        acd_service = self.acd = build_service(settings, sessions=sessions, clock=self.clocks.wall or _loop_wall_clock(),
                                               callback_dialer=dialer)
        handoff = self.queue_handoff = AcdHandoff(acd_service)

        # CTI: live model, agents, call data, screen pops, commands
        cti_ = self.cti = Cti(
            agents=settings.agents, queues=settings.queues, sessions=sessions, publisher=bus, ami=ami.session,
            queue_wrapup_seconds={q.name: queue_settings(q).wrapup_s for q in settings.queues}, acd=handoff,
            clock=self.clocks.utc or utcnow)
        await stack.enter_async_context(cti.service.running(cti_, ami.session, bus))
        stack.callback(log.debug, "stopping component %s", "cti")
        log.info("component %s started", "cti")
        deps.health_checks["cti"] = cti_.health
        if self.broker is not None:          # agents log in to the embedded broker with a token or their PIN
            self.broker.access.agents = cti_.auth

        await stack.enter_async_context(acd.component.running(acd_service, cti_.agents, bus))
        stack.callback(log.debug, "stopping component %s", "acd")
        log.info("component %s started", "acd")
        deps.health_checks["acd"] = lambda: {"ok": True, "queues": len(acd_service.engine.queues),
                                             "active_calls": len(acd_service.engine.calls)}

        # recordings: started and ended by the tracker on the AMI session's bridge events
        self.recordings = self._build_recordings(sessions, engine)
        self.call_tracker = CallTracker(self.recordings.recorder, settings.agents,
                                        call_info=call_info_from(cti_.calldata))
        recovery = RecordingRecovery(self.recordings.recorder, self.clocks.utc or utcnow)
        await stack.enter_async_context(recordings.service.running(self.recordings, self.call_tracker, ami.session,
                                                                   recovery))
        cti_.records.listeners.append(self.recordings.set_wrapup)     # the agent's wrap-up on the recordings
        stack.callback(log.debug, "stopping component %s", "recordings")
        log.info("component %s started", "recordings")

        # service requests (工单): deadlines, follow-up calls through the ACD, the IVR's voicemails and callbacks
        utc_clock = self.clocks.utc or utcnow
        rules = self._request_rules()
        requests = self.requests = RequestService(sessions, rules, calls=StoredCalls(sessions), publisher=bus,
                                                  agent_queues=queues_of_agents(settings), clock=utc_clock)
        followups = FollowUpRunner(sessions, rules, AcdFollowUpDialer(acd_service), bus, clock=utc_clock)
        await stack.enter_async_context(crm.service.running(
            requests, followups, IvrIntake(sessions, requests, default_queue=rules.followup.queue)))
        self.cards = CustomerCards(sessions, cti_, clock=utc_clock)
        self.kb = KnowledgeBase(sessions, clock=utc_clock)
        log.info("component %s started", "crm")

        # call-detail records (reports): one per call, built from the stored facts when the IVR says it ended
        self.cdr = CdrWriter(builder_for(settings, sessions), bus, after_wrapup_s=longest_wrapup_s(settings) + 5.0,
                             wall_clock=self.clocks.wall)
        await stack.enter_async_context(self.cdr)
        log.info("component %s started", "reports")

        # IVR: the flows, queueing callers in the ACD, replaying recordings to QA staff by phone
        self.ivr = build_engine(settings, IvrDeps(
            queues=handoff, sessions=sessions, publish=bus.publish, now=self.clocks.utc,
            recordings=self.recordings, ratings=self.recordings, qa_lockouts=QaLockouts(cti_.auth.throttle)))
        log.info("component %s started", "ivr")

        # FastAGI: the flows, and the ACD's callback sessions on the agent's channel
        routes: dict[str, AgiHandler] = flow_routes(self.ivr)
        if ENTRY_FLOW not in routes:
            raise StartupError(f"{settings.paths.flows_dir}: no flow named {ENTRY_FLOW!r} "
                               f"(agi://…/{ENTRY_FLOW} runs it for every call)")
        routes["acd-callback"] = callback_session(acd_service, dialer)
        self.agi = await self._start_fastagi(stack, routes)
        deps.health_checks["fastagi"] = self._agi_health

        if self.http_enabled:
            auth = cti_.auth
            routers: list[APIRouter] = [
                ivr.http.router(sessions, auth),
                cti.http.router(cti_),
                acd.http.router(acd_service, auth),
                recordings.http.router(self.recordings, auth),
                crm.http.router(requests, self.cards, auth, (CtiError,)),
                kb.http.router(self.kb, auth, (CtiError,)),
                reports.http.router(settings, sessions, auth),
            ]
            # the agent desktop and the wallboard, fed in process by the bus's publications
            try:        # wall TVs keep their tokens over a restart
                tv_key = load_or_create_key(settings.service.data_dir / "keys" / "wallboard-tv.key")
            except KeyFileError as exc:
                raise StartupError(str(exc)) from None
            desk = self.web = WebDesk(auth=auth, roster=cti_.agents, calls=cti_.model, announcements=cti_.announcements,
                           queues=acd_service, feed=bus, options=desktop_options(settings), tv=TvTokens(secret=tv_key))
            stack.push_async_callback(_timed("web desk", desk.close))
            routers.append(build_router(desk))
            app = create_app(deps, routers, authenticate=auth.from_authorization)
            mount_metrics(app, LiveParts(ami=ami, agi=self.agi, bus=bus, cti=cti_, queues=acd_service, ivr=self.ivr,
                                         recorder=self.recordings.recorder), token=settings.http.metrics_token)
            self.http = HttpServer(app, settings.http.host, settings.http.port)
            await self.http.start(tasks)
            stack.push_async_callback(_timed("HTTP", self.http.stop))
        # Leaving the stack sets the stop flag first, so wait_stopped() never outlives the service.
        stack.callback(self._stopped.set)
        log.info("hotline ready: AMI %s:%s, FastAGI %s:%s, HTTP %s, MQTT %s", settings.ami.host, settings.ami.port,
                 settings.fastagi.host, self.agi.port, self.http_url or "off", mqtt_url)

    def _request_rules(self) -> RequestRules:
        settings = self.settings
        try:
            return load_request_rules(settings.config_dir / "requests.yaml", tuple(q.name for q in settings.queues),
                                      file="config/requests.yaml")
        except RequestConfigError as exc:
            raise StartupError(str(exc)) from None

    def _build_recordings(self, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine) -> RecordingsService:
        settings = self.settings
        try:
            context = context_from_settings(settings, sessions, engine)
        except RecordingConfigError as exc:
            raise StartupError(str(exc)) from None
        primary = context.primary
        if not isinstance(primary, LocalStorage):   # MixMonitor writes where Asterisk runs: a local directory
            raise StartupError(f"recordings: the primary storage must be a local directory, not {primary!r}")
        policy = RecordingPolicy(context.config)
        postprocessor = Postprocessor(context.sessions, primary, context.config.postprocess)
        recorder = Recorder(self.ami.session, context.sessions, policy, primary, postprocessor,
                            clock=self.clocks.utc or utcnow, action_timeout=settings.ami.action_timeout)
        return RecordingsService(context, policy, recorder)

    async def _start_fastagi(self, stack: contextlib.AsyncExitStack, routes: dict[str, AgiHandler]) -> FastAgiServer:
        server = FastAgiServer(routes, host=self.settings.fastagi.host, port=self.settings.fastagi.port,
                               limits=AgiLimits.from_settings(self.settings.fastagi))
        try:
            await server.start()
        except OSError as exc:
            raise StartupError(f"FastAGI cannot listen on {self.settings.fastagi.host}:"
                               f"{self.settings.fastagi.port}: {exc.strerror or exc}") from None
        stack.push_async_callback(_timed("FastAGI", server.close))
        return server

    @staticmethod
    async def _db_health(engine: AsyncEngine) -> dict[str, Any]:
        async with asyncio.timeout(3):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        return {"ok": True, "dialect": engine.dialect.name}

    def _agi_health(self) -> dict[str, Any]:
        return {"ok": self.agi.is_serving(), "host": self.settings.fastagi.host, "port": self.agi.port,
                "active_sessions": self.agi.active_sessions}
