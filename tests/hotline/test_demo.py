"""`hotline demo`: simulator + service in one process on a virtual clock; same seed, same summary."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from hotline.config import load_settings
from hotline.demo import ensure_prompts

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HOTLINE = str(Path(sys.executable).parent / "hotline")


def start_demo(*args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    return subprocess.Popen([HOTLINE, "demo", *args], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def demo(*args: str) -> subprocess.CompletedProcess:
    return finish(start_demo(*args))


def test_same_seed_gives_the_same_summary():
    ensure_prompts(load_settings(PROJECT_ROOT / "config", env={}), progress=False)   # build once, not racing
    runs = [start_demo("--calls", "5", "--seed", "3", "--json") for _ in range(2)]   # two processes at once
    first, second = (finish(proc) for proc in runs)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    last = first.stdout.strip().splitlines()[-1]
    assert last == second.stdout.strip().splitlines()[-1]
    summary = json.loads(last)
    assert summary["calls"] == 5
    assert summary["completed"] + summary["failed"] == 5
    assert summary["failed"] == 0, summary                 # every call reached the service over FastAGI


def test_demo_keeps_its_data_where_asked(tmp_path: Path):
    result = demo("--calls", "3", "--seed", "11", "--data-dir", str(tmp_path / "demo-data"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("hotline demo: 3 calls, seed 11\n")
    assert "completed" in result.stdout
    database = tmp_path / "demo-data" / "hotline.db"
    assert database.is_file()
    with sqlite3.connect(database) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables, "the service created its schema in the demo's database"
