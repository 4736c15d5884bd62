"""The live feed of the web pages: the service's events, in process, to each browser that may see them.

    hub = LiveHub(roster=cti.agents, queues=acd_service)
    bus.add_local_listener(hub.publish)        # every event the service publishes, before MQTT
    client = hub.connect(principal)            # one per WebSocket; client.next_frame() -> what to send

Who sees what: an agent gets its own state, screen pops, announcements and command replies, and the calls it
is part of (a channel of its phone, or its current call); supervisors and QA staff get every event. A wall TV
(a read-only token, nobody logged in: it hangs where visitors walk past) gets agents, queues, KPIs and calls,
the calls with callers' numbers and names masked by the server (:func:`for_wall`), never screen pops,
announcements or 工单. Coalescing: events about one object (an agent's state, a call, a queue's figures) replace each
other while waiting, and a client gets at most one frame per ``interval`` seconds (4 per second by default),
so no object is sent more often than that. A slow client whose backlog overflows gets one ``resync`` and
fetches a fresh snapshot instead of an ever-growing queue.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from web.kpis import DayCounters, kpis
from web.ports import AgentRoster, Principal, QueueFigures

log = logging.getLogger(__name__)

# topic kinds: (prefix, suffix) -> message type; an agent only gets those naming its own id
AGENT_TOPICS = {"state": "agent", "screenpop": "screenpop", "announcements": "announcement", "cmd/reply": "reply"}
UNIQUE_TYPES = {"screenpop", "announcement", "reply"}        # events, never coalesced away
MAX_BACKLOG = 5000
WALL_TYPES = {"agent", "call", "queue", "kpis"}                # what a wall TV is sent
_NUMBER_KEYS = {"num", "dialstring", "to"}                      # values that may hold a caller's number
_PARTY_KEYS = {"caller", "connected"}                           # {"num", "name"} of a party of the call
_LONG_DIGITS = re.compile(r"\d{7,}")


def _mask_digits(text: str) -> str:
    """``13812345678`` -> ``138****5678`` (any run of 7+ digits): what the wallboard page shows anyway."""
    return _LONG_DIGITS.sub(lambda m: m.group()[:3] + "****" + m.group()[-4:], text)


def for_wall(value: Any, key: str = "") -> Any:
    """A copy of a call view fit for a wall TV: numbers masked, callers' names cut to their first character,
    recording file names left out."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "recording_file":
                continue
            if k in _PARTY_KEYS and isinstance(v, dict):
                name = str(v.get("name") or "")
                out[k] = {**v, "num": _mask_digits(str(v.get("num") or "")), "name": name[:1] + "*" if name else ""}
            else:
                out[k] = for_wall(v, k)
        return out
    if isinstance(value, list):
        return [for_wall(v, key) for v in value]
    if isinstance(value, str) and key in _NUMBER_KEYS:
        return _mask_digits(value)
    return value


def message_type(topic: str) -> tuple[str, str | None]:
    """(type, agent id the event belongs to) for a topic suffix."""
    parts = topic.split("/", 2)
    if parts[0] == "agents" and len(parts) == 3:
        return AGENT_TOPICS.get(parts[2], "event"), parts[1]
    if parts[0] == "calls":
        return "call", None
    if parts[0] == "queues" and topic.endswith("/stats"):
        return "queue", None
    if parts[0] == "requests":
        return "request", None
    return "event", None


class LiveClient:
    """One browser: what it may see, and its coalesced backlog."""

    def __init__(self, hub: "LiveHub", principal: Principal | None, *, read_only: bool, interval: float):
        self.hub = hub
        self.principal = principal
        self.sees_all = read_only or bool(principal and principal.reads_all)
        self.read_only = read_only
        self.wall = read_only and principal is None          # a wall TV's token: see for_wall
        self.interval = interval
        self.pending: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.wakeup = asyncio.Event()
        self.overflowed = False
        self.sent_frames = 0
        self.sent_items = 0
        self._unique = 0

    @property
    def agent_id(self) -> str | None:
        return None if self.sees_all or self.principal is None else self.principal.agent_id

    def may_see(self, topic: str, kind: str, owner: str | None, payload: dict[str, Any]) -> bool:
        if self.wall:
            return kind in WALL_TYPES
        if self.sees_all:
            return True
        me = self.agent_id
        if owner is not None:
            return owner == me
        if kind == "call":
            return self.hub.involved(me or "", payload)
        if kind == "request":                   # a service request: its owner (supervisors see all)
            return payload.get("owner_id") == me
        return False

    def offer(self, key: str, item: dict[str, Any]) -> None:
        if item["type"] in UNIQUE_TYPES:
            self._unique += 1
            key = f"{key}#{self._unique}"
        elif key in self.pending:
            del self.pending[key]               # the newest state of the object, moved to the end
        self.pending[key] = item
        if len(self.pending) > MAX_BACKLOG:
            self.pending.clear()
            self.overflowed = True
        self.wakeup.set()

    async def next_frame(self) -> dict[str, Any]:
        """Wait for something to send; at most one frame per ``interval``."""
        await self.wakeup.wait()
        self.wakeup.clear()
        if self.overflowed:
            self.overflowed = False
            self.pending.clear()
            frame: dict[str, Any] = {"type": "resync", "reason": "too many updates queued"}
        else:
            items = list(self.pending.values())
            self.pending.clear()
            frame = {"type": "batch", "items": items}
            self.sent_items += len(items)
        self.sent_frames += 1
        frame["server_time"] = time.time()
        return frame


class LiveHub:
    def __init__(self, *, roster: AgentRoster, queues: QueueFigures | None, time_zone: str = "Asia/Shanghai",
                 interval: float = 0.25, queue_refresh: float = 1.0, clock: Callable[[], float] = time.time):
        self.roster = roster
        self.queues = queues
        self.interval = interval
        self.queue_refresh = queue_refresh
        self.clock = clock
        zone = ZoneInfo(time_zone)
        self.day = DayCounters(frozenset(a.endpoint for a in roster.agents.values()),
                               lambda: dt.datetime.fromtimestamp(clock(), zone).date())
        self.clients: set[LiveClient] = set()
        self.screenpops: dict[str, dict[str, Any]] = {}       # agent id -> the last screen pop
        self.published = 0
        self._queue_figures: dict[str, dict[str, Any]] = {}
        self._kpis: dict[str, Any] = {}
        self._refresher: asyncio.Task | None = None

    def involved(self, agent_id: str, call: dict[str, Any]) -> bool:
        agent = self.roster.agents.get(agent_id)
        if agent is None:
            return False
        if agent.linkedid and agent.linkedid == call.get("linkedid"):
            return True
        return any(c.get("endpoint") == agent.endpoint for c in call.get("channels") or ())

    # -- events in -------------------------------------------------------------------------------
    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        """EventBus local listener: one event of the service (topic suffix, payload)."""
        kind, owner = message_type(topic)
        if kind == "screenpop" and owner:
            self.screenpops[owner] = payload
        self.day.observe(topic, payload)
        self._fan_out(topic, kind, owner, payload)

    def _fan_out(self, topic: str, kind: str, owner: str | None, payload: dict[str, Any]) -> None:
        self.published += 1
        item = {"type": kind, "topic": topic, "data": payload}
        wall_item: dict[str, Any] | None = None
        for client in list(self.clients):
            if client.may_see(topic, kind, owner, payload):
                if client.wall and kind == "call":
                    if wall_item is None:
                        wall_item = {"type": kind, "topic": topic, "data": for_wall(payload)}
                    client.offer(topic, wall_item)
                else:
                    client.offer(topic, item)

    # -- clients ---------------------------------------------------------------------------------
    def connect(self, principal: Principal | None, *, read_only: bool = False) -> LiveClient:
        client = LiveClient(self, principal, read_only=read_only, interval=self.interval)
        self.clients.add(client)
        if client.sees_all and self.queues is not None and (self._refresher is None or self._refresher.done()):
            self._refresher = asyncio.get_running_loop().create_task(self._refresh_queues(), name="web-queues")
        return client

    def disconnect(self, client: LiveClient) -> None:
        self.clients.discard(client)
        if not any(c.sees_all for c in self.clients) and self._refresher is not None:
            self._refresher.cancel()
            self._refresher = None

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)
            self._refresher = None

    # -- queue figures and KPIs (recomputed every queue_refresh s while a wallboard watches) ---------
    def queue_figures(self) -> dict[str, dict[str, Any]]:
        if self.queues is None:
            return {}
        return {name: self.queues.queue_stats(name) for name in self.queues.queue_names()}

    def kpi_tiles(self, figures: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        figures = self.queue_figures() if figures is None else figures
        return kpis(figures.values(), self.day.figures())

    async def _refresh_queues(self) -> None:
        while True:
            try:
                figures = self.queue_figures()
                for name, stats in figures.items():
                    comparable = {k: v for k, v in stats.items() if k != "time"}
                    if self._queue_figures.get(name) != comparable:
                        self._queue_figures[name] = comparable
                        self._fan_out(f"queues/{name}/stats", "queue", None, stats)
                tiles = self.kpi_tiles(figures)
                if tiles != self._kpis:
                    self._kpis = tiles
                    self._fan_out("kpis", "kpis", None, tiles)
            except Exception:
                log.exception("wallboard: queue figures not refreshed")
            await asyncio.sleep(self.queue_refresh)
