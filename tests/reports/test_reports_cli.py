"""`hotline reports …` and `hotline db …` through the real command line: formats, files, one-line errors."""
from __future__ import annotations

import csv
import io

import pytest

from migrations.runner import head
from openpyxl import load_workbook
from openpyxl.chart import BarChart, PieChart

from tests.reports.conftest import DAY, db_env, hotline


def test_xlsx_holds_native_charts_and_the_figures(demo_day, demo_db, tmp_path):
    summary, _ = demo_day
    target = tmp_path / "agents.xlsx"
    done = hotline("reports", "agents", "--from", DAY, "--to", DAY, "--format", "xlsx", "-o", str(target),
                   env=db_env(demo_db))
    assert done.returncode == 0, done.stderr
    assert f"rows written to {target}" in done.stderr
    sheet = load_workbook(target).active
    kinds = sorted(type(chart).__name__ for chart in sheet._charts)
    assert kinds == ["BarChart", "PieChart"]
    assert all(isinstance(c, (BarChart, PieChart)) for c in sheet._charts)
    header = next(r for r in range(1, 10) if sheet.cell(r, 1).value == "工号 (agent)")
    assert sheet.cell(header, 1).font.bold and sheet.cell(header, 1).fill.fgColor.rgb.endswith("1F4E78")
    answered = [sheet.cell(r, 4).value for r in range(header + 1, sheet.max_row + 1) if sheet.cell(r, 1).value]
    assert sum(answered) == summary["answered"]
    occupancy = sheet.cell(header + 1, 13)
    assert occupancy.number_format == "0.0%"


def test_csv_has_a_bom_and_both_headings(demo_db):
    done = hotline("reports", "interval", "--from", DAY, "--to", DAY, "--interval", "30m", "--format", "csv",
                   "--queue", "presales", env=db_env(demo_db))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(done.stdout.lstrip("\ufeff"))))
    assert rows[0][:3] == ["时段 (interval)", "呼入排队 (offered)", "人工接听 (answered)"] and len(rows) == 49


def test_table_output(demo_db):
    done = hotline("reports", "kpi", "--from", DAY, "--to", DAY, env=db_env(demo_db))
    assert done.returncode == 0, done.stderr
    assert "人工应答率" in done.stdout and "≥ 85%" in done.stdout


@pytest.mark.parametrize("args, reason", [
    (["--from", "2026-11-25", "--to", "2026-11-24T08:00"], "--to (2026-11-24T08:00) is not after --from"),
    (["--from", DAY, "--to", DAY, "--queue", "nosuch"], "unknown queue 'nosuch'"),
    (["--from", DAY, "--to", DAY, "--agent", "4242"], "unknown agent '4242'"),
    (["--from", "2025-01-01", "--to", "2026-06-01", "--interval", "15m"], "at most a year"),
    (["--from", DAY, "--to", DAY, "--format", "xlsx"], "give -o FILE"),
])
def test_bad_input_is_one_line_and_exit_1(demo_db, args, reason):
    done = hotline("reports", "interval", *args, env=db_env(demo_db))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and reason in done.stderr, done.stderr


def test_empty_and_old_databases(tmp_path):
    env = db_env(tmp_path / "hotline.db")
    old = hotline("reports", "kpi", "--from", DAY, "--to", DAY, env=env)
    assert old.returncode == 1 and old.stderr.strip().endswith("run `hotline db upgrade`"), old.stderr
    upgraded = hotline("db", "upgrade", env=env)
    assert upgraded.returncode == 0 and f"-> {head()}" in upgraded.stdout
    empty = hotline("reports", "kpi", "--from", DAY, "--to", DAY, env=env)
    assert empty.returncode == 1 and empty.stderr.count("\n") == 1
    assert "no call-detail records" in empty.stderr
