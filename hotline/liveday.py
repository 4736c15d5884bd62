"""Watch a simulated day live: the simulator, the service (HTTP on) and scripted callers in real time.

    .venv/bin/python -m web.liveday --http-port 8080 [--speed 1] [--calls-per-hour 120] [--seed 1]

then open http://127.0.0.1:8080/wallboard (班长 9001 / PIN 9001) and http://127.0.0.1:8080/agent. Every agent
of config/agents.yaml (role agent) is scripted: logged in and ready, its softphone answers after a few
seconds and hangs up when the conversation is over. Log in on /agent as one of them (e.g. 1001 / 1234) and
the script lets go of that agent: its softphone still picks up when it rings (the human's headset), but
the conversation lasts until the page hangs up, and the state is whatever the page asks for.
``--speed N`` plays the day N times faster (arrivals, talk times and breaks; the service's own timers, such
as wrap-up, keep their configured length). The IVR's business-hours clock is pinned to 10:00 local time so the
hotline is open whatever the hour. Ctrl-C stops it.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import random
import signal
import tempfile
import wave
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hotline.config import Settings, load_settings
from hotline.service import Clocks, Service
from ivr.prompts.catalogue import PromptCatalogue
from ivr.say import SAY_PROMPTS
from pbxsim.participants import CallerScript
from pbxsim.simulator import Simulator

log = logging.getLogger(__name__)
HOTLINE_NUMBER = "4008001234"
MENU_KEYS = {"1": 4, "2": 3, "3": 1, "0": 1}             # main menu: presales, after-sales, complaints, agent


@dataclass
class LiveCenter:
    sim: Simulator
    service: Service
    settings: Settings
    taken_over: set[str] = field(default_factory=set)      # agents a human drives from /agent

    @property
    def http_url(self) -> str:
        return self.service.http_url or ""


def silent_prompts(sounds_dir: Path, catalogue: Path, seconds: float) -> Path:
    """A silent WAV per prompt and language where none exists (the simulator plays prompts by their length)."""
    ids = list(PromptCatalogue.load(catalogue).ids())
    for lang in ("zh-CN", "en"):
        for pid in [*ids, *SAY_PROMPTS]:
            path = sounds_dir / "hotline" / lang / f"{pid}.wav"
            if path.exists():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            with wave.open(str(path), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes(b"\0\0" * int(8000 * (seconds if pid not in SAY_PROMPTS else min(seconds, 0.3))))
    return sounds_dir


def business_clock(settings: Settings, hhmm: str = "10:00") -> Callable[[], dt.datetime]:
    """The IVR's clock: today's date (of the service's time zone) at a business hour, advancing in real time."""
    zone = ZoneInfo(settings.service.time_zone)
    now = dt.datetime.now(zone)
    hours, minutes = (int(p) for p in hhmm.split(":"))
    anchor = now.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    if anchor.weekday() >= 5:          # a weekday: the calendar's weekend hours are shorter
        anchor -= dt.timedelta(days=anchor.weekday() - 4)
    offset = anchor - now
    return lambda: (dt.datetime.now(zone) + offset).astimezone(dt.timezone.utc)


@contextlib.asynccontextmanager
async def live_center(settings: Settings, *, data_dir: Path, sounds_dir: Path, http_port: int = 0,
                      prompt_seconds: float = 1.0, phone_defaults: dict[str, Any] | None = None,
                      seed: int = 0) -> AsyncIterator[LiveCenter]:
    """The simulator and the production Service, joined over TCP as in `hotline demo`, in real time, HTTP on."""
    data_dir.mkdir(parents=True, exist_ok=True)
    silent_prompts(sounds_dir, settings.paths.prompts_catalogue, prompt_seconds)
    settings = settings.replace(
        service={"data_dir": data_dir}, database={"url": f"sqlite+aiosqlite:///{data_dir / 'hotline.db'}"},
        mqtt={"url": "embedded"}, fastagi={"host": "127.0.0.1", "port": 0},
        http={"host": "127.0.0.1", "port": http_port}, paths={"recordings_dir": data_dir / "recordings",
                                                              "sounds_dir": sounds_dir})
    settings.paths.recordings_dir.mkdir(parents=True, exist_ok=True)
    async with Simulator(conf_dir=settings.paths.asterisk_conf_dir, sounds_dirs=[sounds_dir],
                         monitor_dir=settings.paths.recordings_dir, agents_file=settings.config_dir / "agents.yaml",
                         ami_port=0, host="127.0.0.1", seed=seed, phone_defaults=phone_defaults) as sim:
        settings = settings.replace(ami={"host": "127.0.0.1", "port": sim.ami_port})
        async with Service(settings, clocks=Clocks(utc=business_clock(settings))) as service:
            assert sim.pbx is not None and service.ami is not None
            sim.pbx.agi_override = ("127.0.0.1", service.fastagi_port)
            if not await service.ami.wait_connected(timeout=30):
                raise RuntimeError(f"the service did not log in to the simulator's AMI on port {sim.ami_port}")
            try:
                yield LiveCenter(sim, service, settings)
            finally:
                await _hang_up_everyone(sim, service)


async def _hang_up_everyone(sim: Simulator, service: Service) -> None:
    """Before the service stops: end the calls still running and let their FastAGI sessions finish."""
    for channel in list(sim.pbx.channels() if sim.pbx is not None else ()):
        if not channel.destroyed:
            channel.hangup()
    for _ in range(100):
        if not getattr(service.agi, "active_sessions", 0):
            break
        await asyncio.sleep(0.05)


# ------------------------------------------------------------------------------------------------ the day
class ScriptedDay:
    """Scripted agents and callers on a LiveCenter; a human logging in on /agent takes an agent over."""

    def __init__(self, center: LiveCenter, *, speed: float = 1.0, calls_per_hour: float = 120, seed: int = 1):
        self.center = center
        self.speed = max(0.1, speed)
        self.calls_per_hour = calls_per_hour
        self.rng = random.Random(seed)
        self.cti = center.service.cti
        self.web = center.service.web

    def human_at(self, agent_id: str) -> bool:
        """An agent's own desktop is open (its live feed is connected): a human drives that agent."""
        hub = self.web.hub if self.web is not None else None
        return bool(hub and any(c.agent_id == agent_id for c in hub.clients))

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tasks:
            for agent in self.cti.agents.agents.values():
                if agent.role == "agent":
                    tasks.create_task(self._agent(agent.id), name=f"agent-{agent.id}")
            tasks.create_task(self._callers(), name="callers")

    async def _agent(self, agent_id: str) -> None:
        phone = next((p for key, p in self.center.sim.phones.items() if key.endswith(agent_id)), None)
        principal = self.cti.auth._principals[agent_id]
        answer_s = round(self.rng.uniform(1.5, 4.0), 1)
        while True:
            if self.human_at(agent_id):
                if agent_id not in self.center.taken_over:
                    log.info("agent %s is taken over from the browser", agent_id)
                    self.center.taken_over.add(agent_id)
                if phone is not None:
                    phone.set_behaviour(mode="answer", answer_after_s=1.0, talk_time_s=None)
            else:
                self.center.taken_over.discard(agent_id)
                if phone is not None:
                    phone.set_behaviour(mode="answer", answer_after_s=answer_s / self.speed,
                                        talk_time_s=round(self.rng.uniform(30, 150) / self.speed, 1))
                state = self.cti.agents.get(agent_id).state.value
                with contextlib.suppress(Exception):
                    if state == "logged-out":
                        await self.cti.dispatch(principal, agent_id, "login", {"ready": True})
                    elif state == "not-ready":
                        await self.cti.dispatch(principal, agent_id, "ready", {})
            await asyncio.sleep(1.0)

    async def _callers(self) -> None:
        index = 0
        while True:
            await asyncio.sleep(self.rng.expovariate(self.calls_per_hour * self.speed / 3600.0))
            index += 1
            number = "1" + self.rng.choice("3578") + "".join(self.rng.choice("0123456789") for _ in range(9))
            key = self.rng.choices(list(MENU_KEYS), weights=list(MENU_KEYS.values()))[0]
            steps = ["wait 1.5", "press 1", "wait 3", f"press {key}"]
            if key == "2":
                steps += ["wait 2", "press 1"]
            await self.center.sim.place_call(CallerScript(
                number, dnid=HOTLINE_NUMBER, steps=steps, patience_s=round(self.rng.uniform(60, 240) / self.speed, 1),
                talk_time_s=round(self.rng.uniform(40, 200) / self.speed, 1)))
            log.info("caller %d (%s) dials the hotline, menu key %s", index, number, key)


async def run_live_day(args: argparse.Namespace) -> int:
    """`hotline live-day`: until Ctrl-C."""
    settings = load_settings(args.config_dir)
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="hotline-liveday-"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with live_center(settings, data_dir=data_dir, sounds_dir=data_dir / "sounds", http_port=args.http_port,
                           seed=args.seed) as center:
        print(f"hotline live day: wallboard {center.http_url}/wallboard (9001 / 9001), "
              f"agent desktop {center.http_url}/agent (e.g. 1001 / 1234); data in {data_dir}; Ctrl-C stops",
              flush=True)
        day = asyncio.create_task(ScriptedDay(center, speed=args.speed, calls_per_hour=args.calls_per_hour,
                                              seed=args.seed).run())
        await stop.wait()
        day.cancel()
        await asyncio.gather(day, return_exceptions=True)
    return 0
