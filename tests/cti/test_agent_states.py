"""The agent state machine: every legal and every illegal transition, storage, recovery, wrap-up timing."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from cti.agents import (TRANSITIONS, AgentService, AgentState, BadReason, CtiError, IllegalTransition,
                        UnknownAgent)
from cti.models import AgentStateLog
from tests.cti.helpers import AGENTS, database

ALL_STATES = list(AgentState)


def _kwargs(request):
    return {"reason": "break"} if request == "not-ready" else {"by": "pbx"} if request in (
        "ring", "answer", "hangup", "abandon", "ring-no-answer", "unreachable") else {}


async def test_every_request_in_every_state(tmp_path):
    async with database(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}") as sessions:
        service = AgentService(AGENTS, sessions)
        legal = illegal = 0
        for request, table in TRANSITIONS.items():
            for state in ALL_STATES:
                agent = service.get("1001")
                agent.state, agent.linkedid, agent.state_before_ring = state, None, None
                if state in table:
                    await service.transition("1001", request, linkedid="1.1", **_kwargs(request))
                    assert agent.state is table[state], (request, state)
                    legal += 1
                else:
                    with pytest.raises(IllegalTransition) as err:
                        await service.transition("1001", request, **_kwargs(request))
                    text = str(err.value)
                    assert f"agent 1001 is {state.value}" in text and f"'{request}'" in text
                    assert agent.state is state
                    illegal += 1
        await service.close()
        async with sessions() as s:
            rows = (await s.execute(select(AgentStateLog))).scalars().all()
        assert len(rows) == legal
        assert legal + illegal == len(TRANSITIONS) * len(ALL_STATES)


async def test_a_working_day_is_stored_in_order(db_url):
    async with database(db_url) as sessions:
        service = AgentService(AGENTS, sessions, default_wrapup_seconds=60)
        for request, kw in [("login", {}), ("ready", {}), ("reserve", {"queue": "presales", "linkedid": "9.1"}),
                            ("ring", {"linkedid": "9.1"}), ("answer", {"linkedid": "9.1"}), ("hold", {}),
                            ("unhold", {}), ("transfer-start", {}), ("transfer-cancel", {}),
                            ("hangup", {"linkedid": "9.1"}), ("end-wrap-up", {}),
                            ("not-ready", {"reason": "meal"}), ("logout", {})]:
            await service.transition("1001", request, **kw)
        history = await service.history("1001")
        assert [h["to"] for h in history] == ["not-ready", "ready", "reserved", "ringing", "talking", "on-hold",
                                             "talking", "transferring", "talking", "wrap-up", "ready",
                                             "not-ready", "logged-out"]
        assert history[0]["reason"] == "login" and history[11]["reason"] == "meal"
        assert history[9]["linkedid"] == "9.1"
        assert service.get("1001").calls_handled == 1
        await service.close()


async def test_errors_are_clear():
    service = AgentService(AGENTS, sessions=None)
    with pytest.raises(UnknownAgent) as err:
        await service.transition("7777", "login")
    assert "7777" in str(err.value) and err.value.status == 404
    service.get("1001").state = AgentState.READY
    with pytest.raises(BadReason):
        await service.transition("1001", "not-ready", reason="nap")
    with pytest.raises(BadReason):
        await service.transition("1001", "not-ready", reason="unreachable")     # system reasons are not the agent's
    with pytest.raises(CtiError):
        await service.transition("1001", "dance")
    with pytest.raises(CtiError):
        await service.force("1001", "talking", by="9001")


async def test_ring_for_another_call_while_talking_is_refused(tmp_path):
    async with database(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}") as sessions:
        service = AgentService(AGENTS, sessions)
        agent = service.get("1001")
        agent.state, agent.linkedid = AgentState.RINGING, "1.1"
        with pytest.raises(IllegalTransition) as err:
            await service.transition("1001", "answer", linkedid="2.2", by="pbx")
        assert "busy with call 1.1" in str(err.value)


async def test_wrapup_ends_by_timer_per_agent_and_early_by_the_agent(tmp_path):
    async with database(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}") as sessions:
        service = AgentService(AGENTS, sessions, default_wrapup_seconds=30, queue_wrapup_seconds={"vip": 0.1})
        for agent_id in ("1001", "1002"):
            await service.transition(agent_id, "login")
            await service.transition(agent_id, "ready")
        await service.transition("1001", "reserve", queue="vip", linkedid="5.5")
        for agent_id, link in (("1001", "5.5"), ("1002", "6.6")):
            await service.transition(agent_id, "ring", linkedid=link, by="pbx")
            await service.transition(agent_id, "answer", linkedid=link, by="pbx")
            await service.transition(agent_id, "hangup", linkedid=link, by="pbx")
        assert service.wrapup_seconds_for(service.get("1001")) == 0.1      # the queue's
        assert service.wrapup_seconds_for(service.get("1002")) == 0.2      # the agent's own
        await asyncio.sleep(0.4)
        assert service.get("1001").state is AgentState.READY
        assert service.get("1002").state is AgentState.READY
        history = await service.history("1002")
        assert history[-1]["by"] == "timer"
        await service.transition("1004", "login")
        await service.transition("1004", "ready")
        await service.transition("1004", "ring", linkedid="7.7", by="pbx")
        await service.transition("1004", "answer", linkedid="7.7", by="pbx")
        await service.transition("1004", "hangup", linkedid="7.7", by="pbx")
        assert service.get("1004").state is AgentState.WRAP_UP
        await service.transition("1004", "end-wrap-up")
        assert service.get("1004").state is AgentState.READY
        await service.close()


async def test_states_recovered_after_restart(db_url):
    async with database(db_url) as sessions:
        first = AgentService(AGENTS, sessions, default_wrapup_seconds=60)
        await first.transition("1001", "login")
        await first.transition("1001", "not-ready", reason="training")
        await first.transition("1004", "login")
        await first.transition("1004", "ready")
        await first.transition("1004", "ring", linkedid="8.8", by="pbx")
        await first.transition("1004", "answer", linkedid="8.8", by="pbx")
        await first.transition("1004", "hangup", linkedid="8.8", by="pbx")
        await first.close()
        second = AgentService(AGENTS, sessions, default_wrapup_seconds=60)
        await second.recover()
        assert (second.get("1001").state, second.get("1001").reason) == (AgentState.NOT_READY, "training")
        assert second.get("1004").state is AgentState.WRAP_UP and second.get("1004").linkedid == "8.8"
        assert second.get("1002").state is AgentState.LOGGED_OUT
        await second.close()


async def test_force_and_abandon_back_to_previous(tmp_path):
    async with database(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}") as sessions:
        service = AgentService(AGENTS, sessions)
        await service.transition("1001", "login")
        await service.transition("1001", "not-ready", reason="meeting")
        await service.transition("1001", "ring", linkedid="3.3", by="pbx")
        await service.transition("1001", "abandon", linkedid="3.3", by="pbx")
        assert (service.get("1001").state, service.get("1001").reason) == (AgentState.NOT_READY, "meeting")
        await service.transition("1001", "ready")
        await service.transition("1001", "ring", linkedid="3.4", by="pbx")
        await service.transition("1001", "answer", linkedid="3.4", by="pbx")
        await service.force("1001", "logged-out", by="9001")
        assert service.get("1001").state is AgentState.LOGGED_OUT
        history = await service.history("1001")
        assert history[-1]["request"] == "force" and history[-1]["by"] == "9001"
        await service.close()


async def test_ring_no_answer_is_recorded_and_the_acd_autopause_waits_for_the_ring_to_end(tmp_path):
    async with database(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}") as sessions:
        service = AgentService(AGENTS, sessions, default_wrapup_seconds=30)
        for agent_id in ("1001", "1002", "1004"):
            await service.transition(agent_id, "login")
            await service.transition(agent_id, "ready")
        # a miss alone: back to ready, the miss stored
        await service.transition("1001", "ring", linkedid="1.1", by="pbx")
        await service.transition("1001", "ring-no-answer", linkedid="1.1", by="pbx")
        assert service.get("1001").state is AgentState.READY
        assert (await service.history("1001"))[-1]["request"] == "ring-no-answer"
        # the ACD pauses while CTI still sees the ring: the ring's end goes to not-ready, not back to ready
        await service.transition("1001", "ring", linkedid="1.2", by="pbx")
        service.autopause("1001", "ring-no-answer")
        await asyncio.sleep(0)
        assert service.get("1001").state is AgentState.RINGING
        await service.transition("1001", "ring-no-answer", linkedid="1.2", by="pbx")
        assert (service.get("1001").state, service.get("1001").reason) == (AgentState.NOT_READY, "ring-no-answer")
        # the ACD pauses after CTI saw the ring end: applied at once
        service.autopause("1002", "ring-no-answer")
        await until_state(service, "1002", AgentState.NOT_READY)
        last = (await service.history("1002"))[-1]
        assert (last["reason"], last["request"], last["by"]) == ("ring-no-answer", "autopause", "acd")
        # a pause noted while the agent talks waits for the wrap-up's end (by the timer) ...
        await service.transition("1004", "ring", linkedid="4.1", by="pbx")
        await service.transition("1004", "answer", linkedid="4.1", by="pbx")
        service.autopause("1004", "ring-no-answer")
        await service.transition("1004", "hangup", linkedid="4.1", by="pbx")
        assert service.get("1004").state is AgentState.WRAP_UP
        await service.transition("1004", "end-wrap-up", by="timer")
        assert (service.get("1004").state, service.get("1004").reason) == (AgentState.NOT_READY, "ring-no-answer")
        # ... unless the agent chooses meanwhile
        await service.transition("1004", "ready")
        await service.transition("1004", "ring", linkedid="4.2", by="pbx")
        service.autopause("1004", "ring-no-answer")
        await service.transition("1004", "answer", linkedid="4.2", by="pbx")
        await service.transition("1004", "hangup", linkedid="4.2", by="pbx")
        await service.transition("1004", "end-wrap-up")
        assert service.get("1004").state is AgentState.READY and service.get("1004").pause_pending is None
        service.autopause("1002", "ring-no-answer")        # already not-ready: nothing changes
        await asyncio.sleep(0.01)
        assert len(await service.history("1002")) == 3
        await service.close()


async def until_state(service, agent_id, state):
    for _ in range(200):
        if service.get(agent_id).state is state:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"agent {agent_id} never {state.value}")
