"""bench/agi still runs: a short closed loop of hotline, panoramisk 1.4 and a bare asyncio server in one run,
with the ratio printed (no timing asserted)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "agi" / "agi_bench.py"


def test_the_fastagi_benchmark_prints_hotline_next_to_panoramisk():
    done = subprocess.run([sys.executable, str(BENCH), "--closed-loop", "10", "--closed-loop-s", "0.3",
                           "--closed-loop-rounds", "1", "--closed-loop-only"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0] for line in done.stdout.splitlines() if line.strip()}
    assert {"hotline", "panoramisk", "raw"} <= rows and "x panoramisk" in done.stdout
