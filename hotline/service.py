"""The production service: database, MQTT bus, AMI client, FastAGI listener and HTTP API in one TaskGroup.

    async with Service(settings) as service:      # everything is up (or it raised StartupError)
        await service.wait_stopped()

Seams the domain packages plug into (each optional: a missing module is skipped, a broken one fails start-up):
- `cti.ami.AmiSession`                      the AMI client (hotline.ami.AmiLink falls back to plain panoramisk)
- `<pkg>.service.component(deps)`          an async context manager run for the service's lifetime
                                           (pkg in cti, acd, recordings, ivr; entered in that order, after the
                                           bus and AMI, before FastAGI and HTTP open)
- `ivr.service.agi_routes(deps)`           {agi path: handler(AgiChannel)}; without it `hotline` answers,
                                           plays the greeting and hangs up (hotline.demo_agi)
- `<pkg>.http.router(deps)`                FastAPI routers mounted on the HTTP app
- `deps.health_checks[name] = fn`          extra entries in /api/health
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import text

from hotline.ami import AmiLink
from hotline.bus import EmbeddedBroker, EventBus
from hotline.config import Settings
from hotline.db import make_engine, session_factory
from hotline.deps import Deps
from hotline.http import HttpServer, create_app
from hotline.plugins import optional_module
from migrations.runner import upgrade as upgrade_schema

log = logging.getLogger(__name__)

COMPONENT_ORDER = ("cti", "acd", "recordings", "ivr", "reports")
HTTP_DOMAINS = ("ivr", "cti", "acd", "recordings", "reports")


def _timed(what: str, stop: Callable[[], Any]) -> Callable[[], Any]:
    async def timed_stop() -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await stop()
        log.debug("stopped %s in %.3f s", what, loop.time() - started)
    return timed_stop


class StartupError(Exception):
    """The service cannot start; the message says why in one line (or one line per flow problem)."""



def validate_flows(settings: Settings) -> int:
    """Load every flow file with the flow loader; raises StartupError on any problem. Returns the count."""
    flows_dir = settings.paths.flows_dir
    if not flows_dir.is_dir() or not any(flows_dir.glob("*.yaml")):
        return 0
    loader = optional_module("ivr.flowdef.loader")
    if loader is None:
        log.warning("flows in %s are not validated: the flow loader (ivr.flowdef) is not installed", flows_dir)
        return 0
    catalogue = None
    catalogue_mod = optional_module("ivr.prompts.catalogue")
    if catalogue_mod is not None and settings.paths.prompts_catalogue.is_file():
        try:
            catalogue = catalogue_mod.PromptCatalogue.load(settings.paths.prompts_catalogue)
        except Exception as exc:
            raise StartupError(f"{settings.paths.prompts_catalogue}: {exc}") from None
    calendars = None
    calendars_mod = optional_module("ivr.flowdef.calendars")
    calendars_file = flows_dir / "calendars.yaml"
    try:
        if calendars_mod is not None and calendars_file.is_file():
            calendars = calendars_mod.load_calendars(calendars_file, settings.service.time_zone)
        flows = loader.load_flows(flows_dir, catalogue, calendars=calendars,
                                  queues=[queue.name for queue in settings.queues])
    except Exception as exc:
        if type(exc).__name__ == "FlowError":
            raise StartupError(str(exc)) from None
        raise
    return len(flows)


class Service:
    def __init__(self, settings: Settings, *, http: bool = True, bus_keepalive: int = 30,
                 agi_routes: Mapping[str, Callable] | None = None, validate: bool = True,
                 engine_options: Mapping[str, Any] | None = None, extras: Mapping[str, Any] | None = None) -> None:
        """`extras` reach every component through deps.extras before it starts (e.g. the demo's clocks:
        "clock" for the IVR and recordings, "wall_clock" for the ACD)."""
        self.settings = settings
        self.extras = dict(extras or {})
        self.http_enabled = http
        self.bus_keepalive = bus_keepalive
        self._agi_routes_override = agi_routes
        self.validate = validate
        self.engine_options = dict(engine_options or {})
        self.deps: Deps | None = None
        self.broker: EmbeddedBroker | None = None
        self.bus: EventBus | None = None
        self.ami: AmiLink | None = None
        self.agi: Any = None
        self.http: HttpServer | None = None
        self.tasks: asyncio.TaskGroup | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._stopped = asyncio.Event()

    # ------------------------------------------------------------ ports and URLs once running

    @property
    def fastagi_port(self) -> int:
        return self.agi.port

    @property
    def http_url(self) -> str | None:
        return self.http.url if self.http else None

    @property
    def mqtt_url(self) -> str:
        return self.bus.url if self.bus else self.settings.mqtt.url

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

    async def __aexit__(self, *exc_info) -> None:
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
        self.tasks = await stack.enter_async_context(asyncio.TaskGroup())

        settings.service.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.database.url, **self.engine_options)
        stack.push_async_callback(_timed("database", engine.dispose))
        try:
            await upgrade_schema(engine)      # the one Alembic history (migrations/): `hotline db upgrade`
        except Exception as exc:
            raise StartupError(f"database {engine.url.render_as_string(hide_password=True)}: {exc}") from None

        mqtt_url = settings.mqtt.url
        if settings.mqtt.embedded:
            self.broker = EmbeddedBroker()
            mqtt_url = await self.broker.start()
            stack.push_async_callback(_timed("embedded broker", self.broker.stop))
        self.bus = await stack.enter_async_context(EventBus(
            mqtt_url, settings.mqtt.topic_prefix, keepalive=self.bus_keepalive,
            reconnect_max_delay=min(settings.ami.reconnect_max_delay, 30.0)))

        self.deps = deps = Deps(settings=settings, engine=engine, sessions=session_factory(engine), bus=self.bus)
        deps.extras.update(self.extras)
        deps.health_checks["db"] = self._db_health
        deps.health_checks["mqtt"] = self.bus.status

        self.ami = AmiLink(settings.ami)
        deps.ami = self.ami
        await self.ami.start(self.tasks)
        stack.push_async_callback(_timed("AMI", self.ami.stop))
        deps.health_checks["ami"] = self.ami.status

        for pkg in COMPONENT_ORDER:
            module = optional_module(f"{pkg}.service")
            if module is not None and hasattr(module, "component"):
                component = module.component(deps)
                await stack.enter_async_context(component)
                stack.callback(log.debug, "stopping component %s", pkg)
                log.info("component %s started", pkg)

        self.agi = await self._start_fastagi(stack, deps)
        deps.agi = self.agi
        deps.health_checks["fastagi"] = self._agi_health

        if self.http_enabled:
            routers = []
            for pkg in HTTP_DOMAINS:
                module = optional_module(f"{pkg}.http")
                if module is not None and hasattr(module, "router"):
                    routers.append(module.router(deps))
            self.http = HttpServer(create_app(deps, routers), settings.http.host, settings.http.port)
            await self.http.start(self.tasks)
            stack.push_async_callback(_timed("HTTP", self.http.stop))
        # Leaving the stack sets the stop flag first, so wait_stopped() never outlives the service.
        stack.callback(self._stopped.set)
        log.info("hotline ready: AMI %s:%s, FastAGI %s:%s, HTTP %s, MQTT %s", settings.ami.host, settings.ami.port,
                 settings.fastagi.host, self.agi.port, self.http_url or "off", mqtt_url)

    async def _start_fastagi(self, stack: contextlib.AsyncExitStack, deps: Deps):
        from ivr.agi.server import FastAgiServer

        routes = self._agi_routes_override
        if routes is None:
            ivr_service = optional_module("ivr.service")
            if ivr_service is not None and hasattr(ivr_service, "agi_routes"):
                routes = ivr_service.agi_routes(deps)
            else:
                from hotline.demo_agi import make_greeting_handler

                log.info("no IVR flow runtime: agi://…/hotline answers, plays the greeting and hangs up")
                routes = {"hotline": make_greeting_handler(self.settings.service.default_language)}
        server = FastAgiServer(routes, host=self.settings.fastagi.host, port=self.settings.fastagi.port)
        try:
            await server.start()
        except OSError as exc:
            raise StartupError(f"FastAGI cannot listen on {self.settings.fastagi.host}:"
                               f"{self.settings.fastagi.port}: {exc.strerror or exc}") from None
        stack.push_async_callback(_timed("FastAGI", server.close))
        return server

    async def _db_health(self) -> dict[str, Any]:
        assert self.deps is not None
        async with asyncio.timeout(3):
            async with self.deps.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        return {"ok": True, "dialect": self.deps.engine.dialect.name}

    def _agi_health(self) -> dict[str, Any]:
        server = getattr(self.agi, "_server", None)
        listening = bool(server is not None and server.is_serving())
        return {"ok": listening, "host": self.settings.fastagi.host, "port": self.agi.port,
                "active_sessions": getattr(self.agi, "active_sessions", None)}
