"""The same seed gives the same day on a saturated machine: `hotline demo --calls 20 --seed 1 --json` alone and
next to CPU hogs (one per core) print the same summary, byte for byte."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hotline.config import load_settings
from hotline.demo import ensure_prompts

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HOTLINE = str(Path(sys.executable).parent / "hotline")
HOG = "import time\nend = time.monotonic() + 900\nwhile time.monotonic() < end: pass\n"


def demo(data_dir: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    result = subprocess.run([HOTLINE, "demo", "--calls", "20", "--seed", "1", "--json", "--data-dir", str(data_dir)],
                            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "may not repeat exactly" not in result.stderr          # the clock's deadlock valve never opened
    return result.stdout.strip().splitlines()[-1]


def test_the_same_seed_gives_the_same_day_next_to_a_cpu_hog(tmp_path: Path):
    ensure_prompts(load_settings(PROJECT_ROOT / "config", env={}), progress=False)
    calm = demo(tmp_path / "calm")
    hogs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(os.cpu_count() or 2)]
    try:
        loaded = demo(tmp_path / "loaded")
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert loaded == calm
