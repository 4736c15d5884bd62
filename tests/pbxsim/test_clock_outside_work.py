"""The virtual clock and work in other threads: outstanding from hand-over to result, never a jump
in between; an idle worker never holds the clock; a deadlock lets time follow real time, loudly."""
from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time

import aiosqlite

from pbxsim.clock import new_virtual_loop, run_virtual


def test_a_query_handed_to_aiosqlite_after_a_long_idle_sleep_takes_no_virtual_time(tmp_path):
    """The worker has been parked in tx.get() for an hour of virtual time when a slow query arrives:
    the clock must wait for it even before the worker picks it up."""
    async def main():
        loop = asyncio.get_running_loop()
        async with aiosqlite.connect(tmp_path / "slow.db") as db:
            await db.create_function("slow", 0, lambda: time.sleep(0.2) or 1)
            await asyncio.sleep(3600)
            timer = asyncio.create_task(asyncio.sleep(0.001))
            t0 = loop.time()
            async with db.execute("select slow()") as cursor:
                (value,) = await cursor.fetchone()
            spent, timer_fired = loop.time() - t0, timer.done()
            await timer
        return value, spent, timer_fired, loop.outside_work

    value, spent, timer_fired, outstanding = run_virtual(main())
    assert value == 1
    assert spent == 0.0 and not timer_fired      # a 1 ms timer did not fire during 200 ms of real work
    assert outstanding == 0


def test_work_blocked_inside_the_thread_still_holds_the_clock(tmp_path):
    """Regression: the old frame heuristic took a worker waiting on an Event/lock inside its job (a line like
    ``done.wait(...)``) for an idle thread and let the clock jump 100 s while the query ran."""
    released = threading.Event()

    def waits_inside_the_job():
        released.wait(0.3)
        return 7

    async def main():
        loop = asyncio.get_running_loop()
        async with aiosqlite.connect(tmp_path / "blocked.db") as db:
            await db.create_function("blocked", 0, waits_inside_the_job)
            timer = asyncio.create_task(asyncio.sleep(100))
            t0 = loop.time()
            async with db.execute("select blocked()") as cursor:
                (value,) = await cursor.fetchone()
            spent = loop.time() - t0
            timer.cancel()
        return value, spent

    assert run_virtual(main()) == (7, 0.0)


def test_an_idle_worker_parked_on_its_queue_does_not_stall_the_clock():
    jobs: queue.SimpleQueue = queue.SimpleQueue()

    def worker():
        while (job := jobs.get()) is not None:
            job()

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()

    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await asyncio.sleep(8 * 3600)
        fut = loop.expect_thread_result(loop.create_future())
        jobs.put(lambda: (time.sleep(0.05), loop.call_soon_threadsafe(fut.set_result, "done")))
        timer = asyncio.create_task(asyncio.sleep(0.001))
        result = await fut
        fired = timer.done()
        await timer
        return result, loop.time() - t0, fired

    real0 = time.monotonic()
    try:
        result, spent, fired = run_virtual(main())
    finally:
        jobs.put(None)
        thread.join(5)
    assert result == "done" and not fired
    assert spent == 8 * 3600 + 0.001
    assert time.monotonic() - real0 < 2.0


def test_an_executor_job_whose_awaiter_was_cancelled_still_holds_the_clock():
    """Regression: the old count dropped the job when its asyncio future was cancelled, while the thread
    still ran it; the clock jumped past work that was not finished."""
    finished = threading.Event()

    def job():
        threading.Event().wait(0.2)      # blocked inside the job: the old frame heuristic saw an idle thread
        finished.set()

    async def main():
        loop = asyncio.get_running_loop()
        running = loop.run_in_executor(None, job)
        await asyncio.sleep(0)
        running.cancel()
        await asyncio.sleep(1)
        return finished.is_set(), loop.outside_work

    assert run_virtual(main()) == (True, 0)


def test_a_job_that_finishes_before_it_is_wrapped_is_not_left_outstanding():
    async def main():
        loop = asyncio.get_running_loop()
        for _ in range(50):
            await loop.run_in_executor(None, int)
            await asyncio.to_thread(str)
        t0 = loop.time()
        await asyncio.sleep(3600)
        return loop.outside_work, loop.time() - t0

    real0 = time.monotonic()
    assert run_virtual(main()) == (0, 3600.0)
    assert time.monotonic() - real0 < 2.0


def test_a_deadlocked_thread_is_logged_and_time_follows_real_time(caplog):
    loop = new_virtual_loop(busy_freeze_budget_s=0.1)

    async def main():
        loop.expect_thread_result(loop.create_future(), "a thread that never answers")
        t0 = loop.time()
        await asyncio.sleep(0.2)
        return loop.time() - t0

    try:
        with caplog.at_level(logging.ERROR, logger="pbxsim.clock"):
            spent = loop.run_until_complete(main())
    finally:
        loop.close()
    assert 0.2 <= spent < 1.0            # the timer fired: ~0.1 s frozen, then 0.2 s following real time
    assert loop.real_time_followed > 0
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "a thread that never answers" in errors[0]
