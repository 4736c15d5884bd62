"""Kill the AMI connection in the middle of live calls: reconnect, resync, model and agent states equal
the simulator's afterwards, nothing dialled twice. Also a restart of hotline itself (states from the DB)."""
from __future__ import annotations


from cti.agents import AgentService
from tests.cti.helpers import AGENTS
from tests.cti.rig import rig, until


def _model_channels(r):
    return {u: (c.name, c.linkedid, c.state, c.bridge_id) for u, c in r.cti.model.channels.items()}


async def test_connection_killed_mid_calls_then_resync(tmp_path):
    async with rig(tmp_path, answer_after=0.3) as r:
        await r.ready_agents("1001", "1002", "1004")
        call_a = await r.call_in("1001", "13800000001")
        call_b = await r.call_in("1002", "13800000002")
        await r.wait_state("1001", "talking")
        await r.wait_state("1002", "talking")
        await r.cmd("1004", "dial", number="13900000004")
        await r.wait_state("1004", "ringing")
        assert r.cti.resyncs == 1

        # the TCP connection dies, and for a while the manager refuses our login (being reconfigured)
        users, r.sim.ami.users = r.sim.ami.users, {}
        for s in list(r.sim.ami.sessions):
            s.abort()
        await until(lambda: not r.session.connected.is_set(), what="session notices")

        # meanwhile on the PBX: B's caller hangs up, a new call C reaches 1002, 1004's phone answers
        call_b.hang_up()
        await until(lambda: r.sim.phones["1002"].active == [], what="1002 free")
        call_c = await r.call_in("1002", "13800000003")
        await until(lambda: len(r.sim.phones["1002"].active) == 1, what="1002 answers C")
        await until(lambda: len([c for c in r.sim.pbx.channels() if c.name.startswith("PJSIP/trunk-")
                                 and c.state == 6]) == 3, what="A, C and the outbound customer up")
        assert r.state("1002") == "talking"       # the CTI has not seen any of it yet

        assert not r.session.connected.is_set() and r.session.connection_count == 1
        r.sim.ami.users = users
        await r.session.wait_connected(5)
        await until(lambda: r.cti.resyncs == 2, what="second resync")
        await r.settle()

        assert _model_channels(r) == r.sim_channels()
        assert r.cti.model.bridges.keys() == {b for b in r.sim.pbx.bridges if r.sim.pbx.bridges[b].channels}
        linked = {c.endpoint: c.linkedid for c in r.sim.pbx.channels() if c.tech == "PJSIP"}
        assert (r.state("1001"), r.cti.agents.get("1001").linkedid) == ("talking", linked["1001"])
        assert (r.state("1002"), r.cti.agents.get("1002").linkedid) == ("talking", linked["1002"])
        assert (r.state("1004"), r.cti.agents.get("1004").linkedid) == ("talking", linked["1004"])
        assert call_c.channel.linkedid == linked["1002"]
        ended_b = r.cti.model.call_view(call_b.channel.linkedid)
        assert ended_b["state"] == "ended"
        # nothing dialled twice: one Originate sent, 1004's phone offered exactly one call
        assert [a for a, _ in r.session.actions_sent].count("Originate") == 1
        assert len(r.sim.phones["1004"].calls) == 1
        assert len([c for c in r.sim.pbx.channels() if c.name.startswith("PJSIP/trunk-")]) == 3

        # the model keeps following events after the resync
        call_a.hang_up()
        await r.wait_state("1001", "wrap-up")
        call_c.hang_up()
        await r.wait_state("1002", "wrap-up")
        await r.settle()
        assert _model_channels(r) == r.sim_channels()


async def test_restart_recovers_states_from_the_log_and_the_pbx(tmp_path):
    async with rig(tmp_path) as r:
        await r.ready_agents("1001", "1002")
        await r.cmd("1004", "login")
        await r.cmd("1004", "not-ready", reason="meal")
        call = await r.call_in("1001")
        await r.wait_state("1001", "talking")
        await r.settle()
        # hotline restarts: a new AgentService over the same database, then the PBX resync
        fresh = AgentService(AGENTS, r.cti.agents.sessions)
        await fresh.recover()
        assert {a: fresh.get(a).state.value for a in ("1001", "1002", "1004", "9001")} == {
            "1001": "talking", "1002": "ready", "1004": "not-ready", "9001": "logged-out"}
        assert fresh.get("1004").reason == "meal"
        await fresh.close()
        # the call ends while hotline is "down"; the stored state says talking, the PBX says no call
        r.session.dispatcher.handlers.clear()
        call.hang_up()
        await until(lambda: not r.sim.phones["1001"].active, what="call over")
        await until(lambda: not r.cti.model.channels, what="model empty")
        assert r.state("1001") == "talking"
        await r.cti.resync(r.session)
        assert r.state("1001") == "wrap-up"
        assert (await r.cti.agents.history("1001"))[-1]["request"] == "resync"
