"""A virtual-time asyncio event loop.

``VirtualClockLoop`` is a ``SelectorEventLoop`` whose ``time()`` is virtual.
Whenever the loop would block (no callback is ready, the selector polled with a
zero timeout reports no I/O, and no work is out in another thread) the clock
jumps straight to the next scheduled timer. A day of traffic then runs in
seconds and, with the same seed, in the same order every time.

Real TCP on loopback keeps working inside the loop: the selector is always
polled first, so bytes already delivered by the kernel are handled before time
moves.

Work handed to another thread takes no virtual time: the clock stands still
from the moment the work is handed over until its result is back in the loop,
however long the machine takes (a loaded CI box only makes the run slower,
never different). The loop knows about such work explicitly, without looking
at what threads happen to be doing:

- ``run_in_executor`` (and so ``asyncio.to_thread``, ``getaddrinfo``): its
  future is outstanding from the submission until the executor posts the result;
- futures created by code of the modules in ``thread_work_modules`` (aiosqlite,
  whose worker thread resolves them with ``call_soon_threadsafe``, and
  SQLAlchemy's aiosqlite adapter, which queues on the same worker);
- ``loop.expect_thread_result(fut)``: any other future a thread will resolve
  with ``loop.call_soon_threadsafe(...)`` (the future among its arguments);
- ``loop.add_busy_probe(fn)`` (busy while ``fn()`` is true) and
  ``with loop.hold():`` (time follows real time meanwhile).

A future counts as outstanding until the result the thread hands back with
``call_soon_threadsafe`` has been handled in the loop, not merely until it is
done: a query whose awaiting task was cancelled still runs in
its thread, and the clock waits for it. A thread parked waiting for work holds
no outstanding future, so an idle aiosqlite connection does not stop the clock.

Bytes in flight on loopback between two sockets of this loop count as outside work too: the clock does not
jump while bytes one end sent have neither been read by the other end nor reached its kernel receive queue.
On a calm machine loopback delivery is instant; on a saturated one the kernel may deliver them after the loop
has found "no I/O ready", and a jump then would move a timer before an event that came first (a different day).
Every stream transport of the loop counts what it sends and reads (``_Ledger``).

Only against deadlocks: outside work outstanding longer than
``busy_freeze_budget_s`` (60 s real) is logged as an error and the clock then
follows real time (such a run is no longer reproducible).
"""
from __future__ import annotations

import array
import asyncio
import contextlib
import fcntl
import logging
import selectors
import socket
import sys
import termios
import time
from typing import Awaitable, Callable, Iterable, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

# Real seconds outside work may keep virtual time frozen before the clock follows real time (deadlock valve).
BUSY_FREEZE_BUDGET_S = 60.0
# Modules whose futures are resolved by a worker thread through call_soon_threadsafe.
THREAD_WORK_MODULES = ("aiosqlite", "sqlalchemy.dialects.sqlite.aiosqlite")
# Real seconds per poll while waiting for outside work with the clock frozen.
_BUSY_POLL_S = 0.002


Address = tuple[object, object]


class _Ledger:
    """Bytes sent and read per direction of each loopback connection whose both ends belong to this loop."""

    def __init__(self) -> None:
        self.sent: dict[Address, int] = {}
        self.read: dict[Address, int] = {}
        self.receivers: dict[Address, socket.socket] = {}

    def wrap(self, sock: socket.socket) -> "socket.socket | _CountingSocket":
        try:
            here, there = sock.getsockname(), sock.getpeername()
        except OSError:
            return sock
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
            return sock
        outgoing, incoming = (here, there), (there, here)
        self.sent.setdefault(outgoing, 0)
        self.read.setdefault(incoming, 0)
        self.receivers[incoming] = sock
        return _CountingSocket(sock, self, outgoing, incoming)

    def closed(self, incoming: Address, outgoing: Address) -> None:
        self.receivers.pop(incoming, None)
        self.sent.pop(outgoing, None)
        self.read.pop(incoming, None)

    def in_flight(self) -> bool:
        """Some bytes sent by one of our sockets are neither read nor queued at the receiving socket."""
        for direction, sent in self.sent.items():
            receiver = self.receivers.get(direction)
            if receiver is None:
                continue                       # the other end is not ours (or is gone)
            unread = sent - self.read.get(direction, 0)
            if unread > 0 and unread > _queued(receiver):
                return True
        return False


def _queued(sock: socket.socket) -> int:
    """Bytes in the socket's kernel receive queue (FIONREAD)."""
    buf = array.array("i", [0])
    try:
        fcntl.ioctl(sock.fileno(), termios.FIONREAD, buf, True)
    except OSError:
        return 1 << 62                        # closed: nothing more will arrive
    return buf[0]


class _CountingSocket:
    """A stream transport's socket that tells the ledger what it sent and read."""

    def __init__(self, sock: socket.socket, ledger: _Ledger, outgoing: Address, incoming: Address) -> None:
        self._sock, self._ledger, self._outgoing, self._incoming = sock, ledger, outgoing, incoming

    def send(self, data, *flags) -> int:
        n = self._sock.send(data, *flags)
        self._ledger.sent[self._outgoing] = self._ledger.sent.get(self._outgoing, 0) + n
        return n

    def sendmsg(self, buffers, *args) -> int:
        n = self._sock.sendmsg(buffers, *args)
        self._ledger.sent[self._outgoing] = self._ledger.sent.get(self._outgoing, 0) + n
        return n

    def recv(self, size: int, *flags) -> bytes:
        data = self._sock.recv(size, *flags)
        self._ledger.read[self._incoming] = self._ledger.read.get(self._incoming, 0) + len(data)
        return data

    def recv_into(self, buffer, nbytes: int = 0, *flags) -> int:
        n = self._sock.recv_into(buffer, nbytes, *flags)
        self._ledger.read[self._incoming] = self._ledger.read.get(self._incoming, 0) + n
        return n

    def close(self) -> None:
        self._ledger.closed(self._incoming, self._outgoing)
        self._sock.close()

    def __getattr__(self, name: str):
        return getattr(self._sock, name)


class _VirtualSelector(selectors.DefaultSelector):
    loop: "VirtualClockLoop | None" = None

    def select(self, timeout=None):
        events = super().select(0)
        loop = self.loop
        if events or timeout == 0 or loop is None:
            return events
        if loop._holds:
            # an explicit hold: time follows real time (so timers inside the hold still fire)
            return loop._follow_real_time(self, timeout)
        if loop._is_busy():
            return loop._wait_for_outside_work(self, timeout)
        loop._busy_since = None
        if loop._ready:
            # a thread posted a result (call_soon_threadsafe fills _ready before it writes the
            # wake-up byte): handle it before time moves
            return super().select(0)
        if loop._has_writers():
            # a connect or a write the kernel has not completed yet: on a loaded machine that may take any
            # real time, so the clock waits for it like for other outside work (never a fixed grace)
            return loop._wait_for_outside_work(self, timeout)
        if timeout is None:
            # Nothing scheduled at all: only the outside world can wake us.
            return super().select(None)
        loop._virtual_now += timeout
        loop.jumps += 1
        return []

    def poll(self, timeout):
        return super().select(timeout)


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """SelectorEventLoop with a virtual clock that jumps over idle time and stands still while
    work handed to other threads is outstanding."""

    def __init__(self, start: float = 0.0, *, busy_freeze_budget_s: float = BUSY_FREEZE_BUDGET_S,
                 thread_work_modules: Iterable[str] = THREAD_WORK_MODULES) -> None:
        selector = _VirtualSelector()
        super().__init__(selector)
        selector.loop = self
        self._virtual_now = float(start)
        self._holds = 0
        self._probes: list[Callable[[], bool]] = []
        # future -> where it came from; removed when the result a thread posted is handled in the loop
        self._thread_work: dict[asyncio.Future, str] = {}
        self._thread_work_modules = tuple(thread_work_modules)
        self._next_future_origin: str | None = None
        self._busy_since: float | None = None
        self._valve_open = False
        self.busy_freeze_budget_s = busy_freeze_budget_s
        self._ledger = _Ledger()
        self.jumps = 0                    # times the clock jumped to the next timer
        self.busy_waits = 0               # polls spent waiting for outside work with the clock frozen
        self.real_time_followed = 0.0     # virtual seconds that passed as real time (holds, the deadlock valve)

    # -- time ------------------------------------------------------------
    def time(self) -> float:
        return self._virtual_now

    # -- explicit outside work -------------------------------------------
    @contextlib.contextmanager
    def hold(self):
        """While inside, the clock does not jump: it follows real time."""
        self._holds += 1
        try:
            yield self
        finally:
            self._holds -= 1

    def add_busy_probe(self, probe: Callable[[], bool]) -> Callable[[], None]:
        """The clock stands still while ``probe()`` is true. Returns a function that removes it."""
        self._probes.append(probe)

        def remove() -> None:
            if probe in self._probes:
                self._probes.remove(probe)
        return remove

    def expect_thread_result(self, future: asyncio.Future, origin: str = "expect_thread_result") -> asyncio.Future:
        """Hold the clock until a thread posts ``future``'s result with ``loop.call_soon_threadsafe``
        (``future`` among the call's arguments, as in ``call_soon_threadsafe(future.set_result, x)``
        or ``call_soon_threadsafe(set_result, future, x)``)."""
        self._thread_work[future] = origin
        return future

    @property
    def outside_work(self) -> int:
        """Futures handed to other threads whose results are not back yet."""
        return len(self._thread_work)

    def create_future(self) -> asyncio.Future:
        future = super().create_future()
        origin = self._next_future_origin
        if origin is None:
            module = sys._getframe(1).f_globals.get("__name__", "")
            if module.startswith(self._thread_work_modules):
                origin = module
        if origin is not None:
            self._next_future_origin = None
            self._thread_work[future] = origin
        return future

    def run_in_executor(self, executor, func, *args):
        # the future wrap_future creates is outstanding before the executor can post its result
        self._next_future_origin = f"run_in_executor({getattr(func, '__qualname__', func)!s})"
        try:
            return super().run_in_executor(executor, func, *args)
        finally:
            self._next_future_origin = None

    def call_soon_threadsafe(self, callback, *args, context=None):
        work = self._thread_work
        answered = [item for item in (getattr(callback, "__self__", None), *args)
                    if isinstance(item, asyncio.Future) and item in work] if work else None
        if answered:
            # the work stays outstanding until its result is handled in the loop: never a moment when
            # the loop sees it neither outstanding nor queued
            def handle_result(*call_args):
                for future in answered:
                    work.pop(future, None)
                return callback(*call_args)
            return super().call_soon_threadsafe(handle_result, *args, context=context)
        return super().call_soon_threadsafe(callback, *args, context=context)

    # -- loopback bytes --------------------------------------------------
    def _make_socket_transport(self, sock, protocol, waiter=None, *, extra=None, server=None):
        return super()._make_socket_transport(self._ledger.wrap(sock), protocol, waiter, extra=extra,
                                              server=server)

    # -- waiting ---------------------------------------------------------
    def _is_busy(self) -> bool:
        return (bool(self._thread_work) or any(probe() for probe in self._probes)
                or self._ledger.in_flight())

    def _has_writers(self) -> bool:
        return any(key.events & selectors.EVENT_WRITE for key in self._selector.get_map().values())

    def _follow_real_time(self, selector: _VirtualSelector, timeout) -> list:
        step = _BUSY_POLL_S if timeout is None else min(timeout, _BUSY_POLL_S)
        start = time.monotonic()
        events = selector.poll(step)
        spent = time.monotonic() - start
        self._virtual_now += spent
        self.real_time_followed += spent
        return events

    def _wait_for_outside_work(self, selector: _VirtualSelector, timeout) -> list:
        now = time.monotonic()
        if self._busy_since is None:
            self._busy_since = now
            self._valve_open = False
        if now - self._busy_since > self.busy_freeze_budget_s:
            if not self._valve_open:
                self._valve_open = True
                log.error("pbxsim clock: outside work kept virtual time still for %.1f s of real time; the clock "
                          "now follows real time while it lasts and this run may not repeat exactly. "
                          "Outstanding: %s; busy probes: %d",
                          now - self._busy_since, sorted(set(self._thread_work.values())) or "none",
                          sum(1 for probe in self._probes if probe()))
            return self._follow_real_time(selector, timeout)
        self.busy_waits += 1
        return selector.poll(_BUSY_POLL_S if timeout is None else min(timeout, _BUSY_POLL_S))

    async def sleep_real(self, seconds: float) -> None:
        """Let real time pass (for an outside process) without jumping."""
        with self.hold():
            await asyncio.sleep(seconds)


def new_virtual_loop(start: float = 0.0, **kwargs) -> VirtualClockLoop:
    return VirtualClockLoop(start, **kwargs)


def run_virtual(main: Awaitable[T], *, start: float = 0.0, debug: bool | None = None, **loop_options) -> T:
    """Like ``asyncio.run`` but on a fresh VirtualClockLoop (``loop_options`` as for VirtualClockLoop)."""
    with asyncio.Runner(loop_factory=lambda: new_virtual_loop(start, **loop_options), debug=debug) as runner:
        return runner.run(main)
