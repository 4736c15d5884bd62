"""The agent desktop in headless Chromium against the real service and the PBX simulator: a caller goes through
the real IVR flow (Mandarin, presales) and the ACD to agent 1001, who works the call from the page."""
from __future__ import annotations

import contextlib
import os
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import async_playwright, expect

from sqlalchemy import select

from pbxsim.participants import CallerScript
from recordings.models import Recording
from tests.web.conftest import ARGS, CHROMIUM, command, token, until

CALLER = "13800138000"
SHOTS = Path(os.environ["HOTLINE_SCREENSHOTS"]) if os.environ.get("HOTLINE_SCREENSHOTS") else None
# through flows/hotline.yaml: 1 = 普通话 at the language menu, then 1 = 售前 at the main menu
MANDARIN_PRESALES = ["wait 0.5", "press 1", "wait 1.2", "press 1"]


def caller_channel(center, number: str):
    return next(c for c in center.sim.pbx.channels() if not c.destroyed and c.caller_num == number
                and c.name.startswith("PJSIP/trunk"))


@contextlib.asynccontextmanager
async def chromium():
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def open_desk(browser, url: str, agent_id: str, pin: str):
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{url}/agent")
    await page.fill("#login-id", agent_id)
    await page.fill("#login-pin", pin)
    await page.click("#login-submit")
    await expect(page.locator("#app")).to_be_visible()
    await expect(page.locator("#state-chip")).to_have_attribute("data-state", "not-ready")
    return page, errors


@pytest.mark.chromium
async def test_agent_takes_a_call_from_offer_to_wrap_up_and_sees_it_in_the_next_pop(center, http, tmp_path):
    cti = center.service.cti
    colleague = await token(http, "1002")
    async with chromium() as browser:
        page, errors = await open_desk(browser, center.http_url, "1001", "1234")
        await page.click("#btn-ready")
        await expect(page.locator("#state-chip")).to_have_attribute("data-state", "ready")
        await expect(page.locator("#btn-hold")).to_be_disabled()

        await center.sim.place_call(CallerScript(CALLER, dnid="4008001234", steps=MANDARIN_PRESALES))
        await until(lambda: cti.agents.get("1001").state.value == "ringing", 20, "1001 ringing")
        rang_at = time.monotonic()
        await expect(page.locator("#offer")).to_be_visible(timeout=1000)
        offer_seen = time.monotonic() - rang_at
        await expect(page.locator("#offer-queue")).to_have_text("presales")
        await expect(page.locator("#pop-ivr-language")).to_have_text("zh-CN")
        await expect(page.locator("#pop-ivr-choices")).to_have_text("choose_language:1 → main_menu:1")
        assert "presales_queue" in await page.inner_text("#pop-ivr-path")
        assert offer_seen < 1.0
        assert await page.evaluate("window.hotlineDesk.beeps") >= 1

        await expect(page.locator("#state-chip")).to_have_attribute("data-state", "talking", timeout=5000)
        await page.click("#btn-hold")
        await expect(page.locator("#state-chip")).to_have_attribute("data-state", "on-hold")
        await until(lambda: caller_channel(center, CALLER).moh_class is not None, 5, "music on hold for the caller")
        await expect(page.locator("#btn-hold")).to_be_disabled()
        await page.click("#btn-unhold")
        await expect(page.locator("#state-chip")).to_have_attribute("data-state", "talking")
        await until(lambda: caller_channel(center, CALLER).moh_class is None, 5, "music stops")

        # a busy transfer target: a clear message, nothing else changes
        await page.fill("#xfer-target", "1003")
        await page.click("#btn-transfer")
        await expect(page.locator("#message")).to_contain_text("transfer target agent 1003 is logged-out")
        assert cti.agents.get("1001").state.value == "talking"
        # an illegal command (the page's buttons would not offer it): the server's refusal is shown
        await page.evaluate("window.hotlineDesk.command('unhold')")
        await expect(page.locator("#message")).to_contain_text("'unhold' needs on-hold")

        (await command(http, colleague, "1002", "login", ready=True)).raise_for_status()
        center.sim.phones["1002"].set_behaviour(talk_time_s=1.0)
        await page.fill("#xfer-target", "1002")
        await page.click("#btn-transfer")
        await expect(page.locator("#state-chip")).to_have_attribute("data-state", "wrap-up")
        await until(lambda: cti.agents.get("1002").state.value in ("talking", "wrap-up"), 10, "1002 takes the call")
        await expect(page.locator("#wrapup")).to_be_visible()
        await expect(page.locator("#wrapup-countdown")).to_contain_text("整理剩余")
        await page.click("#btn-end-wrapup")                  # not before the service summary is saved
        await expect(page.locator("#message")).to_contain_text("请先选择并保存服务小结分类")
        assert cti.agents.get("1001").state.value == "wrap-up"
        await page.select_option("#dispo", "complaint")
        await page.fill("#notes", "客户要求退款，已登记")
        await page.click("#btn-save-dispo")
        await expect(page.locator("#dispo-status")).to_contain_text("已保存：投诉")
        first_call = cti.agents.get("1001").linkedid
        async with center.service.deps.sessions() as session:     # the wrap-up on 1001's recording too
            tags = [r.tags for r in (await session.scalars(select(Recording).where(
                Recording.linkedid == first_call, Recording.agent_id == "1001"))).all()]
        assert tags and all("wrapup:complaint" in t and "notes:客户要求退款，已登记" in t for t in tags), tags
        if SHOTS:
            await page.screenshot(path=str(SHOTS / "agent-desktop.png"))
        await page.click("#btn-end-wrapup")
        await expect(page.locator("#state-chip")).to_have_attribute("data-state", "ready")

        # the same customer calls again: 1001 (1002 is in wrap-up) sees the first call in the pop's history
        await until(lambda: cti.agents.get("1002").state.value != "talking", 15, "the first call ends")
        await center.sim.place_call(CallerScript(CALLER, dnid="4008001234", steps=MANDARIN_PRESALES))
        await expect(page.locator("#offer")).to_be_visible(timeout=20000)
        # the first call has two legs (1001, then 1002 after the transfer); 1001's carries the wrap-up
        row = page.locator("#pop-history tbody tr", has=page.locator(".dispo", has_text="投诉"))
        await expect(row).to_have_count(1)
        await expect(row.locator("td").nth(1)).to_contain_text("1001")
        await expect(row.locator(".notes")).to_have_text("客户要求退款，已登记")
        await expect(page.locator("#pop-repeat")).to_contain_text("重复来电：近 7 天")
        await page.screenshot(path=str(tmp_path / "agent.png"))
        assert errors == []


@pytest.mark.chromium
async def test_desktop_survives_reload_reconnects_after_a_drop_and_reports_an_expired_token(center, http):
    cti = center.service.cti
    supervisor = await token(http, "9001")
    async with chromium() as browser:
        page, errors = await open_desk(browser, center.http_url, "1001", "1234")
        await page.reload()                                   # the session survives a reload
        await expect(page.locator("#app")).to_be_visible()
        await expect(page.locator("#state-chip")).to_have_attribute("data-state", "not-ready")

        # the WebSocket drops; meanwhile the supervisor makes 1001 ready; the page reconnects and resyncs
        await page.evaluate("window.hotlineDesk.socket.drop()")
        (await command(http, supervisor, "1001", "force-state", state="ready")).raise_for_status()
        await expect(page.locator("#state-chip")).to_have_attribute("data-state", "ready", timeout=10000)
        await expect(page.locator("#stale")).to_be_hidden()

        # an announcement shows as a banner until acknowledged
        response = await http.post("/api/supervisor/announcements", headers={"Authorization": f"Bearer {supervisor}"},
                                   json={"text": "今天下午三点开会", "audience": {"agents": ["1001"]}})
        response.raise_for_status()
        await expect(page.locator("#announcement-text")).to_have_text("今天下午三点开会")
        await page.click("#btn-ack")
        await expect(page.locator("#announcement")).to_be_hidden()
        assert await cti.announcements.unread("1001") == []

        # an expired token: the page says so and asks for a new login
        ttl, cti.auth.ttl = cti.auth.ttl, -5
        try:
            expired = (await cti.auth.login("1001", "1234"))["token"]
        finally:
            cti.auth.ttl = ttl
        await page.evaluate(f"sessionStorage.setItem('hotline.token', '{expired}')")
        await page.reload()
        await expect(page.locator("#login-error")).to_contain_text("token expired")
        await expect(page.locator("#app")).to_be_hidden()
        assert errors == []


@pytest.mark.chromium
async def test_times_are_shown_in_the_call_centers_zone_whatever_the_browsers(center, http):
    """A desk opened on a computer set to New York: an announcement's time reads as in Shanghai ([service]
    time_zone), also after a reload, when the unread announcement comes back from the database."""
    supervisor = await token(http, "9001")
    async with chromium() as browser:
        context = await browser.new_context(timezone_id="America/New_York", viewport={"width": 1366, "height": 768})
        page = await context.new_page()
        await page.goto(f"{center.http_url}/agent")
        await page.fill("#login-id", "1001")
        await page.fill("#login-pin", "1234")
        await page.click("#login-submit")
        await expect(page.locator("#app")).to_be_visible()
        sent = (await http.post("/api/supervisor/announcements", headers={"Authorization": f"Bearer {supervisor}"},
                                json={"text": "交接班", "audience": {"agents": ["1001"]}})).json()["announcement"]
        at = datetime.fromisoformat(sent["at"]).astimezone(ZoneInfo("Asia/Shanghai"))
        shown = f"{at.year}/{at.month}/{at.day} {at:%H:%M:%S}"
        await expect(page.locator("#announcement-by")).to_have_text(f"— 9001 {shown}")
        await page.reload()                                      # the unread announcement, read back from the database
        await expect(page.locator("#announcement-text")).to_have_text("交接班", timeout=10000)
        await expect(page.locator("#announcement-by")).to_have_text(f"— 9001 {shown}")
        await context.close()
