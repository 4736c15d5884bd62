"""`hotline demo`: one business day of the 江南云商 hotline - the simulator, the service, SQLite and an embedded
broker in one process on a virtual clock.

The service side is the production `Service`: it reaches the simulator only over TCP (AMI client to the
simulator's AMI port, the simulator's AGI() calls to the service's FastAGI port). Only this harness - the
callers and the agents' softphones and desktops - uses pbxsim's participant API. Every random choice comes
from `random.Random(seed)` (or from a generator seeded with the seed and a call's id), the simulator's ids
come from the same seed and a fixed epoch, the service's clocks are pinned to the demo day, and time is
virtual, so the same seed prints the same summary.

The day: DEMO_DAY, 08:00-20:00 in the service's time zone (virtual time 0 = 08:00). Arrivals follow
DAY_PROFILE (a morning and an afternoon peak) for a day of max(N, DAY_VOLUME) calls, of which `--calls N`
are played: 200 calls are the whole day, 20 calls its first hour or so. The calls still running at 20:00
and the callbacks still owed are finished before the figures are read.

The domain packages play their part of the day in `<pkg>/demo.py` (called in this order: ivr, acd, recordings):
- `async def prepare(ctx)`                 before the first call (ivr: customers and orders; acd: agents'
                                           shifts and softphones)
- `def caller_script(ctx, index)`          (ivr) the pbxsim Caller for call `index`
- `async def settle(ctx)`                  (acd, recordings) after the last caller hung up: finish what is owed
- `async def summarize(ctx) -> dict`       figures merged into the summary, read from the stores
The summary (`--json`: one JSON object, the last line of stdout; keys sorted) is read from the stores after
the day, never from what the harness meant to do:
- foundation: calls, completed (reached the service over FastAGI), failed, caller_hangups, seed, day
- queue log (acd/demo.py): reached_queue, answered, abandoned, voicemails, callbacks, overflows,
  still_waiting, service_level, asa_s, aht_s, abandon_rate, ring_no_answer, transfers, callbacks_connected/
  _failed/_pending, and the same per queue under `queues`. Invariant, overall and per queue:
  reached_queue = answered + abandoned + voicemails + callbacks + overflows + still_waiting, where
  callbacks are callers who left the line asking to be called back (their later callback is not an answer)
- IVR tables (ivr/demo.py): `ivr` = {reached_queue, self_service, ivr_hangup, silent_hangup, blocked, other}
  (one outcome per call, summing to calls), voicemail_messages, callback_requests, surveys, survey_avg, …
- recordings table (recordings/demo.py): recordings = answered calls with a complete recording row,
  answered_without_recording, recording_rows, recording_status, recorded_s

`ctx` is a DemoContext: ctx.sim, ctx.service (its parts: .cti, .acd, .ivr, .recordings, .deps), ctx.settings, ctx.rng, ctx.callers, ctx.seed,
ctx.day_start (epoch of 08:00), ctx.wall_clock(), ctx.at("12:30") (virtual seconds), ctx.spawn(coro)
(background work cancelled when the day is over), ctx.shared (what one package tells another).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import random
import shlex
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import acd.demo
import crm.demo
import ivr.demo
import recordings.demo
from hotline.config import Settings
from hotline.demo_progress import DemoProgress
from hotline.service import Clocks, Service
from ivr.prompts.build import PromptError, build_prompts
from ivr.prompts.catalogue import PromptCatalogue
from pbxsim.simulator import Simulator

log = logging.getLogger(__name__)

DEMO_EPOCH = 1_767_225_600          # 2026-01-01 00:00 UTC: uniqueids do not depend on the wall clock
HOTLINE_NUMBER = "4008001234"       # the DNID callers dial
DEMO_DAY = dt.date(2026, 11, 24)    # a Tuesday, no holiday in flows/calendars.yaml
DAY_OPENS = dt.time(8, 0)
DAY_HOURS = 12                      # 08:00-20:00
# relative call volume per hour from 08:00 (a typical inbound day: 10-11 and 14-16 peaks, a lunch dip)
DAY_PROFILE = (4, 8, 11, 10, 6, 6, 9, 10, 8, 6, 4, 3)
DAY_VOLUME = 200                    # calls in a normal day (--calls below that plays the day's first calls)
SETTLE_LIMIT_S = 3 * 3600           # after 20:00: at most this long to finish calls and callbacks


@dataclass
class DemoContext:
    sim: Simulator
    service: Service
    settings: Settings
    rng: random.Random
    seed: int
    calls: int
    day_start: float = 0.0            # epoch seconds of 08:00 on DEMO_DAY (virtual time 0)
    callers: list[Any] = field(default_factory=list)     # pbxsim.participants.Caller, in placing order
    shared: dict[str, Any] = field(default_factory=dict)
    settle_limit_s: float = SETTLE_LIMIT_S
    tasks: list[asyncio.Task] = field(default_factory=list)

    def wall_clock(self) -> float:
        return self.day_start + asyncio.get_running_loop().time()

    def at(self, hhmm: str) -> float:
        """Virtual seconds of a local time of the demo day ("12:30" -> 16200.0)."""
        hours, minutes = (int(part) for part in hhmm.split(":"))
        return (hours * 60 + minutes) * 60.0 - (DAY_OPENS.hour * 60 + DAY_OPENS.minute) * 60.0

    def local_time(self, virtual_s: float | None = None) -> dt.datetime:
        when = self.wall_clock() if virtual_s is None else self.day_start + virtual_s
        return dt.datetime.fromtimestamp(when, ZoneInfo(self.settings.service.time_zone))

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.append(task)
        return task


def demo_settings(settings: Settings, data_dir: Path) -> Settings:
    """The configuration with everything that writes moved into data_dir and every listener on a free port.
    Sounds stay where the configuration says (they are built assets, shared with a real site)."""
    return settings.replace(
        service={"data_dir": data_dir},
        database={"url": f"sqlite+aiosqlite:///{data_dir / 'hotline.db'}"},
        mqtt={"url": "embedded"},
        fastagi={"host": "127.0.0.1", "port": 0},
        http={"host": "127.0.0.1", "port": 0},
        paths={"recordings_dir": data_dir / "recordings"},
    )


def day_start_epoch(settings: Settings) -> float:
    zone = ZoneInfo(settings.service.time_zone)
    return dt.datetime.combine(DEMO_DAY, DAY_OPENS, zone).timestamp()


def arrival_times(rng: random.Random, calls: int) -> list[float]:
    """Arrival moments (virtual seconds from 08:00), in order: the first `calls` calls of a day of
    max(calls, DAY_VOLUME) calls drawn from DAY_PROFILE. A small demo is a quiet morning, 200 calls fill
    the day, more calls make a busier day."""
    total = max(calls, DAY_VOLUME)
    hours = rng.choices(range(len(DAY_PROFILE)), weights=DAY_PROFILE, k=total)
    return sorted(round((hour + rng.random()) * 3600.0, 3) for hour in hours)[:calls]


async def run_demo(settings: Settings, *, calls: int, seed: int, data_dir: Path) -> dict[str, Any]:
    """Place `calls` scripted calls over the demo day and return the summary. Must run on pbxsim's
    VirtualClockLoop started at 0."""
    from sqlalchemy.pool import NullPool

    settings = demo_settings(settings, data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    settings.paths.recordings_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    day_start = day_start_epoch(settings)

    def wall_clock() -> float:
        return day_start + loop.time()

    def utc_now() -> dt.datetime:          # the IVR's clock (business hours, holidays, stored times): UTC-aware
        return dt.datetime.fromtimestamp(wall_clock(), dt.timezone.utc)

    async with Simulator(conf_dir=settings.paths.asterisk_conf_dir, sounds_dirs=[settings.paths.sounds_dir],
                         monitor_dir=settings.paths.recordings_dir, agents_file=settings.config_dir / "agents.yaml",
                         ami_port=0, host="127.0.0.1", seed=seed, epoch=DEMO_EPOCH) as sim:
        settings = settings.replace(ami={"host": "127.0.0.1", "port": sim.ami_port})
        # MQTT keep-alive pings are off because virtual time jumps would make the broker think the
        # client went silent. NullPool keeps no SQLite connection (and its worker thread) between queries.
        # no HTTP API: nobody browses it during the demo, and uvicorn wakes up every 0.1 s of virtual time
        service_cm = Service(settings, http=False, bus_keepalive=0, engine_options={"poolclass": NullPool},
                             clocks=Clocks(wall=wall_clock, utc=utc_now))
        service = await service_cm.__aenter__()
        try:
            sim.pbx.agi_override = ("127.0.0.1", service.fastagi_port)
            if not await service.ami.wait_connected(timeout=30):
                raise RuntimeError(f"the service did not log in to the simulator's AMI on port {sim.ami_port}")
            ctx = DemoContext(sim=sim, service=service, settings=settings, rng=rng, seed=seed, calls=calls,
                              day_start=day_start)
            await ivr.demo.prepare(ctx)
            await acd.demo.prepare(ctx)

            progress = _progress(calls, service)
            try:
                for index, at in enumerate(arrival_times(rng, calls)):
                    await asyncio.sleep(max(0.0, at - loop.time()))
                    ctx.callers.append(await sim.place_call(ivr.demo.caller_script(ctx, index)))
                    progress.call_placed()
                outcomes = []
                for caller in ctx.callers:
                    outcomes.append(await caller.wait())
                    progress.call_done()
            finally:
                progress.close()
            await acd.demo.settle(ctx)
            await recordings.demo.settle(ctx)
            await crm.demo.settle(ctx)
            await _settle(service)
            for task in ctx.tasks:
                task.cancel()
            await asyncio.gather(*ctx.tasks, return_exceptions=True)

            summary = _foundation_summary(ctx, outcomes)
            summary.update(await ivr.demo.summarize(ctx))
            summary.update(await acd.demo.summarize(ctx))
            summary.update(await recordings.demo.summarize(ctx))
            summary.update(crm.demo.summarize(ctx))
        finally:
            await service_cm.__aexit__(None, None, None)
    return summary


def _progress(calls: int, service: Service) -> DemoProgress:
    """The bar reads the ACD's counters and waiting lines as they are (no advance, no timer)."""
    acd = service.acd

    def answered() -> int:
        return acd.stats.totals().answered

    def waiting() -> int:
        return sum(acd.engine.snapshot(name)["waiting"] for name in acd.engine.queues)

    return DemoProgress(calls, answered, waiting)


async def _settle(service: Service) -> None:
    """Let the last FastAGI sessions finish their bookkeeping before the figures are read."""
    for _ in range(200):
        if not service.agi.active_sessions:
            break
        await asyncio.sleep(0.05)
    await service.bus.flush(timeout=5)


def _foundation_summary(ctx: DemoContext, outcomes: list[Any]) -> dict[str, Any]:
    agi_status = [caller.channel.variables.get("AGISTATUS") if caller.channel is not None else None
                  for caller in ctx.callers]
    reached_ivr = [o.answered is not None and status in ("SUCCESS", "HANGUP")
                   for o, status in zip(outcomes, agi_status)]
    completed = sum(reached_ivr)
    return {
        "calls": len(outcomes),
        "completed": completed,
        "failed": len(outcomes) - completed,
        "caller_hangups": sum(1 for o in outcomes if o.hung_up_by == "caller"),
        "seed": ctx.seed,
        "day": DEMO_DAY.isoformat(),
    }


def format_summary(summary: dict[str, Any], indent: str = "") -> str:
    """Every key, one per line (nested dicts indented): the fallback when the day's figures are missing."""
    width = max((len(k) for k in summary), default=0)
    lines = []
    for key, value in summary.items():
        if isinstance(value, dict):
            lines.append(f"{indent}{key}")
            lines.append(format_summary(value, indent + "  "))
        else:
            lines.append(f"{indent}{key.ljust(width)}  {value}")
    return "\n".join(lines)


def _cell(value: Any, kind: str = "") -> str:
    if value is None:
        return "-"
    if kind == "%":
        return f"{value * 100:.0f}%"
    if kind == "s":
        return f"{value:.0f}s"
    return str(value)


QUEUE_COLUMNS = (("queue", "", 12), ("reached", "", 8), ("answered", "", 9), ("abandoned", "", 10),
                 ("voicemails", "", 11), ("callbacks", "", 10), ("overflows", "", 10),
                 ("service_level", "%", 14), ("asa_s", "s", 6), ("aht_s", "s", 6))


def format_table(summary: dict[str, Any]) -> str:
    """The short human summary of `hotline demo` (without --json)."""
    if "queues" not in summary or "ivr" not in summary:
        return format_summary(summary)
    ivr = summary["ivr"]
    lines = [
        f"calls {summary['calls']}: completed {summary['completed']}, failed {summary['failed']}",
        f"IVR: reached a queue {ivr['reached_queue']}, self-service {ivr['self_service']}, "
        f"hung up in the menus {ivr['ivr_hangup']}, silent {ivr['silent_hangup']}, blocked {ivr['blocked']}"
        + (f", unexplained {ivr['other']}" if ivr.get("other") else ""),
        "",
        "  ".join(name.replace("_s", "").replace("service_level", "service lvl").rjust(width) if i else
                  name.ljust(width) for i, (name, _, width) in enumerate(QUEUE_COLUMNS)),
    ]

    def row(name: str, figures: dict[str, Any]) -> str:
        cells = [name.ljust(QUEUE_COLUMNS[0][2])]
        for key, kind, width in QUEUE_COLUMNS[1:]:
            value = figures.get("reached_queue" if key == "reached" else key)
            cells.append(_cell(value, kind).rjust(width))
        return "  ".join(cells)

    for name, figures in summary["queues"].items():
        lines.append(row(name, figures))
    lines.append(row("all queues", summary))
    lines += [
        "",
        f"recordings {summary.get('recordings', '-')} of {summary.get('answered', '-')} answered calls; "
        f"voicemail messages {summary.get('voicemail_messages', '-')}; callback requests "
        f"{summary.get('callback_requests', '-')} (called back {summary.get('callbacks_connected', '-')}); "
        f"surveys {summary.get('surveys', '-')} (average {_cell(summary.get('survey_avg'))})",
    ]
    return "\n".join(lines)


def ensure_prompts(settings: Settings, progress: bool) -> None:
    """Build the prompt sounds the flows play (only missing or changed ones) into the configured sounds_dir."""
    if not settings.paths.prompts_catalogue.is_file():
        return
    catalogue = PromptCatalogue.load(settings.paths.prompts_catalogue)
    try:
        report = build_prompts(catalogue, settings.paths.sounds_dir, settings.paths.studio_dir, progress=progress)
    except PromptError as exc:
        log.warning("prompts not built (%s): callers will hear nothing where a prompt is missing", exc)
        return
    for key, reason in report.failed:
        log.warning("prompt %s not built: %s", key, reason)


def demo_loop() -> asyncio.AbstractEventLoop:
    """pbxsim's VirtualClockLoop started at 0. Its clock stands still while work handed to other threads (an
    aiosqlite query, a recording's post-processing) is outstanding, so the machine's speed never shows in talk
    and wait times or in the order of events, and the same seed gives the same day."""
    from pbxsim.clock import new_virtual_loop

    # start=0: at epoch-sized clock values asyncio's 1 ns clock resolution vanishes in float rounding and
    # a timer due "now" is never run (the loop spins); uniqueids get their epoch from the simulator instead.
    return new_virtual_loop(0.0)


def run_day(settings: Settings, *, calls: int, seed: int, data_dir: Path) -> dict[str, Any]:
    """run_demo on a fresh demo_loop (what `hotline demo` does; tests use it to get the same day twice)."""
    with asyncio.Runner(loop_factory=demo_loop) as runner:
        return runner.run(run_demo(settings, calls=calls, seed=seed, data_dir=data_dir))


def run_demo_cli(args: argparse.Namespace) -> int:
    from hotline.configcheck import checked_settings

    settings = checked_settings(getattr(args, "config_dir", None))
    ensure_prompts(settings, progress=not args.json)
    if args.data_dir is not None:
        data_dir = args.data_dir.resolve()
        if (data_dir / "hotline.db").exists():
            # the figures are read from the stores: yesterday's rows would count again
            print(f"hotline demo: {data_dir} already holds a demo day (hotline.db); "
                  f"give an empty or new --data-dir", file=sys.stderr)
            return 2
    else:
        # kept after the run (the summary says where and how to search it); the OS's /tmp clean-up removes it
        data_dir = Path(tempfile.mkdtemp(prefix="hotline-demo-"))
    summary = run_day(settings, calls=args.calls, seed=args.seed, data_dir=data_dir)
    where = where_the_day_is(settings, data_dir, getattr(args, "config_dir", None))
    if args.json:
        print(where, file=sys.stderr)        # stdout's last line stays the one JSON object
        print(json.dumps(summary, ensure_ascii=False, sort_keys=True))
    else:
        print(f"hotline demo: {args.calls} calls, seed {args.seed}, {DEMO_DAY.isoformat()} from "
              f"{DAY_OPENS.strftime('%H:%M')} ({settings.service.time_zone})")
        print(format_table(summary))
        print()
        print(where)
    return 0


def where_the_day_is(settings: Settings, data_dir: Path, config_dir: Path | None) -> str:
    """Where the day's data is and the exact commands that search it and replay a call from it."""
    day = demo_settings(settings, data_dir)
    env = {"HOTLINE_SERVICE_DATA_DIR": str(data_dir), "HOTLINE_DATABASE_URL": day.database.url,
           "HOTLINE_PATHS_RECORDINGS_DIR": str(day.paths.recordings_dir)}
    program = sys.argv[0] if Path(sys.argv[0]).name == "hotline" else "hotline"
    prefix = " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
    config = f" --config {shlex.quote(str(config_dir))}" if config_dir is not None else ""
    command = f"{prefix} {shlex.quote(program)}{config} recordings"
    return "\n".join([
        f"this day's data: {data_dir} (database hotline.db, recordings/, voicemail in recordings/voicemail; "
        f"the prompt sounds stay in {settings.paths.sounds_dir})",
        f"search it:   {command} search     (narrow with --agent 1001, --queue presales, --caller …)",
        f"replay a call: {command} export ID -o call.wav     (ID: first column of the search)",
    ])
