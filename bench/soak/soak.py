"""Soak `hotline serve` with hostile input on loopback for minutes, then check it is still whole.

    .venv/bin/python bench/soak/soak.py                 # 2 minutes
    .venv/bin/python bench/soak/soak.py --minutes 10 --seed 7

Runs the PBX simulator in this process and `hotline serve` as a child (shipped config, data in a temporary
directory, embedded MQTT broker). While calls to agents run (and are recorded), it sends at the same time:
  HTTP   random and hostile bodies (deep nesting, huge declared sizes, NaN, bad UTF-8), wrong PINs, forged
         tokens, unauthenticated writes;
  MQTT   anonymous and wrong-password CONNECTs to the broker;
  AGI    connections that send garbage, half an agi_ header or nothing, then vanish;
  AMI    the PBX's AMI goes away (mid-call) and comes back, every --ami-drop-every seconds.
Afterwards (calls finished, a grace period for the last resync) it checks and prints:
  the service is up (health answers), its RSS and open file descriptors are near their value after the
  warm-up, every recording row is final (complete or flagged, never recording/processing).
Exit status 1 when a check fails. Not a test: a maintainer's tool (README, "Security").
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pbxsim.ami import AmiServer  # noqa: E402
from pbxsim.participants import CallerScript  # noqa: E402
from pbxsim.simulator import Simulator  # noqa: E402

HOTLINE = str(Path(sys.executable).parent / "hotline")
AGENTS = ["1001", "1002", "1003", "1004"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def usage(pid: int) -> tuple[int, int]:
    """(RSS in KiB, open file descriptors) of a process."""
    rss = int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def hostile_body(rng: random.Random) -> bytes:
    n = rng.randint(1, 5000)
    return rng.choice([
        b"[" * n + b"]" * n, b'{"a":' * n + b"1" + b"}" * n, os.urandom(rng.randint(1, 2000)),
        b'{"announcement_id": "x"}', b'{"announcement_id": 99999999999999999999999}', b"[NaN, Infinity, 1e999]",
        json.dumps({"agent_id": "1" * rng.randint(1, 60000), "pin": "0"}).encode(), b"\xff\xfe{}",
        json.dumps({"state": ["x"] * 50, "reason": {"a": [1] * 100}}).encode(), b"",
    ])


async def hammer_http(url: str, stop: asyncio.Event, rng: random.Random, counts: dict) -> None:
    paths = [("POST", "/api/auth/login"), ("PUT", "/api/calls/1.1/data"), ("POST", "/api/agents/1001/ready"),
             ("POST", "/api/agents/1001/ack-announcement"), ("POST", "/api/supervisor/announcements"),
             ("GET", "/api/agents/1001/history?limit=-1"), ("GET", "/api/recordings/99999999999999999999"),
             ("GET", "/api/customers/13800138000"), ("GET", "/api/recordings/1/audio")]
    auths = [None, "Basic MTAwMTowMDAw", "Bearer forged", "Basic " + "A" * 400, "Digest x"]
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        while not stop.is_set():
            method, path = rng.choice(paths)
            headers = {"Content-Type": rng.choice(["application/json", "text/plain"])}
            if (auth := rng.choice(auths)) is not None:
                headers["Authorization"] = auth
            try:
                response = await http.request(method, path, content=hostile_body(rng), headers=headers)
                key = "http_5xx" if response.status_code >= 500 else "http_ok"
                counts[key] = counts.get(key, 0) + 1
            except httpx.HTTPError:
                counts["http_conn_errors"] = counts.get("http_conn_errors", 0) + 1
            await asyncio.sleep(0.005)


async def hammer_mqtt(port: int, stop: asyncio.Event, rng: random.Random, counts: dict) -> None:
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            user = rng.choice([b"", b"1001", b"hotline-service", os.urandom(8)])
            payload = b"\x00\x04MQTT\x04" + (b"\xc2" if user else b"\x02") + b"\x00\x3c" + b"\x00\x04soak"
            if user:
                payload += len(user).to_bytes(2, "big") + user + b"\x00\x04" + os.urandom(4)
            writer.write(bytes([0x10, len(payload)]) + payload if rng.random() < 0.8 else os.urandom(64))
            await writer.drain()
            await asyncio.wait_for(reader.read(4), 2)
            writer.close()
            counts["mqtt_attempts"] = counts.get("mqtt_attempts", 0) + 1
        except (OSError, asyncio.TimeoutError):
            counts["mqtt_conn_errors"] = counts.get("mqtt_conn_errors", 0) + 1
        await asyncio.sleep(0.02)


async def hammer_agi(port: int, stop: asyncio.Event, rng: random.Random, counts: dict) -> None:
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(rng.choice([b"agi_network: yes\nagi_request: agi://x/hotline\n", os.urandom(512),
                                     b"agi_" * 1000, b"\n", b""]))
            await writer.drain()
            await asyncio.sleep(rng.random() * 0.2)
            writer.close()
            counts["agi_attempts"] = counts.get("agi_attempts", 0) + 1
        except OSError:
            counts["agi_conn_errors"] = counts.get("agi_conn_errors", 0) + 1
        await asyncio.sleep(0.02)


async def place_calls(sim: Simulator, stop: asyncio.Event, rng: random.Random, callers: list) -> None:
    while not stop.is_set():
        agent = rng.choice(AGENTS)
        sim.phones[agent].set_behaviour(mode="answer", answer_after_s=0.3, talk_time_s=rng.uniform(1, 6))
        callers.append(await sim.place_call(CallerScript(f"139{rng.randint(10_000_000, 99_999_999)}", dnid=agent,
                                                         context="hotline-agents")))
        await asyncio.sleep(rng.uniform(0.5, 2))


async def drop_ami(sim: Simulator, port: int, every: float, stop: asyncio.Event, counts: dict) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), every)
            return
        except asyncio.TimeoutError:
            pass
        await sim.ami.close(announce_shutdown=False)
        await asyncio.sleep(3)                                    # longer than some calls
        sim.ami = AmiServer(sim.pbx, sim.users, host=sim.host, port=port)
        await sim.ami.start()
        counts["ami_drops"] = counts.get("ami_drops", 0) + 1


def open_recordings(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT status, COUNT(*) FROM recordings GROUP BY status").fetchall()
    return dict(rows)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ami-drop-every", type=float, default=30.0, help="seconds between AMI drops")
    parser.add_argument("--keep", action="store_true", help="keep the temporary site (logs, database)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="hotline-soak-"))
    site = work / "site"
    for name in ("config", "flows", "asterisk-conf", "prompts"):
        shutil.copytree(ROOT / name, site / name)
    agi_port, ami_port = free_port(), free_port()
    sim = Simulator(site / "asterisk-conf", monitor_dir=site / "data" / "recordings", ami_port=ami_port,
                    agents_file=site / "config" / "agents.yaml", agi_override=("127.0.0.1", agi_port),
                    newexten_events=False, seed=args.seed)
    await sim.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(HOTLINE_CONFIG_DIR=str(site / "config"), HOTLINE_HTTP_PORT="0", HOTLINE_FASTAGI_PORT=str(agi_port),
               HOTLINE_AMI_PORT=str(ami_port), HOTLINE_AMI_RECONNECT_MAX_DELAY="1")
    log = open(work / "serve.log", "w")
    proc = subprocess.Popen([HOTLINE, "serve"], cwd=work, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    failures: list[str] = []
    counts: dict[str, int] = {}
    callers: list = []
    try:
        banner = await asyncio.to_thread(proc.stdout.readline)
        http = re.search(r"HTTP (http://\S+),", banner).group(1)
        mqtt_port = int(re.search(r"MQTT mqtt://\S*?:(\d+)", banner).group(1))
        print(f"soak: {banner.strip()}\nsoak: {args.minutes} min, site {work}", flush=True)
        await asyncio.sleep(3)                                    # warm-up: AMI connected, first resync
        rss0, fds0 = usage(proc.pid)
        stop = asyncio.Event()
        tasks = [asyncio.create_task(coro) for coro in (
            hammer_http(http, stop, rng, counts), hammer_mqtt(mqtt_port, stop, rng, counts),
            hammer_agi(agi_port, stop, rng, counts), place_calls(sim, stop, rng, callers),
            drop_ami(sim, ami_port, args.ami_drop_every, stop, counts))]
        await asyncio.sleep(args.minutes * 60)
        stop.set()
        await asyncio.gather(*tasks)
        await asyncio.gather(*(asyncio.wait_for(c.wait(), 30) for c in callers), return_exceptions=True)
        await asyncio.sleep(5)                                    # hangups seen, post-processing done
        if proc.poll() is not None:
            failures.append(f"hotline serve exited with status {proc.returncode}")
        else:
            async with httpx.AsyncClient(timeout=10) as client:
                health = (await client.get(http + "/api/health")).status_code
            if health not in (200, 503):
                failures.append(f"health answered {health}")
            rss1, fds1 = usage(proc.pid)
            print(f"soak: RSS {rss0 / 1024:.0f} -> {rss1 / 1024:.0f} MiB, open files {fds0} -> {fds1}")
            if rss1 > rss0 * 1.5 + 50 * 1024:
                failures.append(f"RSS grew from {rss0} to {rss1} KiB")
            if fds1 > fds0 + 20:
                failures.append(f"open file descriptors grew from {fds0} to {fds1}")
        statuses = open_recordings(site / "data" / "hotline.db")
        print(f"soak: {len(callers)} calls, recordings by status {statuses}")
        unfinished = {s: n for s, n in statuses.items() if s in ("recording", "processing")}
        if unfinished:
            failures.append(f"recording rows not final: {unfinished}")
        if counts.get("http_5xx"):
            failures.append(f"{counts['http_5xx']} HTTP answers were 5xx")
        if "Traceback" in (work / "serve.log").read_text(errors="replace"):
            failures.append(f"a traceback in {work / 'serve.log'}")
        print(f"soak: sent {json.dumps(counts, sort_keys=True)}")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        await sim.close()
        if not args.keep and not failures:
            shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print(f"soak: FAIL {failure}")
    print("soak: OK" if not failures else f"soak: {len(failures)} check(s) failed (site kept in {work})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
