"""FastAGI error paths through the PBX simulator over real TCP: 510 and 520 replies, a caller hanging up
mid-STREAM FILE, mid-WAIT FOR DIGIT and mid-GET DATA (the HANGUP line, then 511), the FastAGI socket reset
mid-prompt, mid-GET DATA and inside the agi_ header, the simulator stopping mid-call, menu invalid keys and
timeouts running out with no fallback, and a queue's max_wait running out on the call's (virtual) clock.
After each call: no IVR task left, no failed session, per-node statistics read back from the database.

Every call goes caller → pbxsim trunk → [hotline-inbound] → AGI(agi://…/hotline) → a recording TCP proxy
(``WireTap``, the only way to cut the socket from the simulator's side mid-prompt) → the IVR's FastAGI server.
The proxy forwards bytes unchanged and keeps a per-session transcript, so the tests can check what went over
the wire. Prompts are 1 s silent WAVs (make_sounds), so the timings below are in those units.
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
from sqlalchemy.pool import NullPool

import ivr

from hotline.db import create_schema, make_engine, session_factory
from ivr.agi import AgiChannel, AgiConnectionLost, AgiHangup, AgiUnknownCommand, AgiUsageError, FastAgiServer
from ivr.service import IvrDeps, build_engine
from .dial_handoff import DialQueueHandoff
from ivr.stats import read_stats
from pbxsim.agi import MSG_511
from pbxsim.clock import run_virtual
from pbxsim.participants import CallerScript, PhoneBehaviour
from pbxsim.simulator import Simulator

from .runtime_env import write_flows
from .sim_env import CONF, CONFIG, make_sounds, settings_for

FLOW = """
flow: errors
languages: [zh-CN, en]
default_language: zh-CN
start: welcome
nodes:
  welcome: {type: play, prompt: welcome, next: pick}
  pick:
    type: menu
    prompt: main_menu
    options: {"1": thanks}
    timeout: 3
    retries: 2
    invalid_prompt: sorry
    timeout_prompt: silent_prompt
    fallback: bye
  thanks: {type: play, prompt: please_wait, next: bye}
  bye: {type: hangup, prompt: closing}
"""
# the same menu with no fallback: when its retries run out the engine hangs the caller up
STRICT = """
flow: strict
languages: [zh-CN, en]
default_language: zh-CN
start: pick
nodes:
  pick:
    type: menu
    prompt: main_menu
    options: {"1": bye}
    timeout: 3
    retries: 2
    max_timeouts: 3
    invalid_prompt: sorry
    timeout_prompt: silent_prompt
  bye: {type: hangup, prompt: closing}
"""
# nobody answers: after max_wait the caller leaves the queue for its fallback
WAITING = """
flow: waiting
languages: [zh-CN, en]
default_language: zh-CN
start: wait
nodes:
  wait:
    type: queue
    queue: presales
    hold_prompt: please_wait
    wait_prompt: sorry_to_keep_waiting
    announce_interval: 20
    max_wait: 45
    next: bye
    fallback: busy
  busy: {type: play, prompt: agents_busy, next: bye}
  bye: {type: hangup, prompt: closing}
"""
# a voicemail box straight away: the socket drop during RECORD FILE must not orphan the message
MESSAGE = """
flow: message
languages: [zh-CN, en]
default_language: zh-CN
start: leave
nodes:
  leave: {type: voicemail, prompt: voicemail_prompt, max_length: 30, silence: 10, next: bye}
  bye: {type: hangup, prompt: closing}
"""
ZH = "hotline/zh-CN/"
HANGUP_REPLY = f"511 {MSG_511}"


# ---- a recording FastAGI proxy between the simulator and the IVR -----------------------------------------
@dataclass
class TapSession:
    lines: list[tuple[str, str]] = field(default_factory=list)   # ("pbx" | "ivr", line) in arrival order
    dropped: bool = False        # the drop was triggered
    reset: bool = False          # both sockets were aborted

    def said(self, side: str) -> list[str]:
        return [text for who, text in self.lines if who == side]

    def after(self, side: str, command_prefix: str) -> list[str]:
        """What ``side`` sent after the IVR's last command starting with ``command_prefix``."""
        start = max(i for i, (who, text) in enumerate(self.lines) if who == "ivr" and text.startswith(command_prefix))
        return [text for who, text in self.lines[start + 1:] if who == side]


class WireTap:
    """Forwards each FastAGI connection to the IVR unchanged, records both directions line by line, and can
    abort both sockets (TCP reset) ``drop_after_s`` after a line for which ``drop_on(side, line)`` is true
    (side "ivr": a command from the IVR; "pbx": a header or reply line from the simulator)."""

    def __init__(self, target_port: int, *, drop_on: Callable[[str, str], bool] | None = None,
                 drop_after_s: float = 0.0) -> None:
        self.target_port = target_port
        self.drop_on = drop_on
        self.drop_after_s = drop_after_s
        self.sessions: list[TapSession] = []
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_pbx, "127.0.0.1", 0)

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_pbx(self, pbx_reader: asyncio.StreamReader, pbx_writer: asyncio.StreamWriter) -> None:
        session = TapSession()
        self.sessions.append(session)
        ivr_reader, ivr_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        writers = (pbx_writer, ivr_writer)

        def on_line(side: str, text: str) -> None:
            if self.drop_on is not None and not session.dropped and self.drop_on(side, text):
                session.dropped = True
                if self.drop_after_s > 0:
                    self._spawn(self._abort_later(session, writers))
                else:
                    self._abort(session, writers)   # before the next buffered line goes through

        await asyncio.gather(self._pump(pbx_reader, ivr_writer, "pbx", session, on_line),
                             self._pump(ivr_reader, pbx_writer, "ivr", session, on_line))

    async def _abort_later(self, session: TapSession, writers) -> None:
        await asyncio.sleep(self.drop_after_s)
        self._abort(session, writers)

    @staticmethod
    def _abort(session: TapSession, writers) -> None:
        session.reset = True
        session.lines.append(("tap", "RESET"))
        for writer in writers:
            writer.transport.abort()

    @staticmethod
    async def _pump(reader, writer, side: str, session: TapSession, on_line) -> None:
        try:
            while not session.reset:
                raw = await reader.readline()
                if not raw or session.reset:
                    break
                session.lines.append((side, raw.decode("utf-8", "replace").rstrip("\n")))
                writer.write(raw)
                await writer.drain()
                on_line(side, raw.decode("utf-8", "replace").rstrip("\n"))
        except (ConnectionError, OSError):
            pass
        finally:
            if not writer.is_closing():
                writer.close()

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()


# ---- harness -------------------------------------------------------------------------------------------
@dataclass
class Env:
    sim: Simulator
    server: FastAgiServer
    engine: Any
    sessions: Any
    tap: WireTap

    async def call(self, *steps: str) -> Any:
        caller = await self.sim.place_call(CallerScript("13800138000", dnid="4008001234", steps=list(steps)))
        outcome = await caller.wait()
        await self.settled()
        return outcome

    async def settled(self, timeout_s: float = 30.0) -> None:
        """Until the IVR has no session left (the caller's channel ends before the IVR writes its stats)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.server.active_sessions and loop.time() < deadline:
            await asyncio.sleep(0.05)


IVR_SOURCES = str(Path(ivr.__file__).resolve().parent) + "/"


def ivr_tasks() -> list[asyncio.Task]:
    """Running tasks whose coroutine is IVR code (a session, a statistics flush...)."""
    found = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if code is not None and str(Path(code.co_filename).resolve()).startswith(IVR_SOURCES):
            found.append(task)
    return found


def run(tmp_path, body, *, route=None, drop_on=None, drop_after_s=0.0, phone_defaults=None):
    """``await body(env)`` in virtual time; ``route(engine)`` gives the handler for agi://…/hotline
    (default: the flow ``errors``)."""
    sounds = make_sounds(tmp_path / "sounds")
    settings = settings_for(tmp_path)
    flows = write_flows(tmp_path / "flows", {"errors": FLOW, "strict": STRICT, "waiting": WAITING,
                                                     "message": MESSAGE})

    async def main():
        # NullPool: no idle aiosqlite worker thread between queries (as sim_env does)
        db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'ivr.db'}", poolclass=NullPool)
        await create_schema(db)
        sessions = session_factory(db)
        engine = build_engine(settings, IvrDeps(queues=DialQueueHandoff(settings.agents, settings.queues),
                                                sessions=sessions, flows=flows))
        handler = route(engine) if route is not None else engine.handler("errors")
        server = FastAgiServer({"hotline": handler}, port=0)
        await server.start()
        tap = WireTap(server.port, drop_on=drop_on, drop_after_s=drop_after_s)
        await tap.start()
        try:
            async with Simulator(CONF, sounds_dirs=[sounds], monitor_dir=tmp_path / "monitor",
                                 agents_file=CONFIG / "agents.yaml", agi_override=("127.0.0.1", tap.port),
                                 start_ami=False, phone_defaults=phone_defaults) as sim:
                return await body(Env(sim, server, engine, sessions, tap))
        finally:
            await server.close(timeout=5)
            await tap.close()
            assert server.active_sessions == 0
            await db.dispose()

    return run_virtual(main())


async def _finish(env: Env) -> dict:
    """What every error test checks once the call is over."""
    return {"active": env.server.active_sessions, "leaked": ivr_tasks(), "failed": env.server.failed,
            "completed": env.server.completed, "stats": await read_stats(env.sessions)}


def _clean(end: dict, completed: int = 1) -> None:
    assert end["active"] == 0 and end["leaked"] == []
    assert end["failed"] == 0 and end["completed"] == completed


# ---- 510 / 520 ---------------------------------------------------------------------------------------------
def test_510_and_520_replies_are_typed_errors_and_the_session_goes_on_into_the_flow(tmp_path):
    seen: dict[str, Any] = {}

    def route(engine):
        async def probe(ch: AgiChannel) -> None:
            raw = await ch.command("FLY TO THE MOON")
            seen["raw_510"] = (raw.code, raw.message)
            try:
                await ch.checked_command("FLY", "TO", "THE", "MOON")
            except AgiUnknownCommand as exc:
                seen["510"] = exc
            try:
                await ch.set_priority("no-such-label")        # a typed command Asterisk answers with usage
            except AgiUsageError as exc:
                seen["520_typed"] = exc
            try:
                await ch.checked_command("GET DATA")           # too few arguments
            except AgiUsageError as exc:
                seen["520"] = exc
            seen["alive"] = await ch.get_variable("CALLERID(num)")
            seen["result"] = await engine.run(ch, "errors")
        return probe

    async def body(env: Env):
        outcome = await env.call("wait 2.5", "press 1")
        return outcome, env.tap.sessions, await _finish(env)

    outcome, taps, end = run(tmp_path, body, route=route)
    assert seen["raw_510"] == (510, "Invalid or unknown command")
    assert seen["510"].code == 510 and seen["510"].command == "FLY"
    assert seen["520_typed"].code == 520 and "valid priority or label" in seen["520_typed"].usage
    assert seen["520"].code == 520 and seen["520"].usage.splitlines() == [
        "Stream the given <replaceable>file</replaceable>, and receive DTMF data.",
        "Returns the digits received from the channel at the other end."]
    assert seen["alive"] == "13800138000"
    result = seen["result"]
    assert result.outcome == "completed" and result.path == ["errors:welcome", "errors:pick", "errors:thanks",
                                                             "errors:bye"]
    # on the wire: the multi-line 520 block, then the next command got its own 200 reply
    (tap,) = taps
    after_usage = tap.after("pbx", "GET DATA")
    assert after_usage[:4] == ["520-Invalid command syntax.  Proper usage follows:",
                               "Stream the given <replaceable>file</replaceable>, and receive DTMF data.",
                               "Returns the digits received from the channel at the other end.",
                               "520 End of proper usage."]
    assert after_usage[4] == "200 result=1 (13800138000)"
    assert tap.said("pbx").count("510 Invalid or unknown command") == 2
    assert outcome.hung_up_by == "pbx"
    _clean(end)
    assert end["stats"][("errors", "pick", "option:1")] == 1


# ---- the caller hangs up mid-command ---------------------------------------------------------------------
@pytest.mark.parametrize("hangup_at, node, command", [
    (0.5, "welcome", f'STREAM FILE {ZH}welcome ""'),
    (1.5, "pick", f'STREAM FILE {ZH}main_menu "0123456789*#"'),
    (3.0, "pick", "WAIT FOR DIGIT 3000"),
])
def test_caller_hangs_up_mid_command_hangup_line_then_511_and_stats_are_written(tmp_path, hangup_at, node,
                                                                                command):
    async def body(env: Env):
        outcome = await env.call(f"wait {hangup_at}", "hangup")
        return outcome, env.engine.results, env.tap.sessions, await _finish(env)

    outcome, results, taps, end = run(tmp_path, body)
    assert outcome.hung_up_by == "caller"
    (result,) = results
    assert (result.outcome, result.node) == ("hangup", node)
    (tap,) = taps
    # the command in flight ends with -1; the IVR asks CHANNEL STATUS; Asterisk sends HANGUP then 511
    assert tap.said("ivr")[-2:] == [command, "CHANNEL STATUS"]
    replies = tap.after("pbx", command)
    assert re.fullmatch(r"200 result=-1( endpos=\d+)?", replies[0])
    assert replies[1:3] == ["HANGUP", HANGUP_REPLY]
    _clean(end)
    stats = end["stats"]
    assert stats[("errors", node, "hangup")] == 1 and stats[("errors", node, "entries")] == 1
    assert not any(counter == "error" for (_, _, counter) in stats)


def test_caller_hangs_up_mid_get_data_agi_hangup_reaches_the_handler(tmp_path):
    seen: dict[str, Any] = {}

    def route(engine):
        async def collect(ch: AgiChannel) -> None:
            await ch.answer()
            try:
                await ch.get_data(ZH + "enter_order_number", 5000, 8)
            except AgiHangup as exc:
                seen["raised"] = exc
                seen["hungup"], seen["closed"] = ch.hungup, ch.closed
                try:
                    await ch.stream_file(ZH + "closing")     # refused locally, nothing goes on the wire
                except AgiHangup as again:
                    seen["again"] = again
                await ch.verbose("caller left during GET DATA")   # dead-channel commands still work
                raise
        return collect

    async def body(env: Env):
        outcome = await env.call("wait 0.5", "press 12", "hangup")
        return outcome, env.tap.sessions, await _finish(env)

    outcome, taps, end = run(tmp_path, body, route=route)
    assert type(seen["raised"]) is AgiHangup and seen["hungup"] and not seen["closed"]
    assert "caller already hung up" in str(seen["again"])
    (tap,) = taps
    get_data = f"GET DATA {ZH}enter_order_number 5000 8"
    assert tap.after("pbx", get_data)[:3] == ["200 result=-1", "HANGUP", HANGUP_REPLY]
    assert tap.said("ivr")[-3:] == [get_data, "CHANNEL STATUS", 'VERBOSE "caller left during GET DATA" 1']
    assert outcome.hung_up_by == "caller"
    _clean(end)


# ---- the FastAGI socket is dropped mid-prompt -------------------------------------------------------------
def test_socket_reset_mid_prompt_ends_the_session_and_writes_stats(tmp_path):
    async def body(env: Env):
        outcome = await env.call("wait 10")
        return outcome, env.engine.results, env.tap.sessions, await _finish(env)

    outcome, results, taps, end = run(tmp_path, body, drop_on=lambda side, line: "main_menu" in line, drop_after_s=0.4)
    (tap,) = taps
    assert tap.dropped and tap.lines[-1] == ("tap", "RESET")
    assert tap.said("ivr")[-1] == f'STREAM FILE {ZH}main_menu "0123456789*#"'   # no reply ever came
    (result,) = results
    assert (result.outcome, result.node) == ("hangup", "pick")
    _clean(end)
    assert end["stats"][("errors", "pick", "hangup")] == 1
    # the simulator saw the socket go: AGI returned and the dialplan hung the caller up
    assert outcome.hung_up_by == "pbx" and outcome.ended < 5


def test_socket_reset_mid_get_data_raises_connection_lost_in_the_handler(tmp_path):
    seen: dict[str, Any] = {}

    def route(engine):
        async def collect(ch: AgiChannel) -> None:
            await ch.answer()
            try:
                await ch.get_data(ZH + "enter_order_number", 5000, 8)
            except AgiConnectionLost as exc:
                seen["raised"], seen["closed"] = exc, ch.closed
                try:
                    await ch.verbose("anyone there?")
                except AgiConnectionLost as again:
                    seen["again"] = again
                raise
        return collect

    async def body(env: Env):
        outcome = await env.call("wait 10")
        return outcome, env.tap.sessions, await _finish(env)

    outcome, taps, end = run(tmp_path, body, route=route, drop_on=lambda side, line: line.startswith("GET DATA"),
                             drop_after_s=0.5)
    assert seen["closed"] and "already closed" in str(seen["again"])
    (tap,) = taps
    assert tap.said("ivr")[-1].startswith("GET DATA") and tap.lines[-1] == ("tap", "RESET")
    assert outcome.hung_up_by == "pbx"
    _clean(end)


def test_socket_reset_inside_the_header_block_is_rejected_without_a_session(tmp_path):
    async def body(env: Env):
        outcome = await env.call("wait 10")
        return outcome, env.tap.sessions, env.server.rejected, await _finish(env)

    outcome, taps, rejected, end = run(tmp_path, body, drop_on=lambda side, line: line.startswith("agi_callerid:"))
    (tap,) = taps
    assert tap.said("ivr") == [] and tap.said("pbx")[-1] == "agi_callerid: 13800138000"
    assert rejected == 1
    assert outcome.hung_up_by == "pbx"   # AGISTATUS=FAILURE, the dialplan went on to Hangup()
    _clean(end, completed=0)
    assert end["stats"] == {}


def test_simulator_stopping_mid_prompt_closes_the_socket_and_the_ivr_cleans_up(tmp_path):
    async def body(env: Env):
        await env.sim.place_call(CallerScript("13800138000", dnid="4008001234", steps=["wait 10"]))
        await asyncio.sleep(1.5)                # inside the main_menu prompt
        await env.sim.close()                   # the PBX goes away: channels hung up, FastAGI sockets closed
        await env.settled()
        return env.engine.results, env.tap.sessions, await _finish(env)

    results, taps, end = run(tmp_path, body)
    (result,) = results
    assert (result.outcome, result.node) == ("hangup", "pick")
    (tap,) = taps
    # no HANGUP line and no reply: the socket just closed under the STREAM FILE in flight
    assert tap.lines[-1] == ("ivr", f'STREAM FILE {ZH}main_menu "0123456789*#"')
    _clean(end)
    assert end["stats"][("errors", "pick", "hangup")] == 1


# ---- menu invalid keys and timeouts through the real engine -----------------------------------------------
def test_menu_without_fallback_hangs_up_after_invalid_keys_and_a_timeout(tmp_path):
    def route(engine):
        return engine.handler("strict")

    async def body(env: Env):
        # 9 during main_menu (invalid 1, sorry), silence (timeout 1, silent_prompt), 8 (invalid 2: no retries left)
        outcome = await env.call("wait 0.5", "press 9", "wait 5.5", "press 8", "wait 10")
        return outcome, env.engine.results, env.tap.sessions, await _finish(env)

    outcome, results, taps, end = run(tmp_path, body, route=route)
    (result,) = results
    assert (result.outcome, result.path) == ("completed", ["strict:pick"])
    (tap,) = taps
    played = [line.split()[2] for line in tap.said("ivr") if line.startswith("STREAM FILE")]
    assert played == [ZH + "main_menu", ZH + "sorry", ZH + "main_menu", ZH + "silent_prompt"]
    assert tap.said("ivr")[-1] == "HANGUP"
    assert outcome.hung_up_by == "pbx"
    _clean(end)
    stats = end["stats"]
    assert stats[("strict", "pick", "invalid")] == 2 and stats[("strict", "pick", "timeout")] == 1
    assert stats[("strict", "pick", "fallback")] == 1 and ("strict", "bye", "entries") not in stats


# ---- queue wait running out (virtual time) ------------------------------------------------------------------
def test_queue_max_wait_runs_out_on_the_call_clock_and_falls_back(tmp_path):
    def route(engine):
        return engine.handler("waiting")

    async def body(env: Env):
        outcome = await env.call("wait 300")
        return outcome, env.engine.results, env.tap.sessions, await _finish(env)

    outcome, results, taps, end = run(tmp_path, body, route=route, phone_defaults=PhoneBehaviour(mode="no-answer"))
    (result,) = results
    assert result.path == ["waiting:wait", "waiting:busy", "waiting:bye"]
    (tap,) = taps
    dials = [line for line in tap.said("ivr") if line.startswith("EXEC Dial")]
    # rings of at most announce_interval, the last one cut to what is left of max_wait (1 s hold prompt first)
    assert [d.split(",")[1] for d in dials] == ["20", "20", "2"]
    assert outcome.hung_up_by == "pbx" and outcome.ended - outcome.answered < 60
    _clean(end)
    assert end["stats"][("waiting", "wait", "overflow")] == 1


def test_socket_reset_while_recording_a_voicemail_keeps_the_message(tmp_path):
    from ivr.models import Voicemail
    from sqlalchemy import select

    async def body(env: Env):
        outcome = await env.call("wait 20")
        end = await _finish(env)
        async with env.sessions() as db:
            rows = list((await db.execute(select(Voicemail))).scalars())
        return outcome, env.tap.sessions, end, rows

    outcome, taps, end, rows = run(tmp_path, body, route=lambda engine: engine.handler("message"),
                                   drop_on=lambda side, line: line.startswith("RECORD FILE"), drop_after_s=3.0)
    (tap,) = taps
    assert tap.dropped
    (row,) = rows
    assert row.ended_by == "connection-lost"
    assert Path(row.path + ".wav").is_file()   # the PBX finished the message after the socket went
    _clean(end)
