"""Replay the client side of real Asterisk 22 AMI captures against the simulator over TCP
and compare every byte Asterisk sent, after normalising run-specific values."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

from pbxsim.ami import AmiServer, AmiUser
from pbxsim.ami.codec import parse_wire
from pbxsim.ami.transcripts import CHAN_SEQ, Normaliser, exchanges, read_log
from pbxsim.clock import run_virtual
from pbxsim.dialplan import Dialplan
from pbxsim.pbx import Pbx

from tests.captures import CAPTURES


def _complete_messages(data: bytes) -> int:
    text = data.split(b"\r\n", 1)[1] if data.startswith(b"Asterisk Call Manager/") else data
    return text.count(b"\r\n\r\n")


async def _replay(tag: str, log: str, tmp_path: Path, limit: int | None = None) -> list[tuple[bytes, bytes, bool, bool]]:
    """Returns, per client write: (expected bytes, simulator bytes, expected close, simulator closed)."""
    pbx = Pbx(Dialplan.load(CAPTURES / "conf" / "extensions.conf"), monitor_dir=tmp_path)
    server = AmiServer(pbx, {"ivr": AmiUser("ivr", "ivrsecret", {"all"}, {"all"}, writetimeout=1000)})
    await server.start()
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    t0 = loop.time()
    results = []
    seq_map: dict[str, str] = {}
    try:
        for t, sent, expected, closes in exchanges(read_log(CAPTURES / "ami" / log), tag)[:limit]:
            delay = t0 + t - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if sent:
                for theirs, ours in seq_map.items():
                    sent = sent.replace(f"-{theirs};".encode(), f"-{ours};".encode())
                writer.write(sent)
                await writer.drain()
            want = _complete_messages(expected) + (1 if expected.startswith(b"Asterisk Call Manager/") else 0)
            got = b""
            closed = False
            while True:
                have = _complete_messages(got) + (1 if got.startswith(b"Asterisk Call Manager/") and b"\r\n" in got else 0)
                if have >= want and not closes:
                    break
                try:
                    chunk = await asyncio.wait_for(reader.read(65536), 5)
                except asyncio.TimeoutError:
                    break
                if not chunk:
                    closed = True
                    break
                got += chunk
            results.append((expected, got, closes, closed))
            _learn_channel_numbers(expected, got, seq_map)
    finally:
        writer.close()
        await server.close()
        await pbx.close()
    return results


def _learn_channel_numbers(expected: bytes, got: bytes, seq_map: dict[str, str]) -> None:
    """Asterisk had made other calls before: map its Local/...-0000000N sequence numbers onto ours."""
    for want_msg, got_msg in zip(parse_wire(expected), parse_wire(got)):
        for (wk, wv), (gk, gv) in zip(want_msg, got_msg):
            if wk == gk and "Channel" in wk:
                w, g = CHAN_SEQ.search(wv), CHAN_SEQ.search(gv)
                if w and g:
                    seq_map.setdefault(w.group(1), g.group(1))


def _check(results) -> None:
    want_norm, got_norm = Normaliser(), Normaliser()
    for expected, got, closes, closed in results:
        if expected.startswith(b"Asterisk Call Manager/"):
            assert got.startswith(b"Asterisk Call Manager/11.0.0\r\n")
        assert got_norm.wire(got) == want_norm.wire(expected)
        assert closed == closes


def test_bad_login_waits_a_second_then_fails_and_closes(tmp_path):
    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        results = await _replay("badlogin", "ami_actions.log", tmp_path)
        return results, loop.time() - t0
    results, elapsed = run_virtual(main())
    _check(results)
    assert results[1][1] == b"Response: Error\r\nActionID: L1\r\nMessage: Authentication failed\r\n\r\n"
    assert elapsed >= 1.0


def test_action_before_login_is_permission_denied(tmp_path):
    results = run_virtual(_replay("nologin", "ami_actions.log", tmp_path))
    _check(results)
    assert results[1][1] == b"Response: Error\r\nActionID: p0\r\nMessage: Permission denied\r\n\r\n"


def test_calls_session_matches_asterisk(tmp_path):
    """Login, Ping (with and without ActionID), unknown action, Command, Originate sync ok and failing,
    CoreShowChannels, Getvar, Setvar, Status, MixMonitor, StopMixMonitor, Redirect, Hangup, Events, Logoff."""
    results = run_virtual(_replay("calls", "ami_actions.log", tmp_path))
    _check(results)
    # byte-exact where Asterisk is deterministic
    exact = [r for r in results if b"Timestamp" not in r[0] and b"Uniqueid" not in r[0] and b"Local/" not in r[0]]
    assert len(exact) >= 8
    for expected, got, _, _ in exact:
        assert got == expected


def test_mixmonitor_session_with_call_events(tmp_path):
    """Events: call login; Async Originate answered at once, OriginateResponse with the same ActionID
    once the call is up; MixMonitor/StopMixMonitor responses precede MixMonitorStart/Stop; Hangup."""
    results = run_virtual(_replay("mm", "ami_mm.log", tmp_path))
    want_norm, got_norm = Normaliser(), Normaliser()
    for expected, got, closes, closed in results[1:]:
        want, have = want_norm.wire(expected), got_norm.wire(got)
        # every response is exact and comes before the events raised while its action ran
        assert have[0] == want[0]
        assert [m[0] for m in have].count(("Event", "FullyBooted")) == 0   # Events: call only
        assert all(dict(m).get("Privilege", "call,all") == "call,all" for m in have[1:])
        for name in ("OriginateResponse", "MixMonitorStart", "MixMonitorStop"):
            assert [m for m in have if m[0] == ("Event", name)] == [m for m in want if m[0] == ("Event", name)]
        assert closed == closes
    originate = got_norm.wire(results[2][1])
    names = [dict(m).get("Event") for m in originate]
    assert names[0] is None and names[1] == "Newchannel"
    assert names.index("OriginateResponse") > names.index("DialEnd")


def test_shutdown_session_login_event_and_cli(tmp_path):
    results = run_virtual(_replay("sd", "ami_shutdown.log", tmp_path))
    # Login + FullyBooted (system events only) and the unknown CLI command are exact after normalising
    want, got = Normaliser(), Normaliser()
    assert got.wire(results[1][1]) == want.wire(results[1][0])
    # dialplan show agentctx: same layout; the capture's conf had the context 19 lines higher
    renumber = lambda b: re.sub(rb"extensions\.conf:\d+", b"extensions.conf:N", b)   # noqa: E731
    assert renumber(results[2][1]) == renumber(results[2][0])
    assert b"[extensions.conf:52]" in results[2][1]
    bogus_cli = results[3][0].split(b"Event: Shutdown")[0]     # Asterisk was then stopped from its console
    assert results[3][1] == bogus_cli


def test_close_announces_shutdown_then_drops_the_socket(tmp_path):
    """ami_shutdown: `core stop now` -> Event: Shutdown to system readers, then EOF."""
    expected = [c.data for c in read_log(CAPTURES / "ami" / "ami_shutdown.log") if b"Shutdown" in c.data][0]

    async def main():
        pbx = Pbx(Dialplan.load(CAPTURES / "conf" / "extensions.conf"), monitor_dir=tmp_path)
        server = AmiServer(pbx, {"ivr": AmiUser("ivr", "ivrsecret", {"all"}, {"all"})})
        await server.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        await reader.readline()
        writer.write(b"Action: Login\r\nUsername: ivr\r\nSecret: ivrsecret\r\nEvents: system\r\n\r\n")
        await reader.readuntil(b"Status: Fully Booted\r\n\r\n")
        await server.close()
        rest = await asyncio.wait_for(reader.read(), 5)
        await pbx.close()
        return rest
    assert run_virtual(main()) == expected


def test_default_login_sends_fully_booted_then_successful_auth(tmp_path):
    """ami_s1: Login without Events: -> response, FullyBooted (system), SuccessfulAuth (security)."""
    results = run_virtual(_replay("", "ami_s1.log", tmp_path, limit=2))
    _check(results)
    got = [dict(m) for m in parse_wire(results[1][1])]
    assert [m.get("Event") for m in got] == [None, "FullyBooted", "SuccessfulAuth"]
    assert got[2]["AccountID"] == "ivr" and re.fullmatch(r"0x[0-9a-f]+", got[2]["SessionID"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", got[2]["EventTV"])
