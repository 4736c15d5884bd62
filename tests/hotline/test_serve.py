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
    shutil.copytree(PROJECT_ROOT / "asterisk-conf", root / "asterisk-conf")
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
        metrics = urllib.request.urlopen(match.group(1) + "/metrics", timeout=5).read().decode()
        frozen = re.search(r"^hotline_gc_frozen_objects (\S+)$", metrics, re.M)
        assert frozen and float(frozen.group(1)) > 50_000          # start-up objects out of every collection
        assert 'python_gc_collections_total{generation="2"}' in metrics
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


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_serve_and_sim_as_two_processes_handle_a_call(tmp_path: Path):
    """`hotline sim` stands in for Asterisk; `hotline serve` logs in over AMI and answers the AGI() call."""
    import asyncio

    from panoramisk import Manager

    root = site(tmp_path)
    agi_port = free_port()
    procs: list[subprocess.Popen] = []

    def start(*args: str, **env: str) -> tuple[subprocess.Popen, str]:
        proc = subprocess.Popen([HOTLINE, *args], cwd=tmp_path, env=env_for(root, **env), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        return proc, line

    try:
        ami_port = free_port()
        (sim, _), (serve, serve_line) = await asyncio.gather(
            asyncio.to_thread(start, "sim", "--ami-port", str(ami_port), "--agi-port", str(agi_port)),
            asyncio.to_thread(start, "serve", HOTLINE_AMI_PORT=str(ami_port), HOTLINE_FASTAGI_PORT=str(agi_port)))
        http_url = re.search(r"HTTP (http://127\.0\.0\.1:\d+)", serve_line).group(1)

        async def healthy() -> dict:
            import httpx

            async with httpx.AsyncClient(base_url=http_url) as client:
                for _ in range(100):
                    response = await client.get("/api/health")
                    if response.status_code == 200:
                        return response.json()
                    await asyncio.sleep(0.1)
            raise AssertionError(f"never healthy: {response.json()}")

        health = await healthy()
        assert health["checks"]["ami"]["ok"] and health["checks"]["ami"]["port"] == ami_port

        manager = Manager(host="127.0.0.1", port=ami_port, username="hotline", secret="hotline-secret",
                          loop=asyncio.get_running_loop(), ping_delay=60)
        agi_commands: asyncio.Queue = asyncio.Queue()
        hangups: asyncio.Queue = asyncio.Queue()
        manager.register_event("AGIExecStart", lambda _m, event: agi_commands.put_nowait(event.get("Command", "")))
        manager.register_event("Hangup", lambda _m, event: hangups.put_nowait(event.get("Channel")))
        await manager.connect()
        try:
            for _ in range(100):
                if manager.authenticated:
                    break
                await asyncio.sleep(0.05)
            response = await manager.send_action({
                "Action": "Originate", "Channel": "Local/4008001234@hotline-inbound", "Application": "Wait",
                "Data": "1", "CallerID": "13800138000", "Async": "true"})
            if isinstance(response, list):      # panoramisk collects the OriginateResponse event too
                response = response[0]
            assert response.success, response
            first = await asyncio.wait_for(agi_commands.get(), 10)
            # the caller side (Wait 1) hangs up; the AGI session sees it and ends before we stop anything
            for _ in range(2):
                await asyncio.wait_for(hangups.get(), 10)
        finally:
            manager.close()
        assert first.split()[0] in ("ANSWER", "STREAM", "GET", "SET", "EXEC", "VERBOSE", "NOOP", "SAY", "WAIT")

        for proc in (serve, sim):
            proc.send_signal(signal.SIGTERM)
        for proc in (serve, sim):
            assert await asyncio.to_thread(proc.wait, 15) == 0, proc.stderr.read()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
