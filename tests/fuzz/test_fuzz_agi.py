"""Fuzzed FastAGI replies (hypothesis, bounded to a few seconds): whatever the PBX side answers — huge or
negative results, odd data, stray HANGUP/100/blank lines, 520 blocks of any length, garbage, EOF — a flow
sees only typed AgiError exceptions, the server stays up, and the next normal call is served."""
from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.agi import AgiChannel, AgiError, AgiLimits, FastAgiServer
from ivr.agi.protocol import AgiReader
from tests.ivr.fakepbx import header_bytes

NUMBER = st.one_of(st.integers(-3, 300), st.integers(-10**30, 10**30)).map(str)
DATA = st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=40)
REPLY = st.one_of(
    st.builds(lambda n: f"200 result={n}", NUMBER),
    st.builds(lambda n, d: f"200 result={n} ({d})", NUMBER, DATA),
    st.builds(lambda n, e: f"200 result={n} endpos={e}", NUMBER, NUMBER),
    st.just("200 result= (timeout)"), st.just("510 Invalid or unknown command"),
    st.just("511 Command Not Permitted on a dead channel or intercept routine"),
    st.builds(lambda lines: "520-Invalid command syntax.  Proper usage follows:\n" + "\n".join(lines)
              + "\n520 End of proper usage.", st.lists(DATA, max_size=5)),
    st.builds(lambda n: "520-Invalid\n" + "usage\n" * n, st.integers(0, 400)),   # maybe never ended
    st.just("HANGUP"), st.just("100 result=0 Trying..."), st.just(""), DATA, st.just("200"),
    st.just("200 result"), st.just("999 result=1"),
)
SCRIPT = st.lists(st.lists(REPLY, min_size=1, max_size=3).map("\n".join), min_size=0, max_size=12)


async def flow(ch: AgiChannel) -> None:
    await ch.answer()
    await ch.stream_file("welcome", "123#")
    await ch.get_data("menu", 2000, 4)
    await ch.wait_for_digit(1000)
    await ch.say_digits("123")
    await ch.get_variable("CALLERID(num)")
    await ch.set_variable("X", "1 2")
    await ch.exec("Dial", "PJSIP/1001,20")
    await ch.record_file("/tmp/x", "wav", "#", 1000)
    await ch.channel_status()
    await ch.hangup()


async def play(script: list[str], cut: bool) -> tuple[int, int]:
    outcomes: list[str] = []

    async def guarded(ch: AgiChannel) -> None:
        try:
            await flow(ch)
            outcomes.append("done")
        except AgiError as exc:
            outcomes.append(type(exc).__name__)
            raise

    async with FastAgiServer({"hotline": guarded}, limits=AgiLimits(reply_timeout=0.3)) as server:
        r, w = await asyncio.open_connection("127.0.0.1", server.port)
        w.write(header_bytes("hotline"))
        try:
            for reply in script:
                line = await asyncio.wait_for(r.readline(), 2)
                if not line:
                    break
                w.write(reply.encode() + (b"" if cut and reply is script[-1] else b"\n"))
            if cut:
                w.close()
            else:
                w.write_eof()
            await asyncio.wait_for(r.read(), 3)
        except (OSError, asyncio.IncompleteReadError):    # the server may close first
            pass
        w.close()
        for _ in range(150):
            if server.active_sessions == 0:
                break
            await asyncio.sleep(0.02)
        assert server.active_sessions == 0
        assert len(outcomes) == 1, outcomes            # the flow ended, with a typed outcome, exactly once
        # the server is up: a well-behaved PBX is served at once
        r, w = await asyncio.open_connection("127.0.0.1", server.port)
        w.write(header_bytes("hotline"))
        assert await asyncio.wait_for(r.readline(), 2) == b"ANSWER\n"
        w.close()
        return server.completed, server.failed


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=SCRIPT, cut=st.booleans())
def test_fuzzed_replies_end_in_typed_errors_and_the_server_stays_up(script, cut):
    completed, _failed = asyncio.run(play(script, cut))
    assert completed >= 1


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.binary(max_size=60) | REPLY.map(str.encode), max_size=40))
def test_the_reply_state_machine_raises_only_typed_errors(lines):
    reader = AgiReader()
    reader.feed(b"agi_network: yes\n")
    reader.feed(b"\n")
    for raw in lines:
        for line in raw.split(b"\n"):
            try:
                reader.feed(line + b"\n")
            except AgiError:
                return
