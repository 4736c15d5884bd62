"""GET /api/reports/…: the same reports as JSON, CSV and XLSX, for supervisors, QA and admins only, with a
422 naming the reason for bad input."""
from __future__ import annotations

import io

import httpx
import pytest
from openpyxl import load_workbook

from migrations.runner import upgrade
from tests.reports.conftest import DAY
from tests.reports.helpers import AGENT, QA, SUPERVISOR, reports_app


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hotline")


async def test_reports_as_json_csv_and_xlsx(demo_db, demo_day):
    summary, _ = demo_day
    async with reports_app(f"sqlite+aiosqlite:///{demo_db}") as (app, _deps), client(app) as http:
        listing = (await http.get("/api/reports", headers=QA)).json()
        assert {"interval", "kpi", "agents", "agent-calls", "aht", "abandon", "extensions", "extensions-daily",
                "ivr"} == {r["name"] for r in listing["reports"]}
        got = await http.get("/api/reports/interval", headers=SUPERVISOR,
                             params={"from": DAY, "to": DAY, "interval": "1d"})
        assert got.status_code == 200, got.text
        row = got.json()["rows"][0]
        assert (row["offered"], row["answered"]) == (summary["reached_queue"], summary["answered"])
        csv = await http.get("/api/reports/agents", headers=SUPERVISOR,
                             params={"from": DAY, "to": DAY, "format": "csv"})
        assert csv.content.startswith("\ufeff".encode()) and "工号 (agent)" in csv.content.decode("utf-8-sig")
        xlsx = await http.get("/api/reports/abandon", headers=SUPERVISOR,
                              params={"from": DAY, "to": DAY, "format": "xlsx", "queue": "logistics"})
        assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        assert sheet["A1"].value.startswith("用户放弃率统计表")
        staffing = (await http.get("/api/reports/staffing", headers=SUPERVISOR,
                                   params={"from": DAY, "to": DAY, "interval": "1h"})).json()
        busy = [r for r in staffing["rows"] if r["offered"]]
        assert busy and all(r["agents_needed"] >= 1 for r in busy)
        assert set(staffing["rows"][0]) == {"interval", "offered", "aht_s", "service_level", "agents_logged_in",
                                            "agents_needed"}


async def test_who_may_read_reports(demo_db):
    async with reports_app(f"sqlite+aiosqlite:///{demo_db}") as (app, _deps), client(app) as http:
        params = {"from": DAY, "to": DAY}
        assert (await http.get("/api/reports/kpi", params=params)).status_code == 401
        refused = await http.get("/api/reports/kpi", params=params, headers=AGENT)
        assert refused.status_code == 403 and "may not read reports" in refused.json()["detail"]
        assert (await http.get("/api/reports/kpi", params=params, headers=QA)).status_code == 200


@pytest.mark.parametrize("params, reason", [
    ({"from": "2026-11-25", "to": "2026-11-24T08:00"}, "is not after"),
    ({"from": DAY, "to": DAY, "queue": "nosuch"}, "unknown queue 'nosuch'"),
    ({"from": DAY, "to": DAY, "agent": "4242"}, "unknown agent '4242'"),
    ({"from": "2025-01-01", "to": "2026-06-01", "interval": "15m"}, "at most a year"),
    ({"from": "yesterday", "to": DAY}, "is not a date"),
    ({"from": DAY, "to": DAY, "interval": "7m"}, "one of 15m, 30m, 1h, 1d"),
])
async def test_bad_input_is_422_with_the_reason(demo_db, params, reason):
    async with reports_app(f"sqlite+aiosqlite:///{demo_db}") as (app, _deps), client(app) as http:
        got = await http.get("/api/reports/interval", params=params, headers=SUPERVISOR)
        assert got.status_code == 422 and reason in got.json()["detail"], got.text
        assert (await http.get("/api/reports/nosuch", params={"from": DAY, "to": DAY},
                               headers=SUPERVISOR)).status_code == 422


async def test_an_empty_database_is_422(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    async with reports_app(url) as (app, deps), client(app) as http:
        await upgrade(deps.engine)
        got = await http.get("/api/reports/kpi", params={"from": DAY, "to": DAY}, headers=SUPERVISOR)
        assert got.status_code == 422 and "no call-detail records" in got.json()["detail"]
