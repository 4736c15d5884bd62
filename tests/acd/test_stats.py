"""Stats formulas (kpis.md) on a crafted day, over HTTP, and published to the real MQTT broker."""
from __future__ import annotations

import asyncio
import json

import aiomqtt
import httpx
import pytest
from fastapi import FastAPI

from acd.agents import InMemoryAgentDirectory, attach
from acd.http import router
from acd.publisher import publish_once
from acd.queue_log import entry
from acd.service import AcdService
from acd.stats import StatsCollector
from hotline.bus.publisher import EventBus
from cti.auth import Authenticator
from hotline.config import AgentConfig
from tests.acd.helpers import agent, call, queue

T0 = 1_763_827_200.0          # 2025-11-23 00:00:00 Asia/Shanghai


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def crafted_day() -> tuple[AcdService, Clock]:
    clock = Clock(T0 + 3600)
    service = AcdService([queue(wrapup_time=10, service_level_threshold=20)], [agent("a1"), agent("a2")],
                         clock=clock)
    directory = InMemoryAgentDirectory([agent("a1"), agent("a2")])
    directory.set_state("a2", "logged-out")
    attach(service, directory)                              # a1 ready, a2 logged out
    base = clock.t

    def at(dt):
        clock.t = base + dt
        service.engine.advance(clock.t)
        service._drain()

    at(0); service.join(call("c1"))                         # rings a1 at once
    at(5); assert service.offer_answered("c1", "a1")        # waited 5 s  (within 20)
    at(10); service.join(call("c2"))
    at(20); service.join(call("c3"))
    at(30); assert service.caller_hung_up("c3")             # abandoned after 10 s (within 20)
    at(40); service.join(call("c4"))
    at(100); assert service.caller_hung_up("c4")            # abandoned after 60 s
    at(105); assert service.call_ended("c1", "agent")       # talked 100 s; wrap-up until 115
    at(115)                                                 # wrap-up timer: a1 rings for c2
    assert service.engine.calls["c2"].agent_id == "a1"
    assert service.offer_answered("c2", "a1")               # waited 105 s
    at(165); assert service.call_ended("c2", "caller")      # talked 50 s
    at(175)                                                 # wrap-up over
    at(200); service.join(call("c5"))                       # rings a1
    at(201); service.join(call("c6"))                       # waits
    directory.set_state("a2", "not-ready", "meal")
    return service, clock


def test_formulas_on_a_crafted_day():
    service, clock = crafted_day()
    s = service.queue_stats("sales")
    assert (s["offered"], s["answered"], s["abandoned"]) == (6, 2, 2)
    assert s["service_level"] == 0.5                        # 1 of 2 answered within 20 s
    assert s["service_level_abandons"] == 0.5               # (1 answered + 1 abandoned within 20 s) / 4
    assert s["service_level_all"] == 0.25                   # 1 / (2 answered + 2 abandoned)
    assert s["abandon_rate"] == round(2 / 6, 4)
    assert s["asa_s"] == 55.0                               # (5 + 105) / 2
    assert s["aht_s"] == 85.0                               # (100 + 50 talk + 10 + 10 wrap-up) / 2
    assert s["waiting"] == 1 and s["longest_wait_s"] == 0.0
    assert s["agents"] == {"ready": 0, "busy": 1, "wrap_up": 0, "not_ready": 1, "logged_out": 0}
    clock.t += 30
    assert service.queue_stats("sales")["longest_wait_s"] == 30.0


def test_ratios_without_data_are_null():
    service = AcdService([queue()], [agent("a1")], clock=lambda: T0)
    s = service.queue_stats("sales")
    assert s["service_level"] is None and s["asa_s"] is None and s["aht_s"] is None and s["offered"] == 0


def test_today_is_the_local_day():
    q = queue()
    stats = StatsCollector({"sales": q}, "Asia/Shanghai")
    stats.observe(entry(T0 - 1, "c1", "sales", None, "ENTERQUEUE", "", "1", 1))     # 23:59:59 yesterday
    stats.observe(entry(T0 + 1, "c2", "sales", None, "ENTERQUEUE", "", "2", 1))     # 00:00:01 today
    stats.observe(entry(T0 + 2, "c2", "other", None, "ENTERQUEUE", "", "2", 1))     # another queue: ignored
    assert stats.figures("sales", T0 + 60)["offered"] == 1
    assert stats.figures("sales", T0 - 60)["offered"] == 1


async def test_http_queues_and_stats():
    service, _ = crafted_day()
    app = FastAPI()
    supervisor = AgentConfig(id="9001", name="赵敏", endpoint="PJSIP/9001", skills={}, languages=("zh-CN",),
                             team="A", role="supervisor", pin="9001")
    app.include_router(router(service, Authenticator([supervisor])))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                 auth=("9001", "9001")) as client:
        listing = (await client.get("/api/queues")).json()
        assert listing[0]["name"] == "sales" and listing[0]["members"] == ["a1", "a2"]
        assert listing[0]["waiting"] == 1
        stats = await client.get("/api/queues/sales/stats")
        assert stats.status_code == 200 and stats.json()["asa_s"] == 55.0
        missing = await client.get("/api/queues/nope/stats")
        assert missing.status_code == 404 and "unknown queue 'nope'" in missing.json()["detail"]


@pytest.mark.mosquitto
async def test_stats_published_retained_on_the_broker(mqtt_url, topic_prefix):
    service, _ = crafted_day()
    async with EventBus(mqtt_url, topic_prefix, announce_status=False) as bus:
        assert await bus.wait_connected()
        assert await publish_once(service, bus.publish) == 1
        assert await bus.flush()
    host, port = mqtt_url.removeprefix("mqtt://").split(":")
    # a subscriber arriving later still gets the figures: they are retained
    async with aiomqtt.Client(host, int(port)) as client:
        await client.subscribe(f"{topic_prefix}/queues/+/stats")
        async with asyncio.timeout(5):
            async for message in client.messages:
                payload = json.loads(message.payload)
                assert str(message.topic) == f"{topic_prefix}/queues/sales/stats" and message.retain
                assert payload["v"] == 1 and payload["queue"] == "sales" and payload["asa_s"] == 55.0
                break
        await client.publish(f"{topic_prefix}/queues/sales/stats", b"", retain=True)   # clean up
