"""AMI reader throughput: real Asterisk 22 event streams through hotline's reader + noise filter + live model,
against panoramisk 1.4's Manager (parse + dispatch to one callback, nothing else) and a plain str splitter,
all in one run on the same bytes.

    .venv/bin/python bench/ami/ami_bench.py                 # 200,000 messages, 5 rounds, ~40 s
    .venv/bin/python bench/ami/ami_bench.py --messages 50000 --rounds 1     # a smoke run (CI)

The stream is every event of the captures in /work/shared/asterisk/ami/*.log.bin (Newexten, VarSet,
AGIExec*, DeviceStateChange... as Asterisk sent them), repeated until --messages. Each side is fed the
same 64 KiB chunks (TCP reads) on one core, the sides taking turns for --rounds rounds; printed: each
side's best round and hotline's speed over it, plus the median of the per-round ratios.

(a) hotline: ``cti.ami_reader.AmiReader`` with the bytes-level noise filter, then the session's
    dispatch (ActionID matching) and its one observer ``cti.model.LiveModel.apply``.
(b) panoramisk: ``AMIProtocol.data_received`` -> ``Message.from_line`` -> ``Manager.dispatch`` to a
    no-op callback registered for every event (no filter, no model: panoramisk does less work).
(c) plain splitter: ``bytes.decode`` + ``str.split`` into header dicts, no dispatch at all.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from cti.ami import AmiConfig, AmiSession, _AmiProtocol  # noqa: E402
from cti.model import LiveModel  # noqa: E402

CAPTURES = Path(os.environ.get("HOTLINE_ASTERISK_CAPTURES", ROOT.parent / "shared" / "asterisk"))
if not (CAPTURES / "ami").is_dir():
    CAPTURES = Path("/work/shared/asterisk")
CHUNK = 64 * 1024
HOTLINE = "hotline reader + filter + live model"


def event_blocks() -> list[bytes]:
    blocks = []
    for path in sorted((CAPTURES / "ami").glob("*.log.bin")):
        data = path.read_bytes()
        if data.startswith(b"Asterisk Call Manager/"):
            data = data.split(b"\r\n", 1)[1]
        blocks += [b + b"\r\n\r\n" for b in data.split(b"\r\n\r\n") if b.startswith(b"Event: ")]
    return blocks


def stream(messages: int) -> tuple[bytes, int]:
    """The capture events repeated; each repetition gets its own uniqueids (the captures' all start with
    179543…), so every pass creates and ends fresh channels and calls as a real day would."""
    blocks = event_blocks()
    out = []
    n = 0
    rep = 0
    while n < messages:
        prefix = b"%06d" % (300000 + rep)
        rep += 1
        for b in blocks:
            out.append(b.replace(b"179543", prefix))
            n += 1
            if n == messages:
                break
    data = b"Asterisk Call Manager/11.0.0\r\n" + b"".join(out)
    return data, n


def chunks(data: bytes) -> list[bytes]:
    return [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]


def run_hotline(parts: list[bytes]) -> tuple[float, dict]:
    session = AmiSession(AmiConfig())
    model = LiveModel()
    session.add_observer(model.apply)
    protocol = _AmiProtocol(session)
    t0 = time.perf_counter()
    for part in parts:
        protocol.data_received(part)
    elapsed = time.perf_counter() - t0
    return elapsed, {"applied": model.events_applied, "skipped": protocol.reader.skipped,
                     "live_calls": len(model.calls)}


def run_panoramisk(parts: list[bytes]) -> tuple[float, dict]:
    from panoramisk.ami_protocol import AMIProtocol
    from panoramisk.manager import Manager

    manager = Manager(loop=asyncio.get_event_loop())
    seen = [0]

    def callback(manager, event):
        seen[0] += 1

    manager.register_event("*", callback)
    protocol = AMIProtocol()
    protocol.connection_made(None)
    protocol.factory = manager
    protocol.encoding = "utf8"
    t0 = time.perf_counter()
    for part in parts:
        protocol.data_received(part)
    elapsed = time.perf_counter() - t0
    return elapsed, {"dispatched": seen[0]}


def run_splitter(parts: list[bytes]) -> tuple[float, dict]:
    count = 0
    t0 = time.perf_counter()
    rest = ""
    for part in parts:
        *blocks, rest = (rest + part.decode("utf-8", "replace")).split("\r\n\r\n")
        for block in blocks:
            headers = {}
            for line in block.split("\r\n"):
                key, _, value = line.partition(": ")
                headers[key] = value
            count += 1
    elapsed = time.perf_counter() - t0
    return elapsed, {"parsed": count}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=200_000)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args(argv)
    data, n = stream(args.messages)
    parts = chunks(data)
    asyncio.set_event_loop(asyncio.new_event_loop())
    print(f"AMI reader benchmark: {n} real Asterisk 22 event messages ({len(data) / 2**20:.1f} MiB) in "
          f"{len(parts)} reads of {CHUNK // 1024} KiB; python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          "load average %.2f %.2f %.2f; best of %d rounds" % (*os.getloadavg(), args.rounds))
    sides = {HOTLINE: run_hotline,
             "panoramisk Manager (parse + dispatch)": run_panoramisk, "plain str splitter": run_splitter}
    best: dict[str, tuple[float, dict]] = {}
    ratios: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(args.rounds):          # the sides take turns, so a busy moment hits all of them
        times = {}
        for name, fn in sides.items():
            elapsed, info = asyncio.get_event_loop().run_until_complete(_in_loop(fn, parts))
            times[name] = elapsed
            if name not in best or elapsed < best[name][0]:
                best[name] = (elapsed, info)
        for name in sides:
            ratios[name].append(times[name] / times[HOTLINE])
    hot = n / best[HOTLINE][0]
    print(f"\n{'':42}{'messages/s':>12}{'hotline is':>12}{'median of rounds':>18}   notes")
    for name, (elapsed, info) in best.items():
        rate = n / elapsed
        ratio = "" if name == HOTLINE else f"{hot / rate:.2f}x"
        median = "" if name == HOTLINE else f"{statistics.median(ratios[name]):.2f}x"
        print(f"{name:42}{rate:>12,.0f}{ratio:>12}{median:>18}   {info}")
    print("(messages/s: best round of each; 'median of rounds': hotline's speed over the other's, round by round)")
    return 0


async def _in_loop(fn, parts):
    return fn(parts)


if __name__ == "__main__":
    sys.exit(main())
