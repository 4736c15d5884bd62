"""acd.agents.link_cti with CTI's real agent state machine (cti.agents.AgentService): CTI is the source of truth
for agent states and wrap-up, the ACD's autopause shows in CTI, and no transition is ever applied twice."""
from __future__ import annotations

import asyncio

from acd.agents import link_cti
from acd.config import agent_profile, queue_settings
from acd.service import AcdService
from cti.agents import AgentService, AgentState
from tests.cti.helpers import AGENTS, database


class Clock:
    def __init__(self) -> None:
        self.t = 1_763_900_000.0

    def __call__(self) -> float:
        return self.t


def acd(clock, **raw) -> AcdService:
    q = queue_settings({"name": "presales", "skills": {"presales": 1}, "strategy": "sequential",
                        "wrapup_time": 0, "max_no_answer": 1, **raw})
    return AcdService([q], [agent_profile(a) for a in AGENTS if a.role == "agent"], clock=clock)


async def settle():
    for _ in range(3):
        await asyncio.sleep(0)


async def test_cti_states_drive_the_acd_and_wrapup_ends_only_with_ctis(tmp_path):
    async with database(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}") as sessions:
        cti = AgentService(AGENTS, sessions, default_wrapup_seconds=30)
        clock = Clock()
        service = acd(clock)
        log = []
        service.log_listeners.append(log.append)
        unlink = link_cti(service, cti)
        engine = service.engine
        assert engine.own_wrapup_timer is False
        await cti.transition("1001", "login")
        await cti.transition("1001", "ready")
        assert engine.agents["1001"].state.value == "ready"
        # an ACD call: CTI's ring/answer are ignored (the ACD placed it), the ACD learns the answer live
        ticket = service.join(_request("9.1"))
        (offer,) = [ticket.inbox.get_nowait()]
        await cti.transition("1001", "ring", linkedid="9.1", by="pbx")
        await cti.transition("1001", "answer", linkedid="9.1", by="pbx")
        assert service.agent_answered("9.1", "1001") and not service.agent_answered("9.1", "1001")
        assert engine.agents["1001"].state.value == "busy"
        # CTI sees the hangup and ends its wrap-up before the caller's Dial returns to the ACD ...
        await cti.transition("1001", "hangup", linkedid="9.1", by="pbx")
        await cti.transition("1001", "end-wrap-up")
        assert engine.agents["1001"].state.value == "busy"
        clock.t += 60
        assert service.call_ended("9.1", "agent")
        assert engine.agents["1001"].state.value == "wrap-up"        # the ACD's 0 s wrap-up does not apply
        await settle()                                               # ... so the ACD takes CTI's state now
        assert engine.agents["1001"].state.value == "ready"
        # a call the ACD did not place: unavailable until it ends (and counted busy in the figures)
        await cti.transition("1001", "ring", linkedid="7.1", by="pbx")
        assert (engine.agents["1001"].state.value, engine.agents["1001"].reason) == ("not-ready", "on-call")
        assert service.queue_stats("presales")["agents"]["busy"] == 1
        await cti.transition("1001", "abandon", linkedid="7.1", by="pbx")
        assert engine.agents["1001"].state.value == "ready"
        # CTI's not-ready during the ACD's wrap-up ends it into not-ready (no ready in between)
        service.join(_request("9.2"))
        await cti.transition("1001", "ring", linkedid="9.2", by="pbx")
        await cti.transition("1001", "answer", linkedid="9.2", by="pbx")
        assert service.agent_answered("9.2", "1001")
        assert service.call_ended("9.2", "caller")
        await cti.transition("1001", "hangup", linkedid="9.2", by="pbx")
        await settle()
        assert engine.agents["1001"].state.value == "wrap-up"        # CTI wraps up: the ACD waits
        await cti.transition("1001", "not-ready", reason="meal")
        assert (engine.agents["1001"].state.value, engine.agents["1001"].reason) == ("not-ready", "meal")
        assert [(e.event, e.data1) for e in log if e.event in ("PAUSE", "UNPAUSE")] == [
            ("PAUSE", "login"), ("UNPAUSE", "login"), ("PAUSE", "on-call"), ("UNPAUSE", "on-call"), ("PAUSE", "meal")]
        engine.check_invariants()
        unlink()
        assert service.on_autopause is None and not cti.listeners
        await cti.close()


async def test_autopause_is_not_undone_by_ctis_end_of_ring(tmp_path):
    """The ACD pauses after its miss while CTI still shows the ring; CTI's back-from-ring must not unpause."""
    async with database(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}") as sessions:
        cti = AgentService(AGENTS, sessions, default_wrapup_seconds=30)
        service = acd(Clock())
        log = []
        service.log_listeners.append(log.append)
        link_cti(service, cti)
        for agent_id in ("1001", "1002"):
            await cti.transition(agent_id, "login")
            await cti.transition(agent_id, "ready")
        await cti.transition("1002", "not-ready", reason="break")
        service.join(_request("9.3"))
        await cti.transition("1001", "ring", linkedid="9.3", by="pbx")
        # order 1: the ACD first (the caller's Dial returned NOANSWER), then CTI's DialEnd
        assert service.offer_failed("9.3", "1001", "noanswer")
        assert service.engine.agents["1001"].reason == "ring-no-answer"
        await cti.transition("1001", "ring-no-answer", linkedid="9.3", by="pbx")
        await settle()
        assert (cti.get("1001").state, cti.get("1001").reason) == (AgentState.NOT_READY, "ring-no-answer")
        assert service.engine.agents["1001"].state.value == "not-ready"
        # order 2: CTI's DialEnd first (back to ready: only a recorded miss), then the ACD's autopause
        await cti.transition("1001", "ready")
        await cti.transition("1001", "ring", linkedid="9.3", by="pbx")
        await cti.transition("1001", "ring-no-answer", linkedid="9.3", by="pbx")
        assert cti.get("1001").state is AgentState.READY
        assert service.offer_failed("9.3", "1001", "noanswer")
        await settle()
        assert (cti.get("1001").state, cti.get("1001").reason) == (AgentState.NOT_READY, "ring-no-answer")
        pauses = [(e.event, e.agent, e.data1) for e in log if e.event in ("PAUSE", "UNPAUSE") and e.data1 != "login"]
        assert pauses == [("PAUSE", "1002", "break"), ("PAUSE", "1001", "ring-no-answer"),
                          ("UNPAUSE", "1001", "ring-no-answer"), ("PAUSE", "1001", "ring-no-answer")]
        service.engine.check_invariants()
        await cti.close()


def _request(linkedid: str):
    from acd.state import CallRequest
    return CallRequest(call_id=linkedid, queue="presales", caller="13800000000")
