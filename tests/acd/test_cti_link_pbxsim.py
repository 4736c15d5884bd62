"""The ACD linked to the CTI as in ``hotline serve``, through pbxsim over TCP (AMI for the CTI, FastAGI for the
queued callers): CTI reports the answer live, CTI's state machine times wrap-up (no double transition), and the
ACD owns the ring-no-answer policy (CTI only records a miss, and goes not-ready when the ACD says so)."""
from __future__ import annotations

from types import MappingProxyType

from hotline.config import AgentConfig, QueueConfig
from tests.cti.helpers import AGENTS
from tests.cti.rig import rig, until

# presales: the ACD's wrap-up is 0 s and a miss is enough for autopause once max_no_answer is reached
QUEUE = QueueConfig(name="presales", skills={"presales": 1}, members=(), strategy="sequential",
                    raw={"wrapup_time": 0, "ring_timeout": 1, "max_no_answer": 2, "announce_interval": 0,
                         "max_wait": 60})
# 1001 wraps up for 30 s in CTI (its own wrap-up time, which the ACD does not know)
LINK_AGENTS = [AgentConfig(**{**vars(a), "extra": MappingProxyType({"wrapup_seconds": 30})})
               if a.id == "1001" else a for a in AGENTS]


async def test_cti_reports_the_answer_and_times_wrapup(tmp_path):
    async with rig(tmp_path, acd=True, agents=LINK_AGENTS, queues=[QUEUE], answer_after=0.2) as r:
        await r.ready_agents("1001")
        await until(lambda: r.acd_agent("1001") == "ready", what="ACD follows CTI: ready")
        caller = await r.call_queue("13700137001")
        await r.wait_state("1001", "talking")
        linkedid = r.cti.agents.get("1001").linkedid
        # answered while the caller's Dial still runs: live figures and the agent's busy state are right now
        await until(lambda: ("CONNECT", "1001") in r.logged(linkedid), what="CONNECT during the conversation")
        assert r.acd_agent("1001") == "busy"
        stats = r.acd.queue_stats("presales")
        assert (stats["offered"], stats["answered"], stats["agents"]["busy"]) == (1, 1, 1)
        assert r.cti.queue_stats()["presales"]["answered"] == 1            # the supervisor desk shows the ACD's
        caller.hang_up()
        await until(lambda: ("COMPLETECALLER", "1001") in r.logged(linkedid), what="call ended in the ACD")
        # the ACD's own wrap-up would be 0 s: it waits for CTI's instead (never ready while CTI wraps up)
        await r.wait_state("1001", "wrap-up")
        assert r.acd_agent("1001") == "wrap-up"
        assert r.acd.queue_stats("presales")["agents"]["wrap_up"] == 1
        second = await r.call_queue("13700137002")
        await until(lambda: r.acd.queue_stats("presales")["waiting"] == 1, what="second caller waits")
        assert r.state("1001") == "wrap-up" and r.acd_agent("1001") == "wrap-up"
        await r.cmd("1001", "end-wrap-up")                 # the agent ends wrap-up: the ACD offers at once
        await r.wait_state("1001", "talking")
        await until(lambda: r.logged(r.cti.agents.get("1001").linkedid)[-1] == ("CONNECT", "1001"),
                    what="second call answered in the ACD")
        second.hang_up()
        await r.wait_state("1001", "wrap-up")
        history = [h["to"] for h in await r.cti.agents.history("1001")]
        assert history[-7:] == ["ringing", "talking", "wrap-up", "ready", "ringing", "talking", "wrap-up"]


async def test_the_acd_owns_ring_no_answer_and_cti_shows_its_autopause(tmp_path):
    async with rig(tmp_path, acd=True, agents=LINK_AGENTS, queues=[QUEUE]) as r:
        r.sim.phones["1002"].set_behaviour(mode="no-answer")
        await r.ready_agents("1002")
        await until(lambda: r.acd_agent("1002") == "ready", what="ACD follows CTI: ready")
        caller = await r.call_queue("13700137003", patience_s=20)
        # first miss: recorded by CTI, the agent stays ready (max_no_answer is 2)
        await until(lambda: ("RINGNOANSWER", "1002") in r.logged(), what="first miss")
        # second miss: the ACD pauses the agent and CTI shows it
        await r.wait_state("1002", "not-ready")
        assert r.cti.agents.get("1002").reason == "ring-no-answer"
        assert r.logged().count(("RINGNOANSWER", "1002")) == 2 and ("PAUSE", "1002") in r.logged()
        assert r.acd_agent("1002") == "not-ready"
        history = await r.cti.agents.history("1002")
        moves = [(h["from"], h["to"], h["request"], h["by"]) for h in history]
        assert moves[2:4] == [("ready", "ringing", "ring", "pbx"), ("ringing", "ready", "ring-no-answer", "pbx")]
        # the pause lands at the second ring's end, or just after it, whichever CTI learnt first
        assert moves[-1][1:] in (("not-ready", "ring-no-answer", "pbx"), ("not-ready", "autopause", "acd"))
        assert not any(m[:2] == ("not-ready", "ready") for m in moves[2:])      # never undone meanwhile
        # the agent comes back by choice: both follow
        r.sim.phones["1002"].set_behaviour(mode="answer", answer_after_s=0.1)
        await r.cmd("1002", "ready")
        await r.wait_state("1002", "talking")
        await until(lambda: r.acd_agent("1002") == "busy", what="ACD: busy")
        caller.hang_up()
        await r.wait_state("1002", "wrap-up")
