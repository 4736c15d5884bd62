"""The virtual clock: timers in order, idle time skipped, real TCP still works."""
from __future__ import annotations

import asyncio
import threading
import time

import aiosqlite

from pbxsim.clock import new_virtual_loop, run_virtual


def test_timers_fire_in_order_and_hours_take_milliseconds():
    fired: list[tuple[str, float]] = []

    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()

        async def sleeper(name, delay):
            await asyncio.sleep(delay)
            fired.append((name, round(loop.time() - t0, 6)))

        async with asyncio.TaskGroup() as tg:
            tg.create_task(sleeper("c", 3600))
            tg.create_task(sleeper("a", 1.5))
            tg.create_task(sleeper("b", 60))
        return loop.time() - t0

    real0 = time.monotonic()
    virtual = run_virtual(main())
    real = time.monotonic() - real0
    assert fired == [("a", 1.5), ("b", 60.0), ("c", 3600.0)]
    assert virtual == 3600.0
    assert real < 1.0


def test_loopback_tcp_echo_inside_virtual_loop():
    async def main():
        loop = asyncio.get_running_loop()

        async def echo(reader, writer):
            while line := await reader.readline():
                await asyncio.sleep(10)  # a slow server: virtual seconds
                writer.write(line.upper())
                await writer.drain()
            writer.close()

        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        t0 = loop.time()
        answers = []
        for word in (b"hello\n", b"world\n"):
            writer.write(word)
            answers.append(await reader.readline())
        elapsed = loop.time() - t0
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return answers, elapsed

    real0 = time.monotonic()
    answers, elapsed = run_virtual(main())
    assert answers == [b"HELLO\n", b"WORLD\n"]
    assert 20.0 <= elapsed < 20.5
    assert time.monotonic() - real0 < 2.0


def test_executor_work_takes_no_virtual_time_and_blocks_jumps():
    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        timer = asyncio.create_task(asyncio.sleep(3600))
        await loop.run_in_executor(None, time.sleep, 0.05)
        during = loop.time() - t0
        await timer
        return during, loop.time() - t0

    during, total = run_virtual(main())
    assert during == 0.0          # the hour-long timer did not fire while the job ran
    assert total == 3600.0


def test_outside_work_longer_than_the_budget_lets_time_follow_real_time():
    loop = new_virtual_loop(busy_freeze_budget_s=0.1)

    async def main():
        t0 = loop.time()
        await loop.run_in_executor(None, time.sleep, 0.3)
        return loop.time() - t0

    try:
        spent = loop.run_until_complete(main())
    finally:
        loop.close()
    assert 0.1 <= spent < 1.0


def test_aiosqlite_thread_does_not_let_time_jump(tmp_path):
    async def main():
        loop = asyncio.get_running_loop()
        async with aiosqlite.connect(tmp_path / "x.db") as db:
            await db.execute("create table t (x int)")
            background = asyncio.create_task(asyncio.sleep(1000))
            t0 = loop.time()
            for i in range(50):
                await db.execute("insert into t values (?)", (i,))
            await db.commit()
            async with db.execute("select count(*) from t") as cur:
                (count,) = await cur.fetchone()
            spent = loop.time() - t0
            background.cancel()
        return count, spent

    count, spent = run_virtual(main())
    assert count == 50
    assert spent < 5.0


def test_hold_makes_time_follow_real_time():
    loop = new_virtual_loop()

    async def main():
        t0 = loop.time()
        with loop.hold():
            await asyncio.sleep(0.05)
        return loop.time() - t0

    try:
        spent = loop.run_until_complete(main())
    finally:
        loop.close()
    assert 0.05 <= spent < 0.5


def test_an_idle_aiosqlite_connection_does_not_hold_the_clock(tmp_path):
    async def main():
        loop = asyncio.get_running_loop()
        async with aiosqlite.connect(tmp_path / "idle.db") as db:
            await db.execute("create table t (x int)")
            t0 = loop.time()
            await asyncio.sleep(3600)          # the connection's worker thread sits idle meanwhile
            spent = loop.time() - t0
            await db.execute("insert into t values (1)")
        return spent

    real0 = time.monotonic()
    spent = run_virtual(main())
    assert spent == 3600.0
    assert time.monotonic() - real0 < 1.0


def test_a_result_posted_by_a_thread_is_handled_before_time_jumps():
    """The race: a thread posts its result (call_soon_threadsafe) after the loop polled the
    selector but before it decided the thread was idle. The clock must not jump past it."""

    loop = new_virtual_loop()

    async def main():
        fut = loop.create_future()
        timer = asyncio.ensure_future(asyncio.sleep(100))
        posted = []

        def probe():   # runs inside the loop's idle check: a thread finishes right then
            if not posted:
                posted.append(True)
                t = threading.Thread(target=loop.call_soon_threadsafe, args=(fut.set_result, "row"))
                t.start()
                t.join()
            return False
        loop.add_busy_probe(probe)
        t0 = loop.time()
        await fut
        spent = loop.time() - t0
        timer.cancel()
        return spent

    try:
        assert loop.run_until_complete(main()) == 0.0
    finally:
        loop.close()
