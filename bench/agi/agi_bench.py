"""FastAGI (asyncio, one process for all calls) against panoramisk's FastAGI and classic AGI (pyst2).

    .venv/bin/python bench/agi/agi_bench.py --quick          # closed loop 50/500 + pbxsim 50/200, ~80 s
    .venv/bin/python bench/agi/agi_bench.py --closed-loop-only   # hotline vs panoramisk vs raw asyncio, ~30 s
    .venv/bin/python bench/agi/agi_bench.py                  # 50, 200 and 1000 concurrent calls
    .venv/bin/python bench/agi/agi_bench.py --levels 100,500 --calls-per-slot 4 --prompt-ms 100

Both sides run the same call flow (ANSWER, STREAM FILE prompt, GET DATA prompt, SET VARIABLE, HANGUP)
against the same simulated PBX: pbxsim places the calls, its dialplan runs ``AGI(...)`` and pbxsim's
own AGI command handling (``pbxsim.agi.AgiSession``) answers every command.

(a) ``AGI(agi://127.0.0.1:<port>/bench)``: real TCP to hotline's ``ivr.agi.FastAgiServer``, which runs
    in its own process (fastagi_server.py) so its memory and CPU are its own.
(b) ``AGI(/…/pyst2_call.py)``: what Asterisk does for a local AGI script — start one process per call,
    send the ``agi_`` block on its stdin, read commands from its stdout, SIGHUP it on hang-up. Here
    pbxsim's AgiSession speaks over the two pipes instead of a socket.

First, a closed loop (closed_loop.py): a driver plays N PBX connections answering every command at
once, against hotline's server, panoramisk 1.4's ``fast_agi.Application`` and a bare asyncio server,
each in its own process: sessions/s, ratio to panoramisk, latency per command, CPU per session.

Then, figures per level of N concurrent calls (N callers, each placing its next call when one ends):
calls/s, session set-up latency (AGI start — connect or fork/exec — to the first command from the
AGI side) p50/p99, whole AGI session p50, peak memory of the AGI side and memory per concurrent call,
CPU of the AGI side per call. Prints figures only; it asserts nothing.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from closed_loop import SERVERS, closed_loop, print_closed_loop  # noqa: E402
from pbxsim import apps as pbx_apps  # noqa: E402
from pbxsim.agi import AgiSession, parse_args, parse_url  # noqa: E402
from pbxsim.participants import CallerScript  # noqa: E402
from pbxsim.simulator import Simulator  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
FLOW = ("ANSWER", "STREAM FILE", "GET DATA", "SET VARIABLE", "HANGUP")
CALL_LIMIT_S = 120.0          # a call still up after this long counts as failed (and is hung up)
PSS_SAMPLE_EVERY = 10         # read smaps_rollup (PSS) of every 10th AGI process


# ---- /proc readers ---------------------------------------------------------------------------------
def proc_status(pid: int, *keys: str) -> dict[str, int]:
    """VmRSS/VmHWM… in bytes from /proc/<pid>/status ({} if the process is gone)."""
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                name, _, rest = line.partition(":")
                if name in keys:
                    out[name] = int(rest.split()[0]) * 1024
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass
    return out


def proc_rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
        return 0


def proc_pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass
    return 0


def proc_cpu_s(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
        return 0.0


def mem_available() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


# ---- the PBX side ------------------------------------------------------------------------------------
@dataclass
class Run:
    """What one level of one variant measured."""

    setup_s: list[float] = field(default_factory=list)
    session_s: list[float] = field(default_factory=list)
    flows_ok: int = 0
    flows_bad: int = 0
    calls_done: int = 0
    calls_failed: int = 0
    live_pids: set[int] = field(default_factory=set)
    hwm_per_process: list[int] = field(default_factory=list)
    pss_per_process: list[int] = field(default_factory=list)
    spawned: int = 0
    spawn_errors: int = 0
    exit_codes: dict[int, int] = field(default_factory=dict)
    ended_at: list[float] = field(default_factory=list)
    steady: tuple[float, float] = (0.0, 0.0)


class TimedSession(AgiSession):
    """pbxsim's AGI command handling, noting when the first command arrives and which commands ran."""

    def __init__(self, *a, run: Run, started: float, **kw) -> None:
        super().__init__(*a, **kw)
        self.bench_run = run
        self.started = started
        self.seen: list[str] = []

    async def handle(self, line: str) -> int:
        if not self.seen:
            self.bench_run.setup_s.append(time.perf_counter() - self.started)
        argv = parse_args(line)
        verb = " ".join(argv[:2]).upper() if argv and argv[0].upper() in ("STREAM", "GET", "SET") else (
            argv[0].upper() if argv else "")
        self.seen.append(verb)
        if verb == "HANGUP":
            self.before_hangup()
        return await super().handle(line)

    def before_hangup(self) -> None:
        pass

    def flow_complete(self) -> bool:
        return tuple(self.seen[:len(FLOW)]) == FLOW


class PipeSession(TimedSession):
    """Local AGI as res_agi's launch_script() runs it: no agi_network lines, SIGHUP instead of 'HANGUP'."""

    def __init__(self, *a, proc: subprocess.Popen, sample_pss: bool, **kw) -> None:
        super().__init__(*a, **kw)
        self.proc = proc
        self.sample_pss = sample_pss
        self._header_sent = False

    def send(self, text: str) -> None:
        if not self._header_sent:
            self._header_sent = True
            text = text.replace("agi_network: yes\n", "", 1)
        elif text == "HANGUP\n":
            try:
                self.proc.send_signal(signal.SIGHUP)     # a no-op once the process is reaped
            except ProcessLookupError:
                pass
            return
        super().send(text)

    def before_hangup(self) -> None:
        # the script's last command: it has done all its work, so its high-water mark is its peak
        hwm = proc_status(self.proc.pid, "VmHWM").get("VmHWM")
        if hwm:
            self.bench_run.hwm_per_process.append(hwm)
        if self.sample_pss:
            pss = proc_pss(self.proc.pid)
            if pss:
                self.bench_run.pss_per_process.append(pss)


def install_agi_app(state: dict) -> None:
    """Replace pbxsim's AGI() application by one that times sessions and can also run local scripts.

    agi:// URLs go over TCP exactly as pbxsim.agi.run_fastagi does; a path runs the script as a process.
    """

    async def app_agi(pbx, chan, args, raw):
        run: Run = state["run"]
        url = args[0] if args else ""
        started = time.perf_counter()
        chan._in_agi = True          # as pbxsim's own AGI app: a Redirect meanwhile is an async goto
        try:
            if url.startswith("agi://"):
                host, port, script = parse_url(url)
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 2.0)
                session = TimedSession(pbx, chan, reader, writer, run=run, started=started)
                status = await session.run(url, script, list(args[1:]))
            else:
                status, session = await run_local_agi(pbx, chan, url, list(args[1:]), run, started)
        except (OSError, asyncio.TimeoutError):
            run.spawn_errors += 1
            chan.set_variable("AGISTATUS", "FAILURE")
            return 0
        finally:
            chan._in_agi = False
        run.session_s.append(time.perf_counter() - started)
        if session is not None and session.flow_complete():
            run.flows_ok += 1
        else:
            run.flows_bad += 1
        chan.set_variable("AGISTATUS", status)
        return -1 if status == "HANGUP" else 0

    pbx_apps.APPS["agi"] = app_agi


async def spawn_agi_script(script: str, args: list[str]):
    """fork/exec the script with its stdin/stdout as pipes (res_agi.c launch_script()).

    Plain Popen plus a pidfd to learn of its exit, so no watcher thread per child and no other
    waitpid() racing ours.
    """
    loop = asyncio.get_running_loop()
    popen = subprocess.Popen([sys.executable, script, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, bufsize=0, start_new_session=True)
    reader = asyncio.StreamReader(limit=65536)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), popen.stdout)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, popen.stdin)
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    return popen, reader, writer


async def wait_exit(popen: subprocess.Popen, pidfd: int) -> int:
    loop = asyncio.get_running_loop()
    exited = loop.create_future()
    loop.add_reader(pidfd, lambda: exited.done() or exited.set_result(None))
    try:
        await exited
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)
    return popen.wait()


async def run_local_agi(pbx, chan, script: str, args: list[str], run: Run, started: float):
    popen, reader, writer = await spawn_agi_script(script, args)
    pidfd = os.pidfd_open(popen.pid)       # before anything (a SIGHUP's poll()) can reap it
    run.spawned += 1
    run.live_pids.add(popen.pid)
    code = None
    try:
        session = PipeSession(pbx, chan, reader, writer, run=run, started=started, proc=popen,
                              sample_pss=run.spawned % PSS_SAMPLE_EVERY == 0)
        status = await session.run(script, "", args)
        code = await wait_exit(popen, pidfd)
    finally:
        run.live_pids.discard(popen.pid)
        if code is None:
            os.close(pidfd)
            popen.kill()
            popen.wait()
    run.exit_codes[code] = run.exit_codes.get(code, 0) + 1
    return status, session


# ---- one level ---------------------------------------------------------------------------------------
def write_pbx_files(work: Path, prompt_ms: int) -> tuple[Path, Path]:
    conf, sounds = work / "conf", work / "sounds"
    conf.mkdir()
    sounds.mkdir()
    with wave.open(str(sounds / "bench-prompt.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * (8 * prompt_ms))
    return conf, sounds


def write_dialplan(conf: Path, agi_app_data: str) -> None:
    (conf / "extensions.conf").write_text(
        "[bench]\n"
        f"exten => _X.,1,AGI({agi_app_data})\n"
        " same => n,Hangup()\n")


async def place_calls(sim: Simulator, concurrency: int, total: int, run: Run, ramp_s: float) -> float:
    """N callers, each calling again as soon as its call ends, until ``total`` calls were placed.

    The callers' first calls are spread over ``ramp_s`` so the run is N calls up at once, not N calls
    arriving in the same millisecond over and over (``--ramp-s 0`` for that storm). Returns the wall time;
    ``run.steady`` is the window in which all N callers were busy (after the ramp, before the last call
    was placed), where calls/s is read.
    """
    placed = 0
    started_slots = 0
    t_full = t_last_placed = None

    async def caller_slot(slot: int) -> None:
        nonlocal placed, started_slots, t_full, t_last_placed
        await asyncio.sleep(ramp_s * slot / concurrency)
        started_slots += 1
        if started_slots == concurrency:
            t_full = time.perf_counter()
        while placed < total:
            placed += 1
            if placed == total:
                t_last_placed = time.perf_counter()
            caller = await sim.place_call(CallerScript(f"1380000{placed:04d}", dnid="4008001234",
                                                       context="bench"))
            try:
                await asyncio.wait_for(caller.wait(), CALL_LIMIT_S)
                run.calls_done += 1
                run.ended_at.append(time.perf_counter())
            except asyncio.TimeoutError:
                run.calls_failed += 1
                caller.hang_up("bench-timeout")

    t0 = time.perf_counter()
    await asyncio.gather(*(caller_slot(i) for i in range(concurrency)))
    wall = time.perf_counter() - t0
    run.steady = (t_full or t0, t_last_placed or t0 + wall)
    return wall


def calls_per_s(run: Run, wall: float) -> tuple[float, str]:
    """Throughput in the window where all N callers were busy; the whole run if that window is too short."""
    start, end = run.steady
    inside = sum(1 for t in run.ended_at if start <= t <= end)
    if end - start >= 0.5 and inside >= 20:
        return inside / (end - start), "steady"
    return (run.calls_done / wall if wall else 0.0), "whole run"


async def sample_memory(pids_of, into: list[int], every_s: float = 0.1) -> None:
    """Peak of the summed RSS of the AGI side, sampled."""
    while True:
        pids = list(pids_of())
        into.append(sum(proc_rss(p) for p in pids))
        await asyncio.sleep(every_s)


async def start_fastagi_server() -> tuple[asyncio.subprocess.Process, int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(HERE / "fastagi_server.py"), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE)
    line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
    if not line.startswith("PORT "):
        raise RuntimeError(f"fastagi_server.py did not start: {line!r}")
    return proc, int(line.split()[1])


async def level_fastagi(n: int, total: int, work: Path, conf: Path, sounds: Path, timeout_ms: int,
                        state: dict) -> dict:
    server, port = await start_fastagi_server()
    await asyncio.sleep(0.2)
    idle = proc_status(server.pid, "VmRSS")["VmRSS"]
    cpu0 = proc_cpu_s(server.pid)
    write_dialplan(conf, f"agi://127.0.0.1:{port}/bench?prompt=bench-prompt&timeout={timeout_ms}")
    run = state["run"] = Run()
    samples: list[int] = []
    sampler = asyncio.ensure_future(sample_memory(lambda: [server.pid], samples))
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    try:
        async with Simulator(conf, sounds_dirs=[sounds], monitor_dir=work / "monitor", start_ami=False) as sim:
            wall = await place_calls(sim, n, total, run, state["ramp_s"])
    finally:
        sampler.cancel()
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    hwm = proc_status(server.pid, "VmHWM")["VmHWM"]
    cpu = proc_cpu_s(server.pid) - cpu0
    server.stdin.close()
    done_line = (await asyncio.wait_for(server.stdout.readline(), 10)).decode().strip()
    await server.wait()
    peak = max(hwm, max(samples, default=0))
    return summarize(run, n, wall, peak_total=peak, per_call_mem=(peak - idle) / n, agi_cpu_s=cpu,
                     driver_cpu_s=cpu_delta(self0, self1), extra={"idle_rss": idle, "server": done_line})


async def level_process(n: int, total: int, work: Path, conf: Path, sounds: Path, timeout_ms: int,
                        state: dict) -> dict:
    write_dialplan(conf, f"{HERE / 'pyst2_call.py'},bench-prompt,{timeout_ms}")
    run = state["run"] = Run()
    samples: list[int] = []
    sampler = asyncio.ensure_future(sample_memory(lambda: run.live_pids, samples))
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        async with Simulator(conf, sounds_dirs=[sounds], monitor_dir=work / "monitor", start_ami=False) as sim:
            wall = await place_calls(sim, n, total, run, state["ramp_s"])
    finally:
        sampler.cancel()
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = max(samples, default=0)
    per_proc = statistics.mean(run.hwm_per_process) if run.hwm_per_process else 0
    return summarize(run, n, wall, peak_total=peak, per_call_mem=per_proc, agi_cpu_s=cpu_delta(kids0, kids1),
                     driver_cpu_s=cpu_delta(self0, self1),
                     extra={"pss": statistics.mean(run.pss_per_process) if run.pss_per_process else 0,
                            "exit_codes": dict(sorted(run.exit_codes.items())), "spawn_errors": run.spawn_errors})


def cpu_delta(a, b) -> float:
    return (b.ru_utime - a.ru_utime) + (b.ru_stime - a.ru_stime)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summarize(run: Run, n: int, wall: float, *, peak_total: int, per_call_mem: float, agi_cpu_s: float,
              driver_cpu_s: float, extra: dict) -> dict:
    calls = run.calls_done
    return {
        "concurrency": n, "calls": calls, "failed": run.calls_failed + run.flows_bad + run.spawn_errors, "wall_s": wall,
        "calls_per_s": calls_per_s(run, wall)[0], "rate_window": calls_per_s(run, wall)[1],
        "cpu_busy": (agi_cpu_s + driver_cpu_s) / wall if wall else 0.0,
        "setup_p50_ms": pct(run.setup_s, 50) * 1000, "setup_p99_ms": pct(run.setup_s, 99) * 1000,
        "session_p50_ms": pct(run.session_s, 50) * 1000,
        "peak_mem_mb": peak_total / 2**20, "mem_per_call_mb": per_call_mem / 2**20,
        "agi_cpu_ms_per_call": agi_cpu_s / calls * 1000 if calls else float("nan"),
        "driver_cpu_ms_per_call": driver_cpu_s / calls * 1000 if calls else float("nan"),
        **extra,
    }


# ---- report ---------------------------------------------------------------------------------------------
def print_level(a: dict, b: dict | None) -> None:
    n = a["concurrency"]
    print(f"\n== {n} concurrent calls ==")
    rows = [
        ("calls completed (failed)", lambda r: f"{r['calls']} ({r['failed']})", None),
        ("calls/s (all N busy)", lambda r: f"{r['calls_per_s']:.1f}" + ("" if r["rate_window"] == "steady" else "*"), lambda a, b: a["calls_per_s"] / b["calls_per_s"]),
        ("setup p50 ms", lambda r: f"{r['setup_p50_ms']:.1f}", lambda a, b: b["setup_p50_ms"] / a["setup_p50_ms"]),
        ("setup p99 ms", lambda r: f"{r['setup_p99_ms']:.1f}", lambda a, b: b["setup_p99_ms"] / a["setup_p99_ms"]),
        ("AGI session p50 ms", lambda r: f"{r['session_p50_ms']:.1f}", None),
        ("peak memory of AGI side MB", lambda r: f"{r['peak_mem_mb']:.1f}",
         lambda a, b: b["peak_mem_mb"] / a["peak_mem_mb"]),
        ("memory per concurrent call MB", lambda r: f"{r['mem_per_call_mb']:.3f}",
         lambda a, b: b["mem_per_call_mb"] / a["mem_per_call_mb"] if a["mem_per_call_mb"] > 0 else float("inf")),
        ("AGI-side CPU ms per call", lambda r: f"{r['agi_cpu_ms_per_call']:.2f}",
         lambda a, b: b["agi_cpu_ms_per_call"] / a["agi_cpu_ms_per_call"]),
        ("PBX-sim (driver) CPU ms per call", lambda r: f"{r['driver_cpu_ms_per_call']:.2f}", None),
        ("cores busy (AGI side + PBX-sim)", lambda r: f"{r['cpu_busy']:.2f}", None),
    ]
    print(f"  {'':34}{'(a) asyncio FastAGI':>22}{'(b) pyst2 per process':>24}{'ratio':>9}")
    for label, fmt, ratio in rows:
        bv = fmt(b) if b else "skipped"
        rv = ""
        if b and ratio:
            try:
                rv = f"{ratio(a, b):.1f}x"
            except ZeroDivisionError:
                rv = "-"
        print(f"  {label:34}{fmt(a):>22}{bv:>24}{rv:>9}")
    if a["rate_window"] != "steady" or (b and b["rate_window"] != "steady"):
        print("  * calls/s over the whole run (the all-busy window was too short: raise --calls-per-slot)")
    print(f"  (a) server idle RSS {a['idle_rss'] / 2**20:.1f} MB; memory per call = (peak RSS - idle) / N; "
          f"server says: {a['server']}")
    if b:
        print(f"  (b) per-process peak RSS (VmHWM) mean {b['mem_per_call_mb']:.1f} MB, PSS mean "
              f"{b['pss'] / 2**20:.1f} MB (shared libpython pages split); exit codes {b['exit_codes']}, "
              f"spawn errors {b['spawn_errors']}")


async def main_async(args) -> int:
    if args.closed_loop:
        cl_levels = [int(x) for x in args.closed_loop.split(",")]
        print(f"closed loop: {', '.join(map(str, cl_levels))} concurrent PBX connections, {args.closed_loop_s:g} s "
              f"per server and level, {args.closed_loop_rounds} rounds; python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
              "load average %.2f %.2f %.2f" % os.getloadavg())
        print("every command answered at once by the driver; 'x panoramisk' = sessions/s over panoramisk's")
        print_closed_loop(await closed_loop(cl_levels, args.closed_loop_s, list(SERVERS), args.closed_loop_rounds))
        if args.closed_loop_only:
            return 0
        print()
    levels = [int(x) for x in args.levels.split(",")]
    state: dict = {"ramp_s": args.ramp_s}
    install_agi_app(state)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"AGI benchmark: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, levels {levels}, "
          f"{args.calls_per_slot} calls per concurrent slot, prompt {args.prompt_ms} ms, "
          f"GET DATA timeout {args.timeout_ms} ms (no digits pressed), ramp {args.ramp_s} s")
    print("flow on both sides: ANSWER, STREAM FILE prompt, GET DATA prompt, SET VARIABLE, HANGUP")
    print("load average at start: %.2f %.2f %.2f (anything else running on the machine skews the figures)"
          % os.getloadavg())
    results = []
    with tempfile.TemporaryDirectory(prefix="agi-bench-") as tmp:
        work = Path(tmp)
        conf, sounds = write_pbx_files(work, args.prompt_ms)
        for n in levels:
            total = n * args.calls_per_slot
            a = await level_fastagi(n, total, work, conf, sounds, args.timeout_ms, state)
            need = n * 10 * 2**20        # ~6.5 MB PSS per pyst2 process, with room to spare
            if args.skip_process or mem_available() < need:
                why = "--skip-process" if args.skip_process else f"needs ~{need / 2**30:.1f} GB free"
                print(f"(b) skipped at {n} concurrent calls: {why}")
                b = None
            else:
                b = await level_process(n, total, work, conf, sounds, args.timeout_ms, state)
            print_level(a, b)
            results.append((a, b))
    print("\nsummary (ratio = how many times better the asyncio FastAGI server is)")
    print(f"  {'N':>6}{'calls/s a':>11}{'calls/s b':>11}{'x':>7}{'setup p99 a':>13}{'setup p99 b':>13}{'x':>8}"
          f"{'MB/call a':>11}{'MB/call b':>11}{'x':>8}")
    for a, b in results:
        if b is None:
            print(f"  {a['concurrency']:>6}{a['calls_per_s']:>11.1f}{'-':>11}{'-':>7}{a['setup_p99_ms']:>13.1f}"
                  f"{'-':>13}{'-':>8}{a['mem_per_call_mb']:>11.3f}{'-':>11}{'-':>8}")
            continue
        mem_x = b["mem_per_call_mb"] / a["mem_per_call_mb"] if a["mem_per_call_mb"] > 0 else float("inf")
        print(f"  {a['concurrency']:>6}{a['calls_per_s']:>11.1f}{b['calls_per_s']:>11.1f}"
              f"{a['calls_per_s'] / b['calls_per_s']:>6.1f}x{a['setup_p99_ms']:>13.1f}{b['setup_p99_ms']:>13.1f}"
              f"{b['setup_p99_ms'] / a['setup_p99_ms']:>7.1f}x{a['mem_per_call_mb']:>11.3f}"
              f"{b['mem_per_call_mb']:>11.1f}{mem_x:>7.0f}x")
    print("load average at end: %.2f %.2f %.2f" % os.getloadavg())
    failed = sum(r["failed"] for a, b in results for r in (a, b) if r)
    if failed:
        print(f"\nwarning: {failed} calls did not run the whole flow (see 'failed' above)")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="asyncio FastAGI server vs. pyst2 process-per-call AGI")
    p.add_argument("--levels", default=None, help="comma-separated concurrent-call levels (default 50,200,1000)")
    p.add_argument("--quick", action="store_true", help="levels 50,200 only (under a minute)")
    p.add_argument("--calls-per-slot", type=int, default=None, help="calls placed per concurrent slot (default 3)")
    p.add_argument("--prompt-ms", type=int, default=100, help="length of the prompt played twice per call")
    p.add_argument("--timeout-ms", type=int, default=300, help="GET DATA timeout (the caller presses nothing)")
    p.add_argument("--ramp-s", type=float, default=1.0, help="spread the first N calls over this many seconds")
    p.add_argument("--skip-process", action="store_true", help="run only the FastAGI side")
    p.add_argument("--closed-loop", default="50,500",
                   help="levels of the closed-loop comparison hotline / panoramisk / raw asyncio ('' to skip)")
    p.add_argument("--closed-loop-s", type=float, default=2.0, help="measured seconds per server, level and round")
    p.add_argument("--closed-loop-rounds", type=int, default=3, help="rounds (medians are printed)")
    p.add_argument("--closed-loop-only", action="store_true", help="skip the pbxsim + pyst2 part")
    args = p.parse_args(argv)
    if args.levels is None:
        args.levels = "50,200" if args.quick else "50,200,1000"
    if args.calls_per_slot is None:
        args.calls_per_slot = 3
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
