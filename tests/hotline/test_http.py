"""The HTTP API served by the running service (uvicorn inside the service's TaskGroup, port 0)."""
from __future__ import annotations

import fastapi
import httpx
import pytest

import hotline
from hotline.http import HttpServer, create_app
from hotline.service import Service


async def test_health_reports_each_part_and_503_while_ami_is_down(service_settings, db_url):
    settings = service_settings.replace(database={"url": db_url})
    async with Service(settings) as service:
        assert await service.bus.wait_connected()
        async with httpx.AsyncClient(base_url=service.http_url) as client:
            health = await client.get("/api/health")
            version = await client.get("/api/version")
        agi_port = service.fastagi_port
    assert health.status_code == 503
    body = health.json()
    assert body["status"] == "degraded"
    checks = body["checks"]
    assert set(checks) >= {"ami", "fastagi", "db", "mqtt"}
    assert checks["ami"]["ok"] is False and checks["ami"]["port"] == 1
    assert checks["fastagi"]["ok"] is True and checks["fastagi"]["port"] == agi_port > 0
    assert checks["db"] == {"ok": True, "dialect": db_url.split("+")[0]}
    assert checks["mqtt"]["ok"] is True
    assert version.json() == {"name": "hotline", "version": hotline.__version__}


@pytest.mark.mosquitto
async def test_service_uses_an_external_broker_when_configured(service_settings, mqtt_url, topic_prefix):
    settings = service_settings.replace(mqtt={"url": mqtt_url, "topic_prefix": topic_prefix})
    async with Service(settings) as service:
        assert service.broker is None and service.mqtt_url == mqtt_url
        assert await service.bus.wait_connected()
        async with httpx.AsyncClient(base_url=service.http_url) as client:
            checks = (await client.get("/api/health")).json()["checks"]
        assert checks["mqtt"]["ok"] is True and checks["mqtt"]["url"] == mqtt_url
    # leave no retained status behind on the shared broker
    import aiomqtt

    async with aiomqtt.Client("127.0.0.1", int(mqtt_url.rsplit(":", 1)[1])) as client:
        await client.publish(f"{topic_prefix}/service/status", b"", retain=True)


async def test_domain_routers_and_failing_checks(service_settings):
    async with Service(service_settings, http=False) as service:
        deps = service.deps
        router = fastapi.APIRouter(prefix="/api/demo")

        @router.get("/ping")
        async def ping() -> dict:
            return {"pong": True}

        def exploding_check() -> dict:
            raise RuntimeError("disk on fire")

        deps.health_checks["disk"] = exploding_check
        server = HttpServer(create_app(deps, [router]), "127.0.0.1", 0)
        await server.start(service.tasks)
        try:
            assert server.listening and server.port > 0
            async with httpx.AsyncClient(base_url=server.url) as client:
                assert (await client.get("/api/demo/ping")).json() == {"pong": True}
                health = (await client.get("/api/health")).json()
        finally:
            await server.stop()
    assert health["checks"]["disk"] == {"ok": False, "error": "RuntimeError: disk on fire"}


async def test_http_port_in_use_is_a_startup_error(service_settings):
    from hotline.service import StartupError

    async with Service(service_settings) as first:
        taken = first.http.port
        with pytest.raises(StartupError, match=f"HTTP cannot listen on 127.0.0.1:{taken}"):
            async with Service(service_settings.replace(http={"port": taken})):
                pass
