"""Fixtures of the reports tests: one demo day (20 calls, seed 1) shared by the module that reads it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HOTLINE = str(Path(sys.executable).parent / "hotline")
DAY = "2026-11-24"


def hotline(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    return subprocess.run([HOTLINE, *args], cwd=PROJECT_ROOT, env={**clean, **(env or {})}, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="session")
def demo_day(tmp_path_factory) -> tuple[dict, Path]:
    """`hotline demo --calls 20 --seed 1 --json --data-dir D`: (its summary, D/hotline.db)."""
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    done = hotline("demo", "--calls", "20", "--seed", "1", "--json", "--data-dir", str(data_dir), timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), data_dir / "hotline.db"


@pytest.fixture
def demo_db(demo_day, tmp_path) -> Path:
    """A private copy of the demo's database (tests may rebuild or change it)."""
    copy = tmp_path / "hotline.db"
    shutil.copy(demo_day[1], copy)
    return copy


def db_env(path: Path) -> dict[str, str]:
    return {"HOTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{path}"}
