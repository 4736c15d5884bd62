"""The real service and the PBX simulator in real time, HTTP on (hotline.liveday.live_center), for the pages' tests."""
from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from hotline.config import load_settings
from hotline.liveday import live_center

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
PINS = {"1001": "1234", "1002": "2345", "1003": "3456", "9001": "9001", "9101": "9101"}


@pytest.fixture
async def center(tmp_path):
    settings = load_settings(REPO / "config", env={})
    async with live_center(settings, data_dir=tmp_path / "data", sounds_dir=tmp_path / "sounds", prompt_seconds=0.1,
                           phone_defaults={"answer_after_s": 1.5}) as c:
        yield c


@pytest.fixture
async def http(center):
    async with httpx.AsyncClient(base_url=center.http_url, timeout=10) as client:
        yield client


async def token(http: httpx.AsyncClient, agent_id: str) -> str:
    response = await http.post("/api/auth/login", json={"agent_id": agent_id, "pin": PINS[agent_id]})
    response.raise_for_status()
    return response.json()["token"]


async def command(http: httpx.AsyncClient, tok: str, agent_id: str, name: str, **args) -> httpx.Response:
    return await http.post(f"/api/agents/{agent_id}/{name}", json=args, headers={"Authorization": f"Bearer {tok}"})


async def until(predicate, timeout: float = 10.0, what: str = "condition"):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def rendering_fonts(page, selector: str) -> list[str]:
    """The platform fonts Chromium really used to draw the text of `selector` (DevTools CSS domain)."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("DOM.enable")
    await cdp.send("CSS.enable")
    root = await cdp.send("DOM.getDocument")
    node = await cdp.send("DOM.querySelector", {"nodeId": root["root"]["nodeId"], "selector": selector})
    fonts = await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})
    return [f["familyName"] for f in fonts["fonts"]]
