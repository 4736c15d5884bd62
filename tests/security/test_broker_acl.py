"""Item 12: the embedded broker authenticates every client and applies the agents' ACL; no PIN in a
payload; secrets never reach the log. Through `hotline serve` and an EmbeddedBroker with the CTI on it."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid

import aiomqtt
import pytest

from cti.mqtt import MqttCommands
from hotline.bus import EmbeddedBroker, EventBus
from hotline.bus.access import BrokerAccess
from hotline.config import parse_mqtt_url
from hotline.logsafe import SafeLogFilter
from tests.cti.rig import rig, until
from tests.security.serve import serving, wait_for

BOMB = b"[" * 1000 + b"]" * 1000


def _client(url: str, user: str | None = None, password: str | None = None) -> aiomqtt.Client:
    host, port, *_ = parse_mqtt_url(url)
    return aiomqtt.Client(host, port, username=user, password=password, identifier=f"t-{uuid.uuid4().hex[:8]}")


async def _refused(url: str, user: str | None = None, password: str | None = None) -> bool:
    try:
        async with _client(url, user, password):
            return False
    except aiomqtt.MqttError:
        return True


def test_serve_embedded_broker_refuses_anonymous_clients(tmp_path):
    with serving(tmp_path) as served:
        match = wait_for(lambda: "embedded MQTT broker listening on" in served.log_text() and served.log_text(),
                         what="broker")
        url = match.split("embedded MQTT broker listening on ")[1].split()[0]
        assert asyncio.run(_refused(url))                              # anonymous
        assert asyncio.run(_refused(url, "hotline-service", "guess"))  # the service account needs its password
        assert asyncio.run(_refused(url, "1001", "0000"))
        assert not asyncio.run(_refused(url, "1001", "1234"))         # an agent with their own PIN gets in
        assert served.alive()
        log = served.log_text()
        assert "anonymous connection from" in log
        assert "hotline-service:" not in log or "hotline-service:***@" in log   # its password is never logged
        assert "hotline-service:***@" in served.banner


@contextlib.asynccontextmanager
async def cti_on_embedded_broker(tmp_path):
    """The CTI (its agents' commands over MQTT) on an EmbeddedBroker that checks the CTI's credentials."""
    access = BrokerAccess("hotline")
    async with EmbeddedBroker(access=access) as broker:
        async with EventBus(broker.url, "hotline", announce_status=False) as bus:
            assert await bus.wait_connected()
            async with rig(tmp_path, publisher=bus) as r:
                access.agents = r.cti.auth
                MqttCommands(r.cti, bus).register()
                yield broker, bus, r


async def test_agents_acl_on_the_embedded_broker(tmp_path, caplog):
    async with cti_on_embedded_broker(tmp_path) as (broker, bus, r):
        token = (await r.cti.auth.login("1001", "1234"))["token"]
        sup_token = (await r.cti.auth.login("9001", "9001"))["token"]
        assert await _refused(broker.public_url)
        assert await _refused(broker.public_url, "1001", token[:-2] + "xx")
        assert await _refused(broker.public_url, "1002", token)       # 1001's token is not 1002's
        async with _client(broker.public_url, "1001", token) as agent:
            # its own topics only
            await agent.subscribe("hotline/agents/1001/#", qos=1)
            granted = await agent.subscribe("hotline/#", qos=1)
            assert [getattr(code, "value", code) for code in granted] == [128]     # refused
            await agent.publish("hotline/agents/1001/cmd", json.dumps(
                {"id": "a", "command": "login", "token": token}), qos=1)
            # another agent's command, a fake state, a fake service status: dropped by the broker
            await agent.publish("hotline/agents/1002/cmd", json.dumps(
                {"id": "b", "command": "logout", "token": sup_token}), qos=1)
            await agent.publish("hotline/agents/1001/state", b'{"state": "ready"}', qos=1, retain=True)
            await agent.publish("hotline/service/status", b'{"state": "offline"}', qos=1, retain=True)
            # a hostile payload on its own cmd: refused unparsed, the bus goes on
            await agent.publish("hotline/agents/1001/cmd", BOMB, qos=1)
            await agent.publish("hotline/agents/1001/cmd", json.dumps(
                {"id": "c", "command": "ready", "auth": {"agent_id": "1001", "pin": "1234"}}), qos=1)
            replies = {}
            async with asyncio.timeout(10):
                async for message in agent.messages:
                    if message.topic.value.endswith("/cmd/reply"):
                        reply = json.loads(message.payload)
                        replies[reply["id"]] = reply
                        if len(replies) == 2:
                            break
        assert replies["a"]["ok"] is True
        assert replies["c"]["status"] == 401 and "PINs are not accepted" in replies["c"]["error"]
        assert r.state("1001") == "not-ready" and r.state("1002") == "logged-out"   # 1002's never came
        # the supervisor reads every agent and may command them
        async with _client(broker.public_url, "9001", sup_token) as sup:
            await sup.subscribe("hotline/#", qos=1)
            await sup.publish("hotline/agents/1001/cmd", json.dumps(
                {"id": "s", "command": "force-state", "token": sup_token,
                 "args": {"state": "logged-out"}}), qos=1)
            await until(lambda: r.state("1001") == "logged-out", what="forced state")
        # with the PIN as the CONNECT password (not a payload): throttled like every PIN check
        for _ in range(5):
            assert await _refused(broker.public_url, "1004", "0000")
        assert await _refused(broker.public_url, "1004", "4567")      # locked now
        assert r.cti.auth.throttle.locked_for("1004", None) > 0
    assert bus.status()["refused"] >= 1
    assert any("may not publish hotline/agents/1002/cmd" in rec.getMessage() for rec in caplog.records)


async def test_a_packet_over_the_limit_closes_its_connection_before_it_is_read(tmp_path, caplog):
    """An authenticated agent announcing a 4 MiB PUBLISH: the embedded broker closes that connection before
    reading the payload (amqtt would read all of it, up to the protocol's 256 MiB); everyone else goes on."""
    async with cti_on_embedded_broker(tmp_path) as (broker, bus, r):
        token = (await r.cti.auth.login("1001", "1234"))["token"]
        with pytest.raises(aiomqtt.MqttError):          # the broker hung up on it
            async with _client(broker.public_url, "1001", token) as agent:
                await agent.publish("hotline/agents/1001/cmd", b"x" * (4 * 1024 * 1024), qos=0)
                await agent.publish("hotline/agents/1001/cmd", b"{}", qos=1)
        assert any("over 262144" in rec.getMessage() for rec in caplog.records)
        async with _client(broker.public_url, "1001", token) as again:        # the broker is fine
            await again.publish("hotline/agents/1001/cmd", json.dumps(
                {"id": "a", "command": "login", "token": token}), qos=1)
            await until(lambda: r.state("1001") == "not-ready", what="the next client's command")
        assert bus.status()["ok"]


def test_secrets_are_masked_and_lines_bounded_at_every_level():
    record = logging.LogRecord("amqtt.mqtt.protocol", logging.DEBUG, __file__, 1,
                               "PublishPacket(data=%r) url=%s agent=%s", (
                                   b'{"id":"a","token":"eyJhbGciOi","auth":{"pin":"1234"}}',
                                   "mqtt://hotline-service:s3cret@127.0.0.1:1", "x" * (10 * 1024 * 1024)), None)
    SafeLogFilter().filter(record)
    line = record.getMessage()
    assert "eyJhbGciOi" not in line and "1234" not in line and "s3cret" not in line
    assert len(line) < 2100 and "more characters" in line
