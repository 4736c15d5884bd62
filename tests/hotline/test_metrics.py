"""/metrics scraped from the running Service against pbxsim: the series carry the simulator's live state."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pbxsim.participants import CallerScript
from pbxsim.simulator import Simulator
from prometheus_client.parser import text_string_to_metric_families

from hotline.config import load_settings
from hotline.service import Service
from tests.cti.rig import CONF, until

PROJECT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.mosquitto


def scrape(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_metrics_follow_a_call(tmp_path, mqtt_url, topic_prefix):
    settings = load_settings(PROJECT / "config", env={})
    async with Simulator(CONF, agents_file=PROJECT / "config" / "agents.yaml", monitor_dir=tmp_path / "m",
                         phone_defaults={"answer_after_s": 0.05}) as sim:
        settings = settings.replace(
            ami={"port": sim.ami_port, "ping_interval": 1.0, "reconnect_max_delay": 0.5},
            http={"port": 0}, fastagi={"port": 0}, mqtt={"url": mqtt_url, "topic_prefix": topic_prefix},
            service={"data_dir": tmp_path / "data"})
        async with Service(settings, validate=False) as service:
            cti = service.cti
            await until(lambda: cti.resyncs >= 1, what="resync on connect")
            async with httpx.AsyncClient(base_url=service.http_url, auth=("1003", "3456")) as http:
                before = scrape((await http.get("/metrics")).text)
                assert before[("hotline_calls_in_progress", ())] == 0
                assert before[("hotline_agents", (("state", "logged-out"),))] == len(settings.agents)
                assert before[("hotline_ami_connected", ())] == 1
                assert before[("hotline_mqtt_connected", ())] == 1

                assert (await http.post("/api/agents/1003/login", json={"ready": True})).status_code == 200
                assert (await http.get("/api/agents/nobody")).status_code in (403, 404)
                call = await sim.place_call(CallerScript("13812345678", dnid="1003", context="cti-test-inbound"))
                await until(lambda: cti.agents.get("1003").state.value == "talking", what="talking")
                during = scrape((await http.get("/metrics")).text)
                call.hang_up()
                await until(lambda: cti.agents.get("1003").state.value == "wrap-up", what="wrap-up")
                await until(lambda: not cti.model.calls, what="call ended")
                recorder = service.recordings.recorder
                await until(lambda: recorder.written + recorder.failed == 1, what="the recording segment ended")
                after = scrape((await http.get("/metrics")).text)

            acd = service.acd
            assert during[("hotline_calls_in_progress", ())] == 1
            assert during[("hotline_agents", (("state", "talking"),))] == 1
            assert during[("hotline_agents", (("state", "logged-out"),))] == len(settings.agents) - 1
            assert during[("hotline_ami_events_total", ())] > before[("hotline_ami_events_total", ())]
            assert during[("hotline_http_requests_total", (("status", "200"),))] >= 2
            assert sum(v for (name, labels), v in during.items()
                       if name == "hotline_http_requests_total" and labels[0][1] in ("403", "404")) == 1
            for name in acd.queue_names():
                stats = acd.queue_stats(name)
                assert after[("hotline_queue_waiting", (("queue", name),))] == stats["waiting"] == 0
                assert after[("hotline_queue_longest_wait_seconds", (("queue", name),))] == stats["longest_wait_s"]
            assert after[("hotline_calls_in_progress", ())] == 0
            assert after[("hotline_agents", (("state", "wrap-up"),))] == 1
            assert after[("hotline_ami_reconnects_total", ())] == 0
            assert after[("hotline_fastagi_sessions", ())] == service.agi.active_sessions == 0
            assert after[("hotline_ivr_sessions", ())] == 0
            assert after[("hotline_recordings_written_total", ())] == recorder.written
            assert after[("hotline_recordings_failed_total", ())] == recorder.failed
            assert recorder.written + recorder.failed == 1          # the one answered call
            assert after[("hotline_mqtt_published_total", ())] > 0
            assert after[("hotline_mqtt_dropped_total", ())] == 0


def test_a_metrics_token_is_asked_for_when_configured():
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from hotline.metrics import LiveParts, mount_metrics

    app = FastAPI()
    mount_metrics(app, LiveParts(), token="s3cret-scrape-token-0123")
    client = TestClient(app)
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    scraped = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token-0123"})
    assert scraped.status_code == 200
    assert scrape(scraped.text)[("hotline_http_requests_total", (("status", "401"),))] == 2
