"""`GET /metrics` for the operators (Prometheus text format, prometheus-client).

Nothing is counted twice: at scrape time a collector reads the components' live state through the small
Protocols below (what the CTI, the ACD, the FastAGI server, the AMI link, the MQTT bus and the recorder already
keep); only two things are counted here, because nobody else does: AMI events (an observer on the AMI session)
and HTTP requests by status (a middleware on the app).

    app = create_app(deps, routers)
    mount_metrics(app, LiveParts(ami=..., agi=..., bus=..., cti=..., queues=..., recorder=..., ivr=...))
"""
from __future__ import annotations

import gc
import hmac
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, GC_COLLECTOR, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

# ---------------------------------------------------------------- what the metrics read


class AmiSessionPart(Protocol):
    @property
    def connection_count(self) -> int: ...

    def add_observer(self, observer: Callable[[Any], None]) -> None: ...


class AmiPart(Protocol):
    @property
    def connected(self) -> bool: ...

    @property
    def session(self) -> object: ...             # an AmiSessionPart when the CTI's AMI client runs


class AgiPart(Protocol):
    @property
    def active_sessions(self) -> int: ...

    @property
    def completed(self) -> int: ...

    @property
    def failed(self) -> int: ...

    @property
    def rejected(self) -> int: ...


class BusPart(Protocol):
    @property
    def connected(self) -> bool: ...

    @property
    def dropped(self) -> int: ...

    @property
    def published(self) -> int: ...


class AgentStatePart(Protocol):
    @property
    def value(self) -> str: ...


class AgentPart(Protocol):
    @property
    def state(self) -> AgentStatePart: ...


class AgentsPart(Protocol):
    @property
    def agents(self) -> Mapping[str, AgentPart]: ...


class CallsPart(Protocol):
    @property
    def calls(self) -> Mapping[str, object]: ...


class CtiPart(Protocol):
    @property
    def model(self) -> CallsPart: ...

    @property
    def agents(self) -> AgentsPart: ...


class QueuesPart(Protocol):
    def queue_names(self) -> list[str]: ...

    def queue_stats(self, name: str) -> Mapping[str, Any]: ...


class RecorderPart(Protocol):
    @property
    def written(self) -> int: ...

    @property
    def failed(self) -> int: ...


class IvrPart(Protocol):
    @property
    def active_calls(self) -> int: ...


@dataclass
class LiveParts:
    """The service's parts the metrics read; a part that is not running is None and its series are left out."""
    ami: AmiPart | None = None
    agi: AgiPart | None = None
    bus: BusPart | None = None
    cti: CtiPart | None = None
    queues: QueuesPart | None = None
    recorder: RecorderPart | None = None
    ivr: IvrPart | None = None


AGENT_STATES = ("logged-out", "ready", "reserved", "ringing", "talking", "on-hold", "transferring", "wrap-up",
                "not-ready")


class HotlineCollector:
    """A prometheus-client collector: every series is read from the live parts when /metrics is scraped."""

    def __init__(self, parts: LiveParts) -> None:
        self.parts = parts
        self.ami_events = 0
        self.http_requests: dict[str, int] = {}
        session = getattr(parts.ami, "session", None) if parts.ami is not None else None
        if session is not None and hasattr(session, "add_observer"):
            session.add_observer(self._count_ami_event)

    def _count_ami_event(self, _event: object) -> None:
        self.ami_events += 1

    def count_http(self, status: int) -> None:
        key = str(status)
        self.http_requests[key] = self.http_requests.get(key, 0) + 1

    def collect(self) -> Iterator[Metric]:
        yield from self._calls()
        yield from self._agi()
        yield from self._ami()
        yield from self._queues()
        yield from self._recordings()
        yield from self._mqtt()
        yield GaugeMetricFamily("hotline_gc_frozen_objects", "objects built at start-up and kept out of every "
                                "garbage collection (hotline/gcpolicy.py; 0 before the service settled)",
                                value=gc.get_freeze_count())
        http = CounterMetricFamily("hotline_http_requests", "HTTP requests answered, by status code",
                                   labels=["status"])
        for status, count in sorted(self.http_requests.items()):
            http.add_metric([status], count)
        yield http

    def _calls(self) -> Iterable[Metric]:
        p = self.parts
        if p.cti is not None:
            yield GaugeMetricFamily("hotline_calls_in_progress", "calls the CTI sees right now (by linkedid)",
                                    value=len(p.cti.model.calls))
            agents = GaugeMetricFamily("hotline_agents", "agents by state", labels=["state"])
            counts = {state: 0 for state in AGENT_STATES}
            for agent in p.cti.agents.agents.values():
                counts[agent.state.value] = counts.get(agent.state.value, 0) + 1
            for state, count in counts.items():
                agents.add_metric([state], count)
            yield agents
        if p.ivr is not None:
            yield GaugeMetricFamily("hotline_ivr_sessions", "callers in an IVR flow right now",
                                    value=p.ivr.active_calls)

    def _agi(self) -> Iterable[Metric]:
        agi = self.parts.agi
        if agi is None:
            return
        yield GaugeMetricFamily("hotline_fastagi_sessions", "FastAGI sessions running", value=agi.active_sessions)
        yield CounterMetricFamily("hotline_fastagi_sessions_completed", "FastAGI sessions that ran to their end",
                                  value=agi.completed)
        yield CounterMetricFamily("hotline_fastagi_errors", "FastAGI sessions that ended on an unexpected error",
                                  value=agi.failed)
        yield CounterMetricFamily("hotline_fastagi_rejected", "FastAGI connections without a usable header or route",
                                  value=agi.rejected)

    def _ami(self) -> Iterable[Metric]:
        ami = self.parts.ami
        if ami is None:
            return
        yield GaugeMetricFamily("hotline_ami_connected", "1 while the AMI session is logged in",
                                value=1 if ami.connected else 0)
        connections = getattr(ami.session, "connection_count", None)
        if isinstance(connections, int):
            yield CounterMetricFamily("hotline_ami_reconnects", "AMI logins after the first one",
                                      value=max(connections - 1, 0))
        yield CounterMetricFamily("hotline_ami_events", "AMI events received (rate() gives events per second)",
                                  value=self.ami_events)

    def _queues(self) -> Iterable[Metric]:
        queues = self.parts.queues
        if queues is None:
            return
        waiting = GaugeMetricFamily("hotline_queue_waiting", "callers waiting in the queue", labels=["queue"])
        longest = GaugeMetricFamily("hotline_queue_longest_wait_seconds", "the longest current wait",
                                    labels=["queue"])
        level = GaugeMetricFamily("hotline_queue_service_level", "answered within the threshold / answered, today "
                                  "(absent before the first answered call)", labels=["queue"])
        for name in queues.queue_names():
            stats = queues.queue_stats(name)
            waiting.add_metric([name], stats.get("waiting", 0))
            longest.add_metric([name], stats.get("longest_wait_s", 0.0))
            if stats.get("service_level") is not None:
                level.add_metric([name], stats["service_level"])
        yield from (waiting, longest, level)

    def _recordings(self) -> Iterable[Metric]:
        recorder = self.parts.recorder
        if recorder is None:
            return
        yield CounterMetricFamily("hotline_recordings_written", "recording segments written (MixMonitor stopped)",
                                  value=recorder.written)
        yield CounterMetricFamily("hotline_recordings_failed", "recordings MixMonitor could not start",
                                  value=recorder.failed)

    def _mqtt(self) -> Iterable[Metric]:
        bus = self.parts.bus
        if bus is None:
            return
        yield GaugeMetricFamily("hotline_mqtt_connected", "1 while connected to the MQTT broker",
                                value=1 if bus.connected else 0)
        yield CounterMetricFamily("hotline_mqtt_published", "MQTT messages published", value=bus.published)
        yield CounterMetricFamily("hotline_mqtt_dropped", "MQTT messages dropped (queue full while disconnected)",
                                  value=bus.dropped)


def mount_metrics(app: FastAPI, parts: LiveParts, token: str = "") -> HotlineCollector:
    """`GET /metrics` on the app, and the HTTP status counter on every request. With a token, a scrape must
    send `Authorization: Bearer <token>` (Prometheus: `authorization: {credentials: …}`); 401 otherwise."""
    collector = HotlineCollector(parts)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    registry.register(GC_COLLECTOR)          # python_gc_collections_total{generation}: the collector's work

    @app.middleware("http")
    async def count_status(request: Request, call_next):
        response = await call_next(request)
        collector.count_http(response.status_code)
        return response

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        if token and not hmac.compare_digest(request.headers.get("authorization", "").encode(),
                                             f"Bearer {token}".encode()):
            return Response("metrics need Authorization: Bearer <[http] metrics_token>\n", status_code=401,
                            media_type="text/plain", headers={"WWW-Authenticate": "Bearer"})
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return collector
