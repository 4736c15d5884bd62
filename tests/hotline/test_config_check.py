"""`hotline serve` checks every file of the config folder as a whole: one line per problem, exit 1, no port."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HOTLINE = str(Path(sys.executable).parent / "hotline")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of config/, flows/ and prompts/ in a throw-away site root."""
    for folder in ("config", "flows", "prompts"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def serve(config_dir: Path, ami_port: int) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(HOTLINE_AMI_PORT=str(ami_port), HOTLINE_HTTP_PORT="0", HOTLINE_FASTAGI_PORT="0",
               HOTLINE_SERVICE_DATA_DIR=str(config_dir.parent / "data"))
    return subprocess.run([HOTLINE, "serve", "--config", str(config_dir)], cwd=config_dir.parent, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def ami_listener():
    """A stand-in AMI port: a service that started anything would connect to it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(5)
        sock.setblocking(False)
        yield sock


def connected(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
        return True
    except BlockingIOError:
        return False


def test_every_bad_value_of_every_file_is_one_line_and_nothing_starts(site: Path, ami_listener):
    queues = site / "config" / "queues.yaml"
    edit(queues, "strategy: skill-based     #", "strategy: skil-based     #")
    edit(queues, "max_wait: 300", "max_wait: -5")
    edit(queues, "overflow: voicemail ", "overflow: queue:nosuch ")
    edit(queues, "wrapup_time: 10", "wraup_time: 10")
    edit(queues, "skills: {vip: 5}", "skills: {vip: 10}")
    edit(site / "config" / "recording.yaml", "stereo: false", "stereo: maybe")
    edit(site / "config" / "recording.yaml", "bridged_only: true", "bridgedonly: true")
    edit(site / "config" / "hotline.toml", "ping_timeout = 5", "ping_timout = 5")

    result = serve(site / "config", ami_listener.getsockname()[1])

    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    expected = [
        "config/hotline.toml: ami.ping_timout: unknown key, did you mean 'ping_timeout'?",
        "config/queues.yaml: queues[4].skills.vip: asks proficiency 10 but no agent in agents.yaml has 'vip' above 9",
        "config/queues.yaml: queues[0].wraup_time: unknown key, did you mean 'wrapup_time'?",
        "config/queues.yaml: queues[0].max_wait: must be >= 1, got -5",
        "config/queues.yaml: queues[0].overflow.queue: unknown queue 'nosuch'",
        "config/queues.yaml: queues[0].strategy: unknown strategy 'skil-based', did you mean 'skill-based'?",
        "config/recording.yaml: mixmonitor.stereo: must be true or false, got 'maybe'",
        "config/recording.yaml: mixmonitor.bridgedonly: unknown key, did you mean 'bridged_only'?",
    ]
    assert len(lines) == len(expected), lines
    for line, start in zip(sorted(lines), sorted(expected)):
        assert line.startswith("hotline: error: " + start), (line, start)
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not connected(ami_listener), "the AMI client started before the configuration was checked"


def test_a_copied_config_folder_without_flows_or_prompts_is_an_error(tmp_path: Path, ami_listener):
    shutil.copytree(PROJECT_ROOT / "config", tmp_path / "elsewhere" / "config")
    result = serve(tmp_path / "elsewhere" / "config", ami_listener.getsockname()[1])
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"hotline: error: config/hotline.toml: paths.flows_dir: folder "
                               f"{tmp_path / 'elsewhere' / 'flows'} not found (relative paths resolve against "
                               f"{tmp_path / 'elsewhere'}, the config folder's parent")
    assert "paths.prompts_catalogue: file" in lines[1]
    assert not connected(ami_listener)


def test_a_flow_problem_stops_serve_before_anything_starts(site: Path, ami_listener):
    flow = next(p for p in sorted((site / "flows").glob("*.yaml")) if p.name != "calendars.yaml")
    flow.write_text(flow.read_text(encoding="utf-8") + "\n  bogus: [\n", encoding="utf-8")
    result = serve(site / "config", ami_listener.getsockname()[1])
    assert result.returncode == 1
    assert flow.name in result.stderr and "Traceback" not in result.stderr
    assert not connected(ami_listener)
