"""bench/ami still runs: a few seconds of it, both peers printed from the same run (no timing asserted)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ami" / "ami_bench.py"


def test_the_ami_benchmark_prints_hotline_next_to_its_peers():
    done = subprocess.run([sys.executable, str(BENCH), "--messages", "5000", "--rounds", "1"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for row in ("hotline reader + filter + live model", "panoramisk Manager", "plain str splitter"):
        assert row in done.stdout
