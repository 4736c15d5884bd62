"""EventBus on the real Mosquitto broker and on the embedded amqtt broker."""
from __future__ import annotations

import asyncio
import json
import time

import aiomqtt
import pytest

from hotline.bus import EmbeddedBroker, EventBus
from hotline.config import parse_mqtt_url


async def collect(url: str, pattern: str, count: int, timeout: float = 5.0) -> list[aiomqtt.Message]:
    """Subscribe with a plain client and return the first `count` messages."""
    host, port, user, password = parse_mqtt_url(url)
    got: list[aiomqtt.Message] = []
    async with aiomqtt.Client(host, port, username=user, password=password) as client:
        await client.subscribe(pattern)
        async with asyncio.timeout(timeout):
            async for message in client.messages:
                got.append(message)
                if len(got) == count:
                    break
    return got


async def clear_retained(url: str, *topics: str) -> None:
    host, port, user, password = parse_mqtt_url(url)
    async with aiomqtt.Client(host, port, username=user, password=password) as client:
        for topic in topics:
            await client.publish(topic, b"", retain=True)


@pytest.mark.mosquitto
async def test_publish_json_with_version_on_mosquitto(mqtt_url, topic_prefix):
    async with EventBus(mqtt_url, topic_prefix, announce_status=False) as bus:
        assert await bus.wait_connected()
        receiver = asyncio.create_task(collect(mqtt_url, f"{topic_prefix}/calls/#", 1))
        await asyncio.sleep(0.2)                     # the plain subscriber is in place
        assert bus.publish("calls/1700000000.1", {"event": "answered", "agent": "1001", "名": "张伟"})
        messages = await receiver
    assert str(messages[0].topic) == f"{topic_prefix}/calls/1700000000.1"
    assert json.loads(messages[0].payload) == {"v": 1, "event": "answered", "agent": "1001", "名": "张伟"}
    assert messages[0].retain is False


@pytest.mark.mosquitto
async def test_retained_state_reaches_a_late_subscriber_on_mosquitto(mqtt_url, topic_prefix):
    topic = f"{topic_prefix}/agents/1001/state"
    try:
        async with EventBus(mqtt_url, topic_prefix, announce_status=False) as bus:
            bus.publish("agents/1001/state", {"state": "not-ready"}, retain=True)
            bus.publish("agents/1001/state", {"state": "ready"}, retain=True)
            assert await bus.flush()
        # the bus is gone; a subscriber arriving now still gets the latest state, flagged retained
        [message] = await collect(mqtt_url, topic, 1)
        assert message.retain is True
        assert json.loads(message.payload) == {"v": 1, "state": "ready"}
    finally:
        await clear_retained(mqtt_url, topic)


@pytest.mark.mosquitto
async def test_commands_reach_the_subscribed_handler_on_mosquitto(mqtt_url, topic_prefix):
    received: asyncio.Queue = asyncio.Queue()

    async def on_command(suffix: str, payload: dict) -> None:
        await received.put((suffix, payload))

    def broken_handler(suffix: str, payload: dict) -> None:
        raise RuntimeError("handler bug")

    async with EventBus(mqtt_url, topic_prefix, announce_status=False) as bus:
        bus.subscribe("agents/+/cmd", on_command)
        bus.subscribe("broken/#", broken_handler)
        assert await bus.wait_connected()
        await asyncio.sleep(0.2)
        host, port, _, _ = parse_mqtt_url(mqtt_url)
        async with aiomqtt.Client(host, port) as client:
            await client.publish(f"{topic_prefix}/broken/x", b'{"a": 1}')
            await client.publish(f"{topic_prefix}/agents/1002/cmd", b"not json")
            await client.publish(f"{topic_prefix}/agents/1002/cmd", json.dumps({"id": "r1", "cmd": "ready"}))
        suffix, payload = await asyncio.wait_for(received.get(), 5)
    # the broken handler and the garbage payload were survived; only the valid command arrived
    assert (suffix, payload) == ("agents/1002/cmd", {"id": "r1", "cmd": "ready"})
    assert received.empty()


@pytest.mark.mosquitto
async def test_online_and_offline_status_on_mosquitto(mqtt_url, topic_prefix):
    topic = f"{topic_prefix}/service/status"
    try:
        async with EventBus(mqtt_url, topic_prefix) as bus:
            assert await bus.wait_connected()
            assert await bus.flush()
            [online] = await collect(mqtt_url, topic, 1)
            assert json.loads(online.payload) == {"v": 1, "state": "online"}
        [offline] = await collect(mqtt_url, topic, 1)
        assert json.loads(offline.payload) == {"v": 1, "state": "offline"} and offline.retain
    finally:
        await clear_retained(mqtt_url, topic)


async def test_embedded_broker_round_trip():
    async with EmbeddedBroker() as broker:
        assert broker.url.startswith("mqtt://hotline-service:") and broker.port > 0
        async with EventBus(broker.url, "hotline", announce_status=False) as bus:
            bus.publish("queues/presales/stats", {"waiting": 2, "service_level": 0.8}, retain=True)
            assert await bus.flush()
            [message] = await collect(broker.url, "hotline/queues/+/stats", 1)
    assert message.retain is True
    assert json.loads(message.payload) == {"v": 1, "waiting": 2, "service_level": 0.8}


async def test_messages_published_while_the_broker_is_down_arrive_after_reconnect():
    broker = EmbeddedBroker()
    await broker.start()
    port = broker.port
    async with EventBus(broker.url, "hotline", announce_status=False, reconnect_max_delay=0.5) as bus:
        assert await bus.wait_connected()
        await broker.stop()
        for _ in range(200):
            if not bus.connected:
                break
            await asyncio.sleep(0.02)
        assert not bus.connected
        started = time.monotonic()
        assert bus.publish("agents/1003/state", {"state": "wrap-up"}, retain=True)
        assert time.monotonic() - started < 0.05          # call handling is never held up by the broker
        assert bus.queued == 1
        broker = EmbeddedBroker(port=port, access=broker.access)     # same service account
        await broker.start()
        try:
            assert await bus.wait_connected(timeout=10)
            assert await bus.flush()
            [message] = await collect(broker.url, "hotline/agents/1003/state", 1)
            assert json.loads(message.payload) == {"v": 1, "state": "wrap-up"}
        finally:
            await broker.stop()


async def test_outgoing_queue_is_bounded_when_no_broker_answers():
    async with EmbeddedBroker() as probe:
        dead_url = probe.url                                  # a port that is closed once the probe stops
    async with EventBus(dead_url, "hotline", queue_size=10, announce_status=False) as bus:
        for i in range(15):
            assert bus.publish("calls/x", {"n": i})
        assert bus.queued == 10 and bus.dropped == 5
        assert not bus.connected
        assert await bus.flush(timeout=0.2) is False
        assert bus.status()["ok"] is False and bus.status()["dropped"] == 5


async def test_publish_rejects_non_object_payloads():
    async with EmbeddedBroker() as broker:
        async with EventBus(broker.url, "hotline", announce_status=False) as bus:
            with pytest.raises(TypeError):
                bus.publish("x", ["not", "an", "object"])  # type: ignore[arg-type]
            assert await bus.publish("x", {"ok": True})      # awaiting publish is allowed and returns at once


async def test_bad_topics_are_refused_at_publish_time():
    async with EmbeddedBroker() as broker:
        async with EventBus(broker.url, "hotline", announce_status=False) as bus:
            for suffix in ("agents/+/state", "calls/#", "", "a//b"):
                with pytest.raises(ValueError):
                    bus.publish(suffix, {"x": 1})
            with pytest.raises(ValueError):
                bus.publish("x", {"x": 1}, qos=3)
            assert bus.queued == 0
            bus.publish("calls/ok", {"x": 1})
            assert await bus.flush()
            assert bus.published >= 1 and bus.dropped == 0
