"""Randomized: many calls and agents, random timings and events; the invariants hold after every step.

Outside the engine the test keeps its own ledger from the actions the engine emits: which agent rings or
talks for which call (never two calls on one phone, never one call on two phones) and how every call
ended (exactly once). At the end every call that entered is either still active in the engine or
finished exactly once — none forgotten.

Every decision the engine takes (an agent for a caller, a caller for an agent) is checked, at the moment
it is taken, against the linear-scan reference (``acd.linear_scan``): the indexed engine must pick what
a walk over every agent / every waiting call under the same rules picks.
"""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings, strategies as st

from acd import actions as act
from acd import linear_scan
from acd.config import AgentProfile, queue_settings
from acd.engine import Engine
from acd.state import AgentState, CallRequest, CallState

STRATEGIES = ["sequential", "round-robin", "fewest-calls", "least-talk-time", "longest-idle", "skill-based",
              "business-based", "customer-based", "random", "weighted-random"]
SKILLS = ["s0", "s1", "s2", "s3"]


class CheckedEngine(Engine):
    """The engine with every decision compared to the linear-scan reference as it is taken."""
    decisions = 0

    def _choose_agent(self, call):
        want = linear_scan.best_agent(self, call.queue, call.request, call.tried)
        got = super()._choose_agent(call)
        self.decisions += 1
        if isinstance(want, frozenset):                    # random strategies: any agent the rules allow
            assert got is not None and got.id in want, (call.id, got and got.id, sorted(want)[:5])
        else:
            assert (got and got.id) == want, f"call {call.id} in {call.queue}: engine {got and got.id}, rules {want}"
        return got

    def _choose_call(self, agent):
        want = linear_scan.best_call(self, agent)
        got = super()._choose_call(agent)
        self.decisions += 1
        assert (got and got.id) == want, f"agent {agent.id} ready: engine {got and got.id}, rules {want}"
        return got


def build(rng: random.Random, n_agents: int, n_queues: int, own_wrapup_timer: bool = True) -> Engine:
    agents = []
    for i in range(n_agents):
        skills = {s: rng.randint(1, 10) for s in rng.sample(SKILLS, rng.randint(1, 3))}
        agents.append(AgentProfile(id=f"a{i}", endpoint=f"PJSIP/a{i}", skills=skills, senior=rng.random() < 0.3))
    queues = []
    for j in range(n_queues):
        raw = {"name": f"q{j}", "skills": {SKILLS[j % len(SKILLS)]: rng.randint(1, 4)},
               "strategy": STRATEGIES[(j + rng.randint(0, 9)) % len(STRATEGIES)],
               "max_wait": rng.choice([None, 30, 120]), "wrapup_time": rng.choice([0, 5, 20]),
               "max_no_answer": rng.choice([0, 2, 3]), "max_length": rng.choice([None, 3, 50]),
               "join_when_empty": rng.random() < 0.7, "leave_when_empty": rng.random() < 0.3,
               "priorities": {"vip": 10, "key_account": 5}}
        kind = rng.choice(["voicemail", "callback", "hangup", "queue"])
        if kind == "queue" and n_queues > 1:
            raw["overflow"] = {"kind": "queue", "queue": f"q{(j + 1) % n_queues}"}
        elif kind != "queue":
            raw["overflow"] = kind
        queues.append(queue_settings(raw))
    return CheckedEngine(queues, agents, rng=random.Random(rng.random()), own_wrapup_timer=own_wrapup_timer)


class Ledger:
    def __init__(self) -> None:
        self.phone: dict[str, str] = {}        # agent -> call it rings/talks for
        self.on: dict[str, str] = {}           # call -> agent
        self.finished: dict[str, str] = {}
        self.entered: set[str] = set()

    def apply(self, eng: Engine) -> None:
        while eng.actions:
            a = eng.actions.popleft()
            if isinstance(a, act.Offer):
                assert a.agent_id not in self.phone, f"{a.agent_id} offered {a.call_id} while on {self.phone[a.agent_id]}"
                assert a.call_id not in self.on, f"{a.call_id} offered to {a.agent_id} while on {self.on[a.call_id]}"
                self.phone[a.agent_id] = a.call_id
                self.on[a.call_id] = a.agent_id
            elif isinstance(a, act.CallFinished):
                assert a.call_id not in self.finished, f"{a.call_id} finished twice"
                self.finished[a.call_id] = a.outcome.value
        # the ledger, built only from Offer actions and the releases the test caused, equals the engine's view
        engine_view = {c.agent_id: c.id for c in eng.calls.values()
                       if c.state in (CallState.RINGING, CallState.CONNECTED)}
        assert self.phone == engine_view, (self.phone, engine_view)

    def release(self, call_id: str) -> None:
        agent_id = self.on.pop(call_id, None)
        if agent_id is not None:
            del self.phone[agent_id]


def run(seed: int, steps: int, n_agents: int = 12, n_queues: int = 4, own_wrapup_timer: bool = True,
        check_every: int = 1, crowd: int = 0) -> Ledger:
    """``crowd``: start with that many agents ready and twice as many callers arriving first."""
    rng = random.Random(seed)
    eng = build(rng, n_agents, n_queues, own_wrapup_timer)
    ledger = Ledger()
    now = 1_700_000_000.0
    n_calls = 0
    agent_ids = list(eng.agents)
    crowd_steps = 3 * crowd
    for step in range(crowd_steps + steps):
        now += rng.choice([0.0, 0.0, 0.5, 1.0, 3.0, 10.0])
        roll = rng.random()
        if step < crowd_steps:                    # the crowd: callers and agents arriving, nothing else
            roll = 0.0 if roll < 2 / 3 else 0.3
        if roll < 0.22:
            n_calls += 1
            cid = f"c{n_calls}"
            ledger.entered.add(cid)
            eng.enqueue(now, CallRequest(call_id=cid, queue=rng.choice(list(eng.queues)),
                                         caller=f"1390000{rng.randint(0, 30):04d}",
                                         skill=rng.choice([None, None, *SKILLS]),
                                         vip_level=rng.choice([0, 0, 0, 1, 3]), key_account=rng.random() < 0.1,
                                         data={"service": rng.choice(["", "s1", "s2"])}))
        elif roll < 0.40:
            aid = rng.choice(agent_ids)
            rng.choice([eng.agent_ready, eng.agent_ready, eng.agent_ready,
                        lambda t, a: eng.agent_not_ready(t, a, "break"), eng.agent_logged_out])(now, aid)
        elif roll < 0.62:
            ringing = [c for c in eng.calls.values() if c.state is CallState.RINGING]
            if ringing:
                c = rng.choice(ringing)
                agent_id, offer_id = c.agent_id, c.offer_id
                if rng.random() < 0.6:
                    assert eng.offer_answered(now, c.id, agent_id, offer_id)
                else:
                    ledger.release(c.id)
                    assert eng.offer_failed(now, c.id, agent_id, rng.choice(["noanswer", "busy", "rejected"]),
                                            offer_id)
                    # a late report for the same offer changes nothing
                    assert not eng.offer_answered(now, c.id, agent_id, offer_id)
        elif roll < 0.75:
            connected = [c for c in eng.calls.values() if c.state is CallState.CONNECTED]
            if connected:
                c = rng.choice(connected)
                ledger.release(c.id)
                r = rng.random()
                if r < 0.1:
                    eng.transferred(now, c.id, "8001", "hotline-internal")
                elif r < 0.15 and c.callback:
                    eng.callback_failed(now, c.id)
                else:
                    eng.call_ended(now, c.id, by=rng.choice(["caller", "agent"]))
        elif roll < 0.85:
            active = [c for c in eng.calls.values() if not c.callback]
            if active:
                c = rng.choice(active)
                ledger.release(c.id)
                eng.caller_hung_up(now, c.id)
        elif roll < 0.90:
            waiting = [c for c in eng.calls.values() if c.state is CallState.WAITING and not c.callback]
            if waiting:
                c = rng.choice(waiting)
                if rng.random() < 0.5:
                    eng.leave_with_key(now, c.id, "1")
                else:
                    eng.request_callback(now, c.id)
        elif roll < 0.95:
            wrapping = [a for a in eng.agents.values() if a.state is AgentState.WRAPUP]
            if wrapping:
                eng.wrapup_ended(now, rng.choice(wrapping).id)
        else:
            deadline = eng.next_deadline()
            if deadline is not None:
                now = max(now, deadline)
        eng.advance(now)
        ledger.apply(eng)
        if step % check_every == 0:
            eng.check_invariants()
    eng.check_invariants()
    forgotten = ledger.entered - set(eng.calls) - set(ledger.finished)
    assert not forgotten, f"calls forgotten: {sorted(forgotten)[:5]}"
    assert not (set(eng.calls) & set(ledger.finished)), "a finished call is still active"
    assert sum(eng.finished.values()) == len(ledger.finished)
    return ledger


@pytest.mark.parametrize("seed", range(6))
def test_invariants_hold_for_thousands_of_random_events(seed):
    ledger = run(seed, steps=4000)
    outcomes = set(ledger.finished.values())
    assert {"answered", "abandoned"} <= outcomes          # the run really exercised the paths


@pytest.mark.parametrize("seed", range(3))
def test_invariants_hold_when_the_directory_times_wrapup(seed):
    """CTI's mode: no wrap-up timer in the engine; agents leave wrap-up only by the directory's word."""
    ledger = run(seed, steps=4000, own_wrapup_timer=False)
    assert {"answered", "abandoned"} <= set(ledger.finished.values())


def test_many_agents_many_queues():
    run(99, steps=3000, n_agents=40, n_queues=8)


def test_invariants_and_reference_choices_at_5000_agents():
    """The engine at scale (bounded time: full invariant checks every 200 events, every decision against the
    linear-scan reference)."""
    ledger = run(5000, steps=1500, n_agents=5000, n_queues=12, check_every=200, crowd=1200)
    assert {"answered", "abandoned"} <= set(ledger.finished.values())


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), agents=st.integers(1, 8), queues=st.integers(1, 4))
def test_invariants_hypothesis(seed, agents, queues):
    run(seed, steps=400, n_agents=agents, n_queues=queues)
