"""Channels of the simulated PBX: state, caller ID, variables, DTMF and media.

A Channel is created by the Pbx (never directly). Its media operations are the
ones the FastAGI client needs; they all run on the loop's clock (virtual in
tests and in the demo) and return early, with hangup semantics, when the
channel is hung up meanwhile.
"""
from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Coroutine, Protocol

from .events import CALL, DIALPLAN, DTMF
from .sounds import SoundLibrary, say_files

if TYPE_CHECKING:
    from .bridge import Bridge
    from .media import MediaRecorder

STATE_DESC = {
    0: "Down", 1: "Rsrvd", 2: "OffHook", 3: "Dialing", 4: "Ring", 5: "Ringing",
    6: "Up", 7: "Busy", 8: "Dialing Offhook", 9: "Pre-ring", 10: "Unknown",
}
CAUSE_TXT = {
    0: "Unknown", 1: "Unallocated (unassigned) number", 3: "No route to destination",
    16: "Normal Clearing", 17: "User busy", 18: "No user responding",
    19: "User alerting, no answer", 20: "Subscriber absent", 21: "Call Rejected",
    26: "Answered elsewhere", 27: "Destination out of order", 34: "Circuit/channel congestion",
    38: "Network out of order", 127: "Interworking, unspecified",
}
SAMPLE_RATE = 8000
FRAME_SAMPLES = 160  # one 20 ms frame at 8 kHz
DTMF_DURATION_S = 0.1  # SendDTMF / participant key presses, as in the captures
DIGITS = "0123456789*#ABCD"


@dataclass
class PlayResult:
    found: bool
    digit: str | None
    endpos: int
    hungup: bool


@dataclass
class DigitResult:
    digit: str | None
    hungup: bool


@dataclass
class DataResult:
    digits: str
    timed_out: bool
    hungup: bool
    found: bool


@dataclass
class RecordResult:
    digit: str | None
    endpos: int
    timed_out: bool
    hungup: bool
    error: str | None = None   # the file could not be written (RECORD FILE: 200 result=-1 (writefile))


class ChannelHost(Protocol):
    """What a channel uses of the PBX that created it (pbx.Pbx)."""

    globals: dict[str, str]
    tz_offset_s: int
    sounds: SoundLibrary
    media: MediaRecorder

    def loop_time(self) -> float: ...

    def wall_time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    def spawn(self, coro: Coroutine, name: str | None = None) -> asyncio.Task: ...

    def emit_channel_event(self, name: str, chan: Channel, extra=(), privilege: str = ...) -> None: ...

    def channel_state_changed(self, chan: Channel) -> None: ...

    def answer(self, chan: Channel) -> None: ...

    def hangup(self, chan: Channel, cause: int = ...) -> None: ...

    async def run_app(self, chan: Channel, app: str, data: str, *, from_agi: bool = False) -> int: ...


class Channel:
    """One leg of a call (PJSIP or one half of a Local pair)."""

    def __init__(self, pbx: ChannelHost, name: str, uniqueid: str, linkedid: str, tech: str,
                 *, context: str = "", exten: str = "s", priority: int = 1, state: int = 0) -> None:
        self.pbx = pbx
        self.name = name
        self.uniqueid = uniqueid
        self.linkedid = linkedid
        self.tech = tech
        self.state = state
        self.caller_num = "<unknown>"
        self.caller_name = "<unknown>"
        self.connected_num = "<unknown>"
        self.connected_name = "<unknown>"
        self.language = "en"
        self.accountcode = ""
        self.context = context
        self.exten = exten
        self.priority = priority
        self.app = ""
        self.appdata = ""
        self.bridge_id = ""
        self.dnid = ""
        self.rdnis = ""
        self.created = pbx.loop_time()
        self.answered_at: float | None = None
        self.variables: dict[str, str] = {}
        self.hungup = False              # hangup requested: media is over
        self.destroyed = False           # Hangup event sent
        self.hangup_cause = 16
        self.hangup_event = asyncio.Event()
        self.peer: Channel | None = None  # the other half of a Local pair
        self.local_half = 0               # 1 or 2 for Local channels
        self.endpoint: str = ""           # PJSIP endpoint id
        self.bridge: Bridge[Channel] | None = None
        self.participant: Any = None      # scripted caller / softphone driving this channel
        self.on_hold = False
        self.moh_class: str | None = None
        self.runs_dialplan = False
        self.spying_on: Channel | None = None
        self._digits: list[str] = []
        self._digit_event = asyncio.Event()
        self._state_event = asyncio.Event()
        self._soft_hangup_sent = False
        self.owner: str | None = None     # who finishes a channel that runs no dialplan ("request", "originate", "bridge")
        self._jumped = False
        self._redirect: tuple[str, str, int] | None = None
        self._app_task: asyncio.Future | None = None
        self._bridge_done: asyncio.Event | None = None
        self.hangup_hooks: list = []      # called synchronously when a hangup is requested
        self._in_agi = False
        self._async_goto = False
        self._after_bridge: tuple[str, str, int] | None = None   # where to go on after an AMI Bridge
        self._parked: asyncio.Event | None = None

    # -- snapshot / events ------------------------------------------------
    @property
    def state_desc(self) -> str:
        return STATE_DESC.get(self.state, "Unknown")

    def snapshot(self, prefix: str = "") -> list[tuple[str, str]]:
        return [
            (prefix + "Channel", self.name),
            (prefix + "ChannelState", str(self.state)),
            (prefix + "ChannelStateDesc", self.state_desc),
            (prefix + "CallerIDNum", self.caller_num),
            (prefix + "CallerIDName", self.caller_name),
            (prefix + "ConnectedLineNum", self.connected_num),
            (prefix + "ConnectedLineName", self.connected_name),
            (prefix + "Language", self.language),
            (prefix + "AccountCode", self.accountcode),
            (prefix + "Context", self.context),
            (prefix + "Exten", self.exten),
            (prefix + "Priority", str(self.priority)),
            (prefix + "Uniqueid", self.uniqueid),
            (prefix + "Linkedid", self.linkedid),
        ]

    def _emit(self, name: str, extra=(), privilege: str = CALL) -> None:
        self.pbx.emit_channel_event(name, self, extra, privilege)

    @property
    def device(self) -> str:
        """Device name for device state: ``PJSIP/1001`` or ``Local/s@ctx``."""
        if self.tech == "PJSIP":
            return f"PJSIP/{self.endpoint}"
        return self.name.rsplit("-", 1)[0]

    def __repr__(self) -> str:
        return f"<Channel {self.name} {self.state_desc}{' hungup' if self.hungup else ''}>"

    # -- state --------------------------------------------------------------
    def set_state(self, state: int) -> None:
        if state == self.state:
            return
        self.state = state
        if state == 6 and self.answered_at is None:
            self.answered_at = self.pbx.loop_time()
        self._emit("Newstate")
        self._state_event.set()
        self._state_event = asyncio.Event()
        self.pbx.channel_state_changed(self)

    async def wait_state_change(self) -> None:
        await self._state_event.wait()

    def set_caller_id(self, num: str | None, name: str | None, *, emit: bool = True) -> None:
        if num is not None:
            self.caller_num = num or "<unknown>"
        if name is not None:
            self.caller_name = name or "<unknown>"
        if emit:
            self._emit("NewCallerid", [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")])

    def set_connected_line(self, num: str | None, name: str | None, *, emit: bool = True) -> None:
        if num is not None:
            self.connected_num = num or "<unknown>"
        if name is not None:
            self.connected_name = name or "<unknown>"
        if emit:
            self._emit("NewConnectedLine")

    # -- variables ----------------------------------------------------------
    def set_variable(self, name: str, value: str) -> None:
        name = name.strip()
        value = "" if value is None else str(value)
        fn = re.fullmatch(r"([A-Z_]+)\((.*)\)", name)
        if fn:
            self._write_function(fn.group(1), fn.group(2), value)
            return
        if name.startswith("__"):
            name = name[2:]
        elif name.startswith("_"):
            name = name[1:]
        self.variables[name] = value
        self._emit("VarSet", [("Variable", name), ("Value", value)], DIALPLAN)

    def _write_function(self, func: str, arg: str, value: str) -> None:
        arg = arg.strip().lower()
        if func == "CALLERID":
            if arg in ("num", "number"):
                self.set_caller_id(value, None)
            elif arg == "name":
                self.set_caller_id(None, value)
            elif arg == "all":
                num, name = parse_callerid(value)
                self.set_caller_id(num, name)
        elif func == "CONNECTEDLINE":
            if arg in ("num", "number"):
                self.set_connected_line(value, None)
            elif arg == "name":
                self.set_connected_line(None, value)
        elif func == "CHANNEL" and arg == "language":
            self.language = value
        elif func == "CHANNEL" and arg == "accountcode":
            self.accountcode = value
        elif func == "CDR":
            self.variables[f"CDR({arg})"] = value
        else:
            self.variables[f"{func}({arg})"] = value

    def get_variable(self, name: str) -> str | None:
        name = name.strip()
        fn = re.fullmatch(r"([A-Z_]+)\((.*)\)", name, re.S)
        if fn:
            return self._read_function(fn.group(1), self.eval_expression(fn.group(2)))
        if name in self.variables:
            return self.variables[name]
        builtin = {
            "CHANNEL": self.name, "UNIQUEID": self.uniqueid, "CONTEXT": self.context,
            "EXTEN": self.exten, "PRIORITY": str(self.priority), "LANGUAGE": self.language,
            "CALLERID(num)": self.caller_num, "EPOCH": str(int(self.pbx.wall_time())),
            "HANGUPCAUSE": str(self.hangup_cause) if self.hungup else None,
        }
        if name in builtin:
            return builtin[name]
        return self.pbx.globals.get(name)

    def _read_function(self, func: str, arg: str) -> str | None:
        key = arg.strip().lower()
        if func == "CHANNEL":
            values = {
                "name": self.name, "state": self.state_desc,
                "language": self.language, "uniqueid": self.uniqueid, "linkedid": self.linkedid,
                "accountcode": self.accountcode, "channeltype": self.tech, "context": self.context,
                "exten": self.exten, "musicclass": self.moh_class or "default",
                "callid": self.uniqueid, "endpoint": self.endpoint,
            }
            return values.get(key)
        if func == "CALLERID":
            num = "" if self.caller_num == "<unknown>" else self.caller_num
            name = "" if self.caller_name == "<unknown>" else self.caller_name
            return {"num": num, "number": num, "name": name,
                    "all": f'"{name}" <{num}>' if name else num, "dnid": self.dnid,
                    "rdnis": self.rdnis}.get(key)
        if func == "CONNECTEDLINE":
            num = "" if self.connected_num == "<unknown>" else self.connected_num
            name = "" if self.connected_name == "<unknown>" else self.connected_name
            return {"num": num, "number": num, "name": name}.get(key)
        if func == "LEN":
            return str(len(arg))
        if func == "EXISTS":
            return "1" if arg else "0"
        if func == "ISNULL":
            return "1" if not arg else "0"
        if func == "TOUPPER":
            return arg.upper()
        if func == "TOLOWER":
            return arg.lower()
        if func == "IF":
            cond, _, rest = arg.partition("?")
            yes, _, no = rest.partition(":")
            return yes if _truthy(cond) else no
        if func == "GLOBAL":
            return self.pbx.globals.get(arg.strip())
        if func == "SHARED":
            return self.variables.get(arg.strip())
        if func == "CUT":
            parts = arg.split(",")
            if len(parts) >= 3:
                value = self.get_variable(parts[0]) or ""
                pieces = value.split(parts[1] or "-")
                try:
                    return pieces[int(parts[2]) - 1]
                except (ValueError, IndexError):
                    return ""
        if func == "STRFTIME":
            parts = arg.split(",")
            fmt = parts[2] if len(parts) > 2 and parts[2] else "%c"
            return time.strftime(fmt, time.gmtime(self.pbx.wall_time()))
        return self.variables.get(f"{func}({arg})")

    def eval_expression(self, text: str) -> str:
        return substitute(text, self)

    # -- hangup -------------------------------------------------------------
    def hangup(self, cause: int = 16) -> None:
        self.pbx.hangup(self, cause)

    def request_hangup(self, cause: int = 16, *, event: str | None = "HangupRequest") -> bool:
        """Mark the channel hung up (media stops, waiters wake). Returns False if already so."""
        if self.hungup:
            return False
        self.hungup = True
        self.hangup_cause = cause
        if event and not self.destroyed:
            self._emit(event, [("Cause", str(cause))])
            if event == "SoftHangupRequest":
                self._soft_hangup_sent = True
        for hook in list(self.hangup_hooks):
            hook(self)
        self.hangup_event.set()
        self._digit_event.set()
        self._state_event.set()
        return True

    def revive(self) -> None:
        """Clear an async-goto soft hangup: the channel lives on (Redirect out of an AGI)."""
        self.hungup = False
        self.hangup_event = asyncio.Event()
        self._digit_event = asyncio.Event()
        self._state_event = asyncio.Event()
        self._digits.clear()

    def agi_status_code(self) -> int:
        if self.hungup:
            return 0
        return {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7}.get(self.state, 0)

    # -- DTMF ---------------------------------------------------------------
    async def receive_dtmf(self, digit: str, duration_s: float = DTMF_DURATION_S) -> None:
        """A digit arrives on this channel from the far end (DTMFBegin, then DTMFEnd)."""
        if self.hungup:
            return
        self._emit("DTMFBegin", [("Digit", digit), ("Direction", "Received")], DTMF)
        await self.pbx.sleep(duration_s)
        if self.hungup:
            return
        self._emit("DTMFEnd", [("Digit", digit), ("DurationMs", str(int(round(duration_s * 1000)))),
                               ("Direction", "Received")], DTMF)
        if self.bridge is not None:
            # in a bridge the digit goes to the other party; nothing reads it on this channel later
            for other in self.media_targets():
                if other.participant is not None and hasattr(other.participant, "on_dtmf_heard"):
                    other.participant.on_dtmf_heard(other, digit)
            return
        self._digits.append(digit)
        self._digit_event.set()

    async def send_dtmf(self, digits: str, between_s: float = 0.25, duration_s: float = DTMF_DURATION_S) -> None:
        """SendDTMF: the digits reach the channel at the other end of this leg."""
        await self.pbx.sleep(0.1)
        for digit in digits:
            if digit not in DIGITS and digit.upper() not in DIGITS:
                continue
            if self.hungup:
                return
            for target in self.media_targets():
                self.pbx.spawn(target.receive_dtmf(digit.upper(), duration_s))
            if self.participant is not None and hasattr(self.participant, "on_dtmf_sent"):
                self.participant.on_dtmf_sent(digit)
            await self.pbx.sleep(duration_s)
            await self.pbx.sleep(between_s)

    def media_targets(self) -> list["Channel"]:
        if self.bridge is not None:
            return [c for c in self.bridge.channels if c is not self and not c.hungup]
        if self.peer is not None and not self.peer.hungup:
            return [self.peer]
        return []

    def flush_digits(self) -> None:
        self._digits.clear()

    async def _next_digit(self, deadline: float | None) -> str | None:
        """Next received digit before ``deadline`` (loop time), or None (timeout/hangup)."""
        while not self._digits:
            if self.hungup:
                return None
            self._digit_event.clear()
            remaining = None if deadline is None else deadline - self.pbx.loop_time()
            if remaining is not None and remaining <= 0:
                return None
            try:
                await asyncio.wait_for(self._digit_event.wait(), remaining)
            except asyncio.TimeoutError:
                return None
        return self._digits.pop(0)

    # -- media operations (AGI) --------------------------------------------
    async def answer(self) -> None:
        if self.hungup:
            return
        if self.state != 6:
            self.pbx.answer(self)

    async def _play(self, samples: int, escape_digits: str, offset: int = 0) -> PlayResult:
        """Play ``samples`` from ``offset``; any digit in escape_digits interrupts."""
        start = self.pbx.loop_time()
        total_s = max(0, samples - offset) / SAMPLE_RATE
        deadline = start + total_s
        while True:
            digit = await self._next_digit(deadline)
            played = offset + int(round((self.pbx.loop_time() - start) * SAMPLE_RATE))
            played = min(-(-played // FRAME_SAMPLES) * FRAME_SAMPLES, samples)  # whole 20 ms frames
            if self.hungup:
                return PlayResult(True, None, played, True)
            if digit is None:
                return PlayResult(True, None, samples, False)
            if digit in escape_digits:
                return PlayResult(True, digit, played, False)

    async def stream_file(self, name: str, escape_digits: str = "", offset: int = 0) -> PlayResult:
        if self.hungup:
            return PlayResult(False, None, 0, True)
        samples = self.pbx.sounds.length(name, self.language)
        if samples is None:
            return PlayResult(False, None, 0, False)
        result = await self._play(samples, escape_digits, offset)
        if not result.hungup:
            self.set_variable("PLAYBACKSTATUS", "SUCCESS" if result.digit is None else "FAILED")
        return result

    async def wait_for_digit(self, timeout_ms: int) -> DigitResult:
        if self.hungup:
            return DigitResult(None, True)
        deadline = None if timeout_ms < 0 else self.pbx.loop_time() + timeout_ms / 1000
        digit = await self._next_digit(deadline)
        return DigitResult(digit, self.hungup and digit is None)

    async def get_data(self, name: str, timeout_ms: int, max_digits: int) -> DataResult:
        if self.hungup:
            return DataResult("", False, True, True)
        first_timeout, between = (timeout_ms, timeout_ms) if timeout_ms > 0 else (6000, 2000)
        max_digits = max_digits if max_digits > 0 else 1024
        digits = ""
        found = True
        if name:
            samples = self.pbx.sounds.length(name, self.language)
            if samples is None:
                return DataResult("", False, False, False)
            result = await self._play(samples, DIGITS)
            if result.hungup:
                return DataResult("", False, True, True)
            if result.digit is not None:
                if result.digit == "#":
                    return DataResult("", False, False, True)
                digits = result.digit
        wait = first_timeout if not digits else between
        while len(digits) < max_digits:
            digit = await self._next_digit(self.pbx.loop_time() + wait / 1000)
            if self.hungup:
                return DataResult(digits, False, True, found)
            if digit is None:
                return DataResult(digits, True, False, found)
            if digit == "#":
                break
            digits += digit
            wait = between
        return DataResult(digits, False, False, found)

    async def say(self, kind: str, value: str, escape_digits: str = "") -> PlayResult:
        files = say_files(kind, value, self.pbx.tz_offset_s)
        endpos = 0
        for name in files:
            samples = self.pbx.sounds.length(name, self.language)
            if samples is None:
                continue
            result = await self._play(samples, escape_digits)
            endpos = result.endpos
            if result.hungup or result.digit is not None:
                return result
        return PlayResult(True, None, endpos, self.hungup)

    async def record_file(self, path: str, fmt: str, escape_digits: str, timeout_ms: int,
                          beep: bool = False, silence_s: int | None = None) -> RecordResult:
        if self.hungup:
            return RecordResult(None, 0, False, True)
        if beep:
            await self._play(self.pbx.sounds.length("beep", self.language) or 3404, "")
        start = self.pbx.loop_time()
        deadline = None if timeout_ms < 0 else start + timeout_ms / 1000
        talk = self.participant.talk_samples_for_record() if hasattr(self.participant, "talk_samples_for_record") else 0
        if silence_s and talk:
            talk_deadline = start + talk / SAMPLE_RATE + silence_s
            deadline = talk_deadline if deadline is None else min(deadline, talk_deadline)
        digit = None
        timed_out = False
        while True:
            got = await self._next_digit(deadline)
            if self.hungup:
                break
            if got is None:
                timed_out = True
                break
            if got in escape_digits:
                digit = got
                break
        elapsed = self.pbx.loop_time() - start
        heard = min(talk, int(elapsed * SAMPLE_RATE))
        error = self.pbx.media.write_recording(path, fmt, elapsed, voiced_samples=heard)
        return RecordResult(digit, heard, timed_out and not self.hungup, self.hungup, error)

    async def exec_app(self, app: str, data: str) -> int:
        return await self.pbx.run_app(self, app, self.eval_expression(data), from_agi=True)

    def set_music(self, on: bool, cls: str = "default") -> None:
        if self.destroyed or (on and self.hungup):
            return
        if on and self.moh_class is None:
            self.moh_class = cls or "default"
            self._emit("MusicOnHoldStart", [("Class", self.moh_class)])
        elif not on and self.moh_class is not None:
            self.moh_class = None
            self._emit("MusicOnHoldStop")

    async def sleep(self, seconds: float) -> bool:
        """Wait, returning False early if the channel is hung up."""
        if self.hungup:
            return False
        try:
            await asyncio.wait_for(self.hangup_event.wait(), seconds)
            return False
        except asyncio.TimeoutError:
            return True


def _truthy(text: str) -> bool:
    text = text.strip()
    return bool(text) and text not in ("0",)


def parse_callerid(text: str) -> tuple[str, str]:
    """'"Name" <num>' or 'Name <num>' or 'num' -> (num, name)."""
    text = (text or "").strip()
    m = re.fullmatch(r'\s*"?([^"<]*?)"?\s*<([^>]*)>\s*', text)
    if m:
        return m.group(2).strip(), m.group(1).strip()
    if re.fullmatch(r"[0-9+*#]+", text):
        return text, ""
    return "", text


_VAR_START = "${"


def substitute(text: str, chan: Channel | None, lookup=None) -> str:
    """Asterisk ``${VAR}``, ``${VAR:off:len}``, ``${FUNC(args)}`` and ``$[expr]`` substitution."""
    if "$" not in text:
        return text
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        if text.startswith("${", i) or text.startswith("$[", i):
            open_c, close_c = ("{", "}") if text[i + 1] == "{" else ("[", "]")
            depth = 0
            j = i + 1
            while j < n:
                if text[j] == open_c:
                    depth += 1
                elif text[j] == close_c:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j >= n:
                out.append(text[i:])
                break
            inner = substitute(text[i + 2:j], chan, lookup)
            if open_c == "{":
                out.append(_lookup(inner, chan, lookup))
            else:
                out.append(evaluate_expr(inner))
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _lookup(inner: str, chan: Channel | None, lookup) -> str:
    offset = length = None
    m = re.fullmatch(r"([^:()]+(?:\(.*\))?)((?::-?\d*){1,2})", inner, re.S)
    if m and not inner.endswith(")"):
        inner = m.group(1)
        parts = m.group(2).split(":")[1:]
        offset = int(parts[0]) if parts[0] else 0
        if len(parts) > 1 and parts[1]:
            length = int(parts[1])
    if lookup is not None:
        value = lookup(inner)
    elif chan is not None:
        value = chan.get_variable(inner)
    else:
        value = None
    value = value or ""
    if offset is not None:
        value = value[offset:]
        if length is not None:
            value = value[:length] if length >= 0 else value[:length]
    return value


def evaluate_expr(expr: str) -> str:
    """A small subset of Asterisk's $[...] expressions: arithmetic, comparisons, & and |."""
    expr = expr.strip()
    for op in ("|", "&"):
        depth = 0
        for k in range(len(expr) - 1, -1, -1):
            ch = expr[k]
            if ch == ")":
                depth += 1
            elif ch == "(":
                depth -= 1
            elif ch == op and depth == 0:
                left, right = evaluate_expr(expr[:k]), evaluate_expr(expr[k + 1:])
                if op == "|":
                    return left if _truthy(left) and left != "" else right
                return left if _truthy(left) and _truthy(right) else "0"
    for op in ("!=", ">=", "<=", "=~", "=", ">", "<"):
        idx = _find_top(expr, op)
        if idx >= 0:
            a, b = evaluate_expr(expr[:idx]), evaluate_expr(expr[idx + len(op):])
            a_s, b_s = a.strip().strip('"'), b.strip().strip('"')
            try:
                av, bv = float(a_s), float(b_s)
            except ValueError:
                av, bv = a_s, b_s  # type: ignore[assignment]
            if op == "=~":
                return "1" if re.match(b_s, a_s) else "0"
            res = {"!=": av != bv, ">=": av >= bv, "<=": av <= bv, "=": av == bv,
                   ">": av > bv, "<": av < bv}[op]
            return "1" if res else "0"
    for ops in (("+", "-"), ("*", "/", "%")):
        depth = 0
        for k in range(len(expr) - 1, 0, -1):
            ch = expr[k]
            if ch == ")":
                depth += 1
            elif ch == "(":
                depth -= 1
            elif ch in ops and depth == 0 and expr[k - 1] not in "+-*/%":
                try:
                    a = float(evaluate_expr(expr[:k]))
                    b = float(evaluate_expr(expr[k + 1:]))
                except ValueError:
                    break
                val = {"+": a + b, "-": a - b, "*": a * b,
                       "/": (a // b if b else 0), "%": (a % b if b else 0)}[ch]
                return str(int(val)) if val == int(val) else str(val)
    if expr.startswith("(") and expr.endswith(")"):
        return evaluate_expr(expr[1:-1])
    if expr.startswith("!"):
        return "0" if _truthy(evaluate_expr(expr[1:])) else "1"
    return expr.strip('"')


def _find_top(expr: str, op: str) -> int:
    depth = 0
    k = 0
    while k < len(expr):
        ch = expr[k]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and expr.startswith(op, k):
            if op in ("=", ">", "<") and (k > 0 and expr[k - 1] in "!<>=" or expr[k + 1:k + 2] in ("=", "~")):
                k += 1
                continue
            return k
        k += 1
    return -1
