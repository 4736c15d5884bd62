"""A running CTI wired to pbxsim's Simulator over real AMI TCP (test harness); with ``acd=True`` also the
ACD, linked to the CTI as in ``hotline serve``, with callers queued through a FastAGI server (real TCP)."""
from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

from pbxsim.participants import CallerScript
from pbxsim.simulator import Simulator

from acd.agents import link_cti
from acd.config import agent_profile, queue_settings
from acd.handoff import AcdHandoff
from acd.service import AcdService
from cti.ami import AmiConfig, AmiSession
from cti.core import Cti
from cti.dialplan import DialplanNames
from hotline.config import QueueConfig
from ivr.agi.server import FastAgiServer
from tests.acd.helpers import queued_call
from tests.cti.helpers import AGENTS, database

CONF = Path(__file__).parent / "conf"
QUEUES = [QueueConfig(name="presales", skills={"presales": 1}, members=(), strategy="skill-based",
                      raw={"caller_id": "4008001234", "wrapup_time": 30})]


class RecordingPublisher:
    """Keeps what the CTI publishes (MQTT itself is tested on Mosquitto in test_mqtt.py)."""

    def __init__(self):
        self.messages: list[tuple[str, dict[str, Any], bool]] = []

    def publish(self, topic_suffix, payload, retain=False):
        self.messages.append((topic_suffix, payload, retain))

    def on(self, topic: str) -> list[dict[str, Any]]:
        return [p for t, p, _ in self.messages if t == topic]


async def until(predicate, timeout: float = 5.0, what: str = "condition"):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class Rig:
    def __init__(self, sim: Simulator, cti: Cti, session: AmiSession, publisher: RecordingPublisher,
                 acd: AcdService | None = None):
        self.sim, self.cti, self.session, self.publisher, self.acd = sim, cti, session, publisher, acd
        self.supervisor = cti.auth._principals["9001"]
        self.queue_log: list = []
        self.queued: dict[str, Any] = {}           # caller number -> the handoff's QueueOutcome
        if acd is not None:
            acd.log_listeners.append(self.queue_log.append)

    def principal(self, agent_id: str):
        return self.cti.auth._principals[agent_id]

    async def cmd(self, agent_id: str, command: str, by: str | None = None, **args):
        return await self.cti.dispatch(self.principal(by or agent_id), agent_id, command, args)

    def state(self, agent_id: str) -> str:
        return self.cti.agents.get(agent_id).state.value

    async def wait_state(self, agent_id: str, state: str, timeout: float = 5.0):
        await until(lambda: self.state(agent_id) == state, timeout, f"agent {agent_id} {state} "
                    f"(is {self.state(agent_id)})")

    async def ready_agents(self, *ids: str):
        for agent_id in ids:
            await self.cmd(agent_id, "login", ready=True)

    async def call_in(self, agent_id: str, number: str = "13800138000", **kw):
        return await self.sim.place_call(CallerScript(number, caller_name=kw.pop("name", ""), dnid=agent_id,
                                                      context="cti-test-inbound", **kw))

    async def call_queue(self, number: str = "13800138000", **kw):
        """A caller through the ACD (acd=True): queued in 'presales', rung to an agent by the ACD."""
        return await self.sim.place_call(CallerScript(number, dnid="100", context="acd-test-inbound", **kw))

    def acd_agent(self, agent_id: str) -> str:
        return self.acd.engine.agents[agent_id].state.value

    def logged(self, callid: str | None = None) -> list[tuple[str, str]]:
        return [(e.event, e.agent) for e in self.queue_log if callid is None or e.callid == callid]

    def sim_channels(self) -> dict[str, tuple[str, str, str, str]]:
        return {c.uniqueid: (c.name, c.linkedid, c.state_desc, c.bridge_id)
                for c in self.sim.pbx.channels() if not c.destroyed}

    async def settle(self):
        await asyncio.sleep(0.05)
        await self.session.dispatcher.drain()


def _acd(agents, queues) -> tuple[AcdService, AcdHandoff]:
    service = AcdService([queue_settings(q) for q in queues],
                         [agent_profile(a) for a in agents if a.role == "agent"], clock=time.time)
    return service, AcdHandoff(service, poll_ms=50)


@contextlib.asynccontextmanager
async def rig(tmp_path, *, answer_after: float = 0.05, ring_timeout: float = 3.0, db_url: str | None = None,
              publisher=None, agents=AGENTS, queues=QUEUES, acd: bool = False):
    async with contextlib.AsyncExitStack() as stack:
        service = handoff = agi = None
        if acd:
            service, handoff = _acd(agents, queues)
            queued: dict[str, Any] = {}

            async def queue_session(channel):
                call = queued_call(channel)
                queued[channel.request.caller] = await handoff.enqueue(call, "presales", None, 0)
            agi = await stack.enter_async_context(FastAgiServer({"acd": queue_session}))
        sim = await stack.enter_async_context(Simulator(
            CONF, monitor_dir=tmp_path / "monitor", phone_defaults={"answer_after_s": answer_after},
            agi_override=("127.0.0.1", agi.port) if agi is not None else None))
        sessions = await stack.enter_async_context(database(db_url or f"sqlite+aiosqlite:///{tmp_path / 'cti.db'}"))
        publisher = publisher if publisher is not None else RecordingPublisher()
        session = AmiSession(AmiConfig(port=sim.ami_port, username="hotline", secret="hotline-secret",
                                       ping_interval=1.0, ping_timeout=1.0, action_timeout=2.0,
                                       reconnect_initial_delay=0.05, reconnect_max_delay=0.2))
        cti = Cti(agents=agents, queues=queues, sessions=sessions, publisher=publisher,
                  dialplan=DialplanNames(outbound_trunk="PJSIP/trunk/"), ring_timeout=ring_timeout,
                  default_wrapup_seconds=30, acd=handoff,
                  queue_wrapup_seconds={q.name: queue_settings(q).wrapup_s for q in queues})
        await cti.start()
        stack.push_async_callback(cti.close)
        cti.attach(session)
        if service is not None:
            stack.callback(link_cti(service, cti.agents))
            runner = asyncio.create_task(service.run())
            stack.push_async_callback(_cancel, runner)
        task = asyncio.create_task(session.run())

        async def stop_ami():
            await session.stop()
            await asyncio.wait_for(task, 5)
        stack.push_async_callback(stop_ami)
        await session.wait_connected(5)
        r = Rig(sim, cti, session, publisher, service)
        if acd:
            r.queued = queued
        yield r


async def _cancel(task: asyncio.Task) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
