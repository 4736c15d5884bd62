"""`hotline requests …` and `hotline kb …` through the installed script: one line and exit 1 on bad input."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HOTLINE = str(Path(sys.executable).parent / "hotline")
CONFIG = Path(__file__).resolve().parents[2] / "config"


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    env["HOTLINE_SERVICE_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run([HOTLINE, *args, "--config", str(tmp_path / "config")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_requests_and_kb_from_the_command_line(tmp_path: Path):
    shutil.copytree(CONFIG, tmp_path / "config")
    assert run(tmp_path, "requests", "list").stderr.startswith("hotline: error: no database at")   # nothing created
    assert not (tmp_path / "hotline.db").exists()
    (tmp_path / "customers.csv").write_text("number,name\n13800138000,李先生\n", encoding="utf-8")
    assert run(tmp_path, "customers", "import", str(tmp_path / "customers.csv")).returncode == 0

    own = run(tmp_path, "requests", "create", "--as", "1001", "--type", "complaint", "--summary", "快递丢失",
              "--customer", "+86 138 0013 8000")
    assert (own.returncode, own.stderr) == (1, "hotline: error: agent 1001 opens a request from a call they took "
                                               "(give its linkedid)\n")
    made = run(tmp_path, "requests", "create", "--as", "9001", "--type", "complaint", "--summary", "快递丢失",
               "--customer", "+86 138 0013 8000", "--queue", "complaints")
    assert made.returncode == 0 and made.stdout.startswith("request #1 (投诉) opened for 13800138000"), made.stderr
    unknown = run(tmp_path, "requests", "create", "--as", "9001", "--type", "complaint", "--summary", "x",
                  "--customer", "13900000000")
    assert (unknown.returncode, unknown.stderr) == (1, "hotline: error: no customer with number '13900000000'\n")
    refused = run(tmp_path, "requests", "update", "1", "--as", "1004", "--status", "answered")
    assert (refused.returncode, refused.stderr) == (1, "hotline: error: no request 1\n")
    assert run(tmp_path, "requests", "update", "1", "--as", "9001", "--status", "answered", "--note", "已退款").returncode == 0
    shown = json.loads(run(tmp_path, "requests", "show", "1", "--json").stdout)
    assert [h["action"] for h in shown["history"]] == ["created", "updated"]
    assert shown["history"][1]["detail"] == {"changes": {"status": ["open", "answered"]}, "note": "已退款"}
    kpis = json.loads(run(tmp_path, "requests", "kpis", "--json").stdout)
    assert next(f for f in kpis["figures"] if f["name"] == "complaint_answered_48h")["value"] == 1.0
    backwards = run(tmp_path, "requests", "kpis", "--from", "2026-12-01", "--to", "2026-11-01")
    assert (backwards.returncode, backwards.stderr) == (1, "hotline: error: --to must be later than --from\n")

    articles = tmp_path / "kb.json"
    articles.write_text(json.dumps([{"title": "退款多久到账", "body": "原路退回，3到5个工作日到账。", "category": "售后/退换货"},
                                    {"title": "坏的"}], ensure_ascii=False), encoding="utf-8")
    bad = run(tmp_path, "kb", "import", str(articles), "--as", "9001")
    assert bad.returncode == 1 and bad.stderr == f"hotline: error: {articles}: article 2: title and body are required\n"
    articles.write_text(json.dumps([{"title": "退款多久到账", "body": "原路退回，3到5个工作日到账。",
                                     "category": "售后/退换货"}], ensure_ascii=False), encoding="utf-8")
    not_editor = run(tmp_path, "kb", "import", str(articles), "--as", "1001")
    assert not_editor.returncode == 1 and "only a supervisor or admin" in not_editor.stderr
    assert run(tmp_path, "kb", "import", str(articles), "--as", "9001").stdout == f"{articles}: 1 article(s) imported\n"
    assert "退款多久到账" in run(tmp_path, "kb", "search", "原路退回").stdout
    exported = run(tmp_path, "kb", "export", "-o", str(tmp_path / "out.json"))
    assert exported.returncode == 0
    assert json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))[0]["category"] == "售后/退换货"


def test_a_bad_requests_yaml_stops_serve_before_anything_starts(tmp_path: Path):
    shutil.copytree(CONFIG, tmp_path / "config")
    (tmp_path / "config" / "requests.yaml").write_text(
        "types:\n  complaint: {label: 投诉, due_hour: 48}\n  rant: {due_hours: 1}\n"
        "followup: {queue: nosuch}\nescalate_before_due_hours: -1\n", encoding="utf-8")
    result = run(tmp_path, "serve")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert "hotline: error: config/requests.yaml: types.complaint.due_hour: unknown key (did you mean 'due_hours'?)" in lines
    assert any("config/requests.yaml: types.rant: unknown request type" in line for line in lines)
    assert any("escalate_before_due_hours: must be a number of hours" in line for line in lines)
    assert any("followup.queue: no queue 'nosuch'" in line for line in lines)
