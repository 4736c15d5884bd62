"""`hotline serve` as a process: starts, answers /api/health, stops on SIGTERM; refuses bad flows."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HOTLINE = str(Path(sys.executable).parent / "hotline")


def site(tmp_path: Path) -> Path:
    """A project root with the shipped config and flows, data under tmp_path."""
    root = tmp_path / "site"
    shutil.copytree(PROJECT_ROOT / "config", root / "config")
    shutil.copytree(PROJECT_ROOT / "flows", root / "flows")
    if (PROJECT_ROOT / "prompts").is_dir():
        shutil.copytree(PROJECT_ROOT / "prompts", root / "prompts")
    return root


def env_for(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update({"HOTLINE_CONFIG_DIR": str(root / "config"), "HOTLINE_HTTP_PORT": "0", "HOTLINE_FASTAGI_PORT": "0",
                "HOTLINE_AMI_PORT": "1", "HOTLINE_AMI_RECONNECT_MAX_DELAY": "1"})
    env.update(extra)
    return env


def test_serve_starts_reports_health_and_stops_on_sigterm(tmp_path: Path):
    root = site(tmp_path)
    proc = subprocess.Popen([HOTLINE, "serve"], cwd=tmp_path, env=env_for(root), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"HTTP (http://127\.0\.0\.1:\d+)", line)
        assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
        try:
            urllib.request.urlopen(match.group(1) + "/api/health", timeout=5)
            raise AssertionError("health must be 503 while AMI is unreachable")
        except urllib.error.HTTPError as exc:
            assert exc.code == 503
            checks = json.loads(exc.read())["checks"]
        assert checks["ami"]["ok"] is False
        assert checks["fastagi"]["ok"] and checks["db"]["ok"] and checks["mqtt"]["ok"]
        assert (root / "data" / "hotline.db").is_file()          # SQLite under data_dir by default
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_refuses_an_invalid_flow_file(tmp_path: Path):
    root = site(tmp_path)
    broken = root / "flows" / "broken.yaml"
    broken.write_text("flow: broken\nlanguages: [zh-CN]\ndefault_language: zh-CN\nstart: a\nnodes:\n"
                      "  a: {type: play, prompt: welcome, next: nowhere}\n", encoding="utf-8")
    result = subprocess.run([HOTLINE, "serve"], cwd=tmp_path, env=env_for(root), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert re.search(rf"{re.escape(str(broken))}:6:\d+: .*nowhere", result.stderr), result.stderr
    assert not (root / "data" / "hotline.db").exists()           # nothing started
