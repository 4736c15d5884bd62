"""What every report is asked for: a range of local times, an interval, optionally a queue, team or agent.

``parse_filters`` turns the text the CLI and HTTP receive into a checked ``Filters``; every mistake is a
``ReportError`` with one line saying what is wrong (CLI: exit 1, HTTP: 422).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

INTERVALS = {"15m": 900, "30m": 1800, "1h": 3600, "1d": 86400}
MAX_15M_SPAN = timedelta(days=366)


class ReportError(ValueError):
    """Bad input or nothing to report: one line for the user."""


@dataclass(frozen=True)
class Filters:
    since: float                     # epoch seconds, inclusive
    until: float                     # epoch seconds, exclusive
    interval_s: int = 3600
    queue: str | None = None
    agent: str | None = None
    team: str | None = None
    time_zone: str = "Asia/Shanghai"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def offset_s(self) -> int:
        """The zone's UTC offset at the start of the range (buckets are aligned to local midnight)."""
        offset = datetime.fromtimestamp(self.since, self.zone).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0

    def local(self, epoch_s: float) -> datetime:
        return datetime.fromtimestamp(epoch_s, self.zone)

    def bucket_start(self, epoch_s: float) -> float:
        offset = self.offset_s
        return (epoch_s + offset) // self.interval_s * self.interval_s - offset

    def buckets(self) -> list[float]:
        start = self.bucket_start(self.since)
        return [start + i * self.interval_s for i in range(int((self.until - start - 1) // self.interval_s) + 1)]

    def label(self, bucket: float) -> str:
        when = self.local(bucket)
        return when.strftime("%Y-%m-%d") if self.interval_s >= 86400 else when.strftime("%Y-%m-%d %H:%M")


def parse_time(text: str, zone: ZoneInfo, name: str) -> datetime:
    """``2026-11-24``, ``2026-11-24T08:00`` or ``2026-11-24 08:00`` in the configured zone (or with an offset)."""
    value = (text or "").strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), zone)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ReportError(f"--{name}: {text!r} is not a date or date-time (e.g. 2026-11-24 or "
                          f"2026-11-24T08:00)") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def parse_filters(*, since: str | None, until: str | None, interval: str | None = "1h",
                  queue: str | None = None, agent: str | None = None, team: str | None = None,
                  time_zone: str, queues: Iterable[str] = (), agents: Iterable[str] = (),
                  teams: Iterable[str] = ()) -> Filters:
    zone = ZoneInfo(time_zone)
    if not since or not until:
        raise ReportError("give the range: --from and --to (local dates or date-times)")
    start, end = parse_time(since, zone, "from"), parse_time(until, zone, "to")
    if len(until.strip()) == 10 and end <= start:
        end = end + timedelta(days=1)               # --to 2026-11-24 with --from the same day: that whole day
    if end <= start:
        raise ReportError(f"--to ({until}) is not after --from ({since})")
    interval = interval or "1h"
    if interval not in INTERVALS:
        raise ReportError(f"--interval {interval!r}: one of {', '.join(INTERVALS)}")
    if interval == "15m" and end - start > MAX_15M_SPAN:
        raise ReportError(f"a range of {(end - start).days} days at 15-minute intervals is too long "
                          f"(at most a year; use --interval 1h or 1d)")
    for value, known, what in ((queue, queues, "queue"), (agent, agents, "agent"), (team, teams, "team")):
        known = list(known)
        if value and known and value not in known:
            raise ReportError(f"unknown {what} {value!r} (known: {', '.join(sorted(known))})")
    return Filters(since=start.timestamp(), until=end.timestamp(), interval_s=INTERVALS[interval],
                   queue=queue or None, agent=agent or None, team=team or None, time_zone=time_zone)
