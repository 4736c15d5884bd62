"""The ACD's two routing decisions, hotline's engine next to a linear scan over the same state.

    .venv/bin/python bench/acd/routing_bench.py          # 5,000 agents × 100 skills × 10,000 waiting calls
    .venv/bin/python bench/acd/routing_bench.py --quick  # a few seconds (500 agents × 20 skills × 1,000 waiting)
    .venv/bin/python bench/acd/routing_bench.py --strategies longest-idle --decisions 500

For each strategy (skill-based, longest-idle, round-robin) and each decision:

  agent→call  an agent becomes ready (not-ready → ready, or the end of its wrap-up) while 10,000 callers
              wait: which caller rings its phone?
  call→agent  a caller arrives while agents are ready (10,000 other callers wait in queues nobody ready
              serves): which agent rings?

Rules in force: each agent has 5 of the 100 queue skills (proficiency 1–10), 30 % also a language skill that
a quarter of the callers need; priorities (key accounts, VIP levels 1–3); callback entries (10 % of the
waiting callers keep their place without a caller on the line); wrap-up (30 s, ended by the agent
directory as with CTI); ring-no-answer (10 % of offers are not answered: the caller goes back to its place
and avoids that agent, the agent is paused after 3 misses in a row); a max wait timer on every caller.

Method: two engines are built from the same seed and fed the same events. Pass 1 times the linear scan
(``acd.linear_scan``: a walk over every agent / every waiting call under the same rules — the reference the
randomized test checks the engine against) on the state just before each decision, then lets the engine
decide untimed; pass 2 times the engine's event (``agent_ready`` / ``wrapup_ended`` / ``enqueue``, queue
log entries built for a sink), after one caller of every kind went through every queue (a strategy builds
its pool for a skill on first use). Both passes must pick the same agent / call every time, so the figures are
for the same decisions on the same states. Latency: wall clock (p50, p99) and the thread's CPU time (cpu:
leaves out the time the process waited for a core, so it holds on a busy machine). The ratio is linear scan
÷ hotline of the median decision time (of the means too: a few descheduled decisions move a mean a lot on
a busy machine). On a busy machine the tail is the decisions that ran just after the thread was switched out
(cold caches): "undisturbed" is the cpu p99 of the decisions with no context switch of the thread during them
or since the previous decision. Not a test: it prints figures.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import statistics
import sys
import time
from collections import deque
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from acd import actions as act  # noqa: E402
from acd import linear_scan  # noqa: E402
from acd.config import AgentProfile, queue_settings  # noqa: E402
from acd.engine import Engine  # noqa: E402
from acd.state import AgentState, CallRequest  # noqa: E402

STRATEGIES = ("skill-based", "longest-idle", "round-robin")
LANGUAGES = [f"lang{k}" for k in range(10)]
NO_ANSWER = 0.10
UNCHECKED = object()                  # the engine pass has no scan result to compare with
START = 1_700_000_000.0
P99_TARGET_US, RATIO_TARGET = 50.0, 40.0


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (f"machine: nproc {os.cpu_count()}, {model}, Python {platform.python_version()} "
            f"({platform.python_implementation()}), load average {load}")


def noise() -> str:
    """The machine's own tail: a fixed piece of Python (a few µs), timed like a decision, between other work."""
    table = {i: i for i in range(200)}
    wall, cpu = [], []
    for _ in range(4000):
        c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
        total = 0
        for i in range(200):
            total += table[i]
        w1, c1 = time.perf_counter_ns(), time.thread_time_ns()
        wall.append(w1 - w0)
        cpu.append(c1 - c0)
        [0] * 2000
    return (f"machine noise: a fixed piece of Python takes p50 {pct(wall, 0.5):.1f} µs, p99 {pct(wall, 0.99):.1f} µs "
            f"(cpu p99 {pct(cpu, 0.99):.1f} µs)")


# ---------------------------------------------------------------- the state
def build(args, strategy: str) -> Engine:
    """Agents split in two halves by skills (queues 0..n/2-1 and n/2..n-1), so call→agent can have callers
    waiting in one half while agents are ready in the other."""
    rng = random.Random(args.seed)
    half = args.skills // 2
    skills = [f"skill{k:03d}" for k in range(args.skills)]
    agents = []
    for i in range(args.agents):
        own = skills[:half] if i % 2 == 0 else skills[half:]
        profile_skills = {s: rng.randint(1, 10) for s in rng.sample(own, args.skills_per_agent)}
        if rng.random() < 0.3:
            profile_skills[rng.choice(LANGUAGES)] = rng.randint(1, 10)
        agents.append(AgentProfile(id=f"{10000 + i}", endpoint=f"PJSIP/{10000 + i}", skills=profile_skills,
                                   senior=rng.random() < 0.1))
    queues = [queue_settings({"name": s.replace("skill", "q"), "skills": {s: 1}, "strategy": strategy,
                              "max_wait": 3600, "wrapup_time": 30, "max_no_answer": 3, "ring_timeout": 15})
              for s in skills]
    eng = Engine(queues, agents, rng=random.Random(args.seed), own_wrapup_timer=False)
    eng.log.append(deque(maxlen=1000).append)          # the queue log is written, as in the service
    return eng


class Caller:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.n = 0

    def request(self, queues: list[str]) -> CallRequest:
        rng = self.rng
        self.n += 1
        roll = rng.random()
        return CallRequest(call_id=f"c{self.n}", queue=rng.choice(queues), caller=f"139{rng.randint(0, 99999999):08d}",
                           skill=rng.choice(LANGUAGES) if rng.random() < 0.25 else None,
                           key_account=0.85 <= roll < 0.95, vip_level=rng.randint(1, 3) if roll >= 0.95 else 0)


def offers(eng: Engine) -> list[act.Offer]:
    out = [a for a in eng.actions if isinstance(a, act.Offer)]
    eng.actions.clear()
    return out


def settle(eng: Engine, rng: random.Random, now: float, pending: list[act.Offer], end_wrapup: bool) -> None:
    """Every offer rings: most are answered and the call ends (the agent wraps up), some are not answered."""
    while pending:
        for o in pending:
            if rng.random() < NO_ANSWER:
                eng.offer_failed(now, o.call_id, o.agent_id, "noanswer", o.offer_id)
            else:
                eng.offer_answered(now, o.call_id, o.agent_id, o.offer_id)
                eng.call_ended(now, o.call_id)
                if end_wrapup:
                    eng.wrapup_ended(now, o.agent_id)
        pending = offers(eng)


def fill(eng: Engine, rng: random.Random, caller: Caller, now: float, queues: list[str], target: int) -> None:
    """Callers arrive until ``target`` wait; a tenth turn into callback entries."""
    waiting = sum(len(w) for w in eng.waiting.values())
    while waiting < target:
        call = eng.enqueue(now, caller.request(queues))
        waiting += 1
        if rng.random() < 0.1:
            eng.request_callback(now, call.id)
    assert not offers(eng), "a caller was offered during fill: agents are ready for the waiting queues"


def missed_history(eng: Engine, rng: random.Random, now: float, agent_ids: list[str]) -> None:
    """Some agents ring and do not answer until they are paused: callers remember whom they missed."""
    for aid in agent_ids:
        eng.agent_ready(now, aid)
        pending = offers(eng)
        while pending:
            for o in pending:
                eng.offer_failed(now, o.call_id, o.agent_id, "noanswer", o.offer_id)
            pending = offers(eng)


# ---------------------------------------------------------------- the passes
Measure = Callable[[Callable[[], object], Callable[[], None]], object]


def agent_to_call(args, strategy: str, measure: Measure) -> list:
    eng = build(args, strategy)
    rng = random.Random(args.seed + 1)
    caller = Caller(rng)
    queues = list(eng.queues)
    now = START
    ids = list(eng.agents)
    for aid in ids:
        eng.agent_not_ready(now, aid, "break")
    fill(eng, rng, caller, now, queues, args.waiting)
    missed_history(eng, rng, now, rng.sample(ids, len(ids) // 16))
    fill(eng, rng, caller, now, queues, args.waiting)
    picks = []
    for _ in range(args.decisions):
        now += 1.0
        agent = eng.agents[rng.choice(ids)]
        while agent.state not in (AgentState.NOT_READY, AgentState.WRAPUP):
            agent = eng.agents[rng.choice(ids)]
        event = eng.wrapup_ended if agent.state is AgentState.WRAPUP else eng.agent_ready
        expected = measure(lambda: linear_scan.best_call(eng, agent), lambda: event(now, agent.id))
        pending = offers(eng)
        got = next((o.call_id for o in pending if o.agent_id == agent.id), None)
        assert expected is UNCHECKED or got == expected, f"engine offered {got}, the rules say {expected}"
        picks.append(got)
        settle(eng, rng, now, pending, end_wrapup=False)
        fill(eng, rng, caller, now, queues, args.waiting)
    return picks


def call_to_agent(args, strategy: str, measure: Measure) -> list:
    eng = build(args, strategy)
    rng = random.Random(args.seed + 2)
    caller = Caller(rng)
    queues = list(eng.queues)
    open_queues, busy_queues = queues[: len(queues) // 2], queues[len(queues) // 2:]
    now = START
    ids = list(eng.agents)
    for aid in ids:
        eng.agent_not_ready(now, aid, "break")
    fill(eng, rng, caller, now, busy_queues, args.waiting)
    missed_history(eng, rng, now, rng.sample(ids[1::2], len(ids) // 32))
    fill(eng, rng, caller, now, busy_queues, args.waiting)
    open_agents = ids[0::2]
    rng.shuffle(open_agents)
    for aid in open_agents[: len(open_agents) * 4 // 5]:
        now += 0.01
        eng.agent_ready(now, aid)
    assert not offers(eng)
    # steady state: a caller of every kind through every open queue first (a strategy builds its pool for a
    # skill when the first caller needs it)
    for qname in open_queues:
        for skill in (None, *LANGUAGES):
            now += 0.01
            eng.enqueue(now, CallRequest(call_id=f"warm-{qname}-{skill}", queue=qname, skill=skill))
            settle(eng, rng, now, offers(eng), end_wrapup=True)
    picks = []
    for _ in range(args.decisions):
        now += 1.0
        request = caller.request(open_queues)
        expected = measure(lambda: linear_scan.best_agent(eng, request.queue, request),
                           lambda: eng.enqueue(now, request))
        pending = offers(eng)
        got = next((o.agent_id for o in pending if o.call_id == request.call_id), None)
        assert expected is UNCHECKED or got == expected, f"engine offered {got}, the rules say {expected}"
        picks.append(got)
        settle(eng, rng, now, pending, end_wrapup=True)
    return picks


def switches() -> int:
    """Context switches of this thread so far (0 where the platform does not say)."""
    try:
        usage = resource.getrusage(resource.RUSAGE_THREAD)
    except (AttributeError, OSError):
        return 0
    return usage.ru_nvcsw + usage.ru_nivcsw


def run_pair(args, strategy: str, drive) -> tuple[dict, dict]:
    scan_wall, scan_cpu, eng_wall, eng_cpu, calm_cpu = [], [], [], [], []
    wall, cpu = time.perf_counter_ns, time.thread_time_ns
    last = [switches()]

    def time_scan(scan, event):
        c0, w0 = cpu(), wall()
        expected = scan()
        w1, c1 = wall(), cpu()
        scan_wall.append(w1 - w0)
        scan_cpu.append(c1 - c0)
        event()
        return expected

    def time_engine(scan, event):
        c0, w0 = cpu(), wall()
        event()
        w1, c1 = wall(), cpu()
        after = switches()
        eng_wall.append(w1 - w0)
        eng_cpu.append(c1 - c0)
        if after == last[0]:
            calm_cpu.append(c1 - c0)
        last[0] = after
        return UNCHECKED

    by_scan = drive(args, strategy, time_scan)
    by_engine = drive(args, strategy, time_engine)
    assert by_scan == by_engine, "the two passes diverged"
    decided = sum(p is not None for p in by_engine)
    eng = summary(eng_wall, eng_cpu, decided)
    eng["calm_p99_us"], eng["calm_n"] = (pct(calm_cpu, 0.99) if calm_cpu else float("nan")), len(calm_cpu)
    return eng, summary(scan_wall, scan_cpu, decided)


def pct(values: list[int], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * q))] / 1000


def summary(wall_ns: list[int], cpu_ns: list[int], decided: int) -> dict:
    mean = statistics.fmean(wall_ns)
    return {"per_s": 1e9 / mean, "mean_us": mean / 1000, "p50_us": pct(wall_ns, 0.5), "p99_us": pct(wall_ns, 0.99),
            "cpu_mean_us": statistics.fmean(cpu_ns) / 1000, "cpu_p50_us": pct(cpu_ns, 0.5),
            "cpu_p99_us": pct(cpu_ns, 0.99), "n": len(wall_ns), "decided": decided}


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--agents", type=int, default=5000)
    p.add_argument("--skills", type=int, default=100)
    p.add_argument("--skills-per-agent", type=int, default=5)
    p.add_argument("--waiting", type=int, default=10_000)
    p.add_argument("--decisions", type=int, default=2000)
    p.add_argument("--strategies", default=",".join(STRATEGIES))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = p.parse_args(argv)
    if args.quick:
        args.agents, args.skills, args.waiting, args.decisions = 500, 20, 1000, 200
    print(machine())
    print(noise())
    print(f"ACD routing: {args.agents} agents × {args.skills} skills ({args.skills_per_agent} per agent), "
          f"{args.waiting} waiting calls, {args.decisions} decisions per row; hotline = the engine's event, "
          f"linear scan = acd.linear_scan over the same state")
    rows = []
    for strategy in args.strategies.split(","):
        for title, drive in (("agent→call", agent_to_call), ("call→agent", call_to_agent)):
            t0 = time.monotonic()
            eng, scan = run_pair(args, strategy, drive)
            rows.append({"strategy": strategy, "decision": title, "hotline": eng, "scan": scan,
                         "ratio_mean": scan["mean_us"] / eng["mean_us"], "ratio_p50": scan["p50_us"] / eng["p50_us"],
                         "ratio_cpu": scan["cpu_mean_us"] / eng["cpu_mean_us"]})
            print(f"\n{strategy} {title} ({eng['decided']}/{eng['n']} decisions offered a call; "
                  f"{time.monotonic() - t0:.0f} s)")
            print(f"  {'':12} {'decisions/s':>12} {'p50 µs':>9} {'p99 µs':>9} {'cpu p50':>9} {'cpu p99':>9}")
            for name, r in (("hotline", eng), ("linear scan", scan)):
                print(f"  {name:12} {r['per_s']:12,.0f} {r['p50_us']:9.1f} {r['p99_us']:9.1f} "
                      f"{r['cpu_p50_us']:9.1f} {r['cpu_p99_us']:9.1f}")
            row = rows[-1]
            print(f"  ratio (linear scan ÷ hotline): p50 {row['ratio_p50']:.1f}×, mean {row['ratio_mean']:.1f}×, "
                  f"cpu mean {row['ratio_cpu']:.1f}×")
            print(f"  hotline undisturbed: cpu p99 {eng['calm_p99_us']:.1f} µs over {eng['calm_n']} of {eng['n']} decisions "
                  f"(the others ran during or just after a context switch)")
    print(f"\nsummary (targets: p99 ≤ {P99_TARGET_US:.0f} µs, ≥ {RATIO_TARGET:.0f}× the linear scan; ratio of the medians)")
    print(f"  {'strategy':13} {'decision':11} {'hotline/s':>10} {'p50 µs':>7} {'p99 µs':>8} {'cpu p99':>8} "
          f"{'undist.':>8} {'scan p50':>9} {'ratio':>7}")
    for row in rows:
        e, s = row["hotline"], row["scan"]
        print(f"  {row['strategy']:13} {row['decision']:11} {e['per_s']:10,.0f} {e['p50_us']:7.1f} {e['p99_us']:8.1f} "
              f"{e['cpu_p99_us']:8.1f} {e['calm_p99_us']:8.1f} {s['p50_us']:9.1f} {row['ratio_p50']:6.1f}×")
    return rows


if __name__ == "__main__":
    main()
