"""A callback through the simulator: the caller presses 2 and hangs up; when an agent becomes ready the
ACD originates to the agent over AMI (panoramisk → pbxsim's AMI server, real TCP), the agent's channel runs
the acd-callback FastAGI session, which dials the customer through the trunk."""
from __future__ import annotations

import asyncio

from panoramisk import Manager

from acd.agents import InMemoryAgentDirectory, attach
from acd.callback import CallbackDialer, callback_session
from acd.config import queue_settings
from acd.handoff import AcdHandoff
from acd.service import AcdService
from ivr.agi.server import FastAgiServer
from pbxsim.ami.server import AmiServer
from pbxsim.ami.users import AmiUser
from pbxsim.clock import run_virtual
from pbxsim.dialplan import Dialplan
from pbxsim.participants import Caller, CallerScript, PhoneBehaviour, Softphone
from pbxsim.pbx import EndpointConfig, Pbx
from tests.acd.helpers import queued_call
from tests.acd.test_handoff_pbxsim import AGENTS, EPOCH


def test_callback_rings_the_agent_first_then_the_customer():
    async def main():
        loop = asyncio.get_running_loop()
        log = []
        service = AcdService([queue_settings({"name": "sales", "skills": {"sales": 1}, "wrapup_time": 2,
                                              "announce_interval": 0})], AGENTS,
                             clock=lambda: EPOCH + loop.time())
        service.log_listeners.append(log.append)
        directory = InMemoryAgentDirectory(AGENTS, initial="not-ready")
        attach(service, directory)
        handoff = AcdHandoff(service, poll_ms=500)
        outcomes = {}

        async def session(channel):
            await channel.answer()
            call = queued_call(channel)
            outcomes[channel.request.caller] = await handoff.enqueue(call, "sales", None, 0)

        dialplan_text = "[hotline-inbound]\nexten => s,1,AGI(agi://127.0.0.1:{port}/acd)\n same => n,Hangup()\n"
        async with FastAgiServer({"acd": session}) as server:
            pbx = Pbx(Dialplan.from_text(dialplan_text.format(port=server.port)), epoch=EPOCH, endpoints=[
                EndpointConfig("trunk", context="hotline-inbound", kind="trunk"),
                *[EndpointConfig(a.id, context="agents") for a in AGENTS]])
            ami = AmiServer(pbx, {"hotline": AmiUser("hotline", "secret")})
            await ami.start()
            manager = Manager(loop=loop, host="127.0.0.1", port=ami.port, username="hotline", secret="secret",
                              ping_delay=3600)
            await manager.connect()
            # pbxsim routes PJSIP/<endpoint>/<uri>; it does not parse PJSIP/<number>@<endpoint> (yet)
            dialer = CallbackDialer(manager.send_action, ("127.0.0.1", server.port),
                                    dial_template="PJSIP/trunk/sip:{number}@carrier.example")
            service.callback_dialer = dialer
            server.routes["acd-callback"] = callback_session(service, dialer)
            runner = asyncio.create_task(service.run())
            phone = Softphone(pbx, "1001", PhoneBehaviour(answer_after_s=1, talk_time_s=15))
            phone.start()
            person = Caller(pbx, CallerScript("13800000007", steps=["wait 3", "press 2"]))
            person.start()
            first = await person.wait()
            assert outcomes["13800000007"].status == "callback"
            await asyncio.sleep(5)
            directory.set_state("1001", "ready")                     # the agent is free: callback now
            for _ in range(120):
                await asyncio.sleep(1)
                if not service.engine.calls:
                    break
            runner.cancel()
            manager.close()
            await ami.close()
        return first, log, phone, pbx
    first, log, phone, pbx = run_virtual(main())
    events = [(e.event, e.agent) for e in log if e.callid == first.linkedid]
    assert events == [("ENTERQUEUE", "NONE"), ("CALLBACK", "NONE"), ("CONNECT", "1001"), ("COMPLETEAGENT", "1001")]
    assert phone.calls[0]["result"] == "answered"
    complete = next(e for e in log if e.event == "COMPLETEAGENT")
    assert 13 <= int(complete.data2) <= 17                              # agent talked ~15 s with the customer
