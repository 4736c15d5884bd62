"""Wallboard update latency and messages sent: 200 agents and 50 queues in the PBX simulator, the real service.

    .venv/bin/python bench/web/wallboard_bench.py [--agents 200] [--queues 50] [--seconds 10] [--rate 40]

A supervisor's wallboard holds the live WebSocket (/api/live). Agents change state through the HTTP API
(POST /api/agents/{id}/ready | not-ready, `--rate` changes per second, spread over the agents) while callers
flow through the IVR to the six standard queues. For each change we time how long until the wallboard's
socket carries it. The peer, from the same run: a wallboard that polls GET /api/supervisor/overview every second
(what qpanel-style boards do), timed the same way. Prints p50/p95/max latency of both, the ratio, and the
messages (WebSocket frames) and items per second the push feed sent, next to the polls' bytes per second.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from hotline.config import load_settings  # noqa: E402
from pbxsim.participants import CallerScript  # noqa: E402
from hotline.liveday import live_center  # noqa: E402

STANDARD = ("presales", "aftersales", "logistics", "complaints", "vip", "english")


def make_config(root: Path, agents: int, queues: int) -> Path:
    conf = root / "config"
    conf.mkdir(parents=True)
    for name in ("hotline.toml", "recording.yaml"):
        shutil.copy(REPO / "config" / name, conf / name)
    text = (conf / "hotline.toml").read_text(encoding="utf-8")
    for key in ("flows_dir", "prompts_catalogue", "studio_dir", "asterisk_conf_dir"):
        text = text.replace(f'{key} = "', f'{key} = "{REPO}/', 1)
    (conf / "hotline.toml").write_text(text, encoding="utf-8")
    names = list(STANDARD) + [f"q{n:02d}" for n in range(queues - len(STANDARD))]
    (conf / "queues.yaml").write_text(yaml.safe_dump({"queues": [
        {"name": n, "skills": {n: 1}, "strategy": "longest-idle", "wrapup_time": 2} for n in names]}), encoding="utf-8")
    people = [{"id": str(2000 + i), "name": f"坐席{i}", "endpoint": f"PJSIP/{2000 + i}",
               "skills": {names[i % len(names)]: 5, names[(i * 7 + 3) % len(names)]: 3}, "languages": ["zh-CN"],
               "team": "AB"[i % 2], "role": "agent", "pin": "1234"} for i in range(agents)]
    people.append({"id": "9001", "name": "班长", "endpoint": "PJSIP/9001", "skills": {}, "languages": ["zh-CN"],
                   "team": "A", "role": "supervisor", "pin": "9001"})
    (conf / "agents.yaml").write_text(yaml.safe_dump({"agents": people}, allow_unicode=True), encoding="utf-8")
    return conf


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def run(args) -> None:
    root = Path(tempfile.mkdtemp(prefix="hotline-wallboard-bench-"))
    try:
        settings = load_settings(make_config(root, args.agents, args.queues), env={})
        async with live_center(settings, data_dir=root / "data", sounds_dir=root / "sounds", prompt_seconds=0.2,
                               phone_defaults={"answer_after_s": 1.0, "talk_time_s": 5.0}) as center:
            await measure(center, args)
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def measure(center, args) -> None:
    cti = center.service.cti
    ids = [a for a, agent in cti.agents.agents.items() if agent.role == "agent"]
    boss = cti.auth._principals["9001"]
    for agent_id in ids:
        await cti.dispatch(boss, agent_id, "login", {"ready": True})
    async with httpx.AsyncClient(base_url=center.http_url, timeout=10) as http:
        tok = (await http.post("/api/auth/login", json={"agent_id": "9001", "pin": "9001"})).json()["token"]
        auth = {"Authorization": f"Bearer {tok}"}
        sent: dict[tuple[str, str], float] = {}
        push: list[float] = []
        poll: list[float] = []
        frames = items = 0
        poll_bytes = 0
        ws = await websockets.connect(center.http_url.replace("http", "ws") + "/api/live", max_size=None)
        await ws.send(json.dumps({"type": "auth", "token": tok}))
        await ws.recv()

        async def read_push():
            nonlocal frames, items
            async for raw in ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                frames += 1
                for item in frame.get("items", []):
                    items += 1
                    if item["type"] == "agent":
                        key = (item["data"]["agent_id"], item["data"]["state"])
                        if key in sent and key not in seen_push:
                            seen_push.add(key)
                            push.append(now - sent[key])

        async def read_poll():
            nonlocal poll_bytes
            while True:
                response = await http.get("/api/supervisor/overview", headers=auth)
                now = time.perf_counter()
                poll_bytes += len(response.content)
                for agent in response.json()["agents"]:
                    key = (agent["agent_id"], agent["state"])
                    if key in sent and key not in seen_poll:
                        seen_poll.add(key)
                        poll.append(now - sent[key])
                await asyncio.sleep(1.0)

        async def callers():
            rng = random.Random(2)
            while True:
                await center.sim.place_call(CallerScript(f"139{rng.randrange(10**8):08d}", dnid="4008001234",
                                                         steps=["wait 0.5", "press 1", "wait 1.5", "press 1"],
                                                         talk_time_s=5))
                await asyncio.sleep(0.5)

        seen_push: set = set()
        seen_poll: set = set()
        tasks = [asyncio.create_task(t()) for t in (read_push, read_poll, callers)]
        rng = random.Random(1)
        started = time.perf_counter()
        changes = 0
        while time.perf_counter() - started < args.seconds:
            agent_id = rng.choice(ids)
            state = cti.agents.get(agent_id).state.value
            if state not in ("ready", "not-ready"):
                continue
            target = "not-ready" if state == "ready" else "ready"
            sent.pop((agent_id, target), None)
            seen_push.discard((agent_id, target))
            seen_poll.discard((agent_id, target))
            sent[(agent_id, target)] = time.perf_counter()
            body = {"reason": "break"} if target == "not-ready" else {}
            await http.post(f"/api/agents/{agent_id}/{target}", json=body, headers=auth)
            changes += 1
            await asyncio.sleep(1.0 / args.rate)
        await asyncio.sleep(1.5)
        elapsed = time.perf_counter() - started
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await ws.close()
    hub = center.service.web.hub
    print(f"wallboard bench: {len(ids)} agents, {len(center.service.acd.queue_names())} queues, "
          f"{changes} state changes in {args.seconds:.0f} s, callers every 0.5 s")
    print(f"{'':24}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'seen':>7}")
    for name, values in (("push (WebSocket)", push), ("poll 1 s (overview)", poll)):
        print(f"{name:24}{pct(values, .5) * 1000:9.1f}{pct(values, .95) * 1000:9.1f}"
              f"{(max(values) if values else float('nan')) * 1000:9.1f}{len(values):7}")
    if push and poll:
        print(f"ratio poll/push p50: {pct(poll, .5) / pct(push, .5):.1f}x   "
              f"within 1 s: push {sum(v < 1 for v in push) / len(push):.1%}, poll {sum(v < 1 for v in poll) / len(poll):.1%}")
    print(f"push feed: {frames / elapsed:.1f} messages/s ({items / elapsed:.1f} items/s) to one wallboard; "
          f"hub events in: {hub.published / elapsed:.1f}/s; poll: {poll_bytes / elapsed / 1024:.1f} KiB/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--queues", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=40, help="agent state changes per second")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
