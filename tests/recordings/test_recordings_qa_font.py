"""The QA page's Chinese is drawn in a CJK font, not as boxes: its real stylesheet in headless Chromium, the text
compared with what a glyph the fonts lack looks like (the "tofu" box); a screenshot of it is kept."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WEB = Path(__file__).resolve().parents[2] / "recordings" / "web"
SHOT_DIR = Path(os.environ["HOTLINE_TEST_SCREENSHOTS"]) if os.environ.get("HOTLINE_TEST_SCREENSHOTS") else None

DRAWN_LIKE_TOFU = """(text) => {
  const font = getComputedStyle(document.body).font;
  function pixels(s) {
    const c = document.createElement('canvas'); c.width = 200; c.height = 40;
    const g = c.getContext('2d'); g.font = font; g.fillText(s, 0, 30);
    return Array.from(g.getImageData(0, 0, 200, 40).data).join(',');
  }
  return [...text].filter(ch => ch.trim()).map(ch => pixels(ch) === pixels('\\u{10FFFD}'));
}"""


@pytest.mark.chromium
async def test_chinese_on_the_qa_page_is_not_drawn_as_boxes(tmp_path):
    css = (WEB / "qa.css").read_text(encoding="utf-8")
    title = "录音质检 · 服务态度评分 (江南云商客服中心)"
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page()
            await page.set_content(f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
                                   f'<style>{css}</style></head><body><h1>{title}</h1></body></html>')
            family = await page.evaluate("getComputedStyle(document.body).fontFamily")
            assert family.startswith('"Noto Sans CJK SC"') and family.endswith("sans-serif")
            boxes = await page.evaluate(DRAWN_LIKE_TOFU, "录音质检服务态度评分江南云商客服中心")
            assert await page.evaluate(DRAWN_LIKE_TOFU, "\U0010FFFC") == [True]    # the detector sees a box
            await page.screenshot(path=str((SHOT_DIR or tmp_path) / "qa-font.png"))
        finally:
            await browser.close()
    assert boxes and not any(boxes), boxes
