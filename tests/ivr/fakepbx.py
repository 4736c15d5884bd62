"""Scripted FastAGI peers for tests: they connect to the IVR's server over TCP like Asterisk does.

- ``replay(port, capture)``: plays one captured session (agi/*.log) byte for byte and checks that the
  server sends exactly the captured commands.
- ``ScriptedCall``: an Asterisk-like channel driven by a caller script (keys, silence, hang-up, recordings,
  Dial outcomes), answering every command with the reply formats of the captures. Time is logical: a
  prompt "plays" instantly, a silence is a timeout. Used until pbxsim's Simulator can place calls.

Caller script tokens (consumed at input points: STREAM FILE with escape digits, WAIT FOR DIGIT, GET DATA,
RECORD FILE, Dial):
  "1", "#", "123#"  keys (a string of keys is split into single presses)
  "-"               silence until the timeout
  "."               listen to this interruptible prompt to its end (then the next token applies)
  "hangup"          the caller hangs up (reply -1, then the unsolicited HANGUP ~like Asterisk)
  "hangup-early"    the caller hangs up; the HANGUP line arrives before the reply
  "hangup-play"     hangs up during the next prompt, even one without escape digits
  "drop"            the PBX side drops the TCP connection without replying
  "rec:5" / "rec:5#" / "rec:5!"  a recording of 5 s ended by silence/timeout, by '#', or by hanging up
  "dial:ANSWER:PJSIP/1001" / "dial:NOANSWER" / "dial:BUSY" / "dial:CANCEL"  the outcome of the next Dial
When the script runs out, the caller hangs up at the next input point.
"""
from __future__ import annotations

import ast
import asyncio
import re
import shlex
from dataclasses import dataclass, field

from tests.captures import CAPTURES as _SHARED
CAPTURES = _SHARED / "agi"

BASE_HEADER = [
    ("agi_network", "yes"), ("agi_network_script", "hotline"), ("agi_request", "agi://127.0.0.1:4573/hotline"),
    ("agi_channel", "PJSIP/caller-00000001"), ("agi_language", "en"), ("agi_type", "PJSIP"),
    ("agi_uniqueid", "1795435282.1"), ("agi_version", "22.10.1"), ("agi_callerid", "13800138000"),
    ("agi_calleridname", "Test Caller"), ("agi_callingpres", "0"), ("agi_callingani2", "0"),
    ("agi_callington", "0"), ("agi_callingtns", "0"), ("agi_dnid", "4008001234"), ("agi_rdnis", "unknown"),
    ("agi_context", "hotline-inbound"), ("agi_extension", "s"), ("agi_priority", "2"), ("agi_enhanced", "0.0"),
    ("agi_accountcode", ""), ("agi_threadid", "140040861296320"),
]


def header_bytes(path: str = "hotline", caller: str = "13800138000", **overrides: str) -> bytes:
    values = dict(BASE_HEADER)
    values["agi_network_script"] = path
    values["agi_request"] = f"agi://127.0.0.1:4573/{path}"
    values["agi_callerid"] = caller
    for k, v in overrides.items():
        values[f"agi_{k}"] = v
    return b"".join(f"{k}: {v}\n".encode() for k, v in values.items()) + b"\n"


# ---- captured sessions ---------------------------------------------------------------------------

@dataclass
class CapturedSession:
    name: str
    header: list[bytes]                    # raw header lines incl. the blank one ([] = summarised in the log)
    steps: list[tuple[str, bytes]]         # ("send", bytes from Asterisk) | ("expect", bytes from the server)


_LINE = re.compile(r"^\s*[\d.]+ (<<<|>>>) (b'.*'|b\".*\")\s*$")


def load_captures(filename: str) -> list[CapturedSession]:
    sessions: list[CapturedSession] = []
    current: CapturedSession | None = None
    in_header = False
    for line in (CAPTURES / filename).read_text().splitlines():
        if "=== connection from" in line:
            current = CapturedSession(f"{filename}#{len(sessions)}", [], [])
            sessions.append(current)
            continue
        if current is None:
            continue
        if "HEADER BLOCK" in line:
            in_header = True
            continue
        m = _LINE.match(line)
        if not m:
            continue
        data = ast.literal_eval(m.group(2))
        if in_header:
            current.header.append(data)
            if data == b"\n":
                in_header = False
            continue
        if data == b"":
            continue  # the log's marker for the server closing
        current.steps.append(("send" if m.group(1) == "<<<" else "expect", data))
    return sessions


async def replay(port: int, session: CapturedSession, header: bytes | None = None) -> list[bytes]:
    """Connect, send the header, then play the capture; returns what the server sent (asserting the order)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(header if header is not None else b"".join(session.header))
    received: list[bytes] = []
    try:
        for kind, data in session.steps:
            if kind == "send":
                writer.write(data)
                await writer.drain()
            else:
                line = await asyncio.wait_for(reader.readline(), 5)
                received.append(line)
                assert line == data, f"{session.name}: server sent {line!r}, capture has {data!r}"
        rest = await asyncio.wait_for(reader.read(), 5)  # the server closes after its last command
        assert rest == b"", f"unexpected extra bytes from the server: {rest!r}"
    finally:
        writer.close()
    return received


# ---- a scripted, Asterisk-like channel --------------------------------------------------------------

MEDIA = {"ANSWER", "STREAM FILE", "WAIT FOR DIGIT", "GET DATA", "RECORD FILE", "SAY NUMBER", "SAY DIGITS",
         "SAY ALPHA", "SAY DATE", "SAY TIME", "CHANNEL STATUS", "SET MUSIC", "HANGUP", "SET CONTEXT",
         "SET EXTENSION", "SET PRIORITY"}
VERBS = MEDIA | {"GET VARIABLE", "GET FULL VARIABLE", "SET VARIABLE", "DATABASE PUT", "DATABASE GET"}


def _tokens(script: list[str]) -> list[str]:
    out: list[str] = []
    for tok in script:
        if re.fullmatch(r"[0-9*#]+", tok):
            out.extend(tok)
        else:
            out.append(tok)
    return out


@dataclass
class ScriptedCall:
    script: list[str]
    path: str = "hotline"
    caller: str = "13800138000"
    header_overrides: dict[str, str] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)          # sound names that do not exist
    variables: dict[str, str] = field(default_factory=dict)
    reply_overrides: dict[str, bytes] = field(default_factory=dict)  # command verb -> raw reply (510/520 tests)
    max_commands: int = 300

    def __post_init__(self) -> None:
        self.tokens = _tokens(self.script)
        self.commands: list[str] = []
        self.played: list[str] = []
        self.dead = False
        self.dropped = False
        self.closed_by_server = False
        self.hangup_sent = False

    # the caller's next action ----------------------------------------------------------------
    def _peek(self) -> str:
        return self.tokens[0] if self.tokens else "hangup"

    def _take(self) -> str:
        return self.tokens.pop(0) if self.tokens else "hangup"

    async def run(self, port: int, timeout: float = 10.0) -> "ScriptedCall":
        await asyncio.wait_for(self._run(port), timeout)
        return self

    async def _run(self, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        self._writer = writer
        writer.write(header_bytes(self.path, self.caller, **self.header_overrides))
        await writer.drain()
        try:
            while True:
                line = await reader.readline()
                if not line:
                    self.closed_by_server = True
                    return
                text = line.decode().rstrip("\n")
                self.commands.append(text)
                if len(self.commands) > self.max_commands:  # a runaway flow: the caller gives up
                    self.dropped = True
                    return
                replies = self._answer(text)
                if self.dropped:
                    writer.close()
                    return
                for r in replies:
                    writer.write(r)
                await writer.drain()
        finally:
            writer.close()

    def _verb(self, text: str) -> tuple[str, list[str]]:
        words = shlex.split(text, posix=True) if text.count('"') % 2 == 0 else text.split()
        if not words:
            return "", []
        for n in (3, 2):
            verb = " ".join(words[:n])
            if verb in VERBS:
                return verb, words[n:]
        return words[0], words[1:]

    def _hang(self, early: bool, reply: bytes) -> list[bytes]:
        self.dead = True
        self.hangup_sent = True
        return [b"HANGUP\n", reply] if early else [reply, b"HANGUP\n"]

    def _answer(self, text: str) -> list[bytes]:
        verb, args = self._verb(text)
        if verb in self.reply_overrides:
            return [self.reply_overrides[verb]]
        if verb in MEDIA and self.dead:
            return [b"511 Command Not Permitted on a dead channel or intercept routine\n"]
        handler = getattr(self, "_cmd_" + verb.replace(" ", "_").lower(), None)
        if handler is None:
            return [b"510 Invalid or unknown command\n"]
        return handler(args)

    def _input_token(self, keys_ok: bool = True) -> str | None:
        tok = self._peek()
        if tok == "drop":
            self.dropped = True
            return "drop"
        return tok

    # commands ----------------------------------------------------------------------------------
    def _cmd_answer(self, args):
        return [b"200 result=0\n"]

    def _cmd_stream_file(self, args):
        name, escape = args[0], (args[1] if len(args) > 1 else "")
        self.played.append(name)
        if name in self.missing:
            return [b"200 result=-1 endpos=0\n"]
        tok = self._input_token()
        if tok == "drop":
            return []
        if tok == "hangup-play" or (escape and tok in ("hangup", "hangup-early")):
            self._take()
            return self._hang(tok == "hangup-early", b"200 result=-1 endpos=4000\n")
        if escape and len(tok) == 1 and tok in escape:  # other keys are pressed after this prompt
            self._take()
            return [f"200 result={ord(tok)} endpos=2400\n".encode()]
        if escape and tok == ".":
            self._take()
        return [b"200 result=0 endpos=16000\n"]

    def _cmd_wait_for_digit(self, args):
        tok = self._input_token()
        if tok == "drop":
            return []
        self._take()
        if tok in ("hangup", "hangup-early", "hangup-play"):
            return self._hang(tok == "hangup-early", b"200 result=-1\n")
        if tok == "-":
            return [b"200 result=0\n"]
        if len(tok) == 1:
            return [f"200 result={ord(tok)}\n".encode()]
        return [b"200 result=0\n"]

    def _cmd_get_data(self, args):
        name = args[0]
        max_digits = int(args[2]) if len(args) > 2 else 1024
        self.played.append(name)
        if name in self.missing:
            return [b"200 result=-1\n"]
        tok = self._input_token()
        if tok == "drop":
            return []
        if tok in ("hangup", "hangup-early", "hangup-play"):
            self._take()
            return self._hang(tok == "hangup-early", b"200 result=-1\n")
        if tok == "-":
            self._take()
            return [b"200 result= (timeout)\n"]
        digits = ""
        while self.tokens and len(self.tokens[0]) == 1 and self.tokens[0] in "0123456789*#":
            key = self._take()
            if key == "#":
                break
            digits += key
            if len(digits) >= max_digits:
                break
        else:
            if len(digits) < max_digits:
                return [f"200 result={digits} (timeout)\n".encode()]
        return [f"200 result={digits}\n".encode()]

    def _cmd_record_file(self, args):
        tok = self._input_token()
        if tok == "drop":
            return []
        self._take()
        self.recorded = args[0]
        m = re.fullmatch(r"rec:(\d+)([#!]?)", tok)
        if not m:
            if tok.startswith("hangup"):
                return self._hang(False, b"200 result=-1 (hangup) endpos=0\n")
            return [b"200 result=0 (timeout) endpos=0\n"]
        samples = int(m.group(1)) * 8000
        if m.group(2) == "#":
            return [f"200 result=35 (dtmf) endpos={samples}\n".encode()]
        if m.group(2) == "!":
            return self._hang(False, f"200 result=-1 (hangup) endpos={samples}\n".encode())
        return [f"200 result=0 (timeout) endpos={samples}\n".encode()]

    def _say(self, args):
        return [b"200 result=0\n"]

    _cmd_say_number = _cmd_say_digits = _cmd_say_alpha = _cmd_say_date = _cmd_say_time = _say

    def _cmd_get_variable(self, args):
        value = self.variables.get(args[0]) if args else None
        if args and args[0] == "CALLERID(num)":
            value = self.caller
        return [b"200 result=0\n"] if value is None else [f"200 result=1 ({value})\n".encode()]

    def _cmd_get_full_variable(self, args):
        text = re.sub(r"\$\{([^}]+)\}", lambda m: self.variables.get(m.group(1), ""), args[0])
        return [f"200 result=1 ({text})\n".encode()]

    def _cmd_set_variable(self, args):
        if len(args) < 2:
            return [b"520-Invalid command syntax.  Proper usage follows:\n",
                    b"Sets a variable to the current channel.\n", b"520 End of proper usage.\n"]
        self.variables[args[0]] = args[1]
        return [b"200 result=1\n"]

    def _cmd_channel_status(self, args):
        return [b"200 result=6\n"]

    def _cmd_set_music(self, args):
        return [b"200 result=0\n"]

    def _cmd_set_context(self, args):
        self.variables["__context"] = args[0]
        return [b"200 result=0\n"]

    def _cmd_set_extension(self, args):
        self.variables["__extension"] = args[0]
        return [b"200 result=0\n"]

    def _cmd_set_priority(self, args):
        self.variables["__priority"] = args[0]
        return [b"200 result=0\n"]

    def _cmd_verbose(self, args):
        return [b"200 result=1\n"]

    def _cmd_noop(self, args):
        return [b"200 result=0\n"]

    def _cmd_hangup(self, args):
        if self.dead:
            return [b"511 Command Not Permitted on a dead channel or intercept routine\n"]
        self.dead = True
        return [b"200 result=1\n", b"HANGUP\n"]

    def _cmd_exec(self, args):
        app = args[0] if args else ""
        if app != "Dial":
            return [b"200 result=0\n"] if app in ("Playback", "Wait", "MixMonitor", "MusicOnHold", "Set") \
                else [b"200 result=-2\n"]
        self.dialed = getattr(self, "dialed", []) + [args[1] if len(args) > 1 else ""]
        tok = self._peek()
        if tok in ("hangup", "hangup-early"):
            self._take()
            self.variables["DIALSTATUS"] = "CANCEL"
            return self._hang(tok == "hangup-early", b"200 result=-1\n")
        if tok.startswith("dial:"):
            self._take()
            parts = tok.split(":")
            self.variables["DIALSTATUS"] = parts[1]
            if parts[1] == "ANSWER" and len(parts) > 2:
                self.variables["DIALEDPEERNAME"] = f"{parts[2]}-00000002"
            return [b"200 result=-1\n" if parts[1] == "ANSWER" else b"200 result=0\n"]
        if tok == "-":
            self._take()
        self.variables["DIALSTATUS"] = "NOANSWER"
        return [b"200 result=0\n"]
