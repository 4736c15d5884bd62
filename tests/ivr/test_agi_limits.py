"""FastAGI server limits over real TCP: reply timeouts, bounded usage blocks and headers, the session cap,
the PBX allow-list, absurd result codes, and running out of file descriptors without a traceback storm."""
from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hotline.config import FastAgiConfig
from ivr.agi import AgiChannel, AgiLimits, AgiProtocolError, AgiTimeout, FastAgiServer

from .fakepbx import header_bytes

ROOT = Path(__file__).resolve().parents[2]


async def _until(predicate, tries: int = 200) -> None:
    for _ in range(tries):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


async def _open(port: int, path: str = "hotline"):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(header_bytes(path))
    await w.drain()
    return r, w


async def test_a_pbx_that_never_answers_is_dropped_after_the_reply_timeout(caplog):
    ended = []

    async def flow(ch: AgiChannel):
        try:
            await ch.answer()
        finally:
            ended.append(ch.closed)

    limits = AgiLimits(reply_timeout=0.2)
    async with FastAgiServer({"hotline": flow}, limits=limits) as server:
        r, w = await _open(server.port)
        assert await r.readline() == b"ANSWER\n"
        assert await asyncio.wait_for(r.read(), 3) == b""          # the server hung up on the silent peer
        await _until(lambda: server.active_sessions == 0)
        w.close()
    assert ended == [True]
    assert server.timeouts == 1 and server.failed == 0
    assert any("stopped answering" in r.getMessage() and "ANSWER" in r.getMessage() for r in caplog.records)


async def test_exec_dial_waits_longer_than_an_ordinary_command():
    results = []

    async def flow(ch: AgiChannel):
        results.append(await ch.exec("Dial", "PJSIP/1001,20"))
        await ch.verbose("after dial")

    limits = AgiLimits(reply_timeout=0.1, long_reply_timeout=5)
    assert limits.timeout_for("EXEC", ("Dial", "x")) == 5
    assert limits.timeout_for("GET DATA", ("p", "3000", "4")) == pytest.approx(0.1 * 5 + 3)
    assert limits.timeout_for("WAIT FOR DIGIT", ("-1",)) == 5
    async with FastAgiServer({"hotline": flow}, limits=limits) as server:
        r, w = await _open(server.port)
        assert (await r.readline()).startswith(b"EXEC Dial")
        await asyncio.sleep(0.4)                       # the conversation: four ordinary timeouts long
        w.write(b"200 result=0\n")
        assert (await r.readline()).startswith(b"VERBOSE")
        w.write(b"200 result=1\n")
        assert await asyncio.wait_for(r.read(), 3) == b""
        w.close()
    assert results == [0] and server.timeouts == 0


async def test_unterminated_usage_block_is_bounded():
    errors = []

    async def flow(ch: AgiChannel):
        try:
            await ch.command("GET DATA")
        except AgiProtocolError as exc:
            errors.append(str(exc))
            raise

    async with FastAgiServer({"hotline": flow}) as server:
        r, w = await _open(server.port)
        assert await r.readline() == b"GET DATA\n"
        w.write(b"520-Invalid command syntax.  Proper usage follows:\n")
        closed = False
        try:
            for _ in range(2000):                      # 2000 × 1 KiB usage lines, never the "520 End" line
                w.write(b"x" * 1024 + b"\n")
                await w.drain()
        except ConnectionError:
            closed = True
        if not closed:
            try:
                assert await asyncio.wait_for(r.read(), 3) == b""
            except ConnectionError:
                pass                                   # aborted: unread bytes make it a reset
        await _until(lambda: server.active_sessions == 0)
        w.close()
    assert errors and "usage block longer than" in errors[0]
    assert server.failed == 1


async def _header_is_refused(lines) -> None:
    """Send these header lines (never the blank line that ends the block): the server must hang up and count a
    rejected connection."""
    async with FastAgiServer({"hotline": lambda ch: asyncio.sleep(0)}) as server:
        r, w = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            for line in lines:
                w.write(line)
                await w.drain()
            assert await asyncio.wait_for(r.read(), 3) == b""
        except ConnectionError:
            pass
        w.close()
        await _until(lambda: server.rejected == 1 and server.active_sessions == 0)


async def test_endless_header_block_is_refused():
    await _header_is_refused(f"agi_x{i}: y\n".encode() for i in range(1000))


async def test_a_header_of_few_but_huge_lines_is_refused_by_its_total_size(caplog):
    """Under the line-count and line-length limits, yet 100 lines of 60 KiB: the block's total bytes decide."""
    await _header_is_refused(f"agi_x{i}: ".encode() + b"y" * 60_000 + b"\n" for i in range(100))
    assert any("header block longer than 262144 bytes" in r.getMessage() for r in caplog.records)


async def test_session_cap_closes_extra_connections_with_one_log_line(caplog):
    release = asyncio.Event()

    async def flow(ch: AgiChannel):
        await ch.answer()
        await release.wait()

    caplog.set_level(logging.WARNING, "ivr.agi.server")
    async with FastAgiServer({"hotline": flow}, limits=AgiLimits(max_sessions=2)) as server:
        assert server.is_serving()
        held = [await _open(server.port) for _ in range(2)]
        for r, w in held:
            assert await r.readline() == b"ANSWER\n"
            w.write(b"200 result=0\n")
        extra = []
        for _ in range(5):
            r, w = await asyncio.open_connection("127.0.0.1", server.port)
            extra.append(w)
            assert await asyncio.wait_for(r.read(), 3) == b""      # closed before anything is sent
        assert server.refused == 5 and server.active_sessions == 2
        lines = [rec.getMessage() for rec in caplog.records if "max_sessions" in rec.getMessage()]
        assert len(lines) == 1 and "2 sessions open" in lines[0]
        release.set()
        await _until(lambda: server.active_sessions == 0)
        r, w = await _open(server.port)                # room again: served
        assert await r.readline() == b"ANSWER\n"
        w.write(b"200 result=0\n")
        for r0, w0 in held:
            w0.close()
        for w0 in extra:
            w0.close()
        w.close()


async def test_allow_list_refuses_other_addresses_before_reading(caplog):
    async def flow(ch: AgiChannel):       # pragma: no cover - must never run
        raise AssertionError("a refused peer reached a flow")

    caplog.set_level(logging.WARNING, "ivr.agi.server")
    async with FastAgiServer({"hotline": flow}, limits=AgiLimits(allow=("10.20.30.40", "192.168.7.0/24"))) as server:
        for _ in range(3):
            r, w = await asyncio.open_connection("127.0.0.1", server.port)
            w.write(header_bytes("hotline"))
            assert await asyncio.wait_for(r.read(), 3) == b""
            w.close()
        assert server.refused == 3 and server.completed == 0
    lines = [rec.getMessage() for rec in caplog.records if "not in [fastagi] allow" in rec.getMessage()]
    assert lines == ["FastAGI: connection from 127.0.0.1 refused: not in [fastagi] allow"]
    limits = AgiLimits(allow=("127.0.0.1", "10.0.0.0/8"))
    assert limits.allows("::ffff:127.0.0.1") and limits.allows("10.1.2.3") and not limits.allows("11.0.0.1")
    assert AgiLimits().allows("127.0.0.1") and AgiLimits().allows("::1") and not AgiLimits().allows("192.0.2.1")
    with pytest.raises(ValueError, match="'pbx.example'"):
        AgiLimits(allow=("pbx.example",))
    configured = AgiLimits.from_settings(FastAgiConfig(allow=("10.0.0.0/24",), max_sessions=7, reply_timeout=3.0))
    assert configured.allows("10.0.0.9") and not configured.allows("127.0.0.1")
    assert (configured.max_sessions, configured.reply_timeout) == (7, 3.0)


async def test_absurd_result_codes_do_not_crash_the_flow():
    out = []

    async def flow(ch: AgiChannel):
        out.append(await ch.stream_file("hello", "#"))
        out.append(await ch.wait_for_digit(100))
        out.append(await ch.wait_for_digit(100))
        out.append(await ch.channel_status())

    async with FastAgiServer({"hotline": flow}) as server:
        r, w = await _open(server.port)
        for reply in (b"200 result=99999999999999999999 endpos=99999999999999999999999\n",
                      b"200 result=1114112\n", b"200 result=35\n", b"200 result=99999999999999999999\n"):
            await r.readline()
            w.write(reply)
        assert await asyncio.wait_for(r.read(), 3) == b""
        w.close()
    assert out == [(None, 99999999999999999999999), None, "#", 99999999999999999999]
    assert server.failed == 0


def test_timeout_error_is_a_lost_connection():
    from ivr.agi import AgiConnectionLost, AgiHangup
    assert issubclass(AgiTimeout, AgiConnectionLost) and issubclass(AgiTimeout, AgiHangup)


SERVER_SCRIPT = textwrap.dedent("""
    import asyncio, logging, resource, sys
    sys.path.insert(0, {root!r})
    from ivr.agi import FastAgiServer

    async def flow(ch):
        await ch.answer()
        await ch.verbose("served")

    async def main():
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        resource.setrlimit(resource.RLIMIT_NOFILE, (48, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
        server = FastAgiServer({{"hotline": flow}})
        await server.start()
        print("PORT", server.port, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await server.close(timeout=1)

    asyncio.run(main())
""")


async def test_out_of_file_descriptors_backs_off_without_a_traceback_storm(tmp_path):
    script = tmp_path / "agi_server.py"
    script.write_text(SERVER_SCRIPT.format(root=str(ROOT)))
    proc = await asyncio.create_subprocess_exec(sys.executable, str(script), stdin=subprocess.PIPE,
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        port = int((await asyncio.wait_for(proc.stdout.readline(), 20)).split()[1])
        held = []
        for _ in range(80):                            # far more than the server's 48 descriptors
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(header_bytes("hotline"))
            held.append((r, w))
        await asyncio.sleep(1.5)                       # the server keeps failing to accept meanwhile
        served = 0
        for r, w in held:                               # free the server's descriptors
            w.close()
        r, w = await _open(port)                       # and it serves again
        assert await asyncio.wait_for(r.readline(), 10) == b"ANSWER\n"
        w.write(b"200 result=0\n")
        assert (await asyncio.wait_for(r.readline(), 5)).startswith(b"VERBOSE")
        w.write(b"200 result=1\n")
        served += 1
        w.close()
    finally:
        proc.stdin.close()
        await asyncio.wait_for(proc.wait(), 10)
    err = (await proc.stderr.read()).decode()
    assert served == 1
    assert "cannot accept" in err
    assert "Traceback" not in err and "out of system resource" not in err
    assert err.count("\n") < 20, err[:2000]


def test_a_header_timeout_given_to_the_server_keeps_the_other_limits():
    from ivr.agi.limits import AgiLimits
    from ivr.agi.server import FastAgiServer

    server = FastAgiServer({}, header_timeout=3.0, limits=AgiLimits(max_sessions=7, allow=("10.1.2.0/24",)))
    assert (server.limits.header_timeout, server.limits.max_sessions) == (3.0, 7)
    assert server.limits.allows("10.1.2.9") and not server.limits.allows("127.0.0.1")
