"""Keys that outlive a restart (hotline/security/keys.py): the wall TV's token survives `hotline serve` being
restarted, and deleting the key file revokes it; the key file is private and never followed through a link."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from hotline.security.keys import KEY_BYTES, KeyFileError, load_or_create_key
from tests.hotline.test_serve import HOTLINE, env_for, site


def test_a_key_is_made_once_private_and_read_back(tmp_path: Path):
    path = tmp_path / "keys" / "k.key"
    key = load_or_create_key(path)
    assert len(key) == KEY_BYTES and load_or_create_key(path) == key
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["k.key"]          # no temporary file left


def test_a_damaged_or_linked_key_file_is_refused(tmp_path: Path):
    short = tmp_path / "short.key"
    short.write_bytes(b"x" * 5)
    with pytest.raises(KeyFileError, match="not a 32-byte key"):
        load_or_create_key(short)
    real = tmp_path / "real.key"
    real.write_bytes(os.urandom(KEY_BYTES))
    link = tmp_path / "link.key"
    link.symlink_to(real)
    with pytest.raises(KeyFileError, match="cannot read"):
        load_or_create_key(link)


def _serve(root: Path, cwd: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([HOTLINE, "serve"], cwd=cwd, env=env_for(root), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.search(r"HTTP (http://127\.0\.0\.1:\d+)", line)
    assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc, match.group(1)


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0


def _post(url: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    return json.loads(urllib.request.urlopen(request, timeout=10).read())


def _snapshot_status(base: str, token: str) -> int:
    request = urllib.request.Request(base + "/api/live/snapshot", headers={"Authorization": f"Bearer {token}"})
    try:
        return urllib.request.urlopen(request, timeout=10).status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_wall_tv_token_outlives_a_restart_until_its_key_is_deleted(tmp_path: Path):
    root = site(tmp_path)
    proc, base = _serve(root, tmp_path)
    try:
        supervisor = _post(base + "/api/auth/login", {"agent_id": "9001", "pin": "9001"})["token"]
        tv = _post(base + "/api/wallboard/tv-token", {}, supervisor)["token"]
        assert _snapshot_status(base, tv) == 200
    finally:
        _stop(proc)
    key = root / "data" / "keys" / "wallboard-tv.key"
    assert key.is_file() and key.stat().st_mode & 0o777 == 0o600

    proc, base = _serve(root, tmp_path)          # the nightly restart
    try:
        assert _snapshot_status(base, tv) == 200
    finally:
        _stop(proc)

    key.unlink()                                 # revoke every TV token at once
    proc, base = _serve(root, tmp_path)
    try:
        assert _snapshot_status(base, tv) == 401
    finally:
        _stop(proc)
