"""A virtual-time asyncio event loop.

``VirtualClockLoop`` is a ``SelectorEventLoop`` whose ``time()`` is virtual.
Whenever the loop would block (no callback is ready, the selector polled with a
zero timeout reports no I/O, and nothing is *busy*) the clock jumps straight to
the next scheduled timer. A day of traffic then runs in seconds and, with the
same seed, in the same order every time.

Real TCP on loopback keeps working inside the loop: the selector is always
polled first, so bytes already delivered by the kernel are handled before time
moves. Work outside the loop's thread stops the clock from jumping while it
runs; it takes no virtual time (runs stay reproducible), and only if it lasts
longer than BUSY_FREEZE_BUDGET_S of real time does the clock follow real time
(never a deadlock). ``with loop.hold():`` makes time follow real time at once.

- ``run_in_executor`` jobs are counted until their result is back in the loop;
- ``with loop.hold():`` marks a region as busy explicitly;
- ``loop.add_busy_probe(fn)`` registers a callable returning True while busy;
- by default, any other Python thread that is not parked in a wait/get/select/recv
  call (aiosqlite's worker running a query, for example) counts as busy; an idle
  worker (blocked in ``queue.get()``) does not.
"""
from __future__ import annotations

import asyncio
import contextlib
import dis
import linecache
import queue
import re
import selectors
import sys
import threading
import time
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")

# Where an idle worker thread sits: waiting on a lock, a queue or a selector.
_IDLE_FUNCS = frozenset({
    "wait", "get", "select", "poll", "_worker", "accept", "sleep", "acquire",
    "recv", "recv_into", "readline", "read", "serve_forever", "_wait_for_tstate_lock",
})
# A thread blocked inside a C call (SimpleQueue.get, socket.recv...) shows its caller's frame:
# the source line tells whether it is waiting there.
_BLOCKING_LINE = re.compile(r"\.(get|wait|acquire|select|poll|accept|recv|recv_into|recvfrom|join)\(")
# How long (real seconds) outside work may keep virtual time frozen before the clock follows real time.
BUSY_FREEZE_BUDGET_S = 5.0
# Real seconds to give in-flight loopback work (a connect, a write) before jumping.
_SETTLE_S = 0.0005


class _VirtualSelector(selectors.DefaultSelector):
    loop: "VirtualClockLoop | None" = None

    def select(self, timeout=None):
        events = super().select(0)
        loop = self.loop
        if events or timeout == 0 or loop is None:
            return events
        if loop._holds:
            # an explicit hold: time follows real time (so timers inside the hold still fire)
            step = 0.002 if timeout is None else min(timeout, 0.002)
            start = time.monotonic()
            events = super().select(step)
            loop._virtual_now += time.monotonic() - start
            loop.real_time_followed += time.monotonic() - start
            return events
        if loop._is_busy():
            # work outside the loop (a thread, an executor job) takes no virtual time, so runs
            # stay reproducible; past a real-time budget the clock follows real time (no deadlock)
            step = 0.002 if timeout is None else min(timeout, 0.002)
            start = time.monotonic()
            if loop._busy_since is None:
                loop._busy_since = start
            events = super().select(step)
            now = time.monotonic()
            if now - loop._busy_since > loop.busy_freeze_budget_s:
                loop._virtual_now += now - start
                loop.real_time_followed += now - start
            loop.busy_waits += 1
            return events
        loop._busy_since = None
        if loop._ready:
            # another thread finished meanwhile (call_soon_threadsafe fills _ready before it
            # writes the wake-up byte): handle its result before time moves
            return super().select(0)
        if loop._has_writers():
            events = super().select(_SETTLE_S)
            if events or loop._ready:
                return events
        if timeout is None:
            # Nothing scheduled at all: only the outside world can wake us.
            return super().select(None)
        loop._virtual_now += timeout
        loop.jumps += 1
        return []


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """SelectorEventLoop with a virtual clock that jumps over idle time."""

    def __init__(self, start: float = 0.0, *, watch_threads: bool = True,
                 busy_freeze_budget_s: float = BUSY_FREEZE_BUDGET_S) -> None:
        selector = _VirtualSelector()
        super().__init__(selector)
        selector.loop = self
        self._virtual_now = float(start)
        self._holds = 0
        self._executor_jobs = 0
        self._probes: list[Callable[[], bool]] = []
        self._watch_threads = watch_threads
        self._loop_thread_id: int | None = None
        self._busy_since: float | None = None
        self.busy_freeze_budget_s = busy_freeze_budget_s
        self.jumps = 0                    # times the clock jumped to the next timer
        self.busy_waits = 0               # polls spent waiting for outside work with the clock frozen
        self.real_time_followed = 0.0     # virtual seconds that passed as real time (holds, long outside work)

    # -- time ------------------------------------------------------------
    def time(self) -> float:
        return self._virtual_now

    # -- busy accounting ------------------------------------------------
    @contextlib.contextmanager
    def hold(self):
        """While inside, the clock does not jump: it follows real time."""
        self._holds += 1
        try:
            yield self
        finally:
            self._holds -= 1

    def add_busy_probe(self, probe: Callable[[], bool]) -> Callable[[], None]:
        self._probes.append(probe)

        def remove() -> None:
            if probe in self._probes:
                self._probes.remove(probe)
        return remove

    def run_in_executor(self, executor, func, *args):
        self._executor_jobs += 1
        fut = super().run_in_executor(executor, func, *args)

        def _done(_f) -> None:
            self._executor_jobs -= 1
        fut.add_done_callback(_done)
        return fut

    def _has_writers(self) -> bool:
        return any(key.events & selectors.EVENT_WRITE for key in self._selector.get_map().values())

    def _is_busy(self) -> bool:
        if self._executor_jobs:
            return True
        if any(probe() for probe in self._probes):
            return True
        return self._watch_threads and self._threads_busy()

    def _threads_busy(self) -> bool:
        if threading.active_count() <= 1:
            return False
        me = threading.get_ident()
        for ident, frame in sys._current_frames().items():
            if ident == me or _frame_idle(frame):
                continue
            return True
        return False

    async def sleep_real(self, seconds: float) -> None:
        """Let real time pass (for an outside process) without jumping."""
        with self.hold():
            await asyncio.sleep(seconds)


_CALL_OPS = {dis.opmap[name] for name in ("CALL", "CALL_FUNCTION", "CALL_METHOD", "PRECALL", "CALL_FUNCTION_EX")
             if name in dis.opmap}


def _frame_idle(frame) -> bool:
    """Is this thread parked waiting for work (and no work waiting for it)?"""
    if frame.f_code.co_name not in _IDLE_FUNCS:
        # parked inside a blocking C call: the frame sits on a CALL of a line like ``x = tx.get()``
        code = frame.f_code.co_code
        if not (0 <= frame.f_lasti < len(code)) or code[frame.f_lasti] not in _CALL_OPS:
            return False
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
        if not _BLOCKING_LINE.search(line):
            return False
    # the thread may not have woken up yet for an item already queued for it
    f, depth = frame, 0
    while f is not None and depth < 4:
        try:
            values = list(f.f_locals.values())
        except Exception:
            return False
        owner = f.f_locals.get("self")
        if owner is not None and hasattr(owner, "__dict__"):
            values += list(vars(owner).values())
        for value in values:
            if isinstance(value, (queue.SimpleQueue, queue.Queue)) and not value.empty():
                return False
        f, depth = f.f_back, depth + 1
    return True


def new_virtual_loop(start: float = 0.0, **kwargs) -> VirtualClockLoop:
    return VirtualClockLoop(start, **kwargs)


def run_virtual(main: Awaitable[T], *, start: float = 0.0, debug: bool | None = None) -> T:
    """Like ``asyncio.run`` but on a fresh VirtualClockLoop."""
    with asyncio.Runner(loop_factory=lambda: new_virtual_loop(start), debug=debug) as runner:
        return runner.run(main)


class VirtualLoopPolicy(asyncio.DefaultEventLoopPolicy):
    """Event loop policy producing VirtualClockLoops (for pytest-asyncio's event_loop_policy)."""

    def new_event_loop(self) -> VirtualClockLoop:
        return new_virtual_loop()
