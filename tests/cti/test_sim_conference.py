"""Attended transfer's swap and the three-way conference through pbxsim over TCP: the agent consults a
colleague, swaps between caller and colleague twice, joins all three in a ConfBridge room, the colleague
leaves the conference (the caller and the agent go on talking), then the caller leaves; a conference the caller
leaves ends for the agents too; and a consulted colleague who hangs up before the consult is completed or
cancelled."""
from __future__ import annotations

import pytest

from cti.agents import CtiError
from tests.cti.rig import rig, until


def _sim_peers(r, channel: str) -> set[str]:
    """Who the PBX (the simulator's own state) has in a bridge with ``channel``."""
    chan = r.sim.pbx.channel(channel)
    if chan is None or chan.bridge is None:
        return set()
    return {c.name for c in chan.bridge.channels if c is not chan}


def _model_peers(r, channel: str) -> set[str]:
    """Who the CTI's live model (built from AMI events) has in a bridge with ``channel``."""
    chan = r.cti.model.channel_by_name(channel)
    return {p.name for p in r.cti.model.bridge_peers(chan.uniqueid)} if chan else set()


async def _bridged(r, channel: str, peers: set[str], what: str) -> None:
    await until(lambda: _sim_peers(r, channel) == peers and _model_peers(r, channel) == peers,
                what=f"{what}: {channel} with {sorted(peers)} (PBX {sorted(_sim_peers(r, channel))}, "
                     f"CTI {sorted(_model_peers(r, channel))})")


def _states(r, agent_id: str) -> list[str]:
    return [p["state"] for p in r.publisher.on(f"agents/{agent_id}/state")]


async def _colleague_hangs_up(r) -> None:
    """1002 hangs up; their wrap-up is timed (0.2 s), so look for it in the published states, not the current
    one, which may already be ready again."""
    before = len(_states(r, "1002"))
    r.sim.phones["1002"].hang_up()
    await until(lambda: "wrap-up" in _states(r, "1002")[before:], what="1002 in wrap-up")


async def _on_hold_music(r, channel: str, what: str) -> None:
    await until(lambda: r.sim.pbx.channel(channel).app == "MusicOnHold"
                and r.cti.model.channel_by_name(channel).on_hold
                and not _sim_peers(r, channel), what=what)


async def test_consult_swap_twice_then_conference_where_the_colleague_leaves(tmp_path):
    async with rig(tmp_path) as r:
        await r.ready_agents("1001", "1002")
        caller = await r.call_in("1001")
        await r.wait_state("1001", "talking")
        await r.settle()
        linkedid = r.cti.agents.get("1001").linkedid

        with pytest.raises(CtiError, match="'consult-swap' needs transferring"):
            await r.cmd("1001", "consult-swap")
        with pytest.raises(CtiError, match="'conference' needs transferring"):
            await r.cmd("1001", "conference")

        result = await r.cmd("1001", "consult", target="1002")
        await r.wait_state("1002", "talking")
        ctl = r.cti.commands.controls["1001"]
        agent, customer, colleague = ctl.agent_channel, ctl.customer_channel, result["consult"]["channel"]
        assert agent.startswith("PJSIP/1001-") and colleague.startswith("PJSIP/1002-")
        assert customer.startswith("PJSIP/trunk-")
        await _bridged(r, agent, {colleague}, "consulting")
        await _on_hold_music(r, customer, "caller on hold during the consult")

        # swap 1: back to the caller, the colleague waits on hold music
        assert (await r.cmd("1001", "consult-swap"))["talking_to"] == "customer"
        await _bridged(r, agent, {customer}, "after swap 1")
        await _on_hold_music(r, colleague, "colleague on hold after swap 1")
        assert r.state("1001") == "transferring" and r.state("1002") == "talking"

        # swap 2: to the colleague again, the caller waits
        assert (await r.cmd("1001", "consult-swap"))["talking_to"] == "target"
        await _bridged(r, agent, {colleague}, "after swap 2")
        await _on_hold_music(r, customer, "caller on hold after swap 2")
        assert r.state("1001") == "transferring" and r.state("1002") == "talking"

        # three-way conference
        room = (await r.cmd("1001", "conference"))["conference"]
        await until(lambda: room in r.sim.pbx.conferences and {c.name for c in r.sim.pbx.conferences[room].channels}
                    == {agent, customer, colleague}, what="all three in the ConfBridge room")
        for one in (agent, customer, colleague):
            await _bridged(r, one, {agent, customer, colleague} - {one}, "in the conference")
        assert not r.cti.model.channel_by_name(customer).on_hold
        view = r.cti.model.call_view(linkedid)
        assert view["conference"] == room
        assert [sorted(t["parties"]) for t in view["talking"]] == [sorted([agent, customer, colleague])]
        assert r.state("1001") == "talking" and r.state("1002") == "talking"

        # the colleague leaves the conference: caller and agent go on talking
        await _colleague_hangs_up(r)
        await _bridged(r, agent, {customer}, "after the colleague left")
        await r.settle()
        assert r.state("1001") == "talking"
        assert room in r.sim.pbx.conferences
        assert r.cti.agents.get("1001").linkedid == linkedid

        # then the caller leaves: the agent's leg ends and the agent goes to wrap-up
        caller.hang_up()
        await r.wait_state("1001", "wrap-up")
        await until(lambda: not r.sim.pbx.conferences, what="conference room closed")
        await until(lambda: linkedid not in r.cti.model.calls, what="call ended in the model")
        assert not [c for c in r.sim.pbx.channels() if not c.destroyed]
        assert r.cti.model.call_view(linkedid)["state"] == "ended"
        assert "1001" not in r.cti.commands.controls


async def test_the_caller_leaves_the_conference_and_it_ends_for_the_agents_too(tmp_path):
    """The rule: a conference exists for the customer; when the customer leaves, both agents are released to
    wrap-up and every leg, the call record and the recording end with it."""
    async with rig(tmp_path) as r:
        await r.ready_agents("1001", "1002")
        caller = await r.call_in("1001")
        await r.wait_state("1001", "talking")
        await r.settle()
        result = await r.cmd("1001", "consult", target="1002")
        await r.wait_state("1002", "talking")
        linkedid = r.cti.commands.controls["1001"].linkedid
        room = (await r.cmd("1001", "conference"))["conference"]
        await until(lambda: room in r.sim.pbx.conferences and len(r.sim.pbx.conferences[room].channels) == 3,
                    what="three in the conference")
        before = len(_states(r, "1002"))
        caller.hang_up()
        await r.wait_state("1001", "wrap-up")
        await until(lambda: "wrap-up" in _states(r, "1002")[before:], what="1002 released to wrap-up")
        await until(lambda: not [c for c in r.sim.pbx.channels() if not c.destroyed], what="all channels gone")
        await until(lambda: not r.sim.pbx.conferences, what="conference room closed")
        assert r.sim.pbx.channel(result["consult"]["channel"]) is None
        assert r.cti.model.call_view(linkedid)["state"] == "ended"
        assert "1001" not in r.cti.commands.controls


async def test_the_consulted_colleague_hangs_up_and_the_caller_is_back_with_the_agent(tmp_path):
    async with rig(tmp_path) as r:
        await r.ready_agents("1001", "1002")
        caller = await r.call_in("1001")
        await r.wait_state("1001", "talking")
        await r.settle()
        result = await r.cmd("1001", "consult", target="1002")
        await r.wait_state("1002", "talking")
        ctl = r.cti.commands.controls["1001"]
        agent, customer, colleague = ctl.agent_channel, ctl.customer_channel, result["consult"]["channel"]
        await _on_hold_music(r, customer, "caller on hold during the consult")
        await _colleague_hangs_up(r)                        # while the agent talks to them
        await _bridged(r, agent, {customer}, "caller back with the agent")
        await r.wait_state("1001", "talking")
        assert not r.cti.model.channel_by_name(customer).on_hold
        with pytest.raises(CtiError, match="'consult-cancel' needs transferring"):
            await r.cmd("1001", "consult-cancel")

        # a second consult, swapped back to the caller: the colleague waiting on hold hangs up
        await r.wait_state("1002", "ready")                 # 1002's wrap-up is timed (0.2 s)
        await r.settle()
        result = await r.cmd("1001", "consult", target="1002")
        await r.wait_state("1002", "talking")
        colleague = result["consult"]["channel"]
        await r.cmd("1001", "consult-swap")
        await _bridged(r, agent, {customer}, "after the swap")
        await _on_hold_music(r, colleague, "colleague on hold")
        await _colleague_hangs_up(r)
        await r.wait_state("1001", "talking")
        await _bridged(r, agent, {customer}, "still with the caller")
        caller.hang_up()
        await r.wait_state("1001", "wrap-up")
        await until(lambda: not [c for c in r.sim.pbx.channels() if not c.destroyed], what="all channels gone")
