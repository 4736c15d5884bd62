"""A follow-up call (回访) through the simulator: scheduled on a complaint, the ACD offers it to an agent of
the queue as a callback entry; the agent's phone rings first (AMI Originate → pbxsim), then the customer's
through the trunk (FastAGI acd-callback session → Dial); the result is logged on the request. A customer who
does not answer is tried again after followup.retry_minutes, up to max_attempts."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path

from panoramisk import Manager

from acd.agents import InMemoryAgentDirectory, attach
from acd.callback import CallbackDialer, callback_session
from acd.config import queue_settings
from acd.service import AcdService
from crm.config import DEFAULT_RULES, FollowUpRule, RequestRules
from crm.dialer import AcdFollowUpDialer
from crm.followups import FollowUpRunner
from crm.requests import RequestService
from hotline.db import create_schema, make_engine, session_factory
from ivr.agi.server import FastAgiServer
from pbxsim.ami.server import AmiServer
from pbxsim.ami.users import AmiUser
from pbxsim.clock import run_virtual
from pbxsim.dialplan import Dialplan
from pbxsim.participants import PhoneBehaviour, Softphone
from pbxsim.pbx import EndpointConfig, Pbx
from tests.acd.test_handoff_pbxsim import AGENTS, EPOCH
from tests.crm.helpers import AGENT, SUPERVISOR, Calls, Published

RULES = RequestRules(DEFAULT_RULES.types, 4.0, FollowUpRule(max_attempts=2, retry_minutes=10, queue="sales"))


def test_a_follow_up_rings_the_agent_then_the_customer_and_is_logged(tmp_path: Path):
    async def main():
        loop = asyncio.get_running_loop()
        clock = lambda: datetime.fromtimestamp(EPOCH + loop.time(), timezone.utc)  # noqa: E731
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'crm.db'}")
        await create_schema(engine)
        sessions = session_factory(engine)
        published = Published()
        requests = RequestService(sessions, RULES, calls=Calls({"c.1": "13800000007", "c.2": "13900000009"}),
                                  publisher=published, agent_queues={"1001": frozenset({"sales"})}, clock=clock)
        service = AcdService([queue_settings({"name": "sales", "skills": {"sales": 1}, "wrapup_time": 2,
                                              "announce_interval": 0})], AGENTS, clock=lambda: EPOCH + loop.time())
        queue_log = []
        service.log_listeners.append(queue_log.append)
        directory = InMemoryAgentDirectory(AGENTS, initial="not-ready")
        attach(service, directory)
        runner = FollowUpRunner(sessions, RULES, AcdFollowUpDialer(service), published, clock=clock, poll_s=1)
        async with FastAgiServer({}) as server:
            pbx = Pbx(Dialplan.from_text("[hotline-inbound]\nexten => s,1,Hangup()\n"), epoch=EPOCH, endpoints=[
                EndpointConfig("trunk", context="hotline-inbound", kind="trunk"),
                *[EndpointConfig(a.id, context="agents") for a in AGENTS]])
            pbx.external_party("13900000009").set_behaviour(answer_after_s=None)    # never answers
            ami = AmiServer(pbx, {"hotline": AmiUser("hotline", "secret")})
            await ami.start()
            manager = Manager(loop=loop, host="127.0.0.1", port=ami.port, username="hotline", secret="secret",
                              ping_delay=3600)
            await manager.connect()
            dialer = CallbackDialer(manager.send_action, ("127.0.0.1", server.port),
                                    dial_template="PJSIP/trunk/sip:{number}@carrier.example", customer_ring_s=20)
            service.callback_dialer = dialer
            server.routes["acd-callback"] = callback_session(service, dialer)
            acd_task = asyncio.create_task(service.run())
            runner_task = asyncio.create_task(runner.run())
            phone = Softphone(pbx, "1001", PhoneBehaviour(answer_after_s=2, talk_time_s=30))
            phone.start()
            directory.set_state("1001", "ready")

            reached = await requests.create(AGENT, type="complaint", summary="退款未到账", linkedid="c.1", queue="sales")
            scheduled = await requests.schedule_followup(AGENT, reached["id"])
            silent = await requests.create(AGENT, type="enquiry", summary="发票", linkedid="c.2", queue="sales")
            await requests.schedule_followup(SUPERVISOR, silent["id"])
            for _ in range(60 * 30):
                await asyncio.sleep(1)
                views = [await requests.get(SUPERVISOR, r["id"]) for r in (reached, silent)]
                if all(v["followups"][0]["status"] in ("done", "failed") for v in views):
                    break
            runner_task.cancel()
            acd_task.cancel()
            await asyncio.gather(runner_task, acd_task, return_exceptions=True)
            views = [await requests.get(SUPERVISOR, r["id"]) for r in (reached, silent)]   # all written now
            manager.close()
            await ami.close()
            stats = service.queue_stats("sales")
        await engine.dispose()
        return views, scheduled, queue_log, phone, published, pbx, stats
    views, scheduled, queue_log, phone, published, pbx, stats = run_virtual(main())
    done, failed = views
    assert scheduled["status"] == "scheduled" and scheduled["queue"] == "sales"
    assert (done["followups"][0]["status"], done["followups"][0]["result"], done["followups"][0]["attempts"],
            done["followups"][0]["answered_by"]) == ("done", "reached", 1, "1001")
    assert (failed["followups"][0]["status"], failed["followups"][0]["result"], failed["followups"][0]["attempts"]) \
        == ("failed", "no-answer", 2)                       # tried twice (max_attempts), 10 min apart
    results = [h["detail"]["result"] for h in failed["history"] if h["action"] == "followup-result"]
    assert results == ["no-answer", "no-answer"]
    # the agent's phone rang first, then the customer's: the agent took three calls (one reached, two no-answer)
    assert [c["result"] for c in phone.calls] == ["answered", "answered", "answered"]
    first = next(e for e in queue_log if e.callid.startswith(f"followup-{scheduled['id']}-"))
    events = [e.event for e in queue_log if e.callid == first.callid]
    assert events == ["ENTERQUEUE", "CONNECT", "COMPLETEAGENT"]
    assert first.data1 == "outbound"
    assert (stats["offered"], stats["answered"]) == (0, 0)      # follow-ups are not inbound traffic
    customer = pbx.external_parties["13800000007"]
    assert [c["result"] for c in customer.calls] == ["answered"]
    assert "followup-result" in published.events(done["id"])
