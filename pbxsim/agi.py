"""FastAGI client of the simulator: what Asterisk's res_agi does for ``AGI(agi://host[:port]/script?query,args)``.

``run_fastagi`` connects (2 s limit, then ``FAILURE``), sends the ``agi_`` block,
then runs the command loop of res_agi.c's ``run_agi()``:

* a command line ends at ``\\n`` only (a ``\\r`` stays part of the last word, as
  in Asterisk) and is at most 2047 bytes (longer input is cut, like ``fgets``);
* arguments are split by ``parse_args()`` rules (``"`` quoting, ``\\`` escapes);
* the command is looked up word by word, case-insensitively; replies are
  ``200 result=…``, ``510``, ``520-`` usage blocks and, once the channel is
  hung up, ``511`` for commands that need a live channel;
* when the channel hangs up, ``HANGUP\\n`` is sent (~40 ms later, where Nagle's
  algorithm puts it on a real Asterisk) before the next command is read, and the
  socket stays open until the server closes it; the result is then ``HANGUP``;
* new bytes from the server during STREAM FILE / GET DATA / GET OPTION / SAY
  NUMBER|DIGITS|ALPHA|PHONETIC end that command without a reply, and during
  WAIT FOR DIGIT give ``200 result=1``, because Asterisk watches the socket
  while it plays.

Every command raises ``AGIExecStart``/``AGIExecEnd`` on the PBX.
"""
from __future__ import annotations

import asyncio
import enum
import logging
import random
import re
from dataclasses import dataclass
from typing import Awaitable, Callable

from .agi_usage import usage
from .callerid import parse_callerid
from .events import make_event

log = logging.getLogger("pbxsim.agi")

AGI_PORT = 4573
CONNECT_TIMEOUT_S = 2.0          # MAX_AGI_CONNECT
LINE_MAX = 2047                  # AGI_BUF_LEN - 1
MAX_ARGS = 128
HANGUP_NOTICE_DELAY_S = 0.040    # where the unsolicited HANGUP lands after a hangup on real Asterisk
AGI_VERSION = "22.10.1"
ENCODING, ERRORS = "utf-8", "surrogateescape"

# Handler outcomes (res_agi.c RESULT_*; other ints are "Unknown Result").
SUCCESS, SHOWUSAGE, FAILURE = 0, 1, 2
MSG_511 = "Command Not Permitted on a dead channel or intercept routine"


# ---- wire helpers -----------------------------------------------------------------------------------
def parse_args(line: str) -> list[str]:
    """res_agi.c parse_args(): quotes group, backslash escapes the next character."""
    argv: list[str] = []
    cur: list[str] | None = None
    quoted = escaped = False
    whitespace = True
    for ch in line:
        if ch == '"' and not escaped:
            quoted = not quoted
            if quoted and whitespace:
                cur = []
                argv.append("")           # placeholder, filled below
                whitespace = False
            escaped = False
            continue
        if ch in " \t" and not quoted and not escaped:
            if cur is not None:
                argv[-1] = "".join(cur)
            cur = None
            whitespace = True
            continue
        if ch == "\\" and not escaped:
            escaped = True
            continue
        if whitespace:
            if len(argv) >= MAX_ARGS - 1:
                continue
            cur = []
            argv.append("")
            whitespace = False
        if cur is not None:
            cur.append(ch)
        escaped = False
    if cur is not None:
        argv[-1] = "".join(cur)
    return argv


class AgiLineReader:
    """Explicit reader state machine for the server's side of a FastAGI socket."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.eof = False

    def feed(self, data: bytes) -> list[str]:
        self._buf += data
        lines = []
        while True:
            nl = self._buf.find(b"\n")
            if 0 <= nl < LINE_MAX:
                raw = bytes(self._buf[:nl])
                del self._buf[:nl + 1]
            elif len(self._buf) >= LINE_MAX:
                raw = bytes(self._buf[:LINE_MAX])      # fgets() stops at the buffer size
                del self._buf[:LINE_MAX]
            else:
                return lines
            lines.append(raw.decode(ENCODING, ERRORS))

    def finish(self) -> list[str]:
        """At EOF a partial line still counts as a command (fgets returns it)."""
        self.eof = True
        if self._buf:
            raw, self._buf = bytes(self._buf), bytearray()
            return [raw.decode(ENCODING, ERRORS)]
        return []


def parse_url(url: str) -> tuple[str, int, str]:
    """agi://host[:port][/script?query] -> (host, port, script)."""
    if not url.lower().startswith("agi://"):
        raise ValueError(f"not a FastAGI URL: {url!r}")
    rest = url[6:]
    hostport, _, script = rest.partition("/")
    port = AGI_PORT
    if hostport.startswith("["):
        host, _, tail = hostport[1:].partition("]")
        if tail.startswith(":") and tail[1:].isdigit():
            port = int(tail[1:])
    else:
        host, sep, port_text = hostport.rpartition(":")
        if sep and port_text.isdigit():
            port = int(port_text)
        else:
            host = hostport
    if not host:
        raise ValueError(f"no host in FastAGI URL: {url!r}")
    return host, port, script


def _unknown(value: str) -> str:
    return "unknown" if value in ("", "<unknown>") or value is None else value


def header_block(chan, url: str, script: str, args: list[str], thread_id: int) -> str:
    """setup_env() preceded by launch_netscript()'s two lines."""
    caller_num = _unknown(getattr(chan, "caller_num", ""))
    caller_name = _unknown(getattr(chan, "caller_name", ""))
    # ast_party_id_presentation(): 67 (number not available) when no caller id is set at all.
    pres = 67 if caller_num == "unknown" and caller_name == "unknown" else 0
    lines = ["agi_network: yes"]
    if script:
        lines.append(f"agi_network_script: {script}")
    lines += [
        f"agi_request: {url}",
        f"agi_channel: {chan.name}",
        f"agi_language: {chan.language}",
        f"agi_type: {chan.tech}",
        f"agi_uniqueid: {chan.uniqueid}",
        f"agi_version: {AGI_VERSION}",
        f"agi_callerid: {caller_num}",
        f"agi_calleridname: {caller_name}",
        f"agi_callingpres: {pres}",
        "agi_callingani2: 0",
        "agi_callington: 0",
        "agi_callingtns: 0",
        f"agi_dnid: {_unknown(getattr(chan, 'dnid', ''))}",
        f"agi_rdnis: {_unknown(getattr(chan, 'rdnis', ''))}",
        f"agi_context: {chan.context}",
        f"agi_extension: {chan.exten}",
        f"agi_priority: {chan.priority}",
        "agi_enhanced: 0.0",
        f"agi_accountcode: {chan.accountcode or ''}",
        f"agi_threadid: {thread_id}",
    ]
    lines += [f"agi_arg_{i}: {arg}" for i, arg in enumerate(args, 1)]
    return "\n".join(lines) + "\n\n"


_INT = re.compile(r"^\s*([+-]?\d+)")


def scan_int(text: str | None) -> int | None:
    """sscanf("%30d")."""
    if text is None:
        return None
    match = _INT.match(text)
    return int(match.group(1)) if match else None


def atoi(text: str | None) -> int:
    value = scan_int(text)
    return 0 if value is None else value


def digit_code(digit: str | None) -> int:
    return ord(digit) if digit else 0


class _Interrupted(Exception):
    """The server sent new bytes while a media command was running."""


# ---- the session ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    handler: Callable[["AgiSession", list[str]], Awaitable[int]]
    dead_ok: bool

    @property
    def name(self) -> str:
        return " ".join(self.words)


class Status(enum.Enum):
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    HANGUP = "HANGUP"


class AgiSession:
    def __init__(self, pbx, chan, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.pbx = pbx
        self.chan = chan
        self._reader = reader
        self._writer = writer
        self._lines = AgiLineReader()
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._rx = asyncio.Event()          # set whenever bytes (or EOF) arrive
        self._rng = random.Random(f"agi:{chan.uniqueid}")
        self.dead = chan.hungup
        self.hangup_at: float | None = None
        self.status = Status.SUCCESS

    # -- output --
    def send(self, text: str) -> None:
        if self._writer.transport.is_closing():
            return
        try:
            self._writer.write(text.encode(ENCODING, ERRORS))
        except (ConnectionError, RuntimeError):
            pass

    def reply(self, text: str) -> None:
        self.send(text + "\n")

    # -- input --
    async def _read_loop(self) -> None:
        try:
            while True:
                try:
                    data = await self._reader.read(65536)
                except (ConnectionError, OSError):
                    data = b""
                self._rx.set()
                if not data:
                    for line in self._lines.finish():
                        self._queue.put_nowait(line)
                    self._queue.put_nowait(None)
                    return
                for line in self._lines.feed(data):
                    self._queue.put_nowait(line)
        except asyncio.CancelledError:
            self._queue.put_nowait(None)
            raise

    async def _watch_hangup(self) -> None:
        await self.chan.hangup_event.wait()
        self.hangup_at = asyncio.get_running_loop().time()

    async def interruptible(self, coro):
        """Run a media operation; abandon it if the server sends anything meanwhile."""
        self._rx.clear()
        op = asyncio.ensure_future(coro)
        rx = asyncio.ensure_future(self._rx.wait())
        try:
            done, _ = await asyncio.wait({op, rx}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            op.cancel()
            rx.cancel()
            raise
        if op in done:
            rx.cancel()
            return op.result()
        op.cancel()
        try:
            await op
        except BaseException:
            pass
        raise _Interrupted()

    # -- events --
    def _exec_event(self, name: str, command_id: int, command: str, extra=()) -> None:
        headers = list(self.chan.snapshot()) + [("CommandId", str(command_id)), ("Command", command), *extra]
        self.pbx.emit(make_event(name, "agi,all", headers))

    # -- main loop --
    async def run(self, url: str, script: str, args: list[str]) -> str:
        thread_id = 139790000000000 + self._rng.randrange(0, 2**32) * 64
        self.send(header_block(self.chan, url, script, args, thread_id))
        loop = asyncio.get_running_loop()
        reader_task = asyncio.ensure_future(self._read_loop())
        watch_task = asyncio.ensure_future(self._watch_hangup())
        notified = self.dead            # AGI started on a dead channel: no HANGUP line
        try:
            while True:
                if not notified and self.chan.hungup:
                    notified = self.dead = True
                    if self.hangup_at is None:
                        self.hangup_at = loop.time()
                    delay = self.hangup_at + HANGUP_NOTICE_DELAY_S - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    self.send("HANGUP\n")
                    if self.status is Status.SUCCESS:
                        self.status = Status.HANGUP
                if notified:
                    line = await self._queue.get()
                else:
                    getter = asyncio.ensure_future(self._queue.get())
                    hup = asyncio.ensure_future(self.chan.hangup_event.wait())
                    done, _ = await asyncio.wait({getter, hup}, return_when=asyncio.FIRST_COMPLETED)
                    hup.cancel()
                    if getter not in done:
                        getter.cancel()
                        continue
                    line = getter.result()
                if line is None:
                    break
                outcome = await self.handle(line)
                if outcome == FAILURE and (self.dead or not self.chan.hungup):
                    self.status = Status.FAILURE
            self.send("HANGUP\n")        # run_agi() tells a FastAGI server once more as it leaves
        finally:
            reader_task.cancel()
            watch_task.cancel()
            try:
                self._writer.close()
            except Exception:
                pass
        return self.status.value

    async def handle(self, line: str) -> int:
        """agi_handle_command()."""
        command_id = self._rng.randrange(0, 2**31)
        self._exec_event("AGIExecStart", command_id, line)
        argv = parse_args(line)
        cmd = find_command(argv)
        if cmd is None:
            self.reply("510 Invalid or unknown command")
            self._exec_event("AGIExecEnd", command_id, line, [("ResultCode", "510"),
                                                               ("Result", "Invalid or unknown command")])
            return SUCCESS
        if self.dead and not cmd.dead_ok:
            self.reply(f"511 {MSG_511}")
            self._exec_event("AGIExecEnd", command_id, line, [("ResultCode", "511"), ("Result", MSG_511)])
            return SUCCESS
        try:
            res = await cmd.handler(self, argv)
        except _Interrupted:
            res = SUCCESS
        except Exception:   # a simulator bug must not kill the call: answer like a failed command
            log.exception("AGI command %r failed", line)
            self.reply("200 result=-1")
            res = FAILURE
        if res == SHOWUSAGE:
            self._exec_event("AGIExecEnd", command_id, line, [("ResultCode", "520"), ("Result", "Usage")])
            text = usage(cmd.name)
            if text:
                self.send(f"520-Invalid command syntax.  Proper usage follows:\n{text}\n520 End of proper usage.\n")
            else:
                self.send("520 Invalid command syntax.  Proper usage not available.\n")
            return SUCCESS
        if res == FAILURE:
            self._exec_event("AGIExecEnd", command_id, line, [("ResultCode", "-1"), ("Result", "Failure")])
            return FAILURE
        result = "Success" if res in (SUCCESS, ASYNC_BREAK) else "Unknown Result"
        self._exec_event("AGIExecEnd", command_id, line, [("ResultCode", "200"), ("Result", result)])
        return SUCCESS


ASYNC_BREAK = 3


# ---- command handlers -------------------------------------------------------------------------------
async def h_answer(s: AgiSession, argv):
    res = 0
    if s.chan.state != 6:
        await s.chan.answer()
        if s.chan.hungup:
            res = -1
    s.reply(f"200 result={res}")
    return SUCCESS if res >= 0 else FAILURE


async def h_asyncagi_break(s: AgiSession, argv):
    s.reply("200 result=0")
    return ASYNC_BREAK


async def h_channel_status(s: AgiSession, argv):
    if len(argv) == 2:
        s.reply(f"200 result={s.chan.agi_status_code()}")
        return SUCCESS
    if len(argv) == 3:
        other = s.pbx.find_channel(argv[2])
        s.reply(f"200 result={other.agi_status_code()}" if other is not None else "200 result=-1")
        return SUCCESS
    return SHOWUSAGE


async def h_control_stream_file(s: AgiSession, argv):
    if not 5 <= len(argv) <= 10:
        return SHOWUSAGE
    stop = argv[4]
    if len(argv) > 5 and scan_int(argv[5]) is None:
        return SHOWUSAGE
    offset_ms = 0
    if len(argv) > 9:
        offset_ms = scan_int(argv[9])
        if offset_ms is None:
            return SHOWUSAGE
    result = await s.chan.stream_file(argv[3], stop, offset_ms * 8)
    if not result.found or result.hungup:
        res = -1
        status = "ERROR"
        if result.found:
            offset_ms = result.endpos // 8
    elif result.digit:
        res = ord(result.digit)
        status = "USERSTOPPED"
        offset_ms = result.endpos // 8
        s.chan.set_variable("CPLAYBACKSTOPKEY", result.digit)
    else:
        res, status, offset_ms = 0, "SUCCESS", -1          # -1: played to the end of the file
    s.chan.set_variable("CPLAYBACKSTATUS", status)
    s.chan.set_variable("CPLAYBACKOFFSET", str(offset_ms))
    s.reply(f"200 result={res} endpos={offset_ms}")
    return SUCCESS if res >= 0 else FAILURE


async def h_db_del(s: AgiSession, argv):
    if len(argv) != 4:
        return SHOWUSAGE
    existed = s.pbx.astdb.pop((argv[2], argv[3]), None) is not None
    s.reply(f"200 result={'1' if existed else '0'}")
    return SUCCESS


async def h_db_deltree(s: AgiSession, argv):
    if not 3 <= len(argv) <= 4:
        return SHOWUSAGE
    db = s.pbx.astdb
    family = argv[2]
    prefix = argv[3] if len(argv) == 4 else None
    doomed = [k for k in db if k[0] == family and (prefix is None or k[1] == prefix or k[1].startswith(prefix + "/"))]
    for key in doomed:
        del db[key]
    s.reply(f"200 result={'0' if doomed else '1'}")   # res_agi.c prints the count test inverted
    return SUCCESS


async def h_db_get(s: AgiSession, argv):
    if len(argv) != 4:
        return SHOWUSAGE
    value = s.pbx.astdb.get((argv[2], argv[3]))
    s.reply("200 result=0" if value is None else f"200 result=1 ({value})")
    return SUCCESS


async def h_db_put(s: AgiSession, argv):
    if len(argv) != 5:
        return SHOWUSAGE
    s.pbx.astdb[(argv[2], argv[3])] = argv[4]
    s.reply("200 result=1")
    return SUCCESS


async def h_exec(s: AgiSession, argv):
    if len(argv) < 2:
        return SHOWUSAGE
    data = argv[2] if len(argv) > 2 else ""
    if _truthy(s.chan.get_variable("AGIEXECFULL")):
        res = await s.chan.exec_app(argv[1], data)             # Channel.exec_app substitutes ${...}
    else:
        res = await _run_app_verbatim(s, argv[1], data)
    res = res if isinstance(res, int) else 0
    s.reply(f"200 result={res}")
    return res   # "Even though this is wrong, users are depending upon this result."


async def h_get_data(s: AgiSession, argv):
    if len(argv) < 3:
        return SHOWUSAGE
    timeout = atoi(argv[3]) if len(argv) >= 4 else 0
    max_digits = atoi(argv[4]) if len(argv) >= 5 else 1024
    result = await s.interruptible(s.chan.get_data(argv[2], timeout, max_digits))
    if result.hungup or not result.found:
        s.reply("200 result=-1")
    elif result.timed_out:
        s.reply(f"200 result={result.digits} (timeout)")
    else:
        s.reply(f"200 result={result.digits}")
    return SUCCESS


async def h_get_full_variable(s: AgiSession, argv):
    if len(argv) not in (4, 5):
        return SHOWUSAGE
    target = s.chan if len(argv) == 4 else s.pbx.find_channel(argv[4])
    if target is None:
        s.reply("200 result=0")
    else:
        s.reply(f"200 result=1 ({target.eval_expression(argv[3])})")
    return SUCCESS


async def h_get_option(s: AgiSession, argv):
    if not 4 <= len(argv) <= 5:
        return SHOWUSAGE
    edigits = argv[3]
    timeout = atoi(argv[4]) if len(argv) == 5 else 5000
    result = await s.interruptible(s.chan.stream_file(argv[2], edigits))
    if not result.found:
        s.reply("200 result=-1 endpos=0")
        return FAILURE
    res = -1 if result.hungup else digit_code(result.digit)
    if res == 0:
        try:
            waited = await s.interruptible(s.chan.wait_for_digit(timeout))
            res = digit_code(waited.digit) if waited.digit and waited.digit in edigits else 0
        except _Interrupted:
            res = 0         # the wake-up value 1 is not an escape digit

    s.reply(f"200 result={res} endpos={result.endpos}")
    return SUCCESS if res >= 0 else FAILURE


async def h_get_variable(s: AgiSession, argv):
    if len(argv) != 3:
        return SHOWUSAGE
    value = s.chan.get_variable(argv[2])
    s.reply("200 result=0" if value is None else f"200 result=1 ({value})")
    return SUCCESS


async def h_gosub(s: AgiSession, argv):
    if len(argv) < 4 or len(argv) > 5:
        return SHOWUSAGE
    target = f"{argv[1]},{argv[2]},{argv[3]}" + (f"({argv[4]})" if len(argv) == 5 else "")
    res = await s.chan.exec_app("Gosub", target)
    if res == -2:
        s.reply("200 result=-1 Gosub label not found")
        return FAILURE
    s.reply("200 result=0 Gosub complete")
    return SUCCESS


async def h_hangup(s: AgiSession, argv):
    if len(argv) == 1:
        _soft_hangup(s.chan)
        s.reply("200 result=1")
        return SUCCESS
    if len(argv) == 2:
        other = s.pbx.find_channel(argv[1])
        if other is None:
            s.reply("200 result=-1")
        elif other is s.chan:
            _soft_hangup(other)
            s.reply("200 result=1")
        else:
            s.pbx.hangup(other, 16)       # its owner finishes it, as after ast_softhangup()
            s.reply("200 result=1")
        return SUCCESS
    return SHOWUSAGE


async def h_noop(s: AgiSession, argv):
    s.reply("200 result=0")
    return SUCCESS


async def h_receive_char(s: AgiSession, argv):
    if len(argv) != 3:
        return SHOWUSAGE
    s.reply("200 result=0 (timeout)")     # no simulated channel carries text
    return SUCCESS


async def h_receive_text(s: AgiSession, argv):
    if len(argv) != 3:
        return SHOWUSAGE
    s.reply("200 result=-1")
    return SUCCESS


async def h_record_file(s: AgiSession, argv):
    if len(argv) < 6 or scan_int(argv[5]) is None:
        return SHOWUSAGE
    timeout = scan_int(argv[5])
    silence = None
    for extra in argv[6:9]:
        if "s=" in extra:
            value = atoi(extra.split("s=", 1)[1])
            silence = value if value > 0 else None
            break
    # argv[6] is offset_samples if numeric, silence if "s=...", anything else asks for a beep;
    # any argv[7] that is not "s=..." asks for a beep too.
    beep = ((len(argv) > 6 and scan_int(argv[6]) is None and not argv[6].startswith("s="))
            or (len(argv) > 7 and not argv[7].startswith("s=")))
    try:
        result = await s.chan.record_file(argv[2], argv[3], argv[4], timeout, beep, silence)
    except OSError as exc:
        log.warning("RECORD FILE %s: %s", argv[2], exc)
        s.reply("200 result=-1 (writefile)")
        return FAILURE
    if result.hungup:
        s.reply(f"200 result=-1 (hangup) endpos={result.endpos}")
        return FAILURE
    if result.digit:
        s.reply(f"200 result={ord(result.digit)} (dtmf) endpos={result.endpos}")
        return SUCCESS
    s.reply(f"200 result=0 (timeout) endpos={result.endpos}")
    return SUCCESS


def _say(kind: str, *, arity: tuple[int, int], numeric: bool, watch: bool):
    async def handler(s: AgiSession, argv):
        if not arity[0] <= len(argv) <= arity[1]:
            return SHOWUSAGE
        if numeric and scan_int(argv[2]) is None:
            return SHOWUSAGE
        op = s.chan.say(kind, argv[2], argv[3])
        result = await (s.interruptible(op) if watch else op)
        res = -1 if result.hungup else digit_code(result.digit)
        s.reply(f"200 result={res}")
        return SUCCESS if res >= 0 else FAILURE
    return handler


async def h_say_alpha(s: AgiSession, argv):
    if not 4 <= len(argv) <= 5:
        return SHOWUSAGE
    if len(argv) == 5 and argv[4][:1].lower() not in ("a", "l", "n", "u", ""):
        return SHOWUSAGE           # case sensitivity: all, lower, none, upper
    return await _say("alpha", arity=(4, 5), numeric=False, watch=True)(s, argv)


async def h_say_datetime(s: AgiSession, argv):
    if len(argv) < 4 or scan_int(argv[2]) is None:
        return SHOWUSAGE
    result = await s.chan.say("datetime", argv[2], argv[3])
    res = -1 if result.hungup else digit_code(result.digit)
    s.reply(f"200 result={res}")
    return SUCCESS if res >= 0 else FAILURE


async def h_send_image(s: AgiSession, argv):
    if len(argv) != 3:
        return SHOWUSAGE
    s.reply("200 result=0")
    return SUCCESS


async def h_send_text(s: AgiSession, argv):
    if len(argv) != 3:
        return SHOWUSAGE
    s.reply("200 result=0")
    return SUCCESS


async def h_set_autohangup(s: AgiSession, argv):
    if len(argv) != 3:
        return SHOWUSAGE
    try:
        seconds = float(argv[2].strip())
    except ValueError:
        return SHOWUSAGE
    handle = getattr(s.chan, "_agi_autohangup", None)
    if handle is not None:
        handle.cancel()
    if seconds > 0:
        loop = asyncio.get_running_loop()
        s.chan._agi_autohangup = loop.call_later(seconds, lambda: (not s.chan.hungup) and s.pbx.hangup(s.chan, 16))
    s.reply("200 result=0")
    return SUCCESS


async def h_set_callerid(s: AgiSession, argv):
    if len(argv) < 3:                          # res_agi.c checks nothing: no argument, no change
        s.reply("200 result=1")
        return SUCCESS
    name, num = parse_callerid(argv[2])
    if hasattr(s.chan, "set_caller_id"):
        s.chan.set_caller_id(num, name)
    else:
        s.chan.caller_num, s.chan.caller_name = num, name
    s.reply("200 result=1")
    return SUCCESS


async def h_set_context(s: AgiSession, argv):
    if len(argv) != 3:
        return SHOWUSAGE
    s.chan.context = argv[2]
    s.reply("200 result=0")
    return SUCCESS


async def h_set_extension(s: AgiSession, argv):
    if len(argv) != 3:
        return SHOWUSAGE
    s.chan.exten = argv[2]
    s.reply("200 result=0")
    return SUCCESS


async def h_set_music(s: AgiSession, argv):
    if len(argv) < 3:
        return SHOWUSAGE
    mode = argv[2].lower()
    if mode.startswith("on"):
        s.chan.set_music(True, argv[3] if len(argv) > 3 else "default")
    elif mode.startswith("off"):
        s.chan.set_music(False)
    s.reply("200 result=0")
    return SUCCESS


async def h_set_priority(s: AgiSession, argv):
    if len(argv) != 3:
        return SHOWUSAGE
    pri = scan_int(argv[2])
    if pri is None:
        dialplan = getattr(s.pbx, "dialplan", None)
        pri = dialplan.label_priority(s.chan.context, s.chan.exten, argv[2]) if dialplan is not None else None
        if pri is None or pri < 1:
            return SHOWUSAGE
    # ast_explicit_goto() on a channel running the dialplan: the PBX loop adds one when AGI returns.
    s.chan.priority = pri - 1
    s.reply("200 result=0")
    return SUCCESS


async def h_set_variable(s: AgiSession, argv):
    if len(argv) != 4:
        return SHOWUSAGE
    s.chan.set_variable(argv[2], argv[3])
    s.reply("200 result=1")
    return SUCCESS


async def h_speech(s: AgiSession, argv):
    s.reply("200 result=0")      # no speech engine is loaded
    return SUCCESS


async def h_stream_file(s: AgiSession, argv):
    if not 4 <= len(argv) <= 5:
        return SHOWUSAGE
    offset = 0
    if len(argv) > 4:
        offset = scan_int(argv[4])
        if offset is None:
            return SHOWUSAGE
    result = await s.interruptible(s.chan.stream_file(argv[2], argv[3], offset))
    if not result.found:
        s.reply(f"200 result=-1 endpos={offset}")
        return FAILURE
    res = -1 if result.hungup else digit_code(result.digit)
    s.reply(f"200 result={res} endpos={result.endpos}")
    return SUCCESS if res >= 0 else FAILURE


async def h_tdd_mode(s: AgiSession, argv):
    if len(argv) != 3:
        return SHOWUSAGE
    s.reply("200 result=0")
    return SUCCESS


async def h_verbose(s: AgiSession, argv):
    if len(argv) < 2:
        return SHOWUSAGE
    log.info("%s: %s", getattr(s.chan, "appdata", ""), argv[1])
    s.reply("200 result=1")
    return SUCCESS


async def h_wait_for_digit(s: AgiSession, argv):
    if len(argv) != 4 or scan_int(argv[3]) is None:
        return SHOWUSAGE
    try:
        result = await s.interruptible(s.chan.wait_for_digit(scan_int(argv[3])))
    except _Interrupted:
        s.reply("200 result=1")        # ast_waitfordigit_full() returns 1 when the socket wakes it
        return SUCCESS
    res = -1 if result.hungup else digit_code(result.digit)
    s.reply(f"200 result={res}")
    return SUCCESS if res >= 0 else FAILURE


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("yes", "true", "y", "t", "1", "on")


async def _run_app_verbatim(s: AgiSession, app: str, data: str) -> int:
    """EXEC passes its data unsubstituted unless AGIEXECFULL=yes (res_agi.c handle_exec)."""
    return await s.pbx.run_app(s.chan, app, data, from_agi=True)


def _soft_hangup(chan) -> None:
    """ast_softhangup(AST_SOFTHANGUP_EXPLICIT): SoftHangupRequest Cause 32, the channel lives on."""
    if hasattr(chan, "request_hangup"):
        if chan.request_hangup(32, event="SoftHangupRequest"):
            chan.hangup_cause = 0
    else:
        chan.hangup(16)


COMMANDS: list[Command] = [Command(tuple(words.split()), handler, dead) for words, handler, dead in [
    ("answer", h_answer, False),
    ("asyncagi break", h_asyncagi_break, True),
    ("channel status", h_channel_status, False),
    ("database del", h_db_del, True),
    ("database deltree", h_db_deltree, True),
    ("database get", h_db_get, True),
    ("database put", h_db_put, True),
    ("exec", h_exec, True),
    ("get data", h_get_data, False),
    ("get full variable", h_get_full_variable, True),
    ("get option", h_get_option, False),
    ("get variable", h_get_variable, True),
    ("hangup", h_hangup, False),
    ("noop", h_noop, True),
    ("receive char", h_receive_char, False),
    ("receive text", h_receive_text, False),
    ("record file", h_record_file, False),
    ("say alpha", h_say_alpha, False),
    ("say digits", _say("digits", arity=(4, 4), numeric=True, watch=True), False),
    ("say number", _say("number", arity=(4, 5), numeric=True, watch=True), False),
    ("say phonetic", _say("alpha", arity=(4, 4), numeric=False, watch=True), False),
    ("say date", _say("date", arity=(4, 4), numeric=True, watch=False), False),
    ("say time", _say("time", arity=(4, 4), numeric=True, watch=False), False),
    ("say datetime", h_say_datetime, False),
    ("send image", h_send_image, False),
    ("send text", h_send_text, False),
    ("set autohangup", h_set_autohangup, False),
    ("set callerid", h_set_callerid, False),
    ("set context", h_set_context, False),
    ("set extension", h_set_extension, False),
    ("set music", h_set_music, False),
    ("set priority", h_set_priority, False),
    ("set variable", h_set_variable, True),
    ("stream file", h_stream_file, False),
    ("control stream file", h_control_stream_file, False),
    ("tdd mode", h_tdd_mode, False),
    ("verbose", h_verbose, True),
    ("wait for digit", h_wait_for_digit, False),
    ("speech create", h_speech, False),
    ("speech set", h_speech, False),
    ("speech destroy", h_speech, True),
    ("speech load grammar", h_speech, False),
    ("speech unload grammar", h_speech, True),
    ("speech activate grammar", h_speech, False),
    ("speech deactivate grammar", h_speech, False),
    ("speech recognize", h_speech, False),
    ("gosub", h_gosub, False),
]]


def find_command(argv: list[str]) -> Command | None:
    """res_agi.c find_command(cmds, 0): every word of the entry must match; extra words are arguments."""
    for cmd in COMMANDS:
        if len(argv) < len(cmd.words):
            continue
        if all(a.lower() == w for a, w in zip(argv, cmd.words)):
            return cmd
    return None


async def run_fastagi(pbx, chan, url: str, args: list[str]) -> str:
    """Run one FastAGI session for ``chan``; returns AGISTATUS (SUCCESS, FAILURE or HANGUP)."""
    try:
        host, port, script = parse_url(url)
    except ValueError as exc:
        log.warning("%s", exc)
        return Status.FAILURE.value
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT_S)
    except (OSError, asyncio.TimeoutError) as exc:
        log.warning("Connecting to '%s' failed for url '%s': %s", f"{host}:{port}", url, exc or "timed out")
        return Status.FAILURE.value
    session = AgiSession(pbx, chan, reader, writer)
    return await session.run(url, script, list(args))
