"""bench/acd/routing_bench.py --quick still runs end to end: both decisions for the three strategies, hotline's
figure next to the linear scan's and the ratio (no timing assertion: the figures are the bench's business)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "acd" / "routing_bench.py"


def test_routing_bench_quick_prints_both_decisions_for_every_strategy():
    out = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    assert text.startswith("machine: nproc ") and "Python 3" in text and "machine noise: " in text
    for strategy in ("skill-based", "longest-idle", "round-robin"):
        for decision in ("agent→call", "call→agent"):
            assert f"{strategy} {decision} (" in text, f"no {strategy} {decision} section"
    figures = re.compile(r"^  (hotline|linear scan) +[\d,]+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+$", re.M)
    assert [m.group(1) for m in figures.finditer(text)] == ["hotline", "linear scan"] * 6
    assert text.count("ratio (linear scan ÷ hotline): p50 ") == 6
    assert text.count("hotline undisturbed: cpu p99 ") == 6
    summary = text.split("summary (targets:")[1].splitlines()[2:]
    assert len(summary) == 6 and all(line.rstrip().endswith("×") for line in summary), summary
