"""Opening hours and holidays (flows/calendars.yaml), evaluated in the calendar's time zone.

```yaml
time_zone: Asia/Shanghai            # optional; default: settings.service.time_zone
calendars:
  default:                          # no `hours` → open 24 h every day
    holidays:
      - {name: spring_festival, from: 2027-02-06, to: 2027-02-12}           # greeting only, still open
  office:
    time_zone: Asia/Shanghai        # optional per calendar
    hours: {mon-fri: "08:30-18:00", sat: ["09:00-12:00", "13:00-17:00"]}   # days not listed: closed
    holidays:
      - {name: national_day, from: 2027-10-01, to: 2027-10-07, closed: true}
      - {name: new_year, date: 2027-01-01, hours: "10:00-16:00"}           # shortened day
```
A range ending at 24:00 covers the rest of the day; one that ends before it starts (22:00-06:00) runs overnight.
Each range includes its start minute and excludes its end.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .expr import runtime_functions
from .model import FlowError
from .source import MarkedDict, MarkedList, Pos, read_yaml

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
Ranges = tuple[tuple[int, int], ...]  # minutes since midnight, [start, end)


@dataclass(frozen=True)
class Holiday:
    name: str
    first: date
    last: date
    closed: bool = False
    hours: Ranges | None = None  # special hours on these days (None: the weekly hours apply)


@dataclass(frozen=True)
class Calendar:
    name: str
    time_zone: ZoneInfo
    weekly: tuple[Ranges, ...]  # index 0 = Monday
    holidays: tuple[Holiday, ...] = ()

    def local(self, at: datetime) -> datetime:
        return at.replace(tzinfo=self.time_zone) if at.tzinfo is None else at.astimezone(self.time_zone)

    def holiday_on(self, day: date) -> Holiday | None:
        for holiday in self.holidays:
            if holiday.first <= day <= holiday.last:
                return holiday
        return None

    def is_holiday(self, at: datetime, name: str | None = None) -> bool:
        holiday = self.holiday_on(self.local(at).date())
        return holiday is not None and (name is None or holiday.name == name)

    def is_open(self, at: datetime) -> bool:
        local = self.local(at)
        minute = local.hour * 60 + local.minute
        holiday = self.holiday_on(local.date())
        if holiday is not None and holiday.closed:
            return False
        ranges = holiday.hours if holiday is not None and holiday.hours is not None else self.weekly[local.weekday()]
        return any(start <= minute < end for start, end in ranges)


ALWAYS_OPEN: tuple[Ranges, ...] = tuple(((0, 1440),) for _ in DAYS)


class _Reader:
    def __init__(self, path: Path):
        self.path = path
        self.doc = read_yaml(path)

    def problem(self, where: Pos, reason: str) -> None:
        self.doc.problem(where, reason)

    def zone(self, value: Any, where: Pos) -> ZoneInfo | None:
        try:
            return ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(where, f"unknown time zone {value!r}")
            return None

    def ranges(self, value: Any, where: Pos) -> list[tuple[int, int]] | None:
        """Parse "HH:MM-HH:MM", a list of them, or "closed"; overnight ranges come back with end > 1440."""
        items = value if isinstance(value, list) else [value]
        out: list[tuple[int, int]] = []
        for i, item in enumerate(items):
            at = value.where(i) if isinstance(value, MarkedList) else where
            if item == "closed" and len(items) == 1:
                return []
            m = _RANGE.match(item) if isinstance(item, str) else None
            if not m:
                self.problem(at, f"bad hours {item!r}: expected \"HH:MM-HH:MM\", a list of them, or \"closed\"")
                return None
            h1, m1, h2, m2 = map(int, m.groups())
            if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
                self.problem(at, f"bad hours {item!r}: no such time of day")
                return None
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if start == end:
                self.problem(at, f"bad hours {item!r}: empty range")
                return None
            out.append((start, end if end > start else end + 1440))
        return out

    def weekly(self, hours: Any, where: Pos) -> tuple[Ranges, ...] | None:
        if hours is None:
            return ALWAYS_OPEN
        if not isinstance(hours, MarkedDict):
            self.problem(where, "hours must be a mapping of days (mon, mon-fri, daily) to \"HH:MM-HH:MM\"")
            return None
        days: list[list[tuple[int, int]]] = [[] for _ in DAYS]
        ok = True
        for key, value in hours.items():
            indexes = self.day_indexes(key, hours.where(key))
            ranges = self.ranges(value, hours.where_value(key))
            if indexes is None or ranges is None:
                ok = False
                continue
            for index in indexes:
                for start, end in ranges:
                    days[index].append((start, min(end, 1440)))
                    if end > 1440:  # overnight: the rest lands on the next morning
                        days[(index + 1) % 7].append((0, end - 1440))
        return tuple(tuple(sorted(d)) for d in days) if ok else None

    def day_indexes(self, key: Any, where: Pos) -> list[int] | None:
        key = str(key).strip().lower()
        if key in ("daily", "every day", "all"):
            return list(range(7))
        parts = key.split("-")
        if len(parts) in (1, 2) and all(p in DAYS for p in parts):
            first, last = DAYS.index(parts[0]), DAYS.index(parts[-1])
            return [(first + i) % 7 for i in range((last - first) % 7 + 1)]
        self.problem(where, f"unknown day {key!r} (use mon..sun, a range like mon-fri, or daily)")
        return None

    def holidays(self, value: Any, where: Pos) -> tuple[Holiday, ...] | None:
        if value is None:
            return ()
        if not isinstance(value, MarkedList):
            self.problem(where, "holidays must be a list")
            return None
        out: list[Holiday] = []
        for i, item in enumerate(value):
            at = value.where(i)
            if not isinstance(item, MarkedDict):
                self.problem(at, "a holiday is a mapping: {name, date} or {name, from, to}")
                continue
            unknown = set(item) - {"name", "date", "from", "to", "closed", "hours"}
            for key in unknown:
                self.problem(item.where(key), f"unknown holiday field {key!r}")
            name = item.get("name")
            if not isinstance(name, str) or not name:
                self.problem(item.where("name"), "holiday needs a name")
                continue
            first = item.get("date", item.get("from"))
            last = item.get("date", item.get("to", first))
            if not isinstance(first, date) or not isinstance(last, date) or isinstance(first, datetime):
                self.problem(item.where("date" if "date" in item else "from"),
                             "holiday needs `date: YYYY-MM-DD` or `from:`/`to:` dates")
                continue
            if last < first:
                self.problem(item.where("to"), "holiday ends before it starts")
                continue
            hours = None
            if "hours" in item:
                parsed = self.ranges(item["hours"], item.where_value("hours"))
                if parsed is None:
                    continue
                hours = tuple((s, min(e, 1440)) for s, e in parsed)
            closed = item.get("closed", False)
            if not isinstance(closed, bool):
                self.problem(item.where_value("closed"), "closed must be true or false")
                continue
            out.append(Holiday(name, first, last, closed, hours))
        return tuple(out)


def load_calendars(path: Path, default_time_zone: str = "Asia/Shanghai") -> dict[str, Calendar]:
    """Read calendars.yaml; raises FlowError (file:line:column: reason) on any problem.
    A missing file gives the single always-open `default` calendar."""
    path = Path(path)
    if not path.exists():
        return {"default": Calendar("default", ZoneInfo(default_time_zone), ALWAYS_OPEN)}
    reader = _Reader(path)
    data = reader.doc.data
    calendars: dict[str, Calendar] = {}
    if reader.doc.problems:
        raise FlowError(reader.doc.problems)
    if not isinstance(data, MarkedDict) or not isinstance(data.get("calendars"), MarkedDict):
        reader.problem(data.start if isinstance(data, (MarkedDict, MarkedList)) else Pos(1, 1),
                       "expected a mapping with `calendars:` (name → {hours, holidays})")
        raise FlowError(reader.doc.problems)
    for key in set(data) - {"time_zone", "calendars"}:
        reader.problem(data.where(key), f"unknown key {key!r} (expected time_zone, calendars)")
    zone = reader.zone(data.get("time_zone", default_time_zone), data.where_value("time_zone"))
    for name, spec in data["calendars"].items():
        where = data["calendars"].where(name)
        if spec is None:
            spec = MarkedDict()
            spec.start, spec.key_pos, spec.value_pos, spec.duplicates = where, {}, {}, []
        if not isinstance(spec, MarkedDict):
            reader.problem(where, f"calendar {name!r} must be a mapping (hours, holidays, time_zone)")
            continue
        for key in set(spec) - {"time_zone", "hours", "holidays"}:
            reader.problem(spec.where(key), f"unknown calendar field {key!r} (expected hours, holidays, time_zone)")
        cal_zone = reader.zone(spec["time_zone"], spec.where_value("time_zone")) if "time_zone" in spec else zone
        weekly = reader.weekly(spec.get("hours"), spec.where_value("hours"))
        holidays = reader.holidays(spec.get("holidays"), spec.where_value("holidays"))
        if cal_zone is not None and weekly is not None and holidays is not None:
            calendars[str(name)] = Calendar(str(name), cal_zone, weekly, holidays)
    if reader.doc.problems:
        raise FlowError(reader.doc.problems)
    if "default" not in calendars:
        calendars["default"] = Calendar("default", zone or ZoneInfo(default_time_zone), ALWAYS_OPEN)
    return calendars


def flow_functions(flows_dir: Path, time_zone: str = "Asia/Shanghai", now=None) -> dict:
    """The expression functions for a running service: business_hours/is_holiday over
    `<flows_dir>/calendars.yaml` in the service time zone (settings.service.time_zone)."""
    return runtime_functions(load_calendars(Path(flows_dir) / "calendars.yaml", time_zone), now=now)
