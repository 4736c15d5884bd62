"""/reports in a real headless Chromium: log in, pick a range and a queue, see the charts drawn, download the
XLSX; the downloaded workbook holds the native Excel charts and the figures."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.async_api import async_playwright

from hotline.http import HttpServer
from tests.reports.conftest import DAY
from tests.reports.helpers import reports_app

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOT = Path(os.environ["HOTLINE_REPORTS_SCREENSHOT"]) if os.environ.get("HOTLINE_REPORTS_SCREENSHOT") else None

# a canvas is drawn when some pixel is not transparent
DRAWN = """canvas => { const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true; return false; }"""


@pytest.mark.chromium
async def test_reports_page_draws_charts_and_downloads_the_xlsx(demo_db, demo_day, tmp_path):
    summary, _ = demo_day
    queue = max(summary["queues"], key=lambda q: summary["queues"][q]["reached_queue"])
    async with reports_app(f"sqlite+aiosqlite:///{demo_db}") as (app, _deps):
        server = HttpServer(app, "127.0.0.1", 0)
        async with asyncio.TaskGroup() as tasks:
            await server.start(tasks)
            try:
                async with async_playwright() as pw:
                    browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                    try:
                        page = await browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
                        errors: list[str] = []
                        page.on("pageerror", lambda exc: errors.append(str(exc)))
                        await page.goto(f"{server.url}/reports")
                        await page.fill("input[name=agent_id]", "9001")
                        await page.fill("input[name=pin]", "9001")
                        await page.click("#login button")
                        await page.wait_for_selector("#app:not([hidden])")
                        await page.select_option("#report", "interval")
                        await page.fill("#from", DAY)
                        await page.fill("#to", DAY)
                        await page.select_option("#queue", queue)
                        await page.select_option("#interval", "1h")
                        await page.click("#run")
                        await page.wait_for_function("document.querySelectorAll('#charts canvas').length >= 2")
                        await page.wait_for_timeout(300)          # ECharts' first frame is drawn on the next tick
                        drawn = await page.eval_on_selector_all("#charts canvas", f"cs => cs.map({DRAWN})")
                        assert drawn and all(drawn), drawn
                        kinds = await page.eval_on_selector_all("#charts .chart", "cs => cs.map(c => c.dataset.kind)")
                        assert kinds == ["bar", "line"]
                        rows = await page.eval_on_selector_all("#table tbody tr", "rs => rs.length")
                        assert rows == 24
                        offered = await page.eval_on_selector_all(
                            "#table tbody tr td:nth-child(2)", "cs => cs.map(c => Number(c.textContent))")
                        assert sum(offered) == summary["queues"][queue]["reached_queue"]
                        if SHOT is not None:
                            await page.screenshot(path=str(SHOT), full_page=False)

                        async with page.expect_download() as waiting:
                            await page.click("#xlsx")
                        download = await waiting.value
                        target = tmp_path / download.suggested_filename
                        await download.save_as(target)
                        assert errors == []
                    finally:
                        await browser.close()
            finally:
                await server.stop()
    assert target.name == "interval-20261124-20261125.xlsx"
    sheet = load_workbook(target).active
    assert len(sheet._charts) == 2
    assert f"queue {queue}" in sheet["A2"].value
    header = next(r for r in range(1, 10) if sheet.cell(r, 1).value == "时段 (interval)")
    offered = [sheet.cell(r, 2).value for r in range(header + 1, header + 25)]
    assert sum(offered) == summary["queues"][queue]["reached_queue"]
