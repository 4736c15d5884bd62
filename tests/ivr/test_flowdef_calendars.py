"""Opening hours and holidays at their edges, in the calendar's time zone."""
from __future__ import annotations

import textwrap
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.flowdef.calendars import flow_functions, load_calendars
from ivr.flowdef.model import FlowError

SH = ZoneInfo("Asia/Shanghai")

CALENDARS = """
calendars:
  default:
    holidays:
      - {name: spring_festival, from: 2027-02-05, to: 2027-02-11}
  office:
    hours:
      mon-fri: ["08:30-12:00", "13:00-18:00"]
      sat: "09:00-12:00"
    holidays:
      - {name: national_day, from: 2027-10-01, to: 2027-10-07, closed: true}
      - {name: new_year_eve, date: 2026-12-31, hours: "08:30-15:00"}
  night:
    hours: {fri: "22:00-06:00"}
  berlin:
    time_zone: Europe/Berlin
    hours: {daily: "09:00-17:00"}
"""


@pytest.fixture
def calendars(tmp_path):
    path = tmp_path / "calendars.yaml"
    path.write_text(CALENDARS, encoding="utf-8")
    return load_calendars(path, "Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_default_calendar_is_open_around_the_clock(calendars):
    default = calendars["default"]
    for hour in (0, 3, 12, 23):
        assert default.is_open(at(2026, 11, 23, hour, 59))


@pytest.mark.parametrize("moment, open_", [
    (at(2026, 11, 23, 8, 29), False),   # Monday, one minute before opening
    (at(2026, 11, 23, 8, 30), True),    # the opening minute is in
    (at(2026, 11, 23, 11, 59), True),
    (at(2026, 11, 23, 12, 0), False),   # the closing minute is out (lunch)
    (at(2026, 11, 23, 13, 0), True),
    (at(2026, 11, 23, 17, 59), True),
    (at(2026, 11, 23, 18, 0), False),
    (at(2026, 11, 28, 10, 0), True),    # Saturday morning
    (at(2026, 11, 28, 12, 0), False),
    (at(2026, 11, 29, 10, 0), False),   # Sunday: not listed, closed
])
def test_office_hours_edges(calendars, moment, open_):
    assert calendars["office"].is_open(moment) is open_


def test_time_zone_is_applied_to_aware_and_naive_times(calendars):
    office = calendars["office"]
    # 00:30 UTC Monday = 08:30 in Shanghai: open; 00:29 UTC: closed
    assert office.is_open(datetime(2026, 11, 23, 0, 30, tzinfo=timezone.utc))
    assert not office.is_open(datetime(2026, 11, 23, 0, 29, tzinfo=timezone.utc))
    assert office.is_open(datetime(2026, 11, 23, 8, 30))  # naive: read as the calendar's own time
    berlin = calendars["berlin"]
    assert berlin.is_open(at(2026, 11, 23, 16, 0))   # 09:00 in Berlin (UTC+1 in November)
    assert not berlin.is_open(at(2026, 11, 23, 15, 59))


def test_overnight_range_runs_into_the_next_morning(calendars):
    night = calendars["night"]
    assert not night.is_open(at(2026, 11, 27, 21, 59))  # Friday
    assert night.is_open(at(2026, 11, 27, 22, 0))
    assert night.is_open(at(2026, 11, 28, 5, 59))       # Saturday morning
    assert not night.is_open(at(2026, 11, 28, 6, 0))


def test_holidays_close_shorten_or_just_greet(calendars):
    office, default = calendars["office"], calendars["default"]
    assert not office.is_open(at(2027, 10, 1, 10, 0))          # closed: true
    assert not office.is_open(at(2027, 10, 7, 23, 59))
    assert office.is_open(at(2027, 10, 8, 10, 0))              # the day after: Friday, open
    assert office.is_open(at(2026, 12, 31, 14, 59))            # shortened day
    assert not office.is_open(at(2026, 12, 31, 15, 0))
    assert default.is_open(at(2027, 2, 6, 3, 0))               # greeting-only holiday: still open
    assert default.is_holiday(at(2027, 2, 5, 0, 0))            # first day included
    assert default.is_holiday(at(2027, 2, 11, 23, 59))         # last day included
    assert not default.is_holiday(at(2027, 2, 12, 0, 0))
    assert not default.is_holiday(at(2027, 2, 4, 23, 59))
    assert default.is_holiday(at(2027, 2, 6, 12, 0), "spring_festival")
    assert not default.is_holiday(at(2027, 2, 6, 12, 0), "national_day")
    # 2027-02-04 16:30 UTC is already 2027-02-05 00:30 in Shanghai
    assert default.is_holiday(datetime(2027, 2, 4, 16, 30, tzinfo=timezone.utc))


def test_missing_file_gives_an_always_open_default(tmp_path):
    calendars = load_calendars(tmp_path / "absent.yaml")
    assert list(calendars) == ["default"] and calendars["default"].is_open(at(2026, 1, 1, 3, 0))


def test_the_shipped_calendars_load():
    calendars = load_calendars(Path(__file__).resolve().parents[2] / "flows" / "calendars.yaml")
    assert calendars["default"].is_open(at(2027, 2, 6, 3, 0))
    assert calendars["default"].is_holiday(at(2027, 2, 6, 3, 0), "spring_festival")
    assert not calendars["office"].is_open(at(2027, 2, 8, 10, 0))


@pytest.mark.parametrize("body, message", [
    ("calendars:\n  office:\n    hours: {mon: '9-17'}\n",
     "calendars.yaml:3:18: bad hours '9-17': expected \"HH:MM-HH:MM\", a list of them, or \"closed\""),
    ("calendars:\n  office:\n    hours: {moonday: '09:00-17:00'}\n",
     "calendars.yaml:3:13: unknown day 'moonday' (use mon..sun, a range like mon-fri, or daily)"),
    ("calendars:\n  office:\n    hours: {mon: '25:00-26:00'}\n",
     "calendars.yaml:3:18: bad hours '25:00-26:00': no such time of day"),
    ("time_zone: Mars/Olympus\ncalendars: {}\n", "calendars.yaml:1:12: unknown time zone 'Mars/Olympus'"),
    ("calendars:\n  x:\n    holidays:\n      - {name: a, from: 2027-01-05, to: 2027-01-01}\n",
     "calendars.yaml:4:37: holiday ends before it starts"),
    ("calendars:\n  x: {}\n  x: {}\n", "calendars.yaml:3:3: duplicate key 'x' (first defined at line 2)"),
])
def test_bad_calendars_are_reported_with_positions(tmp_path, body, message):
    path = tmp_path / "calendars.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    with pytest.raises(FlowError) as err:
        load_calendars(path)
    assert str(err.value).replace(str(tmp_path) + "/", "") == message


def test_flow_functions_read_the_flows_directory(tmp_path):

    (tmp_path / "calendars.yaml").write_text("calendars:\n  default:\n    hours: {daily: '09:00-18:00'}\n",
                                             encoding="utf-8")
    functions = flow_functions(tmp_path, "Asia/Shanghai", now=lambda: datetime(2026, 11, 23, 11, 0, tzinfo=timezone.utc))
    assert functions["business_hours"]() is False  # 19:00 in Shanghai
    functions = flow_functions(tmp_path, "UTC", now=lambda: datetime(2026, 11, 23, 11, 0, tzinfo=timezone.utc))
    assert functions["business_hours"]() is True
