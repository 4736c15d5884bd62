"""Smoke run of bench/acd/offer_latency.py --quick: it still runs both policies end to end and prints their rows
(no timing is asserted here; the figures are the benchmark's business)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_offer_latency_bench_quick_mode_prints_both_policies():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "acd" / "offer_latency.py"), "--quick"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    names = ("poll 1000 ms (before)", "interrupt (hotline now)")
    rows = {name: line[len(name):].split() for line in done.stdout.splitlines() for name in names
            if line.startswith(name)}
    assert set(rows) == set(names)
    for row in rows.values():
        assert int(row[0]) > 0                              # offers to waiting callers were measured and rang
    assert "AGI commands per waiting caller per minute" in done.stdout
