"""Supervisor desk through pbxsim: listen, whisper, barge (强插), force hangup (强拆), force state,
announcements kept until read."""
from __future__ import annotations

import pytest

from cti.agents import CtiError
from cti.auth import Forbidden
from tests.cti.rig import rig, until


async def _talking(r, agent_id="1001"):
    await r.ready_agents(agent_id)
    caller = await r.call_in(agent_id)
    await r.wait_state(agent_id, "talking")
    await r.settle()
    return caller


@pytest.mark.parametrize("mode,spy_mode", [("listen", "spy"), ("whisper", "whisper"), ("barge", "barge")])
async def test_spy_modes_ring_the_supervisor_phone_into_chanspy(tmp_path, mode, spy_mode):
    async with rig(tmp_path) as r:
        caller = await _talking(r)
        linkedid = r.cti.agents.get("1001").linkedid
        result = await r.cmd("1001", mode, by="9001")
        agent_channel = result[mode]["channel"]
        assert agent_channel.startswith("PJSIP/1001-")
        spyer = await until(lambda: [c for c in r.sim.pbx.channels() if c.name.startswith("PJSIP/9001-")
                                     and getattr(c, "spying_on", None) is not None], what="ChanSpy running")
        assert spyer[0].spying_on.name == agent_channel
        assert spyer[0].variables["SPY_MODE"] == spy_mode
        await until(lambda: r.cti.model.call_view(linkedid)["spies"], what="model sees the spy")
        assert r.cti.model.call_view(linkedid)["spies"][0]["spyee"] == agent_channel
        assert r.state("1001") == "talking"
        caller.hang_up()
        await r.wait_state("1001", "wrap-up")


async def test_barge_then_force_hangup(tmp_path):
    async with rig(tmp_path) as r:
        caller = await _talking(r)
        await r.cmd("1001", "barge", by="9001")
        await until(lambda: any(getattr(c, "spying_on", None) for c in r.sim.pbx.channels()), what="barge")
        with pytest.raises(Forbidden):
            await r.cmd("1001", "force-hangup", by="9101")          # QA may listen, not hang up
        with pytest.raises(Forbidden):
            await r.cmd("1001", "barge", by="9101")
        result = await r.cmd("1001", "force-hangup", by="9001")
        assert result["hung_up"].startswith("PJSIP/1001-")
        await r.wait_state("1001", "wrap-up")
        outcome = await caller.wait()
        assert outcome.ended is not None
        await until(lambda: not [c for c in r.sim.pbx.channels() if c.name.startswith("PJSIP/9001-")],
                    what="the spy ends with the call")
        with pytest.raises(CtiError, match="agent 1001 has no call"):
            await r.cmd("1001", "force-hangup", by="9001")


async def test_qa_may_listen_and_agents_may_not_supervise(tmp_path):
    async with rig(tmp_path) as r:
        caller = await _talking(r)
        await r.cmd("1001", "listen", by="9101")
        with pytest.raises(Forbidden):
            await r.cmd("1001", "listen", by="1002")
        with pytest.raises(Forbidden):
            await r.cmd("1002", "ready", by="1001")                  # an agent commands only itself
        caller.hang_up()
        await r.wait_state("1001", "wrap-up")


async def test_force_state_and_announcements_until_read(tmp_path):
    async with rig(tmp_path) as r:
        await r.ready_agents("1001", "1002")
        await r.cmd("1001", "force-state", by="9001", state="logged-out")
        assert r.state("1001") == "logged-out"
        history = await r.cti.agents.history("1001")
        assert (history[-1]["request"], history[-1]["by"]) == ("force", "9001")
        with pytest.raises(Forbidden):
            await r.cmd("1002", "force-state", by="1002", state="ready")
        result = await r.cmd("9001", "announce", text="14:00 系统升级，请提前保存工单", audience={"team": "A"})
        ann = result["announcement"]
        assert sorted(ann["recipients"]) == ["1001", "1002", "9001"]
        assert r.publisher.on("agents/1002/announcements")[-1]["text"] == "14:00 系统升级，请提前保存工单"
        assert r.publisher.on("agents/1004/announcements") == []
        assert [a["id"] for a in await r.cti.announcements.unread("1002")] == [ann["id"]]
        acked = await r.cmd("1002", "ack-announcement", announcement_id=ann["id"])
        assert acked["announcement"]["read_at"] is not None
        assert await r.cti.announcements.unread("1002") == []
        # 1001 was logged out: the announcement is delivered again at login, until read
        before = len(r.publisher.on("agents/1001/announcements"))
        await r.cmd("1001", "login")
        assert len(r.publisher.on("agents/1001/announcements")) == before + 1
        with pytest.raises(CtiError, match="was not sent to agent 1004"):
            await r.cmd("1004", "ack-announcement", announcement_id=ann["id"])
        with pytest.raises(Forbidden):
            await r.cmd("1002", "announce", text="hi", audience={"all": True})
        with pytest.raises(CtiError, match="needs an audience"):
            await r.cmd("9001", "announce", text="hi", audience={})
