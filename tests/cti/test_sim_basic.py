"""Through pbxsim over TCP: login, an inbound call with screen pop, answer, hang-up, wrap-up, disposition."""
from __future__ import annotations

import pytest

from cti.agents import CtiError, IllegalTransition
from tests.cti.rig import rig, until


async def test_inbound_call_rings_pops_talks_and_wraps_up(tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_text("number,name,vip_level,key_account,notes\n13800138000,李先生,2,1,老客户\n", encoding="utf-8")
    async with rig(tmp_path) as r:
        await r.cti.customers.import_csv(csv)
        await r.ready_agents("1001")
        assert r.state("1001") == "ready"
        caller = await r.call_in("1001")
        await r.wait_state("1001", "talking")
        pops = r.publisher.on("agents/1001/screenpop")
        assert len(pops) == 1
        pop = pops[0]
        assert pop["caller"]["number"] == "13800138000"
        assert pop["customer"]["name"] == "李先生" and pop["customer"]["vip_level"] == 2
        assert pop["customer"]["key_account"] is True
        assert pop["queue"] == "presales"
        assert pop["ivr"]["path"] == ["welcome", "menu", "presales"]
        assert pop["ivr"]["collected"] == {"order_no": "A20261123"}
        assert pop["wait_seconds"] is not None and pop["history"] == []
        linkedid = pop["linkedid"]
        view = r.cti.model.call_view(linkedid)
        assert view["state"] == "talking"
        assert sorted(view["talking"][0]["parties"])[0].startswith("PJSIP/1001-")
        caller.hang_up()
        await r.wait_state("1001", "wrap-up")
        await r.settle()
        result = await r.cmd("1001", "disposition", code="consultation", notes="问了发货时间")
        assert result["disposition"]["disposition_zh"] == "咨询"
        await r.cmd("1001", "end-wrap-up")
        assert r.state("1001") == "ready"
        history = [h["to"] for h in await r.cti.agents.history("1001")]
        assert history == ["not-ready", "ready", "ringing", "talking", "wrap-up", "ready"]
        states = [p["state"] for p in r.publisher.on("agents/1001/state")]
        assert states[-6:] == history
        # the next call from the same number shows the first one in its history
        caller = await r.call_in("1001")
        await r.wait_state("1001", "talking")
        second = r.publisher.on("agents/1001/screenpop")[-1]
        assert [(h["agent_id"], h["disposition"], h["notes"]) for h in second["history"]] == [
            ("1001", "consultation", "问了发货时间")]
        caller.hang_up()
        await r.wait_state("1001", "wrap-up")


async def test_commands_need_a_logged_in_agent_and_a_registered_phone(tmp_path):
    async with rig(tmp_path) as r:
        with pytest.raises(CtiError, match="not logged in"):
            await r.cmd("1001", "ready")
        with pytest.raises(CtiError, match="not logged in"):
            await r.cmd("1001", "dial", number="13900139000")
        with pytest.raises(CtiError, match="unknown agent ID '4242'"):
            await r.cmd("4242", "login", by="9001")
        await r.cmd("1001", "login")
        r.sim.phones["1001"].unregister()
        await until(lambda: r.cti.agents.get("1001").reason == "unreachable", what="unreachable")
        assert r.state("1001") == "not-ready"
        with pytest.raises(CtiError, match="not registered"):
            await r.cmd("1001", "ready")
        with pytest.raises(CtiError, match="not registered"):
            await r.cmd("1001", "dial", number="13900139000")
        r.sim.phones["1001"].register()
        await until(lambda: r.cti.model.devices.get("PJSIP/1001") == "NOT_INUSE", what="registered")
        await r.cmd("1001", "ready")
        with pytest.raises(IllegalTransition, match="agent 1001 is ready; 'ready' is not allowed"):
            await r.cmd("1001", "ready")
        with pytest.raises(CtiError, match="has no call"):
            await r.cmd("1001", "hangup")
        with pytest.raises(CtiError, match="'hold' needs talking"):
            await r.cmd("1001", "hold")
        # logging in with the phone unregistered leaves the agent not-ready (unreachable)
        r.sim.phones["1004"].unregister()
        await until(lambda: r.cti.model.devices.get("PJSIP/1004") == "UNAVAILABLE", what="unregistered")
        result = await r.cmd("1004", "login", ready=True)
        assert "not registered" in result["warning"]
        assert (r.state("1004"), r.cti.agents.get("1004").reason) == ("not-ready", "unreachable")


async def test_bad_command_arguments_are_refused(tmp_path):
    async with rig(tmp_path) as r:
        with pytest.raises(CtiError, match="login: bad arguments \\['colour'\\]"):
            await r.cmd("1001", "login", colour="red")
        with pytest.raises(CtiError, match="unknown agent command 'fly'"):
            await r.cmd("1001", "fly")
        assert r.state("1001") == "logged-out"
