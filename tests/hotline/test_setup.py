"""scripts/setup, the README's install step: root without sudo, a user through sudo, clear failure otherwise.

Install-free: apt-get, sudo, id, dpkg-query and python3 are stubs on a PATH of their own that log their
arguments, so the test checks what the script would run on a fresh Debian machine. .ci/run runs the real thing.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SETUP = PROJECT_ROOT / "scripts" / "setup"

STUB = """#!/bin/sh
echo "{name} $*" >> "$STUB_LOG"
{body}
"""
STUBS = {
    "apt-get": "",
    "sudo": 'exec "$@"',
    "id": 'echo "$STUB_UID"',
    "dpkg-query": '[ -n "$STUB_INSTALLED" ] && echo "install ok installed"; exit 0',
    # `python3 -m venv DIR` makes DIR/bin/python, itself a logging stub
    "python3": '[ "$2" = venv ] || exit 0; mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && '
               'sed -i "s/^echo \\"python3/echo \\"venv-python/" "$3/bin/python"',
}


def fresh_machine(tmp_path: Path, *, uid: int, sudo: bool, installed: bool = False) -> tuple[dict, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dirname", "grep", "mkdir", "cp", "sed", "sh", "cat", "env"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    for name, body in STUBS.items():
        if name == "sudo" and not sudo:
            continue
        (bin_dir / name).write_text(STUB.format(name=name, body=body))
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "log"
    log.touch()
    env = {"PATH": str(bin_dir), "STUB_LOG": str(log), "STUB_UID": str(uid), "HOTLINE_VENV": str(tmp_path / "venv"),
           "STUB_INSTALLED": "1" if installed else ""}
    return env, log


def run_setup(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(SETUP)], env=env, capture_output=True, text=True, timeout=60,
                          cwd=Path(env["STUB_LOG"]).parent)


def calls(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if not line.startswith(("id", "dpkg-query"))]


def test_root_installs_without_sudo(tmp_path):
    env, log = fresh_machine(tmp_path, uid=0, sudo=False)
    result = run_setup(env)
    assert result.returncode == 0, result.stderr
    venv = tmp_path / "venv"
    assert calls(log) == [
        "apt-get update -qq",
        "apt-get install -y -qq python3-venv espeak-ng sox ffmpeg",
        f"python3 -m venv {venv}",
        f"venv-python -m pip install -q -e {PROJECT_ROOT}",
    ]


def test_a_user_installs_through_sudo(tmp_path):
    env, log = fresh_machine(tmp_path, uid=1000, sudo=True)
    assert run_setup(env).returncode == 0
    assert [c for c in calls(log) if "apt-get" in c] == ["sudo apt-get update -qq",
                                                          "apt-get update -qq",
                                                          "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "
                                                          "-qq python3-venv espeak-ng sox ffmpeg",
                                                          "apt-get install -y -qq python3-venv espeak-ng sox ffmpeg"]


def test_a_user_without_sudo_is_told_what_to_run(tmp_path):
    env, log = fresh_machine(tmp_path, uid=1000, sudo=False)
    result = run_setup(env)
    assert result.returncode == 1
    assert "not root and no sudo: install as root: apt-get install -y python3-venv espeak-ng sox ffmpeg" in result.stderr
    assert calls(log) == []


def test_nothing_is_installed_twice(tmp_path):
    env, log = fresh_machine(tmp_path, uid=1000, sudo=False, installed=True)
    assert run_setup(env).returncode == 0
    assert run_setup(env).returncode == 0
    venv = tmp_path / "venv"
    assert calls(log) == [f"python3 -m venv {venv}", f"venv-python -m pip install -q -e {PROJECT_ROOT}",
                          f"venv-python -m pip install -q -e {PROJECT_ROOT}"]


def test_the_readme_install_command_is_the_setup_script():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Two commands on a fresh machine", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.+?)\n```", section, re.S)
    assert commands[0] == "scripts/setup && .venv/bin/hotline demo --calls 50"
    assert commands[1] == ".ci/run"
    assert "sudo" not in commands[0]
    assert os.access(SETUP, os.X_OK)


def test_the_readme_names_the_openapi_page_the_app_serves():
    from fastapi.testclient import TestClient

    from hotline.http import create_app

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "`GET /api/docs`" in readme and "`GET /docs`" not in readme
    response = TestClient(create_app(None, [])).get("/api/docs")      # type: ignore[arg-type]
    assert response.status_code == 200 and "openapi.json" in response.text
