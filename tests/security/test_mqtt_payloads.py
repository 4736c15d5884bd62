"""Item 1: a hostile MQTT payload never takes `hotline serve` down; payloads are bounded before parsing."""
from __future__ import annotations

import asyncio
import json
import uuid

import aiomqtt
import pytest

from hotline.bus.payload import PayloadError, decode_object, json_depth_exceeds
from hotline.config import parse_mqtt_url
from tests.security.serve import serving, wait_for

BOMB = b"[" * 1000 + b"]" * 1000


def test_depth_is_checked_without_recursion():
    assert json_depth_exceeds(b"[" * 100_000, 16)
    assert not json_depth_exceeds(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[["}', 4)   # brackets inside strings do not count
    with pytest.raises(PayloadError, match="deeper"):
        decode_object(BOMB)
    with pytest.raises(PayloadError, match="over the"):
        decode_object(b" " * 70_000)
    assert decode_object(b'{"id": "x", "args": {"a": [1, {"b": 2}]}}')["args"]["a"][1] == {"b": 2}


async def _publish(url: str, topic: str, payload: bytes) -> None:
    host, port, *_ = parse_mqtt_url(url)
    async with aiomqtt.Client(host, port, identifier=f"attacker-{uuid.uuid4().hex[:8]}") as client:
        await client.publish(topic, payload, qos=1)


async def _command_reply(url: str, prefix: str) -> dict:
    host, port, *_ = parse_mqtt_url(url)
    async with aiomqtt.Client(host, port, identifier=f"agent-{uuid.uuid4().hex[:8]}") as client:
        await client.subscribe(f"{prefix}/agents/1001/cmd/reply", qos=1)
        await client.publish(f"{prefix}/agents/1001/cmd", json.dumps({"id": "after", "command": "ready"}), qos=1)
        async with asyncio.timeout(10):
            async for message in client.messages:
                return json.loads(message.payload)
    raise AssertionError("no reply")


@pytest.mark.mosquitto
def test_bracket_bomb_on_agent_cmd_does_not_kill_serve(tmp_path, mqtt_url, topic_prefix):
    with serving(tmp_path, HOTLINE_MQTT_URL=mqtt_url, HOTLINE_MQTT_TOPIC_PREFIX=topic_prefix) as served:
        wait_for(lambda: "MQTT connected" in served.log_text() or served.health() in (200, 503), what="start")
        asyncio.run(asyncio.sleep(0.5))
        for payload in (BOMB, b"{" * 5000, b"\xff\xfe", b"x" * 200_000, b"[]", b"null"):
            asyncio.run(_publish(mqtt_url, f"{topic_prefix}/agents/1001/cmd", payload))
        reply = asyncio.run(_command_reply(mqtt_url, topic_prefix))
        assert served.alive(), served.log_text()
        assert reply["id"] == "after" and reply["ok"] is False and reply["status"] == 401
        assert served.health() in (200, 503)          # 503 only because no PBX is connected
        log = served.log_text()
        assert "Traceback" not in log and "RecursionError" not in log
        assert "nested deeper than" in log
