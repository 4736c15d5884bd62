"""MQTT on the real broker (Mosquitto): retained agent states, command replies carrying the request id,
screen pops, call updates and announcements, all JSON with "v": 1."""
from __future__ import annotations

import asyncio
import json
import uuid

import aiomqtt
import pytest

from hotline.bus import EventBus
from hotline.config import parse_mqtt_url
from acd.publisher import run_publisher
from cti.mqtt import MqttCommands
from tests.cti.rig import rig, until

pytestmark = pytest.mark.mosquitto


class Listener:
    def __init__(self, url, pattern):
        self.host, self.port, *_ = parse_mqtt_url(url)
        self.pattern = pattern
        self.messages: list[tuple[str, dict, bool]] = []
        self._task = None
        self._ready = asyncio.Event()

    async def __aenter__(self):
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), 5)
        return self

    async def __aexit__(self, *exc):
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self):
        async with aiomqtt.Client(self.host, self.port, identifier=f"t-{uuid.uuid4().hex[:8]}") as client:
            await client.subscribe(self.pattern, qos=1)
            self._ready.set()
            async for m in client.messages:
                self.messages.append((m.topic.value, json.loads(m.payload), bool(m.retain)))

    def on(self, topic):
        return [p for t, p, _ in self.messages if t == topic]


async def _send(url, topic, payload):
    host, port, *_ = parse_mqtt_url(url)
    async with aiomqtt.Client(host, port, identifier=f"s-{uuid.uuid4().hex[:8]}") as client:
        await client.publish(topic, json.dumps(payload), qos=1)


async def test_commands_replies_and_retained_state_on_mosquitto(tmp_path, mqtt_url, topic_prefix):
    async with EventBus(mqtt_url, topic_prefix, announce_status=False) as bus:
        assert await bus.wait_connected(5)
        async with rig(tmp_path, publisher=bus) as r:
            MqttCommands(r.cti, bus).register()
            await asyncio.sleep(0.2)
            token = (await r.cti.auth.login("1001", "1234"))["token"]
            base = f"{topic_prefix}/agents/1001"
            async with Listener(mqtt_url, f"{base}/cmd/reply") as replies:
                await _send(mqtt_url, f"{base}/cmd", {"id": "r-1", "command": "login", "token": token})
                await _send(mqtt_url, f"{base}/cmd", {"id": "r-2", "command": "ready",
                                                      "auth": {"agent_id": "1001", "pin": "1234"}})
                await _send(mqtt_url, f"{base}/cmd", {"id": "r-3", "command": "ready", "token": token})
                await _send(mqtt_url, f"{base}/cmd", {"id": "r-4", "command": "ready",
                                                      "auth": {"agent_id": "1001", "pin": "0000"}})
                await _send(mqtt_url, f"{base}/cmd", {"id": "r-5", "command": "force-state", "token": token,
                                                      "args": {"state": "logged-out"}})
                await _send(mqtt_url, f"{topic_prefix}/agents/7777/cmd", {"id": "r-6", "command": "login",
                                                                          "token": token})
                await _send(mqtt_url, f"{base}/cmd", {"command": "ready", "token": token})
                await until(lambda: len(replies.messages) >= 6, what="replies")
                by_id = {p["id"]: p for _, p, _ in replies.messages}
                assert by_id["r-1"]["ok"] is True and by_id["r-1"]["v"] == 1
                assert by_id["r-1"]["result"]["agent"]["state"] == "not-ready"
                # a PIN never travels in an MQTT payload: refused even when right
                assert (by_id["r-2"]["ok"], by_id["r-2"]["status"]) == (False, 401)
                assert "PINs are not accepted in MQTT payloads" in by_id["r-2"]["error"]
                assert by_id["r-3"]["ok"] is True and by_id["r-3"]["result"]["agent"]["state"] == "ready"
                assert (by_id["r-4"]["ok"], by_id["r-4"]["status"]) == (False, 401)
                assert (by_id["r-5"]["ok"], by_id["r-5"]["status"]) == (False, 403)
                assert by_id[None]["error"] == "a command needs an 'id' to answer to"
            await until(lambda: True)
            # unknown agent: the reply goes to that agent's reply topic
            async with Listener(mqtt_url, f"{topic_prefix}/agents/7777/cmd/reply") as other:
                await _send(mqtt_url, f"{topic_prefix}/agents/7777/cmd", {"id": "r-7", "command": "login",
                                                                          "token": token})
                await until(lambda: other.messages, what="reply for 7777")
                assert other.messages[0][1]["status"] == 404
            await bus.flush(3)
            # a late subscriber gets the retained state at once
            async with Listener(mqtt_url, f"{base}/state") as late:
                await until(lambda: late.messages, what="retained state")
                topic, payload, retained = late.messages[0]
                assert retained and payload["state"] == "ready" and payload["v"] == 1
                assert payload["state_zh"] == "准备就绪"


async def test_screenpop_call_updates_and_announcements_on_mosquitto(tmp_path, mqtt_url, topic_prefix):
    async with EventBus(mqtt_url, topic_prefix, announce_status=False) as bus:
        assert await bus.wait_connected(5)
        async with rig(tmp_path, publisher=bus) as r:
            async with Listener(mqtt_url, f"{topic_prefix}/#") as everything:
                await r.ready_agents("1001")
                caller = await r.call_in("1001", "13700137000")
                await r.wait_state("1001", "talking")
                await r.cmd("9001", "announce", text="注意：今天有促销活动", audience={"agents": ["1001"]})
                await until(lambda: everything.on(f"{topic_prefix}/agents/1001/screenpop")
                            and everything.on(f"{topic_prefix}/agents/1001/announcements"), what="pop")
                pop = everything.on(f"{topic_prefix}/agents/1001/screenpop")[0]
                assert pop["v"] == 1 and pop["caller"]["number"] == "13700137000" and pop["queue"] == "presales"
                linkedid = pop["linkedid"]
                caller.hang_up()
                await r.wait_state("1001", "wrap-up")
                await r.settle()
                await bus.flush(3)
                await until(lambda: any(p["state"] == "ended" for p in
                                        everything.on(f"{topic_prefix}/calls/{linkedid}")), what="call ended")
                updates = everything.on(f"{topic_prefix}/calls/{linkedid}")
                assert all(u["v"] == 1 for u in updates)
                assert any(u["state"] == "talking" for u in updates)
                assert updates[-1]["data"]["queue"] == "presales"
                ann = everything.on(f"{topic_prefix}/agents/1001/announcements")[0]
                assert ann["text"] == "注意：今天有促销活动" and ann["by"] == "9001"
                states = [p["state"] for p in everything.on(f"{topic_prefix}/agents/1001/state")]
                assert states[-4:] == ["ready", "ringing", "talking", "wrap-up"]


async def test_queue_stats_are_the_acds_retained_and_refreshed(tmp_path, mqtt_url, topic_prefix):
    """``queues/{name}/stats`` has one publisher, the ACD (as in ``hotline serve``); CTI publishes none."""
    async with EventBus(mqtt_url, topic_prefix, announce_status=False) as bus:
        assert await bus.wait_connected(5)
        async with rig(tmp_path, publisher=bus, acd=True) as r:
            publisher = asyncio.create_task(run_publisher(r.acd, bus.publish, interval_s=0.1))
            try:
                await r.ready_agents("1001")
                caller = await r.call_in("1001")                 # a call the ACD did not place
                await r.wait_state("1001", "talking")
                await until(lambda: r.acd.queue_stats("presales")["agents"]["busy"] == 1, what="ACD sees busy")
                await asyncio.sleep(0.3)
                await bus.flush(3)
                async with Listener(mqtt_url, f"{topic_prefix}/queues/+/stats") as late:
                    await until(lambda: late.messages, what="retained stats")
                    topic, stats, retained = late.messages[0]
                    assert topic == f"{topic_prefix}/queues/presales/stats" and retained
                    assert stats["v"] == 1 and sum(stats["agents"].values()) == 2   # 1001 and 1002: presales
                    assert stats["agents"]["busy"] == 1 and stats["agents"]["logged_out"] == 1
                    assert {"service_level", "asa_s", "aht_s", "abandon_rate", "offered"} <= set(stats)
                    await until(lambda: len(late.messages) >= 2, what="refreshed")
                caller.hang_up()
                await r.wait_state("1001", "wrap-up")
                await r.cmd("1001", "logout")
                assert r.state("1001") == "logged-out"
            finally:
                publisher.cancel()
                await asyncio.gather(publisher, return_exceptions=True)
