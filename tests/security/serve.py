"""`hotline serve` as a child process for the hardening tests: the shipped config, data under tmp_path."""
from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.hotline.test_serve import HOTLINE, env_for, site


@dataclass
class Served:
    proc: subprocess.Popen
    root: Path
    http: str
    log: Path
    banner: str = ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def health(self) -> int:
        try:
            return urllib.request.urlopen(self.http + "/api/health", timeout=5).status
        except urllib.error.HTTPError as exc:
            return exc.code

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextlib.contextmanager
def serving(tmp_path: Path, root: Path | None = None, **env: str) -> Iterator[Served]:
    """`hotline serve` on a copy of the shipped site (or on ``root``, an earlier run's site, to restart it)."""
    root = root or site(tmp_path)
    log = tmp_path / "serve.log"
    with open(log, "a") as err:
        proc = subprocess.Popen([HOTLINE, "serve"], cwd=tmp_path, env=env_for(root, **env), stdout=subprocess.PIPE,
                                stderr=err, text=True)
        try:
            line = proc.stdout.readline()
            match = re.search(r"HTTP (http://127\.0\.0\.1:\d+)", line)
            assert match, (line, log.read_text())
            yield Served(proc, root, match.group(1), log, line)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
