"""`hotline demo`: simulator + service in one process on a virtual clock; the day's figures come from the
stores, add up, and the same seed gives the same summary."""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from hotline.config import load_settings
from hotline.demo import ensure_prompts

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HOTLINE = str(Path(sys.executable).parent / "hotline")
OUTCOMES = ("answered", "abandoned", "voicemails", "callbacks", "overflows", "still_waiting")


def start_demo(*args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    return subprocess.Popen([HOTLINE, "demo", *args], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def assert_day_adds_up(summary: dict) -> None:
    assert summary["failed"] == 0, summary                     # every call reached the service over FastAGI
    assert summary["completed"] == summary["calls"]
    assert summary["still_waiting"] == 0
    assert summary["reached_queue"] == sum(summary[k] for k in OUTCOMES), summary
    for name, figures in summary["queues"].items():
        assert figures["reached_queue"] == sum(figures[k] for k in OUTCOMES), (name, figures)
    assert sum(q["answered"] for q in summary["queues"].values()) == summary["answered"]
    ivr = summary["ivr"]
    assert ivr["reached_queue"] == summary["reached_queue"]      # IVR side and queue log agree
    assert ivr["other"] == 0, ivr                                # every call's IVR outcome is explained
    assert sum(ivr.values()) == summary["calls"]
    assert summary["recordings"] == summary["answered"], summary  # every answered call was recorded
    assert summary["answered_without_recording"] == 0
    assert 0 <= summary["service_level"] <= 1


def test_same_seed_gives_the_same_day(tmp_path: Path):
    ensure_prompts(load_settings(PROJECT_ROOT / "config", env={}), progress=False)   # build once, not racing
    data_dir = tmp_path / "demo-data"
    runs = [start_demo("--calls", "30", "--seed", "7", "--json"),                    # three processes at once
            start_demo("--calls", "30", "--seed", "7", "--json", "--data-dir", str(data_dir)),
            start_demo("--calls", "6", "--seed", "11")]
    first, second, human = (finish(proc) for proc in runs)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    # without --data-dir the day is kept in a new temporary folder, and --json says where on stderr
    kept = re.search(r"^this day's data: (\S+) \(database hotline.db", first.stderr, re.M)
    assert kept and Path(kept.group(1)).name.startswith("hotline-demo-"), first.stderr[-2000:]
    assert (Path(kept.group(1)) / "hotline.db").is_file()
    shutil.rmtree(kept.group(1))
    last = first.stdout.strip().splitlines()[-1]
    assert last == second.stdout.strip().splitlines()[-1]
    summary = json.loads(last)
    assert summary["calls"] == 30 and summary["seed"] == 7
    assert_day_adds_up(summary)
    assert summary["answered"] > 0 and summary["surveys"] > 0
    assert summary["ivr"]["blocked"] + summary["ivr"]["self_service"] + summary["ivr"]["ivr_hangup"] > 0

    # the figures are the stores' figures
    with sqlite3.connect(data_dir / "hotline.db") as db:
        connects = db.execute("SELECT COUNT(DISTINCT callid) FROM queue_log WHERE event = 'CONNECT'").fetchone()[0]
        complete = db.execute("SELECT COUNT(*) FROM recordings WHERE status = 'complete'").fetchone()[0]
        ratings = db.execute("SELECT COUNT(*) FROM ivr_surveys").fetchone()[0]
        vip = db.execute("SELECT COUNT(*) FROM customers WHERE vip_level > 0 OR key_account").fetchone()[0]
        blocked = db.execute("SELECT COUNT(*) FROM customers WHERE blocked").fetchone()[0]
    assert connects == summary["answered"] + summary["callbacks_connected"]
    assert complete >= summary["recordings"]
    assert ratings == summary["surveys"]
    assert vip > 0 and blocked > 0                             # the CTI import seeded the customer base

    # without --json: a short table for people
    assert human.returncode == 0, human.stderr
    assert human.stdout.startswith("hotline demo: 6 calls, seed 11, ")
    assert "all queues" in human.stdout and "service lvl" in human.stdout
    assert "recordings" in human.stdout

    # a data directory that already holds a day is refused (its rows would be counted again), not overwritten
    again = finish(start_demo("--calls", "1", "--seed", "7", "--data-dir", str(data_dir)))
    assert again.returncode == 2
    assert "already holds a demo day" in again.stderr
    with sqlite3.connect(data_dir / "hotline.db") as db:
        assert db.execute("SELECT COUNT(*) FROM ivr_surveys").fetchone()[0] == summary["surveys"]
