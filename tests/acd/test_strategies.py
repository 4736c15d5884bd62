"""Each strategy's choice on crafted agent sets, through the real engine (ties, wrap-up, not-ready)."""
from __future__ import annotations

import random
from collections import Counter

import pytest

from acd.state import AgentState
from tests.acd.helpers import agent, call, engine, offers, queue, serve


def first_offer(eng, call_id="c1", at=1000.0, **kw):
    eng.enqueue(at, call(call_id, **kw))
    got = offers(eng)
    assert len(got) == 1, got
    return got[0].agent_id


def ready_all(eng, ids, start=0.0, step=1.0):
    for i, aid in enumerate(ids):
        eng.agent_ready(start + i * step, aid)


def test_sequential_takes_first_ready_in_member_order_skipping_not_ready_and_wrapup():
    agents = [agent("a1"), agent("a2"), agent("a3"), agent("a4")]
    eng = engine([queue(strategy="sequential", members=["a3", "a1", "a2", "a4"], wrapup_time=30)], agents)
    ready_all(eng, ["a4", "a2", "a1", "a3"])
    # a3 is first in the member order: takes a call and goes to wrap-up
    assert first_offer(eng, "w", at=10) == "a3"
    serve(eng, 10, "w", talk=5)
    assert eng.agents["a3"].state is AgentState.WRAPUP
    eng.agent_not_ready(16, "a1", "break")
    assert first_offer(eng, "c1", at=17) == "a2"          # a3 in wrap-up, a1 not-ready


def test_round_robin_remembers_the_last_agent_across_calls():
    agents = [agent(f"a{i}") for i in range(1, 5)]
    eng = engine([queue(strategy="round-robin", wrapup_time=0)], agents)
    ready_all(eng, ["a1", "a2", "a3", "a4"])
    picks = []
    for i in range(6):
        picks.append(first_offer(eng, f"c{i}", at=100 + i * 10))
        serve(eng, 101 + i * 10, f"c{i}", talk=1)
    assert picks == ["a1", "a2", "a3", "a4", "a1", "a2"]
    eng.agent_not_ready(200, "a3", "meal")
    assert first_offer(eng, "x", at=201) == "a4"            # a3 skipped, memory continues after a2


def test_fewest_calls_ties_broken_by_longest_idle():
    agents = [agent("a1"), agent("a2"), agent("a3")]
    eng = engine([queue(strategy="fewest-calls", wrapup_time=0)], agents)
    ready_all(eng, ["a1", "a2", "a3"])
    assert first_offer(eng, "c1", at=10) == "a1"
    serve(eng, 10, "c1", talk=5)                            # a1: 1 call, ready again at 15
    # a2 and a3 tie at 0 calls: a2 has been idle since 1, a3 since 2
    assert first_offer(eng, "c2", at=20) == "a2"


def test_least_talk_time_prefers_agent_with_less_talk():
    agents = [agent("a1"), agent("a2")]
    eng = engine([queue(strategy="least-talk-time", wrapup_time=0)], agents)
    ready_all(eng, ["a1", "a2"])
    first_offer(eng, "c1", at=10)                           # a1 (longest idle)
    first_offer(eng, "c2", at=11)                           # a2
    serve(eng, 12, "c1", talk=300)
    serve(eng, 12, "c2", talk=20)
    assert first_offer(eng, "c3", at=400) == "a2"


def test_longest_idle_counts_from_end_of_wrap_up():
    agents = [agent("a1"), agent("a2"), agent("a3")]
    eng = engine([queue(strategy="longest-idle", wrapup_time=60)], agents)
    ready_all(eng, ["a1", "a2", "a3"], start=0)
    assert first_offer(eng, "c1", at=10) == "a1"
    serve(eng, 10, "c1", talk=5)                             # call ends at 15, wrap-up until 75
    eng.advance(75)
    assert eng.agents["a1"].state is AgentState.READY and eng.agents["a1"].idle_since == 75
    assert first_offer(eng, "c2", at=80) == "a2"
    assert first_offer(eng, "c3", at=81) == "a3"
    assert first_offer(eng, "c4", at=82) == "a1"


def test_longest_idle_skips_wrap_up_and_ties_by_member_order():
    agents = [agent("a1"), agent("a2"), agent("a3")]
    eng = engine([queue(strategy="longest-idle", wrapup_time=60)], agents)
    for aid in ["a3", "a2", "a1"]:
        eng.agent_ready(5.0, aid)                            # same instant: member order decides
    assert first_offer(eng, "c1", at=10) == "a1"
    serve(eng, 10, "c1", talk=5)
    assert first_offer(eng, "c2", at=20) == "a2"             # a1 is in wrap-up


def test_skill_based_highest_proficiency_then_longest_idle():
    agents = [agent("a1", sales=5), agent("a2", sales=9), agent("a3", sales=9), agent("a4", sales=10)]
    eng = engine([queue(strategy="skill-based", wrapup_time=120)], agents)
    ready_all(eng, ["a3", "a2", "a1", "a4"])                 # a3 idle longer than a2
    eng.agent_not_ready(10, "a4", "training")                # the best one is not-ready
    assert first_offer(eng, "c1", at=20) == "a3"             # tie at 9: longest idle
    assert first_offer(eng, "c2", at=21) == "a2"
    assert first_offer(eng, "c3", at=22) == "a1"


def test_skill_based_uses_the_calls_skill():
    agents = [agent("a1", sales=9, english=2), agent("a2", sales=3, english=9), agent("a3", sales=8)]
    eng = engine([queue(strategy="skill-based")], agents)
    ready_all(eng, ["a1", "a2", "a3"])
    assert first_offer(eng, "c1", at=10, skill="english") == "a2"
    assert first_offer(eng, "c2", at=11, skill="english") == "a1"
    # nobody else speaks English: the next English call waits although a3 is ready
    eng.enqueue(12, call("c3", skill="english"))
    assert offers(eng) == [] and eng.position("c3") == 1
    assert first_offer(eng, "c4", at=13) == "a3"             # a sales call still goes to a3
    eng.offer_answered(14, "c1", "a2"); eng.call_ended(20, "c1")
    eng.advance(1000)                                        # a2's wrap-up ends: takes the English caller
    assert [o.agent_id for o in offers(eng)] == ["a2"] and eng.calls["c3"].agent_id == "a2"


def test_business_based_routes_by_the_ivr_service():
    agents = [agent("a1", sales=5, billing=6), agent("a2", sales=5, refunds=7), agent("a3", sales=5, refunds=4)]
    eng = engine([queue(strategy="business-based", strategy_options={"services": {"refund": "refunds"}})], agents)
    ready_all(eng, ["a1", "a2", "a3"])
    assert first_offer(eng, "c1", at=10, data={"service": "refund"}) == "a2"   # longest idle refunds agent
    assert first_offer(eng, "c2", at=11, data={"service": "refund"}) == "a3"
    assert first_offer(eng, "c3", at=12, data={"service": "billing"}) == "a1"


def test_customer_based_vip_to_seniors_and_sticky_agent():
    agents = [agent("j1", sales=3), agent("j2", sales=4), agent("s1", senior=True, sales=4), agent("s2", sales=9)]
    eng = engine([queue(strategy="customer-based", wrapup_time=0)], agents)
    ready_all(eng, ["j1", "j2", "s1", "s2"])
    assert first_offer(eng, "v1", at=10, vip_level=2) == "s1"            # senior (flag), longest idle
    assert first_offer(eng, "v2", at=11, key_account=True) == "s2"       # senior by proficiency
    assert first_offer(eng, "n1", at=12, caller="13900000001") == "j1"  # others first for ordinary callers
    serve(eng, 13, "n1", talk=10)                                        # j1 served 13900000001
    serve(eng, 13, "v1", talk=10)
    # j2 idles longest, but j1 served this caller 20 s ago and gets the first offer
    assert first_offer(eng, "n2", at=40, caller="13900000001") == "j1"
    assert first_offer(eng, "n3", at=41, caller="13900000002") == "j2"


def test_customer_based_sticky_expires_after_n_days():
    agents = [agent("j1"), agent("j2")]
    eng = engine([queue(strategy="customer-based", wrapup_time=0, strategy_options={"sticky_days": 1})], agents)
    ready_all(eng, ["j1", "j2"])
    assert first_offer(eng, "n1", at=10, caller="1") == "j1"
    serve(eng, 10, "n1", talk=10)
    assert first_offer(eng, "n2", at=10 + 2 * 86400, caller="1") == "j2"


def test_random_is_uniform_over_ready_agents_and_repeats_with_the_seed():
    def picks(seed):
        agents = [agent(f"a{i}") for i in range(4)]
        eng = engine([queue(strategy="random", wrapup_time=0)], agents, seed=seed)
        ready_all(eng, [a.id for a in agents])
        eng.agent_not_ready(5, "a3", "break")
        out = []
        for i in range(300):
            out.append(first_offer(eng, f"c{i}", at=10 + i))
            serve(eng, 10 + i, f"c{i}", talk=0.1)
        return out
    first = picks(7)
    assert first == picks(7) and first != picks(8)
    counts = Counter(first)
    assert set(counts) == {"a0", "a1", "a2"}                 # never the not-ready agent
    assert all(70 <= n <= 130 for n in counts.values()), counts


def test_weighted_random_follows_weights():
    agents = [agent("a1"), agent("a2"), agent("a3")]
    q = queue(strategy="weighted-random", wrapup_time=0, strategy_options={"weights": {"a1": 1, "a2": 3, "a3": 0}})
    eng = engine([q], agents, seed=3)
    ready_all(eng, ["a1", "a2", "a3"])
    counts = Counter()
    for i in range(400):
        counts[first_offer(eng, f"c{i}", at=10 + i)] += 1
        serve(eng, 10 + i, f"c{i}", talk=0.1)
    assert counts["a3"] == 0
    assert 2.2 < counts["a2"] / counts["a1"] < 4.2, counts


def test_weighted_random_default_weight_is_proficiency():
    agents = [agent("a1", sales=1), agent("a2", sales=9)]
    eng = engine([queue(strategy="weighted-random", wrapup_time=0)], agents, seed=1)
    ready_all(eng, ["a1", "a2"])
    counts = Counter()
    for i in range(300):
        counts[first_offer(eng, f"c{i}", at=10 + i)] += 1
        serve(eng, 10 + i, f"c{i}", talk=0.1)
    assert counts["a2"] > 5 * counts["a1"] > 0


def test_site_strategy_registers_and_routes():
    from acd.strategies import PooledStrategy, register, registered

    if "test-youngest-id" not in registered():
        @register("test-youngest-id")
        class YoungestId(PooledStrategy):
            def key(self, a):
                return (-int(a.id[1:]),)
    eng = engine([queue(strategy="test-youngest-id")], [agent("a1"), agent("a7"), agent("a3")])
    ready_all(eng, ["a1", "a7", "a3"])
    assert first_offer(eng, "c1", at=10) == "a7"


def test_unknown_strategy_is_a_clear_error():
    from acd.config import QueueConfigError
    with pytest.raises(QueueConfigError, match="unknown strategy 'fastest'"):
        engine([queue(strategy="fastest")], [agent("a1")])
