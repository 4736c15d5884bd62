"""Service requests and the knowledge base on the pages, against the real service and the PBX simulator: a
caller complains, agent 1001 opens the complaint from the desktop (due in 48 h), the knowledge base suggests
the queue's answer and finds a Chinese article; a request left open past its due time escalates and shows on
the wallboard."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import kb
import pytest
from playwright.async_api import expect

from pbxsim.participants import CallerScript
from tests.web.conftest import command, token, until
from tests.web.test_agent_desktop import MANDARIN_PRESALES, chromium, open_desk

SHOTS = Path(os.environ["HOTLINE_SCREENSHOTS"]) if os.environ.get("HOTLINE_SCREENSHOTS") else None
CALLER = "13900001111"
SEED = Path(kb.__file__).parent / "seed" / "standard-answers.json"


@pytest.mark.chromium
async def test_a_complaint_from_the_desktop_its_deadline_and_the_knowledge_base(center, http):
    cti, service = center.service.cti, center.service
    sup = {"Authorization": f"Bearer {await token(http, '9001')}"}
    for article in json.loads(SEED.read_text(encoding="utf-8")):   # the standard answers, written, reviewed, published
        made = (await http.post("/api/kb/articles", json=article, headers=sup)).json()
        for step in ("submit", "approve", "publish"):
            (await http.post(f"/api/kb/articles/{made['id']}/{step}", headers=sup)).raise_for_status()
    draft = (await http.post("/api/kb/articles", headers=sup, json={"title": "内部：退款审批流程",
                                                                   "body": "财务每周二审批退款。"})).json()
    assert draft["status"] == "draft"

    async with chromium() as browser:
        page, errors = await open_desk(browser, center.http_url, "1001", "1234")
        await page.click("#btn-ready")
        await expect(page.locator("#state-chip")).to_have_attribute("data-state", "ready")
        await center.sim.place_call(CallerScript(CALLER, dnid="4008001234", steps=MANDARIN_PRESALES,
                                                 talk_time_s=60))
        await until(lambda: cti.agents.get("1001").state.value == "talking", 25, "1001 talking")
        linkedid = cti.agents.get("1001").linkedid

        # the knowledge base suggests the queue's answers for the call (the invoice article is tagged presales); search finds by keyword and by phrase
        await expect(page.locator("#kb-suggest")).to_contain_text("如何开具发票")
        await page.fill("#kb-query", "退款")
        await page.click("#kb-form button")
        await expect(page.locator("#kb-results")).to_contain_text("退款多久到账")
        await expect(page.locator("#kb-results")).not_to_contain_text("内部：退款审批流程")   # not approved
        await page.fill("#kb-query", "原路退回")
        await page.click("#kb-form button")
        await page.locator("#kb-results a", has_text="退款多久到账").click()
        await expect(page.locator("#kb-body")).to_contain_text("原路退回")

        # the caller complains: the agent opens a complaint from the call
        await page.select_option("#req-type", "complaint")
        await page.fill("#req-summary", "包裹破损，要求赔偿")
        await page.fill("#req-category", "物流")
        await page.click("#btn-create-request")
        await expect(page.locator("#req-status")).to_contain_text("已建立工单")
        rows = (await http.get("/api/requests", headers=sup)).json()["requests"]
        assert len(rows) == 1
        complaint = (await http.get(f"/api/requests/{rows[0]['id']}", headers=sup)).json()
        assert (complaint["type"], complaint["owner_id"], complaint["customer_number"]) == ("complaint", "1001", CALLER)
        assert {"kind": "call", "ref": linkedid} in complaint["links"]
        created, due = datetime.fromisoformat(complaint["created_at"]), datetime.fromisoformat(complaint["due_at"])
        assert due - created == timedelta(hours=48)
        await expect(page.locator(f'#req-list tr[data-id="{complaint["id"]}"]')).to_contain_text("包裹破损")
        if SHOTS:
            await page.screenshot(path=str(SHOTS / "agent-desktop-requests.png"))

        # a follow-up request due in two seconds is left open: it escalates and the wallboard shows it
        agent = {"Authorization": f"Bearer {await token(http, '1001')}"}
        soon = (datetime.fromisoformat(complaint["created_at"]).astimezone() + timedelta(seconds=2)).isoformat()
        due_soon = await http.post("/api/requests", headers=agent, json={
            "type": "enquiry", "summary": "发票未收到", "linkedid": linkedid, "due_at": soon})
        assert due_soon.status_code == 201, due_soon.text
        late = due_soon.json()["id"]
        board = await browser.new_page(viewport={"width": 1366, "height": 768})
        await board.goto(f"{center.http_url}/wallboard")
        await board.fill("#login-id", "9001")
        await board.fill("#login-pin", "9001")
        await board.click("#login-submit")
        await expect(board.locator("#requests")).to_be_visible()
        await until(lambda: service.requests.clock() >= datetime.fromisoformat(soon), 10, "the due time passes")
        changed = await service.requests.sweep_deadlines()
        assert {"id": late, "event": "overdue"} in changed and {"id": late, "event": "escalated"} in changed
        await expect(board.locator(f'#req-due tr[data-id="{late}"]')).to_contain_text("已超时")
        await expect(board.locator("#req-counts")).to_contain_text("已超时 1")
        await expect(page.locator(f'#req-list tr[data-id="{late}"]')).to_have_class("due-overdue")
        if SHOTS:
            await board.screenshot(path=str(SHOTS / "wallboard-requests.png"))
        assert errors == []
        (await command(http, await token(http, "1001"), "1001", "hangup")).raise_for_status()
