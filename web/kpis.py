"""The wallboard's KPI tiles (kpis.md, desktop-wallboard.md): value, target, and 达标 / 预警 / 未达标.

Definitions (the window is 今日, from 00:00 local time):
- service_level      Σ answered within the queue's threshold ÷ Σ answered, over every queue (the ACD's figures,
                     weighted by answered calls), target ≥ 80 %, amber 70-80 %
- live_answer_rate   人工应答率: Σ answered by an agent ÷ Σ calls that asked for an agent (offered to a queue, less
                     those still waiting: their outcome is not known yet), target ≥ 85 %, amber 80-85 %
- connection_rate    系统接通率: inbound calls the hotline answered (the caller's channel came Up) ÷ inbound calls
                     seen by the PBX, target ≥ 85 %, amber 80-85 %
- satisfaction       (满意 4 + 非常满意 5) ÷ surveys answered (the post-call survey), target ≥ 90 %, amber 85-90 %
A zero denominator gives None ("—", 暂无数据), never 0 % or 100 %.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

TARGETS = {  # name: (green at or above, red below)
    "service_level": (0.80, 0.70),
    "live_answer_rate": (0.85, 0.80),
    "connection_rate": (0.85, 0.80),
    "satisfaction": (0.90, 0.85),
}
LABELS = {"service_level": "服务水平", "live_answer_rate": "人工应答率", "connection_rate": "系统接通率",
          "satisfaction": "满意度"}
MAX_TRACKED_CALLS = 100_000


def grade(name: str, value: float | None) -> str:
    """'green' (达标), 'amber' (预警), 'red' (未达标) or 'none' (暂无数据)."""
    if value is None:
        return "none"
    green, red = TARGETS[name]
    return "green" if value >= green else ("red" if value < red else "amber")


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


class DayCounters:
    """What the KPI tiles need beyond the ACD's figures, counted from the live events of today."""

    def __init__(self, agent_endpoints: Collection[str], today: Callable[[], dt.date]):
        self.agent_endpoints = agent_endpoints          # the agents' phones (config/agents.yaml: fixed at start)
        self.today = today
        self.day = today()
        self.inbound: set[str] = set()
        self.connected: set[str] = set()
        self.surveys = 0
        self.satisfied = 0

    def _roll(self) -> None:
        day = self.today()
        if day != self.day:
            self.day, self.inbound, self.connected = day, set(), set()
            self.surveys = self.satisfied = 0

    def observe(self, topic: str, payload: Mapping[str, Any]) -> None:
        if topic.startswith("calls/"):
            self._call(payload)
        elif topic == "survey/result":
            self._roll()
            rating = payload.get("rating")
            if isinstance(rating, int):
                self.surveys += 1
                self.satisfied += rating >= 4

    def _call(self, view: Mapping[str, Any]) -> None:
        channels = view.get("channels") or []
        linkedid = str(view.get("linkedid") or "")
        if not channels or not linkedid:
            return
        first = channels[0]
        if first.get("endpoint") in self.agent_endpoints:
            return                      # an agent's outbound or internal call, not a call to the hotline
        self._roll()
        if len(self.inbound) < MAX_TRACKED_CALLS:
            self.inbound.add(linkedid)
        if first.get("state") == "Up" and linkedid in self.inbound:
            self.connected.add(linkedid)

    def figures(self) -> dict[str, Any]:
        self._roll()
        return {"inbound": len(self.inbound), "connected": len(self.connected), "surveys": self.surveys,
                "satisfied": self.satisfied}


def kpis(queue_stats: Iterable[Mapping[str, Any]], day: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    offered = answered = within = 0.0
    for stats in queue_stats:
        offered += (stats.get("offered") or 0) - (stats.get("waiting") or 0)
        n = stats.get("answered") or 0
        answered += n
        within += (stats.get("service_level") or 0) * n
    values = {
        "service_level": (_ratio(within, answered), f"{round(within)}/{round(answered)}"),
        "live_answer_rate": (_ratio(answered, offered), f"{round(answered)}/{round(offered)}"),
        "connection_rate": (_ratio(day["connected"], day["inbound"]), f"{day['connected']}/{day['inbound']}"),
        "satisfaction": (_ratio(day["satisfied"], day["surveys"]), f"{day['satisfied']}/{day['surveys']}"),
    }
    return {name: {"label": LABELS[name], "value": value, "target": TARGETS[name][0], "grade": grade(name, value),
                   "basis": basis} for name, (value, basis) in values.items()}
