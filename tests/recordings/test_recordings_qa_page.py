"""The QA page in a real headless Chromium: log in, search, play (the audio really loads), seek, next, evaluate."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.async_api import async_playwright
from sqlalchemy import select

from recordings.models import AuditLog, Evaluation, Recording
from recording_helpers import add_recording

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
DAY = datetime(2026, 11, 1, tzinfo=timezone.utc)
SHOT_DIR = Path(os.environ["HOTLINE_TEST_SCREENSHOTS"]) if os.environ.get("HOTLINE_TEST_SCREENSHOTS") else None


@pytest.mark.chromium
async def test_qa_page_searches_plays_seeks_and_saves_an_evaluation(ctx, served, tmp_path):
    ids = [(await add_recording(ctx, started_at=DAY + timedelta(hours=1, minutes=n), agent_id="1001", seconds=3.0,
                                caller=f"1380000000{n}")).id for n in range(3)]
    await add_recording(ctx, started_at=DAY + timedelta(hours=1), agent_id="1002", seconds=1.0)
    await add_recording(ctx, started_at=DAY + timedelta(hours=12), agent_id="1001", seconds=1.0)  # 20:00 local: outside
    async with ctx.sessions() as session:  # the caller's survey rating (the IVR's survey node copies it here)
        (await session.get(Recording, ids[0])).satisfaction = 4
        await session.commit()

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(f"{served}/qa")
            await page.fill("#login-id", "9101")
            await page.fill("#login-pin", "9101")
            await page.click("#login-submit")
            await page.wait_for_selector("#app:not([hidden])")
            await page.wait_for_selector("#scorecard tbody tr", state="attached")

            await page.fill("#f-agent", "1001")
            await page.fill("#f-from", "2026-11-01T08:00")
            await page.fill("#f-to", "2026-11-01T18:00")
            await page.select_option("#f-order", "asc")
            await page.click("#search-submit")
            await page.wait_for_function("document.querySelectorAll('#results tbody tr').length === 3")
            shown = await page.eval_on_selector_all("#results tbody tr", "rows => rows.map(r => Number(r.dataset.id))")
            assert shown == ids
            assert "2026-11-01 09:00:00" in await page.inner_text("#results tbody tr:first-child")
            ratings = await page.eval_on_selector_all("#results tbody tr td:nth-child(9)", "cells => cells.map(c => c.textContent)")
            assert ratings == ["4", "", ""]

            await page.click("#results tbody tr:first-child")
            await page.wait_for_function(
                "(() => { const p = document.getElementById('player'); return p.readyState >= 1 && p.duration > 0; })()")
            duration = await page.evaluate("document.getElementById('player').duration")
            assert abs(duration - 3.0) < 0.1
            position = await page.evaluate("""() => new Promise((resolve, reject) => {
                const p = document.getElementById('player');
                p.addEventListener('seeked', () => resolve(p.currentTime), {once: true});
                p.addEventListener('error', () => reject(new Error('media error ' + (p.error && p.error.code))), {once: true});
                p.currentTime = 2.25;
            })""")
            assert abs(position - 2.25) < 0.05

            await page.click("#next-rec")
            await page.wait_for_function(
                f"document.getElementById('player').src.endsWith('/api/recordings/{ids[1]}/audio')"
                " && document.getElementById('player').readyState >= 1")
            await page.click("#prev-rec")
            await page.wait_for_function(f"document.getElementById('player').src.endsWith('/api/recordings/{ids[0]}/audio')")
            await page.click("#next-rec")
            await page.wait_for_function(f"document.getElementById('player').src.endsWith('/api/recordings/{ids[1]}/audio')")

            await page.fill("#score-no_forbidden", "0")
            await page.fill("#score-closing", "5")
            await page.fill("#eval-comments", "结束语不完整")
            await page.click("#eval-submit")
            await page.wait_for_function("document.getElementById('eval-status').textContent.includes('已保存')")
            await page.wait_for_selector("#eval-list li")
            await page.screenshot(path=str(SHOT_DIR / "qa-page.png") if SHOT_DIR else str(tmp_path / "qa-page.png"), full_page=True)
            assert errors == []
        finally:
            await browser.close()

    async with ctx.sessions() as session:
        [evaluation] = (await session.scalars(select(Evaluation))).all()
        replays = (await session.scalars(select(AuditLog).where(AuditLog.action == "replay"))).all()
    assert (evaluation.recording_id, evaluation.reviewer_id, evaluation.agent_id) == (ids[1], "9101", "1001")
    assert evaluation.scores["no_forbidden"] == 0 and evaluation.scores["closing"] == 5
    # weights sum to 100; no_forbidden (20) scores 0 and closing (10) 5 of 10: (1000 - 200 - 50) / 100 = 7.5
    assert evaluation.total == 7.5 and evaluation.comments == "结束语不完整"
    assert {r.recording_id for r in replays} >= {ids[0], ids[1]} and {r.actor for r in replays} == {"9101"}
