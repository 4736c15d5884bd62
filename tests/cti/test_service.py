"""The CTI inside `hotline serve`'s Service (component + HTTP router + the AMI link) against pbxsim."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pbxsim.participants import CallerScript
from pbxsim.simulator import Simulator

from hotline.config import load_settings
from hotline.service import Service
from tests.cti.rig import CONF, until

PROJECT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.mosquitto


async def test_cti_component_in_the_service(tmp_path, mqtt_url, topic_prefix):
    settings = load_settings(PROJECT / "config", env={})
    async with Simulator(CONF, agents_file=PROJECT / "config" / "agents.yaml", monitor_dir=tmp_path / "m",
                         phone_defaults={"answer_after_s": 0.05}) as sim:
        settings = settings.replace(
            ami={"port": sim.ami_port, "ping_interval": 1.0, "reconnect_max_delay": 0.5},
            http={"port": 0}, fastagi={"port": 0},
            database={"url": f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"},
            mqtt={"url": mqtt_url, "topic_prefix": topic_prefix},
            service={"data_dir": tmp_path / "data"})
        async with Service(settings, validate=False) as service:
            cti = service.cti
            await until(lambda: cti.resyncs >= 1, what="resync on connect")
            async with httpx.AsyncClient(base_url=service.http_url, auth=("1003", "3456")) as http:
                assert (await http.post("/api/agents/1003/login", json={"ready": True})).status_code == 200
                call = await sim.place_call(CallerScript("13812345678", dnid="1003", context="cti-test-inbound"))
                await until(lambda: cti.agents.get("1003").state.value == "talking", what="talking")
                agent = (await http.get("/api/agents/1003")).json()
                assert agent["state"] == "talking" and agent["queue"] == "presales"
                calls = (await http.get("/api/calls")).json()["calls"]
                assert calls[0]["linkedid"] == call.channel.linkedid
                health = (await http.get("/api/health")).json()
                assert health["checks"]["cti"]["calls"] == 1 and health["checks"]["ami"]["client"] == "cti"
                call.hang_up()
                await until(lambda: cti.agents.get("1003").state.value == "wrap-up", what="wrap-up")
