"""Live queue statistics, computed from the queue log the engine writes (one source of truth).

Per queue and local day (the service's time zone):
  offered            callers that entered the queue (ENTERQUEUE)
  answered           CONNECT;  abandoned: ABANDON
  service_level      answered within T ÷ answered                                   (T = service_level_threshold)
  service_level_abandons
                     (answered within T + abandoned within T) ÷ (answered + abandoned)
                     — the variant of kpis.md that counts abandons within T as handled in time
  service_level_all  answered within T ÷ (answered + abandoned) — every abandon counts against
  abandon_rate       abandoned ÷ offered
  asa_s              Σ wait of answered calls ÷ answered
  aht_s              Σ (talk incl. hold + wrap-up) ÷ calls handled (COMPLETE*/TRANSFER)
A ratio with a zero denominator is null (no data yet), never 0 or 1.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from acd.config import QueueSettings
from acd.queue_log import QueueLogEntry
from acd.state import OUTBOUND_URL


@dataclass
class DayCounters:
    offered: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    abandoned_within: int = 0
    wait_answered_s: float = 0.0
    handled: int = 0
    talk_s: float = 0.0
    wrapups: int = 0
    wrapup_s: float = 0.0
    transfers: int = 0
    timeouts: int = 0
    exit_empty: int = 0
    exit_key: int = 0
    overflows: int = 0
    callbacks: int = 0
    ring_no_answer: int = 0

# queue-log events that are only counted -> their DayCounters field
_TASK_ENDS = {"COMPLETECALLER", "COMPLETEAGENT", "TRANSFER", "ABANDON", "CALLBACKFAILED", "EXITWITHTIMEOUT",
              "EXITEMPTY", "EXITWITHKEY", "OVERFLOW"}
_COUNTED = {"EXITWITHTIMEOUT": "timeouts", "EXITEMPTY": "exit_empty", "EXITWITHKEY": "exit_key",
            "OVERFLOW": "overflows", "CALLBACK": "callbacks", "RINGNOANSWER": "ring_no_answer"}


def _num(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return 0.0


def _ratio(num: float, den: float, digits: int = 4) -> float | None:
    return round(num / den, digits) if den else None


class StatsCollector:
    def __init__(self, queues: Mapping[str, QueueSettings], time_zone: str = "Asia/Shanghai") -> None:
        self.queues = dict(queues)
        self._outbound: set[str] = set()           # calls of outbound tasks in progress
        self.tz = ZoneInfo(time_zone)
        self._days: dict[tuple[str, dt.date], DayCounters] = {}

    def day(self, when: float) -> dt.date:
        return dt.datetime.fromtimestamp(when, self.tz).date()

    def counters(self, queue: str, day: dt.date) -> DayCounters:
        key = (queue, day)
        c = self._days.get(key)
        if c is None:
            c = self._days[key] = DayCounters()
        return c

    def observe(self, e: QueueLogEntry) -> None:
        q = self.queues.get(e.queuename)
        if q is None:
            return
        if e.event == "ENTERQUEUE" and e.data1 == OUTBOUND_URL:
            self._outbound.add(e.callid)           # a follow-up: the agent calls out, no caller waited
        if e.callid in self._outbound:
            if e.event in _TASK_ENDS:
                self._outbound.discard(e.callid)
            return
        c = self.counters(e.queuename, self.day(e.time))
        t = q.service_level_s
        if e.event == "ENTERQUEUE":
            c.offered += 1
        elif e.event == "CONNECT":
            wait = _num(e.data1)
            c.answered += 1
            c.wait_answered_s += wait
            c.answered_within += wait <= t
        elif e.event == "ABANDON":
            wait = _num(e.data3)
            c.abandoned += 1
            c.abandoned_within += wait <= t
        elif e.event in ("COMPLETECALLER", "COMPLETEAGENT"):
            c.handled += 1
            c.talk_s += _num(e.data2)
        elif e.event == "TRANSFER":
            c.handled += 1
            c.transfers += 1
            c.talk_s += _num(e.data4)
        elif e.event in _COUNTED:
            name = _COUNTED[e.event]
            setattr(c, name, getattr(c, name) + 1)

    def wrapup(self, queue: str, seconds: float, at: float) -> None:
        if queue in self.queues:
            c = self.counters(queue, self.day(at))
            c.wrapups += 1
            c.wrapup_s += seconds

    def replay(self, entries: Iterable[QueueLogEntry]) -> None:
        """Rebuild today's figures from stored rows after a restart."""
        for e in entries:
            self.observe(e)

    def totals(self, queue: str | None = None) -> DayCounters:
        """Counters summed over every day seen (one queue, or all queues)."""
        total = DayCounters()
        for (name, _day), c in self._days.items():
            if queue is None or name == queue:
                for f in fields(DayCounters):
                    setattr(total, f.name, getattr(total, f.name) + getattr(c, f.name))
        return total

    def figures(self, queue: str, now: float) -> dict:
        return figures(self.queues[queue], self.counters(queue, self.day(now)))


def figures(q: QueueSettings, c: DayCounters) -> dict:
    decided = c.answered + c.abandoned
    return {
        "offered": c.offered,
        "answered": c.answered,
        "abandoned": c.abandoned,
        "service_level_threshold_s": q.service_level_s,
        "service_level_target": q.service_level_target,
        "service_level": _ratio(c.answered_within, c.answered),
        "service_level_abandons": _ratio(c.answered_within + c.abandoned_within, decided),
        "service_level_all": _ratio(c.answered_within, decided),
        "abandon_rate": _ratio(c.abandoned, c.offered),
        "asa_s": _ratio(c.wait_answered_s, c.answered, 2),
        "aht_s": _ratio(c.talk_s + c.wrapup_s, c.handled, 2),
        "timeouts": c.timeouts,
        "overflows": c.overflows,
        "voicemails": c.exit_key,
        "callbacks": c.callbacks,
        "transfers": c.transfers,
    }
