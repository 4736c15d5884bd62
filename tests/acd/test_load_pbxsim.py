"""Many callers at once through the simulator (virtual clock, real TCP) against agents whose phones answer,
ring out, are busy or reject: the engine's invariants are checked after every event it applies, and every
caller ends up accounted for exactly once."""
from __future__ import annotations

import asyncio
import random
from collections import Counter

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


def test_sixty_callers_six_agents_random_behaviour():
    rng = random.Random(5)
    agents = [AgentProfile(str(2001 + i), f"PJSIP/{2001 + i}", {"sales": rng.randint(1, 10)}) for i in range(6)]
    behaviours = [PhoneBehaviour(answer_after_s=rng.uniform(0.5, 4), talk_time_s=rng.uniform(10, 60)) for _ in range(3)]
    behaviours += [PhoneBehaviour(mode="no-answer"), PhoneBehaviour(mode="busy"),
                   PhoneBehaviour(mode="reject", answer_after_s=1)]

    async def main():
        loop = asyncio.get_running_loop()
        service = AcdService([queue_settings({"name": "sales", "skills": {"sales": 1}, "strategy": "longest-idle",
                                              "ring_timeout": 6, "wrapup_time": 5, "max_wait": 150,
                                              "overflow": "voicemail", "announce_interval": 20,
                                              "max_no_answer": 2})],
                             agents, clock=lambda: EPOCH + loop.time())
        checks = Counter()
        drain = service._drain

        def checked_drain():
            drain()
            service.engine.check_invariants()
            checks["events"] += 1
        service._drain = checked_drain
        directory = InMemoryAgentDirectory(agents)
        attach(service, directory)
        handoff = AcdHandoff(service, poll_ms=500)
        outcomes = {}

        async def session(channel):
            await channel.answer()
            call = queued_call(channel, lang=rng.choice(["zh-CN", "en"]),
                               customer={"vip_level": rng.choice([0, 0, 0, 2])})
            outcomes[channel.request.caller] = await handoff.enqueue(call, "sales", None, 0)

        async def unpause_now_and_then():
            while True:                                   # a supervisor puts autopaused agents back
                await asyncio.sleep(30)
                for a in service.engine.agents.values():
                    if a.state.value == "not-ready":
                        directory.set_state(a.id, "ready")

        async with FastAgiServer({"acd": session}) as server:
            runner = asyncio.create_task(service.run())
            helper = asyncio.create_task(unpause_now_and_then())
            pbx = Pbx(Dialplan.from_text(
                f"[hotline-inbound]\nexten => s,1,AGI(agi://127.0.0.1:{server.port}/acd)\n same => n,Hangup()\n"),
                epoch=EPOCH, endpoints=[EndpointConfig("trunk", context="hotline-inbound", kind="trunk"),
                                        *[EndpointConfig(a.id, context="agents") for a in agents]])
            for agent, behaviour in zip(agents, behaviours):
                Softphone(pbx, agent.id, behaviour).start()
            people = []
            for i in range(60):
                steps = rng.choice([[], [], ["wait 30", "press 1"], ["wait 15", "press 2"]])
                person = Caller(pbx, CallerScript(f"1390000{i:04d}", steps=steps,
                                                  patience_s=rng.choice([None, None, 20, 90])))
                person.start()
                people.append(person)
                await asyncio.sleep(rng.expovariate(1 / 4))
            results = [await p.wait() for p in people]
            await asyncio.sleep(2)
            runner.cancel()
            helper.cancel()
        return service, outcomes, results, checks

    service, outcomes, results, checks = run_virtual(main())
    assert checks["events"] > 300
    assert len(outcomes) == 60                                   # every caller got an outcome
    statuses = Counter(o.status for o in outcomes.values())
    assert statuses["answered"] > 10 and sum(statuses.values()) == 60
    # no callback dialer here: a callback request leaves the queue (the IVR takes it); nothing is left behind
    assert not service.engine.calls
    assert {o.value: n for o, n in service.engine.finished.items() if n} == dict(statuses)
    answered_ids = [c.linkedid for c in results if c.bridged is not None]
    assert len(answered_ids) == statuses["answered"]            # bridged on the PBX ⇔ answered in the ACD
    stats = service.queue_stats("sales")
    assert stats["offered"] == 60 and stats["answered"] == statuses["answered"]
    assert stats["abandoned"] == statuses["abandoned"]
