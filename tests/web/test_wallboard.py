"""The wallboard in headless Chromium against the real service and the simulator: queue figures equal
GET /api/queues/{name}/stats while calls flow, a supervisor barges in from an agent's card, the TV mode."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from pbxsim.participants import CallerScript
from tests.web.conftest import ARGS, CHROMIUM, command, rendering_fonts, token, until

PRESALES = ["wait 0.5", "press 1", "wait 1.2", "press 1"]
SHOTS = Path(os.environ["HOTLINE_SCREENSHOTS"]) if os.environ.get("HOTLINE_SCREENSHOTS") else None
SHOWN = ("waiting", "offered", "answered", "abandoned", "service_level", "asa_s", "aht_s", "abandon_rate")


async def board_row(page, queue: str) -> dict[str, str]:
    return await page.eval_on_selector(f'#queues tr[data-queue="{queue}"]', """row => Object.fromEntries(
        [...row.querySelectorAll('td')].map(td => [td.dataset.f, td.dataset.raw]))""")


async def numbers_agree(page, http, auth, queue: str) -> bool:
    api = (await http.get(f"/api/queues/{queue}/stats", headers=auth)).json()
    row = await board_row(page, queue)
    return all(row[f] == _js(api[f]) for f in SHOWN)


def _js(value) -> str:
    """How the page writes a JSON number back (String(x) in JavaScript)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@pytest.mark.chromium
async def test_wallboard_matches_the_queue_stats_and_a_supervisor_barges_in(center, http):
    cti = center.service.cti
    sup = await token(http, "9001")
    auth = {"Authorization": f"Bearer {sup}"}
    agent = await token(http, "1001")
    (await command(http, agent, "1001", "login", ready=True)).raise_for_status()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1366, "height": 768})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("dialog", lambda dialog: dialog.accept())
            await page.goto(f"{center.http_url}/wallboard")
            await page.fill("#login-id", "9001")
            await page.fill("#login-pin", "9001")
            await page.click("#login-submit")
            await expect(page.locator('#queues tr[data-queue="presales"]')).to_be_visible()
            await expect(page.locator('.tile[data-kpi="service_level"]')).to_be_visible()
            assert await numbers_agree(page, http, auth, "presales")

            callers = [await center.sim.place_call(CallerScript(f"1390000000{n}", dnid="4008001234", steps=PRESALES,
                                                                talk_time_s=30)) for n in range(3)]
            await until(lambda: cti.agents.get("1001").state.value == "talking", 20, "1001 talking")
            card = page.locator('.card[data-agent="1001"]')
            await expect(card).to_have_attribute("data-state", "talking")
            # while calls flow (one talking, two waiting): the board shows the ACD's own figures
            await until(lambda: numbers_agree(page, http, auth, "presales"), 5, "board = GET stats (waiting)")
            row = await board_row(page, "presales")
            assert int(row["waiting"]) >= 1 and int(row["offered"]) >= 1
            await expect(card.locator(".call")).to_contain_text("presales")
            await expect(card.locator(".call")).to_contain_text("****")           # the caller's number, masked

            await card.locator('button[data-cmd="barge"]').click()
            await expect(page.locator("#message")).to_contain_text("已执行强插")
            await until(lambda: any(c.app == "ChanSpy" and c.name.startswith("PJSIP/9001")
                                    for c in center.sim.pbx.channels() if not c.destroyed), 5, "9001's ChanSpy")
            if SHOTS:
                await page.screenshot(path=str(SHOTS / "wallboard.png"))

            await card.locator('button[data-cmd="force-hangup"]').click()           # 强拆 (confirmed)
            await until(lambda: cti.agents.get("1001").state.value != "talking", 10, "1001's call force-hung-up")
            for caller in callers[1:]:
                caller.channel.hangup() if caller.channel is not None else None

            async def abandoned() -> bool:
                stats = (await http.get("/api/queues/presales/stats", headers=auth)).json()
                return stats["abandoned"] >= 1
            await until(abandoned, 10, "the waiting callers' hang-ups counted as abandons")
            await until(lambda: numbers_agree(page, http, auth, "presales"), 5, "board = GET stats (after)")
            row = await board_row(page, "presales")
            assert int(row["abandoned"]) >= 1

            await card.locator('select[aria-label="强制状态"]').select_option("not-ready")
            await card.locator('button[data-cmd="force-state"]').click()
            await expect(card).to_have_attribute("data-state", "not-ready")
            await page.select_option("#ann-audience", "team")
            await page.fill("#ann-target", "A")
            await page.fill("#ann-text", "请注意：今天下午系统维护")
            await page.click("#ann-send")
            await expect(page.locator("#message")).to_contain_text("公告已发送给 4 位坐席")
            assert [a["text"] for a in await cti.announcements.unread("1003")] == ["请注意：今天下午系统维护"]
            await page.fill("#ann-text", "")
            await page.click("#ann-send")
            await expect(page.locator("#message")).to_contain_text("an announcement needs a text")
            # the day view: per hour the agents needed (Erlang C) next to those logged in, as GET staffing says
            day = await page.evaluate("new Date(Date.now()).toLocaleDateString('sv-SE', {timeZone: 'Asia/Shanghai'})")

            async def staffed() -> list[dict]:
                reply = await http.get(f"/api/reports/staffing?from={day}&to={day}&interval=1h", headers=auth)
                rows = reply.json().get("rows", []) if reply.status_code == 200 else []
                return [r for r in rows if r["offered"] or r["agents_logged_in"]]
            hours = await until(staffed, 20, "call-detail records of the day's calls")
            assert sum(r["offered"] for r in hours) >= 1 and all(r["agents_needed"] is not None for r in hours
                                                                if r["offered"])
            await page.evaluate("window.hotlineBoard.loadStaffing()")
            await expect(page.locator("#staffing-table tbody tr")).to_have_count(len(hours))
            needed = await page.locator("#staffing-table td.needed").all_inner_texts()
            assert needed == [str(r["agents_needed"]) if r["agents_needed"] is not None else "—" for r in hours]
            await page.select_option("#f-team", "B")
            await expect(card).to_be_hidden()
            await expect(page.locator('.card[data-agent="1004"]')).to_be_visible()
            assert errors == []
        finally:
            await browser.close()


@pytest.mark.chromium
async def test_tv_mode_reads_with_a_read_only_token_and_shows_no_controls(center, http):
    sup = await token(http, "9001")
    issued = (await http.post("/api/wallboard/tv-token", headers={"Authorization": f"Bearer {sup}"})).json()
    agent = await token(http, "1001")
    refused = await http.post("/api/wallboard/tv-token", headers={"Authorization": f"Bearer {agent}"})
    assert refused.status_code == 403
    # the TV token reads, but may not act
    tv_auth = {"Authorization": f"Bearer {issued['token']}"}
    assert (await http.get("/api/live/snapshot", headers=tv_auth)).status_code == 200
    assert (await http.post("/api/agents/1001/barge", headers=tv_auth)).status_code == 401
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1920, "height": 1080})
            await page.goto(f"{center.http_url}{issued['url']}")
            await expect(page.locator('#queues tr[data-queue="presales"]')).to_be_visible()
            await expect(page.locator("#login")).to_be_hidden()
            await expect(page.locator("#announce")).to_be_hidden()
            assert await page.locator(".card .actions").count() == 0
            await expect(page.locator("#conn")).to_have_class("conn up")
            # the Chinese heading is drawn with a CJK font of the font stack, not with boxes
            assert any("CJK" in f or "Han" in f or "YaHei" in f or "PingFang" in f
                       for f in await rendering_fonts(page, ".head h1")), await rendering_fonts(page, ".head h1")
            (await command(http, agent, "1001", "login")).raise_for_status()
            await expect(page.locator('.card[data-agent="1001"]')).to_have_attribute("data-state", "not-ready")

            bad = await browser.new_page()
            await bad.goto(f"{center.http_url}/wallboard?tv=1#token=tv.Zm9vOjE6Mg")
            await expect(bad.locator("#tv-error")).to_contain_text("invalid wallboard token")
        finally:
            await browser.close()
