"""Routing decisions per second and decision latency of the ACD engine, next to a linear scan.

    .venv/bin/python bench/acd/routing_bench.py                  # 5,000 agents × 100 skills × 10,000 waiting calls
    .venv/bin/python bench/acd/routing_bench.py --agents 500 --waiting 1000 --decisions 500

Two kinds of decision, each timed inside the real engine and, on the same state just before it, by a
linear-scan baseline that walks every agent / every waiting call (and must pick the same one):

  agent→call  an agent becomes ready while 10,000 callers wait: which caller does it get?
              (engine: the head of each of its queues' sorted waiting lists; baseline: scan all waiting calls)
  call→agent  a caller arrives while half the agents are ready: which agent rings?
              (engine: the front of the queue's skill-sorted ready pool; baseline: scan all agents)
Not a test: it prints figures.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from acd.config import AgentProfile, queue_settings  # noqa: E402
from acd.engine import Engine  # noqa: E402
from acd.state import AgentState, CallRequest  # noqa: E402
from acd import actions as act  # noqa: E402


def build(args, rng: random.Random) -> Engine:
    skills = [f"skill{k:03d}" for k in range(args.skills)]
    agents = [AgentProfile(id=f"{10000 + i}", endpoint=f"PJSIP/{10000 + i}",
                           skills={s: rng.randint(1, 10) for s in rng.sample(skills, args.skills_per_agent)})
              for i in range(args.agents)]
    queues = [queue_settings({"name": s.replace("skill", "q"), "skills": {s: 1}, "strategy": args.strategy,
                              "max_wait": None, "wrapup_time": 0, "max_no_answer": 0}) for s in skills]
    return Engine(queues, agents, rng=random.Random(args.seed))


def take_offer(eng: Engine) -> act.Offer:
    offer = None
    while eng.actions:
        a = eng.actions.popleft()
        if isinstance(a, act.Offer):
            offer = a
    assert offer is not None, "the engine made no decision"
    return offer


def scan_best_call(eng: Engine, agent) -> str | None:
    """Baseline: walk every waiting call, keep the best one this agent may take."""
    best, best_key = None, None
    member_of = set(agent.queues)
    for qname, lst in eng.waiting.items():
        for call in lst._list if hasattr(lst, "_list") else lst:
            if call.queue in member_of:
                key = (-call.priority, call.seq)
                if best_key is None or key < best_key:
                    best, best_key = call.id, key
    return best


def scan_best_agent(eng: Engine, queue: str, skill: str) -> str | None:
    """Baseline: walk every agent, keep the best ready member (skill-based order)."""
    best, best_key = None, None
    order = eng.strategies[queue].order
    for agent in eng.agents.values():
        if agent.state is AgentState.READY and agent.id in order and agent.proficiency(skill) > 0:
            key = (-agent.proficiency(skill), agent.idle_since, order[agent.id])
            if best_key is None or key < best_key:
                best, best_key = agent.id, key
    return best


def summary(name: str, ns: list[int]) -> dict:
    ns_sorted = sorted(ns)
    mean = statistics.fmean(ns)
    return {"name": name, "per_s": 1e9 / mean, "p50_us": ns_sorted[len(ns) // 2] / 1000,
            "p99_us": ns_sorted[min(len(ns) - 1, int(len(ns) * 0.99))] / 1000, "mean_ns": mean}


def agent_to_call(args) -> tuple[dict, dict]:
    rng = random.Random(args.seed)
    eng = build(args, rng)
    now = 1_700_000_000.0
    for agent_id in eng.agents:
        eng.agent_not_ready(now, agent_id, "bench")
    queues = list(eng.queues)
    n = 0
    for _ in range(args.waiting):
        n += 1
        eng.enqueue(now, CallRequest(call_id=f"w{n}", queue=rng.choice(queues), priority=rng.choice([0, 0, 0, 5])))
    eng.actions.clear()
    engine_ns, scan_ns = [], []
    ids = list(eng.agents)
    for _ in range(args.decisions):
        now += 1
        agent = eng.agents[rng.choice(ids)]
        t0 = time.perf_counter_ns()
        expected = scan_best_call(eng, agent)
        scan_ns.append(time.perf_counter_ns() - t0)
        t0 = time.perf_counter_ns()
        eng.agent_ready(now, agent.id)
        engine_ns.append(time.perf_counter_ns() - t0)
        offer = take_offer(eng)
        assert offer.call_id == expected, (offer.call_id, expected)
        # untimed: the call is served and the agent steps away again; a new caller keeps the queue full
        eng.offer_answered(now, offer.call_id, agent.id)
        eng.agent_not_ready(now, agent.id, "bench")
        eng.call_ended(now, offer.call_id)
        n += 1
        eng.enqueue(now, CallRequest(call_id=f"w{n}", queue=rng.choice(queues)))
        eng.actions.clear()
    assert sum(len(w) for w in eng.waiting.values()) == args.waiting
    return summary("engine", engine_ns), summary("linear scan", scan_ns)


def call_to_agent(args) -> tuple[dict, dict]:
    rng = random.Random(args.seed + 1)
    eng = build(args, rng)
    now = 1_700_000_000.0
    ids = list(eng.agents)
    rng.shuffle(ids)
    for agent_id in ids[: len(ids) // 2]:
        now += 0.01
        eng.agent_ready(now, agent_id)
    queues = list(eng.queues)
    engine_ns, scan_ns = [], []
    for i in range(args.decisions):
        now += 1
        qname = rng.choice(queues)
        skill = eng.queues[qname].primary_skill
        t0 = time.perf_counter_ns()
        expected = scan_best_agent(eng, qname, skill)
        scan_ns.append(time.perf_counter_ns() - t0)
        t0 = time.perf_counter_ns()
        eng.enqueue(now, CallRequest(call_id=f"c{i}", queue=qname))
        engine_ns.append(time.perf_counter_ns() - t0)
        offer = take_offer(eng)
        assert offer.agent_id == expected, (offer.agent_id, expected)
        eng.offer_answered(now, offer.call_id, offer.agent_id)      # untimed: served, ready again
        eng.call_ended(now, offer.call_id)
        eng.actions.clear()
    return summary("engine", engine_ns), summary("linear scan", scan_ns)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--agents", type=int, default=5000)
    p.add_argument("--skills", type=int, default=100)
    p.add_argument("--skills-per-agent", type=int, default=5)
    p.add_argument("--waiting", type=int, default=10_000)
    p.add_argument("--decisions", type=int, default=2000)
    p.add_argument("--strategy", default="skill-based")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    print(f"ACD routing: {args.agents} agents × {args.skills} skills ({args.skills_per_agent} per agent), "
          f"{args.waiting} waiting calls, strategy {args.strategy}, {args.decisions} decisions each")
    for title, run in (("agent→call (agent becomes ready, callers waiting)", agent_to_call),
                       ("call→agent (caller arrives, agents ready)", call_to_agent)):
        eng, scan = run(args)
        print(f"\n{title}")
        print(f"  {'':12} {'decisions/s':>12} {'p50 µs':>9} {'p99 µs':>9}")
        for row in (eng, scan):
            print(f"  {row['name']:12} {row['per_s']:12,.0f} {row['p50_us']:9.1f} {row['p99_us']:9.1f}")
        print(f"  ratio (linear scan mean ÷ engine mean): {scan['mean_ns'] / eng['mean_ns']:.1f}×; "
              f"p50 {scan['p50_us'] / eng['p50_us']:.1f}×")


if __name__ == "__main__":
    main()
