"""Item 12 on Mosquitto: contrib/mosquitto/acl with a password file, on our own mosquitto process (a free
port, a temp config); the service connects with the credentials in its MQTT URL."""
from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import time
import uuid
from pathlib import Path

import aiomqtt
import pytest

from hotline.bus import EventBus
from tests.hotline.test_serve import PROJECT_ROOT, free_port

pytestmark = pytest.mark.mosquitto


@pytest.fixture
def secured_mosquitto(tmp_path: Path):
    port = free_port()
    passwd = tmp_path / "passwd"
    for i, (user, password) in enumerate([("hotline-service", "svc-pw"), ("1001", "a1001"), ("1002", "a1002"),
                                          ("9001", "s9001")]):
        subprocess.run(["mosquitto_passwd", "-b", *(["-c"] if i == 0 else []), str(passwd), user, password],
                       check=True, capture_output=True)
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"per_listener_settings false\nallow_anonymous false\npassword_file {passwd}\n"
                    f"acl_file {PROJECT_ROOT / 'contrib' / 'mosquitto' / 'acl'}\nlistener {port} 127.0.0.1\n"
                    f"persistence false\nuser root\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _client(port, user=None, password=None):
    return aiomqtt.Client("127.0.0.1", port, username=user, password=password, identifier=f"t-{uuid.uuid4().hex[:8]}")


async def test_shipped_acl_on_mosquitto(secured_mosquitto):
    port = secured_mosquitto
    with pytest.raises(aiomqtt.MqttError):
        async with _client(port):
            pass
    got: list[tuple[str, dict]] = []
    async with EventBus(f"mqtt://hotline-service:svc-pw@127.0.0.1:{port}", "hotline", announce_status=False) as bus:
        assert await bus.wait_connected()
        bus.subscribe("agents/+/cmd", lambda suffix, payload: got.append((suffix, payload)))
        await asyncio.sleep(0.3)
        async with _client(port, "1001", "a1001") as agent:
            await agent.subscribe("hotline/#", qos=1)                # granted by Mosquitto, but filtered by the ACL
            bus.publish("agents/1002/state", {"state": "ready"}, retain=True)
            bus.publish("agents/1001/state", {"state": "not-ready"}, retain=True)
            await agent.publish("hotline/agents/1002/cmd", json.dumps({"id": "x", "command": "logout"}), qos=1)
            await agent.publish("hotline/service/status", b'{"state": "offline"}', qos=1, retain=True)
            await agent.publish("hotline/agents/1001/cmd", json.dumps({"id": "y", "command": "ready"}), qos=1)
            seen = []
            async with asyncio.timeout(5):
                async for message in agent.messages:
                    seen.append(message.topic.value)
                    if message.topic.value == "hotline/agents/1001/state":
                        break
            await asyncio.sleep(0.3)
        assert "hotline/agents/1002/state" not in seen               # another agent's state is not readable
        assert got == [("agents/1001/cmd", {"id": "y", "command": "ready"})]   # only its own command arrived
        async with _client(port, "9001", "s9001") as sup:
            await sup.subscribe("hotline/agents/+/state", qos=1)
            async with asyncio.timeout(5):
                topics = set()
                async for message in sup.messages:
                    topics.add(message.topic.value)
                    if len(topics) == 2:
                        break
        assert topics == {"hotline/agents/1001/state", "hotline/agents/1002/state"}
