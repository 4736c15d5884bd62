"""`hotline demo`: the simulator, the service, SQLite and an embedded broker in one process on a virtual clock.

The service side is the production `Service`: it reaches the simulator only over TCP (AMI client to the
simulator's AMI port, the simulator's AGI() calls to the service's FastAGI port). Only this harness - the
callers - uses pbxsim's participant API. Every random choice comes from one `random.Random(seed)`, the
simulator's ids come from the same seed and a fixed epoch, and time is virtual, so the same seed prints
the same summary.

Domain packages extend the demo with an optional `<pkg>/demo.py` (pkg in ivr, cti, acd, recordings):
- `async def prepare(ctx)`                 before the first call (log agents in, set softphone behaviour …)
- `def caller_script(ctx, index)`          a pbxsim CallerScript for call `index` (first package that has it
                                           wins; without one the foundation's greeting callers are used)
- `def summarize(ctx) -> dict` (or async)  figures merged into the summary (answered, asa_s, …)
`ctx` is a DemoContext: ctx.sim, ctx.service (ctx.service.deps), ctx.settings, ctx.rng, ctx.callers, ctx.seed.
"""
from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import logging
import random
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.config import Settings, load_settings
from hotline.service import Service, optional_module

log = logging.getLogger(__name__)

DEMO_EPOCH = 1_767_225_600          # 2026-01-01 00:00 UTC: uniqueids do not depend on the wall clock
HOTLINE_NUMBER = "4008001234"       # the DNID callers dial
MEAN_INTERARRIVAL_S = 20.0
DOMAIN_DEMOS = ("ivr", "cti", "acd", "recordings")


@dataclass
class DemoContext:
    sim: Any                          # pbxsim.simulator.Simulator
    service: Service
    settings: Settings
    rng: random.Random
    seed: int
    calls: int
    callers: list[Any] = field(default_factory=list)     # pbxsim.participants.Caller, in placing order


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


def greeting_caller(ctx: DemoContext, index: int):
    """Foundation callers: most listen to the greeting until the IVR hangs up; some hang up early."""
    from pbxsim.participants import CallerScript

    rng = ctx.rng
    number = "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))
    behaviour = rng.choices(["listen", "press", "hang-up-early"], weights=[6, 2, 2])[0]
    if behaviour == "listen":
        steps: list[Any] = []
    elif behaviour == "press":
        steps = [f"wait {rng.randint(1, 3)}", f"press {rng.choice('0123456789*#')}"]
    else:
        steps = [f"wait {round(rng.uniform(0.5, 2.0), 1)}", "hangup"]
    return CallerScript(number, dnid=HOTLINE_NUMBER, steps=steps)


async def _maybe_await(value):
    return await value if inspect.isawaitable(value) else value


async def run_demo(settings: Settings, *, calls: int, seed: int, data_dir: Path) -> dict[str, Any]:
    """Place `calls` scripted calls and return the summary. Must run on pbxsim's VirtualClockLoop."""
    from sqlalchemy.pool import NullPool

    from pbxsim.simulator import Simulator

    settings = demo_settings(settings, data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    settings.paths.recordings_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    demos = [m for m in (optional_module(f"{pkg}.demo") for pkg in DOMAIN_DEMOS) if m is not None]

    async with Simulator(conf_dir=settings.paths.asterisk_conf_dir, sounds_dirs=[settings.paths.sounds_dir],
                         monitor_dir=settings.paths.recordings_dir, agents_file=settings.config_dir / "agents.yaml",
                         ami_port=0, host="127.0.0.1", seed=seed, epoch=DEMO_EPOCH) as sim:
        settings = settings.replace(ami={"host": "127.0.0.1", "port": sim.ami_port})
        # NullPool: an idle pooled aiosqlite connection keeps a worker thread that the virtual clock would
        # count as busy, and the demo would then run in real time. MQTT keep-alive pings are off because
        # virtual time jumps would make the broker think the client went silent.
        async with Service(settings, bus_keepalive=0, engine_options={"poolclass": NullPool}) as service:
            sim.pbx.agi_override = ("127.0.0.1", service.fastagi_port)
            if not await service.ami.wait_connected(timeout=30):
                raise RuntimeError(f"the service did not log in to the simulator's AMI on port {sim.ami_port}")
            ctx = DemoContext(sim=sim, service=service, settings=settings, rng=rng, seed=seed, calls=calls)
            for module in demos:
                if hasattr(module, "prepare"):
                    await module.prepare(ctx)
            script_for = next((m.caller_script for m in demos if hasattr(m, "caller_script")), greeting_caller)

            loop = asyncio.get_running_loop()
            start = loop.time()
            arrivals = []
            t = 0.0
            for _ in range(calls):
                t += rng.expovariate(1.0 / MEAN_INTERARRIVAL_S)
                arrivals.append(t)
            for index, at in enumerate(arrivals):
                await asyncio.sleep(max(0.0, start + at - loop.time()))
                ctx.callers.append(await sim.place_call(script_for(ctx, index)))
            outcomes = [await caller.wait() for caller in ctx.callers]
            await _settle(service)

            summary = _foundation_summary(ctx, outcomes)
            for module in demos:
                if hasattr(module, "summarize"):
                    summary.update(await _maybe_await(module.summarize(ctx)))
    return summary


async def _settle(service: Service) -> None:
    """Let the last FastAGI sessions finish their bookkeeping before the service stops."""
    for _ in range(200):
        if not getattr(service.agi, "active_sessions", 0):
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
    }


def format_summary(summary: dict[str, Any], indent: str = "") -> str:
    width = max((len(k) for k in summary), default=0)
    lines = []
    for key, value in summary.items():
        if isinstance(value, dict):
            lines.append(f"{indent}{key}")
            lines.append(format_summary(value, indent + "  "))
        else:
            lines.append(f"{indent}{key.ljust(width)}  {value}")
    return "\n".join(lines)


def ensure_prompts(settings: Settings, progress: bool) -> None:
    """Build the prompt sounds the flows play (only missing or changed ones) into the configured sounds_dir."""
    build = optional_module("ivr.prompts.build")
    catalogue_mod = optional_module("ivr.prompts.catalogue")
    if build is None or catalogue_mod is None or not settings.paths.prompts_catalogue.is_file():
        return
    catalogue = catalogue_mod.PromptCatalogue.load(settings.paths.prompts_catalogue)
    try:
        report = build.build_prompts(catalogue, settings.paths.sounds_dir, settings.paths.studio_dir,
                                     progress=progress)
    except build.PromptError as exc:
        log.warning("prompts not built (%s): callers will hear nothing where a prompt is missing", exc)
        return
    for key, reason in report.failed:
        log.warning("prompt %s not built: %s", key, reason)


def run_demo_cli(args: argparse.Namespace) -> int:
    from pbxsim.clock import run_virtual

    settings = load_settings(getattr(args, "config_dir", None))
    ensure_prompts(settings, progress=not args.json)
    temp_dir = None
    if args.data_dir is not None:
        data_dir = args.data_dir.resolve()
    else:
        temp_dir = tempfile.mkdtemp(prefix="hotline-demo-")
        data_dir = Path(temp_dir)
    try:
        # start=0: at epoch-sized clock values asyncio's 1 ns clock resolution vanishes in float rounding and
        # a timer due "now" is never run (the loop spins); uniqueids get their epoch from the simulator instead.
        summary = run_virtual(run_demo(settings, calls=args.calls, seed=args.seed, data_dir=data_dir), start=0.0)
    finally:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, sort_keys=True))
    else:
        print(f"hotline demo: {args.calls} calls, seed {args.seed}")
        print(format_summary(summary))
    return 0
