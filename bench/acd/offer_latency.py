"""Offer latency: from "an agent becomes free while a caller waits" to that agent's phone ringing.

    .venv/bin/python bench/acd/offer_latency.py            # 12 agents, 400 callers, ~25 simulated minutes
    .venv/bin/python bench/acd/offer_latency.py --quick    # a few seconds (smoke run)

Callers (pbxsim, virtual clock) enter a FastAGI server over real TCP on loopback and wait in one queue of the
ACD (music on hold, an announcement every 30 s with real prompt lengths, some give up); agents' softphones
answer, talk, hang up and wrap up. The same arrivals run twice in this process:

  poll 1000 ms  the waiting session as it was: WAIT FOR DIGIT 1000, an offer is seen when it returns
  interrupt     hotline now: the offer interrupts the WAIT FOR DIGIT / prompt in flight (AgiChannel.interrupt)

Latency = virtual time from the engine's Offer for a caller already waiting (an agent freed up: wrap-up over,
ring-no-answer, ready) to pbxsim ringing the agent's softphone. Offers made the moment a caller arrives are
not counted (nobody was waiting). AGI commands per waiting caller per minute = every AGI command a caller's
session ran between joining the queue and its first Dial (or leaving), over the minutes spent there.
Not a test: it prints figures.
"""
from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import wave
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace
from typing import Awaitable, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from acd import actions as act  # noqa: E402
from acd.agents import InMemoryAgentDirectory, attach  # noqa: E402
from acd.config import AgentProfile, queue_settings  # noqa: E402
from acd.handoff import AcdHandoff, News  # noqa: E402
from acd.service import AcdService  # noqa: E402
from ivr.agi.server import FastAgiServer  # noqa: E402
from pbxsim.clock import run_virtual  # noqa: E402
from pbxsim.dialplan import Dialplan  # noqa: E402
from pbxsim.participants import Caller, CallerScript, PhoneBehaviour, Softphone  # noqa: E402
from pbxsim.pbx import EndpointConfig, Pbx  # noqa: E402
from pbxsim.sounds import SoundLibrary  # noqa: E402

T = TypeVar("T")
EPOCH = 1_763_900_000
PROMPT_SECONDS = {"please_wait": 2.0, "sorry_to_keep_waiting": 2.0, "queue_position_before": 1.0,
                  "queue_position_after": 1.0, "queue_wait_before": 1.5, "queue_wait_after": 1.0,
                  "queue_options": 3.0, **{f"num-{n}": 0.5 for n in range(100)}}


class TimedPhone(Softphone):
    """A softphone that also notes the wall clock when it starts ringing."""

    def on_incoming(self, chan) -> None:
        super().on_incoming(chan)
        self.calls[-1]["wall"] = time.perf_counter()


class PollingHandoff(AcdHandoff):
    """The waiting session before interrupts: each WAIT FOR DIGIT / prompt runs to its end."""

    async def _interruptible(self, channel, news: News, command: Awaitable[T]) -> T:
        return await command


def write_sounds(root: Path) -> Path:
    folder = root / "hotline" / "zh-CN"
    folder.mkdir(parents=True)
    for pid, seconds in PROMPT_SECONDS.items():
        with wave.open(str(folder / f"{pid}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(b"\0\0" * int(8000 * seconds))
    return root


def scenario(args) -> tuple[list, list]:
    """The same agents and callers for both policies: (phone behaviours, (arrival gap, script) per caller)."""
    rng = random.Random(args.seed)
    phones = [PhoneBehaviour(answer_after_s=rng.uniform(1, 4), talk_time_s=None) for _ in range(args.agents)]
    phones[0] = PhoneBehaviour(mode="no-answer")           # one agent who never picks up (ring-no-answer)
    callers = []
    for i in range(args.callers):
        script = CallerScript(f"1390000{i:04d}", patience_s=rng.choice([None, None, None, rng.uniform(60, 300)]),
                              talk_time_s=rng.uniform(20, 120))
        callers.append((rng.expovariate(args.agents / 70 * 1.05), script))   # a little over capacity
    return phones, callers


def run_policy(args, handoff_class: type[AcdHandoff], poll_ms: int, sounds: Path) -> dict:
    phones, callers = scenario(args)
    agents = [AgentProfile(str(2001 + i), f"PJSIP/{2001 + i}", {"sales": 5}) for i in range(args.agents)]

    async def main() -> dict:
        loop = asyncio.get_running_loop()
        service = AcdService([queue_settings({"name": "sales", "skills": {"sales": 1}, "strategy": "longest-idle",
                                              "ring_timeout": 8, "wrapup_time": 5, "max_wait": 900,
                                              "overflow": "voicemail", "announce_interval": 30,
                                              "max_no_answer": 0})],
                             agents, clock=lambda: EPOCH + loop.time())
        joined: dict[str, float] = {}
        offers: list[tuple[str, str, float, float]] = []   # (call id, endpoint, virtual, wall) for waiting callers
        drain = service._drain

        def recording_drain() -> None:
            now = loop.time()
            for a in service.engine.actions:
                if isinstance(a, act.Offer) and not a.callback and joined.get(a.call_id, now) < now:
                    offers.append((a.call_id, a.endpoint.split("/", 1)[1], now, time.perf_counter()))
            drain()
        service._drain = recording_drain  # type: ignore[method-assign]
        join = service.join

        def recording_join(request):
            joined[request.call_id] = loop.time()
            return join(request)
        service.join = recording_join  # type: ignore[method-assign]
        attach(service, InMemoryAgentDirectory(agents))
        handoff = handoff_class(service, poll_ms=poll_ms)

        async def session(channel):
            await channel.answer()
            call = SimpleNamespace(channel=channel, linkedid=channel.request.uniqueid, caller=channel.request.caller,
                                   lang="zh-CN", customer=None, data={}, waiting=None,
                                   sound=lambda prompt_id: f"hotline/zh-CN/{prompt_id}")
            await handoff.enqueue(call, "sales", None, 0)

        async with FastAgiServer({"acd": session}) as server:
            runner = asyncio.create_task(service.run())
            pbx = Pbx(Dialplan.from_text(
                f"[hotline-inbound]\nexten => s,1,AGI(agi://127.0.0.1:{server.port}/acd)\n same => n,Hangup()\n"),
                epoch=EPOCH, sounds=SoundLibrary([sounds]),
                endpoints=[EndpointConfig("trunk", context="hotline-inbound", kind="trunk"),
                           *[EndpointConfig(a.id, context="agents") for a in agents]])
            commands: dict[str, list[tuple[float, str]]] = defaultdict(list)
            pbx.subscribe(lambda e: commands[e.get("Linkedid") or ""].append((loop.time(), e.get("Command") or ""))
                          if e.name == "AGIExecStart" else None)
            softphones = [TimedPhone(pbx, a.id, b) for a, b in zip(agents, phones)]
            for phone in softphones:
                phone.start()
            people = []
            for gap, script in callers:
                await asyncio.sleep(gap)
                person = Caller(pbx, script)
                person.start()
                people.append(person)
            for person in people:
                await person.wait()
            await asyncio.sleep(1)
            runner.cancel()
            simulated_s = loop.time()
        return {"offers": offers, "joined": joined, "commands": commands, "simulated_s": simulated_s,
                "rings": {p.endpoint: list(p.calls) for p in softphones},
                "answered": service.queue_stats("sales")["answered"]}

    real = time.perf_counter()
    out = run_virtual(main())
    out["real_s"] = time.perf_counter() - real
    return out


def latencies(run: dict) -> tuple[list[float], list[float], int]:
    """Offer → ring in ms for offers to waiting callers, in virtual and in wall-clock time; and how many offers
    never rang (the caller was gone)."""
    rings = {endpoint: sorted((c["offered"], c["linkedid"], c["wall"]) for c in calls)
             for endpoint, calls in run["rings"].items()}
    virtual, wall, lost = [], [], 0
    for call_id, endpoint, at, wall_at in run["offers"]:
        linkedid = call_id.split("#", 1)[0]
        rang = next(((t, w) for t, lid, w in rings.get(endpoint, []) if lid == linkedid and t >= at), None)
        if rang is None:
            lost += 1
        else:
            virtual.append((rang[0] - at) * 1000)
            wall.append((rang[1] - wall_at) * 1000)
    return virtual, wall, lost


def agi_per_waiting_minute(run: dict) -> float:
    """AGI commands while waiting (from joining the queue to the first Dial or the end) per caller-minute."""
    count, seconds = 0, 0.0
    for call_id, joined in run["joined"].items():
        waited = [(t, cmd) for t, cmd in run["commands"].get(call_id.split("#", 1)[0], []) if t >= joined]
        if not waited:
            continue
        end = next((t for t, cmd in waited if cmd.startswith("EXEC Dial")), waited[-1][0])
        count += sum(1 for t, _ in waited if t < end)
        seconds += end - joined
    return count / (seconds / 60) if seconds else 0.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=12)
    parser.add_argument("--callers", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="4 agents, 40 callers: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.agents, args.callers = 4, 40
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    print(f"scenario: {args.agents} agents (one never answers), {args.callers} callers, seed {args.seed}, "
          "announcements every 30 s, wrap-up 5 s, virtual clock, FastAGI over loopback TCP")
    with tempfile.TemporaryDirectory(prefix="offer-latency-") as tmp:
        sounds = write_sounds(Path(tmp))
        policies = [("poll 1000 ms (before)", PollingHandoff, 1000),
                    ("interrupt (hotline now)", AcdHandoff,
                     inspect.signature(AcdHandoff).parameters["poll_ms"].default)]
        rows = []
        for name, cls, poll_ms in policies:
            run = run_policy(args, cls, poll_ms, sounds)
            lat, wall, lost = latencies(run)
            rows.append((name, lat, wall, lost, agi_per_waiting_minute(run), run))
    print(f"\n{'policy':<26}{'offers':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'wall p50':>10}{'wall p99':>10}"
          f"{'AGI/waiting caller/min':>24}{'answered':>10}{'sim min':>9}{'real s':>8}")
    for name, lat, wall, lost, agi, run in rows:
        print(f"{name:<26}{len(lat):>7}{pct(lat, .5):>9.1f}{pct(lat, .99):>9.1f}{max(lat, default=0):>9.1f}"
              f"{pct(wall, .5):>10.2f}{pct(wall, .99):>10.2f}"
              f"{agi:>24.1f}{run['answered']:>10}{run['simulated_s'] / 60:>9.1f}{run['real_s']:>8.1f}")
    (_, before, _, lost_before, agi_before, _), (_, after, wall_after, lost_after, agi_after, _) = rows
    if before and after:
        print(f"\noffer→ring p99 {pct(after, .99):.1f} ms (interrupt) vs {pct(before, .99):.1f} ms (poll), "
              f"p50 {pct(after, .5):.1f} vs {pct(before, .5):.1f} ms; AGI commands per waiting caller per minute "
              f"{agi_after:.1f} vs {agi_before:.1f} ({agi_after / agi_before:.2f}×)")
        print("p50/p99/max: simulated time (pbxsim's loopback round trips take none of it). wall p50/p99: real time "
              "on this machine for the same path through hotline, loopback TCP and pbxsim (for the poll policy it "
              f"leaves out the simulated wait); interrupt wall p99 {pct(wall_after, .99):.2f} ms. On a real "
              "Asterisk add a FastAGI round trip for each of NOOP, SET MUSIC OFF, SET VARIABLE, EXEC Dial.")
    print("offers = offers to callers already waiting that rang the agent "
          f"(not rung, caller gone meanwhile: {lost_before} / {lost_after})")
    print(f"mean offer→ring: {statistics.fmean(after or [0]):.1f} ms (interrupt), "
          f"{statistics.fmean(before or [0]):.1f} ms (poll)")


if __name__ == "__main__":
    main()
