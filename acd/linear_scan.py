"""The routing rules as a plain walk over every agent / every waiting call: the reference the engine's
indexed decisions are checked against (tests/acd/test_engine_invariants.py) and measured against
(bench/acd/routing_bench.py). It reads the engine's records (agents, calls, member order, round-robin
memory, who served a caller last) but none of its pools or indexes.

- ``best_agent``: a caller waits in ``queue``: the ready members the queue's strategy accepts for it,
  ranked by the strategy; the first that has not missed the call, else the first.
- ``best_call``: an agent becomes ready: the waiting calls of its queues it may take, by priority (highest)
  then arrival; the first it has not missed, else the first.
Random strategies have no order to check: ``best_agent`` then returns every agent the pick may be.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Collection

from acd.state import AgentRecord, AgentState, CallRequest, CallState
from acd.strategies.round_robin import RoundRobin

if TYPE_CHECKING:
    from acd.engine import Engine

UNORDERED = ("random", "weighted-random")
DAY = 86400.0


def _prof(agent: AgentRecord, skill: str | None) -> int:
    return int(agent.profile.skills.get(skill, 0)) if skill else 0


def rule(eng: Engine, queue: str, request: CallRequest
         ) -> tuple[Callable[[AgentRecord], bool], Callable[[AgentRecord], tuple] | None]:
    """(may this member take the call, its rank: smaller is better; None for random strategies)."""
    strat = eng.strategies[queue]
    q = eng.queues[queue]
    name = type(strat).name
    order = strat.order
    options = q.strategy_options
    everyone: Callable[[AgentRecord], bool] = lambda a: True  # noqa: E731
    idle = lambda a: (a.idle_since, order[a.id])  # noqa: E731
    if name == "skill-based":
        skill = request.skill or q.primary_skill
        if skill is None:
            return everyone, idle
        return (lambda a: _prof(a, skill) > 0), (lambda a: (-_prof(a, skill), a.idle_since, order[a.id]))
    if name == "business-based":
        service = (request.data.get("service") if request.data else None) or request.skill
        skill = dict(options.get("services") or {}).get(service, service) if service else None
        minimum = int(options.get("min_proficiency", 1))
        return (lambda a: skill is None or _prof(a, skill) >= minimum), idle
    if name == "longest-idle":
        return everyone, idle
    if name == "sequential":
        return everyone, lambda a: (order[a.id],)
    if name == "fewest-calls":
        return everyone, lambda a: (a.calls_taken, a.idle_since, order[a.id])
    if name == "least-talk-time":
        return everyone, lambda a: (a.talk_time, a.idle_since, order[a.id])
    if isinstance(strat, RoundRobin):               # "round-robin" and its aliases
        last = strat.last
        return everyone, lambda a: (order[a.id] <= last, order[a.id])
    if name == "customer-based":
        served = eng._last_served.get(request.caller) if request.caller else None
        sticky_s = float(options.get("sticky_days", 30)) * DAY
        sticky = served[0] if served is not None and eng.now - served[1] <= sticky_s else None
        vip = request.key_account or request.vip_level >= int(options.get("vip_min_level", 1))
        senior_min = int(options.get("senior_min_proficiency", 8))

        def rank(a: AgentRecord) -> tuple:
            if a.id == sticky:
                return (0,)
            senior = a.profile.senior or _prof(a, q.primary_skill) >= senior_min
            return (1, senior != vip, a.idle_since, order[a.id])
        return everyone, rank
    if name in UNORDERED:
        return everyone, None
    raise ValueError(f"no reference rule for strategy {name!r}")


def best_agent(eng: Engine, queue: str, request: CallRequest, tried: Collection[str] = ()
               ) -> str | frozenset[str] | None:
    """The agent the rules give a call waiting in ``queue`` (a set of possible agents for random strategies)."""
    may, rank = rule(eng, queue, request)
    members = eng.strategies[queue].order
    best = first = None
    best_key = first_key = None
    anyone, untried = set(), set()
    for agent in eng.agents.values():
        if agent.state is not AgentState.READY or agent.id not in members or not may(agent):
            continue
        if rank is None:
            anyone.add(agent.id)
            if agent.id not in tried:
                untried.add(agent.id)
            continue
        key = rank(agent)
        if first_key is None or key < first_key:
            first, first_key = agent.id, key
        if agent.id not in tried and (best_key is None or key < best_key):
            best, best_key = agent.id, key
    if rank is None:
        return frozenset(untried or anyone) or None
    return best or first


def best_call(eng: Engine, agent: AgentRecord) -> str | None:
    """The waiting call the rules give ``agent`` when it becomes ready."""
    queues = set(agent.queues)
    rules: dict[tuple, bool] = {}
    best = first = None
    best_key = first_key = None
    for call in eng.calls.values():
        if call.state is not CallState.WAITING or call.queue not in queues:
            continue
        req = call.request
        kind = (call.queue, req.skill, req.data.get("service") if req.data else None)
        ok = rules.get(kind)
        if ok is None:
            ok = rules[kind] = rule(eng, call.queue, req)[0](agent)
        if not ok:
            continue
        key = (-call.priority, call.seq)
        if first_key is None or key < first_key:
            first, first_key = call.id, key
        if agent.id not in call.tried and (best_key is None or key < best_key):
            best, best_key = call.id, key
    return best or first
