"""Each strategy's choice on one crafted agent set, through the simulator: which softphone rings.

Agents in member order: 3001 proficiency 3, ready last; 3002 proficiency 9 (senior), ready second;
3003 proficiency 5, ready first (idle longest); 3004 proficiency 10 but not-ready — it must never ring."""
from __future__ import annotations

import asyncio
import random

import pytest

from acd.agents import InMemoryAgentDirectory, attach
from acd.config import AgentProfile, queue_settings
from acd.handoff import AcdHandoff
from acd.service import AcdService
from ivr.agi.server import FastAgiServer
from pbxsim.clock import run_virtual
from pbxsim.dialplan import Dialplan
from pbxsim.participants import Caller, CallerScript, PhoneBehaviour, Softphone
from pbxsim.pbx import EndpointConfig, Pbx
from tests.acd.helpers import queued_call
from tests.acd.test_handoff_pbxsim import EPOCH

AGENTS = [AgentProfile("3001", "PJSIP/3001", {"sales": 3}), AgentProfile("3002", "PJSIP/3002", {"sales": 9}),
          AgentProfile("3003", "PJSIP/3003", {"sales": 5}), AgentProfile("3004", "PJSIP/3004", {"sales": 10})]


def first_ringing(strategy: str, options: dict | None = None, customer: dict | None = None,
                  data: dict | None = None, seed: int = 0) -> str:
    async def main():
        loop = asyncio.get_running_loop()
        service = AcdService([queue_settings({"name": "sales", "skills": {"sales": 1}, "strategy": strategy,
                                              "strategy_options": options or {}, "announce_interval": 0})],
                             AGENTS, clock=lambda: EPOCH + loop.time(), rng=random.Random(seed))
        directory = InMemoryAgentDirectory(AGENTS, initial="logged-out")
        attach(service, directory)
        handoff = AcdHandoff(service, poll_ms=500)
        rung = []

        async def session(channel):
            await channel.answer()
            call = queued_call(channel, customer=customer, data=data)
            outcome = await handoff.enqueue(call, "sales", None, 0)
            rung.append(outcome.agent_id)

        async with FastAgiServer({"acd": session}) as server:
            runner = asyncio.create_task(service.run())
            pbx = Pbx(Dialplan.from_text(
                f"[hotline-inbound]\nexten => s,1,AGI(agi://127.0.0.1:{server.port}/acd)\n same => n,Hangup()\n"),
                epoch=EPOCH, endpoints=[EndpointConfig("trunk", context="hotline-inbound", kind="trunk"),
                                        *[EndpointConfig(a.id, context="agents") for a in AGENTS]])
            phones = {a.id: Softphone(pbx, a.id, PhoneBehaviour(answer_after_s=1, talk_time_s=5)) for a in AGENTS}
            for p in phones.values():
                p.start()
            directory.set_state("3004", "not-ready", "training")
            for agent_id in ("3003", "3002", "3001"):            # C idles longest, A shortest
                directory.set_state(agent_id, "ready")
                await asyncio.sleep(10)
            person = Caller(pbx, CallerScript("13700000001"))
            person.start()
            await person.wait()
            await asyncio.sleep(1)
            runner.cancel()
        assert len(rung) == 1
        called = [a for a, p in phones.items() if p.calls]
        assert called == [rung[0]]                            # only the chosen phone rang
        return rung[0]
    return run_virtual(main())


@pytest.mark.parametrize("strategy,options,customer,data,expected", [
    ("sequential", None, None, None, "3001"),                 # first in member order
    ("round-robin", None, None, None, "3001"),                # memory starts before the first member
    ("fewest-calls", None, None, None, "3003"),               # all 0 calls: longest idle
    ("least-talk-time", None, None, None, "3003"),
    ("longest-idle", None, None, None, "3003"),
    ("skill-based", None, None, None, "3002"),                # highest ready proficiency (3004 is not-ready)
    ("business-based", {"services": {"buy": "sales"}}, None, {"service": "buy"}, "3003"),
    ("customer-based", None, {"vip_level": 2}, None, "3002"),  # VIP → senior (proficiency ≥ 8)
    ("customer-based", None, {"vip_level": 0}, None, "3003"),  # others first, longest idle
    ("weighted-random", {"weights": {"3001": 0, "3002": 0, "3003": 1}}, None, None, "3003"),
])
def test_strategy_choice_through_the_simulator(strategy, options, customer, data, expected):
    assert first_ringing(strategy, options, customer, data) == expected


def test_random_choice_through_the_simulator_follows_the_seed():
    picks = {first_ringing("random", seed=s) for s in range(6)}
    assert picks <= {"3001", "3002", "3003"} and len(picks) >= 2
    assert first_ringing("random", seed=4) == first_ringing("random", seed=4)
