"""A running CTI wired to pbxsim's Simulator over real AMI TCP (test harness)."""
from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from pbxsim.participants import CallerScript
from pbxsim.simulator import Simulator

from cti.ami import AmiConfig, AmiSession
from cti.core import Cti
from cti.dialplan import DialplanNames
from hotline.config import QueueConfig
from tests.cti.helpers import AGENTS, database

CONF = Path(__file__).parent / "conf"
QUEUES = [QueueConfig(name="presales", skills={"presales": 1}, members=(), strategy="skill-based",
                      raw={"caller_id": "4008001234", "wrapup_seconds": 30})]


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
    def __init__(self, sim: Simulator, cti: Cti, session: AmiSession, publisher: RecordingPublisher):
        self.sim, self.cti, self.session, self.publisher = sim, cti, session, publisher
        self.supervisor = cti.auth._principals["9001"]

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

    def sim_channels(self) -> dict[str, tuple[str, str, str, str]]:
        return {c.uniqueid: (c.name, c.linkedid, c.state_desc, c.bridge_id)
                for c in self.sim.pbx.channels() if not c.destroyed}

    async def settle(self):
        await asyncio.sleep(0.05)
        await self.session.dispatcher.drain()


@contextlib.asynccontextmanager
async def rig(tmp_path, *, answer_after: float = 0.05, ring_timeout: float = 3.0, db_url: str | None = None,
              publisher=None, queue_stats_interval: float = 0):
    monitor = tmp_path / "monitor"
    async with Simulator(CONF, monitor_dir=monitor, phone_defaults={"answer_after_s": answer_after}) as sim:
        async with database(db_url or f"sqlite+aiosqlite:///{tmp_path / 'cti.db'}") as sessions:
            publisher = publisher if publisher is not None else RecordingPublisher()
            session = AmiSession(AmiConfig(port=sim.ami_port, username="hotline", secret="hotline-secret",
                                           ping_interval=1.0, ping_timeout=1.0, action_timeout=2.0,
                                           reconnect_initial_delay=0.05, reconnect_max_delay=0.2))
            cti = Cti(agents=AGENTS, queues=QUEUES, sessions=sessions, publisher=publisher,
                      dialplan=DialplanNames(outbound_trunk="PJSIP/trunk/"), ring_timeout=ring_timeout,
                      default_wrapup_seconds=30, queue_stats_interval=queue_stats_interval)
            await cti.start()
            cti.attach(session)
            task = asyncio.create_task(session.run())
            try:
                await session.wait_connected(5)
                yield Rig(sim, cti, session, publisher)
            finally:
                await session.stop()
                await asyncio.wait_for(task, 5)
                await cti.close()
