"""The desktop's consult / swap / cancel / conference and send-to-IVR buttons, in headless Chromium, on the CTI's
simulator rig (tests/cti/rig.py: its dialplan stands in for an identity-check flow that answers "verified")."""
from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace

import pytest
from playwright.async_api import async_playwright, expect

from cti.agents import AGENT_REASONS
from cti.http import router as cti_router
from cti.records import DISPOSITIONS
from hotline.http import HttpServer, create_app
from tests.cti.rig import rig
from tests.web.conftest import ARGS, CHROMIUM
from web.http import DesktopOptions, WebDesk, build_router


class FanOut:
    """What the CTI publishes, handed to local listeners (the EventBus's in-process fan-out, without MQTT)."""

    def __init__(self):
        self.listeners = []

    def add_local_listener(self, listener):
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def publish(self, topic, payload, retain=False):
        for listener in self.listeners:
            listener(topic, {"v": 1, **payload})


class Tasks:
    create_task = staticmethod(asyncio.create_task)


@contextlib.asynccontextmanager
async def desk_on_rig(tmp_path, before_login=lambda r: None):
    """(rig, page of agent 1001 logged in and not-ready); 1002 is ready."""
    feed = FanOut()
    async with rig(tmp_path, publisher=feed) as r:
        cti = r.cti
        desk = WebDesk(auth=cti.auth, roster=cti.agents, calls=cti.model, announcements=cti.announcements,
                       queues=None, feed=feed,
                       options=DesktopOptions(dispositions=dict(DISPOSITIONS), not_ready_reasons=sorted(AGENT_REASONS),
                                              queues=[{"name": "presales", "caller_id": "4008001234"}],
                                              ivr_flows=["verify-id"]))
        server = HttpServer(create_app(SimpleNamespace(health=lambda: {}),
                                       [cti_router(cti), build_router(desk)]))
        await server.start(Tasks())
        try:
            await r.ready_agents("1002")
            before_login(r)
            await r.settle()
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                try:
                    page = await browser.new_page(viewport={"width": 1366, "height": 768})
                    page.errors = []
                    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
                    await page.goto(f"{server.url}/agent")
                    await page.fill("#login-id", "1001")
                    await page.fill("#login-pin", "1234")
                    await page.click("#login-submit")
                    await expect(page.locator("#state-chip")).to_have_attribute("data-state", "not-ready")
                    yield r, page
                finally:
                    await browser.close()
        finally:
            await server.stop()


@pytest.mark.chromium
async def test_consult_swap_conference_and_a_round_trip_through_the_ivr(tmp_path):
    async with desk_on_rig(tmp_path) as (r, page):
        cti = r.cti
        chip = page.locator("#state-chip")
        await page.click("#btn-ready")
        await expect(chip).to_have_attribute("data-state", "ready")

        caller = await r.call_in("1001", "13800138000")
        await expect(page.locator("#pop-ivr-path")).to_have_text("welcome → menu → presales")
        await expect(page.locator("#pop-ivr-collected")).to_contain_text("order_no=A20261123")
        await expect(chip).to_have_attribute("data-state", "talking")
        await r.settle()

        await page.select_option("#ivr-flow", "verify-id")
        await page.click("#btn-send-ivr")
        await expect(page.locator("#message")).to_contain_text("自助流程 verify-id 结果：verified")
        await expect(chip).to_have_attribute("data-state", "talking")
        await r.settle()

        await page.fill("#xfer-target", "1002")
        await page.click("#btn-consult")
        await expect(chip).to_have_attribute("data-state", "transferring")
        await r.wait_state("1002", "talking")
        await expect(page.locator("#btn-consult-complete")).to_be_enabled()
        await expect(page.locator("#btn-hold")).to_be_disabled()
        await page.click("#btn-consult-swap")
        await expect(page.locator("#message")).to_be_hidden()
        assert cti.commands.controls["1001"].talking_to == "customer"
        await page.click("#btn-conference")
        await expect(chip).to_have_attribute("data-state", "talking")
        assert cti.commands.controls["1001"].conference_room
        await expect(page.locator("#btn-consult-cancel")).to_be_disabled()
        caller.hang_up()
        assert page.errors == []


@pytest.mark.chromium
async def test_consult_cancel_brings_the_agent_back_to_the_caller(tmp_path):
    async with desk_on_rig(tmp_path) as (r, page):
        chip = page.locator("#state-chip")
        await page.click("#btn-ready")
        caller = await r.call_in("1001", "13800138000")
        await expect(chip).to_have_attribute("data-state", "talking")
        await r.settle()
        await page.fill("#xfer-target", "1002")
        await page.click("#btn-consult")
        await r.wait_state("1002", "talking")
        await expect(chip).to_have_attribute("data-state", "transferring")
        await page.click("#btn-consult-cancel")
        await expect(chip).to_have_attribute("data-state", "talking")
        await r.wait_state("1002", "wrap-up")
        await expect(page.locator("#btn-hold")).to_be_enabled()
        caller.hang_up()
        await expect(chip).to_have_attribute("data-state", "wrap-up")
        assert page.errors == []


@pytest.mark.chromium
async def test_an_unregistered_phone_keeps_the_agent_not_ready_and_dial_out_uses_the_queue_caller_id(tmp_path):
    unregister = lambda r: r.sim.phones["1001"].set_behaviour(registered=False)  # noqa: E731
    async with desk_on_rig(tmp_path, before_login=unregister) as (r, page):
        chip = page.locator("#state-chip")
        await expect(page.locator("#message")).to_contain_text("is not registered; the agent stays not-ready")
        await expect(page.locator("#phone")).to_contain_text("话机未注册")
        await expect(chip).to_contain_text("话机未注册")
        await page.click("#btn-ready")
        await expect(page.locator("#message")).to_contain_text("phone PJSIP/1001 is not registered")
        assert r.state("1001") == "not-ready"

        r.sim.phones["1001"].set_behaviour(registered=True)
        await r.settle()
        await page.reload()
        await expect(page.locator("#phone")).to_have_text("话机 ✓")
        await page.click("#btn-ready")
        await expect(chip).to_have_attribute("data-state", "ready")
        await page.fill("#dial-number", "13900139000")
        await page.select_option("#dial-queue", "presales")
        await page.click("#btn-dial")
        await expect(chip).to_have_attribute("data-state", "talking", timeout=10000)
        customer = next(c for c in r.sim.pbx.channels() if c.name.startswith("PJSIP/trunk") and not c.destroyed)
        assert customer.connected_num == "4008001234"          # what the customer sees
        await page.click("#btn-hangup")
        await expect(chip).to_have_attribute("data-state", "wrap-up")
        assert page.errors == []
