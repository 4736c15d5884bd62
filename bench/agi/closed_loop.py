"""Closed-loop FastAGI load: N simulated PBX connections, each starting its next session when one ends.

Each connection sends an ``agi_`` header and answers every command at once (as Asterisk would with
no media), so the server under test is the only thing that takes time. Measured per server process:
sessions/s, latency per command (the PBX's reply or the header sent -> the next command received),
the first command's latency (the caller's silence before the flow starts) and the server's CPU per
session (/proc). The servers run as their own processes; the driver is one process for all.
"""
from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
from hotline import gcpolicy  # noqa: E402

SERVERS = {
    "hotline": HERE / "fastagi_server.py",
    "panoramisk": HERE / "panoramisk_server.py",
    "raw asyncio": HERE / "raw_server.py",
}
REPLIES = {b"ANSWER": b"200 result=0\n", b"STREAM FILE": b"200 result=0 endpos=8000\n",
           b"GET DATA": b"200 result= (timeout)\n", b"SET VARIABLE": b"200 result=1\n", b"HANGUP": b"200 result=1\n"}


def header(port: int, n: int) -> bytes:
    values = [("agi_network", "yes"), ("agi_network_script", "bench"),
              ("agi_request", f"agi://127.0.0.1:{port}/bench"), ("agi_channel", f"PJSIP/caller-{n:08x}"),
              ("agi_language", "en"), ("agi_type", "PJSIP"), ("agi_uniqueid", f"1795434832.{n}"),
              ("agi_version", "22.10.1"), ("agi_callerid", "13800138000"), ("agi_calleridname", "Bench"),
              ("agi_callingpres", "0"), ("agi_callingani2", "0"), ("agi_callington", "0"),
              ("agi_callingtns", "0"), ("agi_dnid", "4008001234"), ("agi_rdnis", "unknown"),
              ("agi_context", "bench"), ("agi_extension", "s"), ("agi_priority", "1"), ("agi_enhanced", "0.0"),
              ("agi_accountcode", ""), ("agi_threadid", "140071391602368")]
    return "".join(f"{k}: {v}\n" for k, v in values).encode() + b"\n"


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    sessions: int = 0
    commands: int = 0
    bad: int = 0
    counting: bool = False


class PbxSide(asyncio.Protocol):
    def __init__(self, stats: Stats, head: bytes, done: asyncio.Future) -> None:
        self.stats, self.head, self.done = stats, head, done
        self.buf = b""
        self.sent_at = 0.0
        self.count = 0

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.sent_at = time.perf_counter()
        transport.write(self.head)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        buf = self.buf + data
        while True:
            i = buf.find(b"\n")
            if i < 0:
                break
            line, buf = buf[:i], buf[i + 1:]
            reply = REPLIES.get(line[:line.find(b" ", 7)] if line[:1] in b"SG" else line)
            if reply is None:
                self.stats.bad += 1
                reply = b"510 Invalid or unknown command\n"
            if self.stats.counting:
                self.stats.latencies.append(now - self.sent_at)
                if self.count == 0:
                    self.stats.first.append(now - self.sent_at)
                self.stats.commands += 1
            self.count += 1
            self.sent_at = time.perf_counter()
            self.transport.write(reply)
        self.buf = buf

    def connection_lost(self, exc) -> None:
        if not self.done.done():
            self.done.set_result(self.count)


async def _slot(port: int, n0: int, stats: Stats, until: float) -> None:
    loop = asyncio.get_running_loop()
    n = n0
    while time.perf_counter() < until:
        done = loop.create_future()
        try:
            await loop.create_connection(lambda: PbxSide(stats, header(port, n), done), "127.0.0.1", port)
        except OSError:
            stats.bad += 1
            await asyncio.sleep(0.01)
            continue
        count = await done
        n += 1
        if stats.counting:
            if count == 5:
                stats.sessions += 1
            else:
                stats.bad += 1


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def run_level(name: str, concurrency: int, seconds: float, warmup: float = 0.5) -> dict:
    proc = await asyncio.create_subprocess_exec(sys.executable, str(SERVERS[name]), stdin=asyncio.subprocess.PIPE,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
    port = int(line.split()[1])
    stats = Stats()
    start = time.perf_counter()
    until = start + warmup + seconds
    slots = [asyncio.ensure_future(_slot(port, i * 1_000_000, stats, until)) for i in range(concurrency)]
    await asyncio.sleep(warmup)
    stats.counting = True
    cpu0, t0 = cpu_s(proc.pid), time.perf_counter()
    await asyncio.sleep(seconds)
    stats.counting = False
    cpu1, t1 = cpu_s(proc.pid), time.perf_counter()
    await asyncio.gather(*slots)
    proc.stdin.close()
    await proc.stdout.read()
    await proc.wait()
    wall = t1 - t0
    return {"server": name, "c": concurrency, "sessions_s": stats.sessions / wall,
            "p50_ms": pct(stats.latencies, 50) * 1e3, "p99_ms": pct(stats.latencies, 99) * 1e3,
            "first_p50_ms": pct(stats.first, 50) * 1e3,
            "cpu_us": (cpu1 - cpu0) / stats.sessions * 1e6 if stats.sessions else float("nan"),
            "bad": stats.bad}


async def closed_loop(levels: list[int], seconds: float, servers: list[str], rounds: int = 3) -> list[dict]:
    """Each round runs every server at every level, so a busy moment of the machine hits all of them."""
    gcpolicy.settle()       # the driver's own collector pauses would show as every server's latency
    results = []
    for round_no in range(rounds):
        for c in levels:
            for name in servers:
                results.append(dict(await run_level(name, c, seconds), round=round_no))
    return results


def print_closed_loop(results: list[dict]) -> None:
    """Medians over the rounds; 'x panoramisk' is the median of the per-round ratios."""
    print(f"\n{'server':<13}{'c':>5}{'sessions/s':>12}{'x panoramisk':>14}{'cmd p50 ms':>12}{'cmd p99 ms':>12}"
          f"{'1st cmd p50':>13}{'CPU us/sess':>13}{'errors':>8}")
    cells: dict[tuple[int, str], list[dict]] = {}
    peers: dict[tuple[int, int], dict] = {}
    for r in results:
        cells.setdefault((r["c"], r["server"]), []).append(r)
        if r["server"] == "panoramisk":
            peers[(r["c"], r["round"])] = r
    for (c, name), runs in cells.items():
        ratios = [r["sessions_s"] / peers[(c, r["round"])]["sessions_s"] for r in runs
                  if (c, r["round"]) in peers and peers[(c, r["round"])]["sessions_s"]]
        med = {k: statistics.median(r[k] for r in runs) for k in ("sessions_s", "p50_ms", "p99_ms", "first_p50_ms",
                                                                     "cpu_us")}
        ratio = f"{statistics.median(ratios):.2f}x" if ratios else "-"
        print(f"{name:<13}{c:>5}{med['sessions_s']:>12.0f}{ratio:>14}{med['p50_ms']:>12.2f}{med['p99_ms']:>12.2f}"
              f"{med['first_p50_ms']:>13.2f}{med['cpu_us']:>13.0f}{sum(r['bad'] for r in runs):>8}")
    rounds = len({r["round"] for r in results})
    print(f"(medians of {rounds} round(s); each round runs every server at every level in turn)")
