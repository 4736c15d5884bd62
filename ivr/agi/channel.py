"""AgiChannel: the typed, async command API of one FastAGI session.

Commands are strictly sequential (one in flight). Reading is done inline by the command that waits for
its reply, so a session is exactly one task; an unsolicited ``HANGUP`` line read on the way is recorded
and the reply is still delivered to the command that owns it.

Hang-up handling, as Asterisk 22 behaves (agi_raw2.log):
  * ``HANGUP`` may arrive before or after the reply to the command in flight;
  * after it, channel (media) commands answer ``511``, while GET/SET VARIABLE, VERBOSE, NOOP and EXEC still work;
  * a media command returning ``-1`` is ambiguous (missing sound file or hung up): ``CHANNEL STATUS`` tells.
Media commands raise :class:`AgiHangup` once the call is gone; a dropped socket raises :class:`AgiConnectionLost`.

``interrupt()`` cuts short the WAIT FOR DIGIT or STREAM FILE in flight (the ACD's offer for a waiting caller): Asterisk
watches the FastAGI socket while it waits or plays (``ast_waitfordigit_full``/``ast_waitstream_full`` with the AGI's
ctrl fd), so bytes from the server end the command at once. WAIT FOR DIGIT then answers ``200 result=1``; an
interrupted STREAM FILE answers nothing ("there is a new command"). The bytes sent are a NOOP; its reply comes
before the next command's and is read once that command is sent.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Awaitable, Callable
from urllib.parse import parse_qsl, urlsplit

from .connection import MAX_LINE, AgiConnection
from .errors import (
    AgiCommandError,
    AgiConnectionLost,
    AgiError,
    AgiHangup,
    AgiProtocolError,
    AgiUnknownCommand,
    AgiUsageError,
)
from .limits import AgiLimits
from .protocol import HANGUP, AgiReply, Quoted, digit_from_code, format_command

log = logging.getLogger(__name__)
__all__ = ["MAX_LINE", "AgiChannel", "AgiHandler", "AgiRequest"]

# commands that bytes from the server cut short: does the command still answer after that? (res_agi.c)
INTERRUPTIBLE = {"WAIT FOR DIGIT": True, "STREAM FILE": False}


@dataclass(frozen=True)
class AgiRequest:
    """What Asterisk asked for: the routed path, query, arguments and the whole agi_ header."""

    header: dict[str, str]
    path: str                      # "hotline" for agi://host:4573/hotline?x=1
    query: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()     # agi_arg_1, agi_arg_2, …

    @classmethod
    def from_header(cls, header: dict[str, str]) -> "AgiRequest":
        path, query = _route_of(header.get("agi_request", "") or header.get("agi_network_script", ""))
        args = []
        i = 1
        while f"agi_arg_{i}" in header:
            args.append(header[f"agi_arg_{i}"])
            i += 1
        return cls(header=header, path=path, query=query, args=tuple(args))

    def get(self, name: str, default: str = "") -> str:
        return self.header.get(f"agi_{name}", default)

    @property
    def caller(self) -> str:
        value = self.get("callerid")
        return "" if value in ("unknown", "<unknown>") else value

    @property
    def caller_name(self) -> str:
        value = self.get("calleridname")
        return "" if value in ("unknown", "<unknown>") else value

    @property
    def dnid(self) -> str:
        value = self.get("dnid")
        return "" if value == "unknown" else value

    @property
    def channel(self) -> str:
        return self.get("channel")

    @property
    def uniqueid(self) -> str:
        return self.get("uniqueid")

    @property
    def language(self) -> str:
        return self.get("language")


_digit_from_code = digit_from_code
_ROUTES: dict[str, tuple[str, dict[str, str]]] = {}      # agi_request -> (path, query): the same few repeat
_ROUTES_MAX = 256


def _route_of(request: str) -> tuple[str, dict[str, str]]:
    hit = _ROUTES.get(request)
    if hit is None:
        parts = urlsplit(request if "://" in request else "agi://x/" + request)
        hit = (parts.path.strip("/"), dict(parse_qsl(parts.query, keep_blank_values=True)))
        if len(_ROUTES) >= _ROUTES_MAX:
            _ROUTES.clear()
        _ROUTES[request] = hit
    return hit[0], dict(hit[1])


class AgiChannel:
    """One call's FastAGI session, on the :class:`AgiConnection` the server accepted."""

    def __init__(self, conn: AgiConnection, request: AgiRequest, limits: AgiLimits | None = None,
                 on_command: Callable[[str, AgiReply], None] | None = None) -> None:
        self._conn = conn
        self.limits = limits or AgiLimits()
        self.request = request
        self.hungup = False          # the caller is gone (HANGUP line or 511 seen)
        self.missing_sounds: list[str] = []
        self._busy = False
        self._on_command = on_command
        self._in_flight: str | None = None     # the verb awaiting its reply
        self._interrupts = 0                   # NOOPs sent to interrupt the command in flight
        self._owed = 0                         # NOOP replies still to read before the next command's

    @property
    def closed(self) -> bool:
        """The socket is gone."""
        return self._conn.closed

    # ---- raw command -----------------------------------------------------------------------

    async def command(self, verb: str, *args: object, timeout: float | None = None) -> AgiReply:
        """Send one command and return its reply (any code). Raises AgiConnectionLost if the socket goes,
        AgiTimeout (a lost connection) if no reply comes within ``timeout`` (default: the limits' rule)."""
        line = format_command(verb, *args)
        if self._busy:
            raise AgiProtocolError(f"{verb} sent while another command waits for its reply")
        self._busy = True
        self._in_flight, self._interrupts = verb, 0
        conn = self._conn
        try:
            drain = conn.send(line)
            if drain is not None:
                await drain
            wait = self.limits.timeout_for(verb, args) if timeout is None else timeout
            while True:                 # inline: one coroutine frame per command on the hot path
                try:
                    item = await conn.next_item(wait, "reply", verb)
                except AgiConnectionLost:
                    self.hungup = True
                    conn.abort()
                    raise
                except AgiError:
                    conn.abort()
                    raise
                if item is HANGUP:
                    if not self.hungup:
                        log.info("%s: caller hung up", self.request.channel)
                    self.hungup = True
                    continue
                if isinstance(item, AgiReply):
                    # The replies to interrupting NOOPs come first. They are read only after this command is
                    # sent: a NOOP that reached Asterisk together with the interrupted command sits in res_agi's
                    # stdio buffer, and Asterisk only gets to it once more bytes make the socket readable.
                    if self._owed:
                        self._owed -= 1
                        if self._on_command:
                            self._on_command("NOOP", item)
                        continue
                    break
        finally:
            self._busy = False
            self._in_flight = None
        if self._interrupts:
            # an interrupted STREAM FILE gave no reply of its own: the first NOOP's (no endpos) stood in for it
            stood_in = not INTERRUPTIBLE.get(verb, True) and item.endpos is None
            self._owed += self._interrupts - stood_in
        if self._on_command:
            self._on_command(verb, item)
        return item

    def interrupt(self) -> bool:
        """End the WAIT FOR DIGIT or STREAM FILE in flight now (see the module doc). False when no such command
        is waiting for its reply."""
        if self.closed or self._in_flight not in INTERRUPTIBLE:
            return False
        try:
            self._conn.send(b"NOOP\n")
        except (AgiConnectionLost, ConnectionError, OSError, RuntimeError):
            return False
        self._interrupts += 1
        return True

    async def checked_command(self, verb: str, *args: object) -> AgiReply:
        """Send a command the typed API has no method for (DATABASE PUT, CONTROL STREAM FILE, GOSUB…) and
        check the reply: 510 → AgiUnknownCommand, 520 → AgiUsageError (usage block in ``.usage``),
        511 → AgiHangup. The session stays usable after a 510 or 520."""
        reply = await self.command(verb, *args)
        self._check(verb, reply)
        if reply.code == 511:
            self.hungup = True
            raise AgiHangup(f"{verb}: channel is dead (511)")
        return reply

    async def _channel_command(self, verb: str, *args: object) -> AgiReply:
        """A command that needs a live channel: 511 / known hang-up → AgiHangup; 510/520 → typed errors."""
        if self.hungup:
            raise AgiHangup(f"caller already hung up (not sending {verb})")
        reply = await self.command(verb, *args)
        self._check(verb, reply)
        if reply.code == 511:
            self.hungup = True
            raise AgiHangup(f"{verb}: channel is dead (511)")
        if reply.result_int == -1 and self.hungup:
            raise AgiHangup(f"{verb}: caller hung up")
        return reply

    def _check(self, verb: str, reply: AgiReply) -> None:
        if reply.code == 510:
            raise AgiUnknownCommand(510, verb, reply.message or "Invalid or unknown command")
        if reply.code == 520:
            raise AgiUsageError(520, verb, reply.message or "Invalid command syntax", reply.usage)
        if reply.code not in (200, 511):
            raise AgiProtocolError(f"unexpected reply code {reply.code} to {verb}: {reply.message!r}")

    async def _still_there(self) -> bool:
        """After an ambiguous -1: is the channel alive? (CHANNEL STATUS answers 511 on a dead one.)"""
        if self.hungup:
            return False
        reply = await self.command("CHANNEL STATUS")
        if reply.code == 511 or self.hungup:
            self.hungup = True
            return False
        return True

    async def _media_result(self, verb: str, reply: AgiReply, sound: str | None) -> None:
        """-1 on a media command: hang-up (raise) or a missing sound file (recorded, carry on)."""
        if reply.result_int == -1:
            if not await self._still_there():
                raise AgiHangup(f"{verb}: caller hung up")
            if sound is not None:
                log.warning("%s: sound %r is missing", self.request.channel, sound)
                self.missing_sounds.append(sound)

    # ---- typed API ----------------------------------------------------------------------------

    async def answer(self) -> None:
        reply = await self._channel_command("ANSWER")
        if reply.result_int == -1:
            raise AgiHangup("ANSWER failed: caller hung up")

    async def stream_file(self, name: str, escape: str = "", offset: int | None = None) -> tuple[str | None, int]:
        """Play a sound; returns (digit pressed or None, endpos in samples)."""
        args: list[object] = [name, Quoted(escape)]
        if offset:
            args.append(offset)
        reply = await self._channel_command("STREAM FILE", *args)
        await self._media_result("STREAM FILE", reply, name)
        code = reply.result_int or 0
        return _digit_from_code(code), reply.endpos or 0

    async def get_data(self, name: str, timeout_ms: int = 5000, max_digits: int = 1) -> tuple[str, bool]:
        """Play ``name`` and collect up to ``max_digits`` (``#`` ends). Returns (digits, timed_out)."""
        reply = await self._channel_command("GET DATA", name, int(timeout_ms), int(max_digits))
        if reply.result == "-1":
            await self._media_result("GET DATA", reply, name)
            # a missing prompt: Asterisk gave up without collecting; treat like no input
            return "", True
        timed_out = reply.data == "timeout"
        return reply.result, timed_out

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        reply = await self._channel_command("WAIT FOR DIGIT", int(timeout_ms))
        await self._media_result("WAIT FOR DIGIT", reply, None)
        return _digit_from_code(reply.result_int or 0)

    async def _say(self, verb: str, *args: object) -> str | None:
        reply = await self._channel_command(verb, *args)
        await self._media_result(verb, reply, None)
        return _digit_from_code(reply.result_int or 0)

    async def say_number(self, number: int, escape: str = "") -> str | None:
        return await self._say("SAY NUMBER", int(number), Quoted(escape))

    async def say_digits(self, digits: str, escape: str = "") -> str | None:
        return await self._say("SAY DIGITS", digits, Quoted(escape))

    async def say_alpha(self, text: str, escape: str = "") -> str | None:
        return await self._say("SAY ALPHA", text, Quoted(escape))

    async def say_date(self, epoch: int, escape: str = "") -> str | None:
        return await self._say("SAY DATE", int(epoch), Quoted(escape))

    async def say_time(self, epoch: int, escape: str = "") -> str | None:
        return await self._say("SAY TIME", int(epoch), Quoted(escape))

    async def get_variable(self, name: str) -> str | None:
        """Works after a hang-up too (dead AGI). None when the variable is not set."""
        reply = await self.command("GET VARIABLE", name)
        self._check("GET VARIABLE", reply)
        if reply.code != 200 or reply.result != "1":
            return None
        return reply.data or ""

    async def get_full_variable(self, expression: str) -> str | None:
        reply = await self.command("GET FULL VARIABLE", expression)
        self._check("GET FULL VARIABLE", reply)
        if reply.code != 200 or reply.result != "1":
            return None
        return reply.data or ""

    async def set_variable(self, name: str, value: object) -> None:
        reply = await self.command("SET VARIABLE", name, str(value))
        self._check("SET VARIABLE", reply)

    async def channel_status(self) -> int:
        reply = await self._channel_command("CHANNEL STATUS")
        return reply.result_int if reply.result_int is not None else -1

    async def record_file(self, path: str, fmt: str = "wav", escape: str = "#", timeout_ms: int = 120000,
                          beep: bool = False, silence_s: int | None = None) -> tuple[str | None, int, str]:
        """Record until a key in ``escape``, ``timeout_ms`` or ``silence_s`` of silence.

        Returns (digit, endpos, how) with how one of dtmf/timeout/hangup (timeout includes the silence cut-off). A hang-up during the
        recording keeps the file (the message is still left) and is reported as how="hangup", not raised.
        """
        args: list[object] = [path, fmt, Quoted(escape), int(timeout_ms)]
        if beep:
            args.append("BEEP")
        if silence_s:
            args.append(f"s={int(silence_s)}")
        reply = await self._channel_command("RECORD FILE", *args)
        code = reply.result_int or 0
        endpos = reply.endpos or 0
        if code == -1 or reply.data == "hangup":
            self.hungup = True
            return None, endpos, "hangup"
        if reply.data == "dtmf" or code > 0:
            return _digit_from_code(code), endpos, "dtmf"
        if reply.data in (None, "timeout"):  # Asterisk reports a silence cut-off as "(timeout)" too
            return None, endpos, "timeout"
        raise AgiCommandError(200, "RECORD FILE", f"recording failed ({reply.data})")

    async def exec(self, app: str, args: str = "") -> int:
        """EXEC an application; returns its result (-2 = unknown application). Dial returns -1 when the
        caller hangs up or the far end ends the call, so the result alone does not mean 'hang-up'."""
        reply = await self.command("EXEC", app, args) if args else await self.command("EXEC", app)
        self._check("EXEC", reply)
        if reply.code == 511:
            self.hungup = True
            raise AgiHangup(f"EXEC {app}: channel is dead (511)")
        return reply.result_int if reply.result_int is not None else 0

    async def set_music(self, on: bool, cls: str = "default") -> None:
        if on:
            await self._channel_command("SET MUSIC", "ON", cls)
        else:
            await self._channel_command("SET MUSIC", "OFF")

    async def set_context(self, context: str) -> None:
        await self._channel_command("SET CONTEXT", context)

    async def set_extension(self, extension: str) -> None:
        await self._channel_command("SET EXTENSION", extension)

    async def set_priority(self, priority: int | str) -> None:
        await self._channel_command("SET PRIORITY", priority)

    async def verbose(self, message: str, level: int = 1) -> None:
        reply = await self.command("VERBOSE", message, int(level))
        self._check("VERBOSE", reply)

    async def noop(self, message: str = "") -> None:
        reply = await self.command("NOOP", message) if message else await self.command("NOOP")
        self._check("NOOP", reply)

    async def hangup(self) -> None:
        """Hang the caller up. Idempotent; a 511 (already gone) is not an error here."""
        if self.hungup or self._conn.closed:
            self.hungup = True
            return
        reply = await self.command("HANGUP")
        self._check("HANGUP", reply)
        self.hungup = True

    async def close(self) -> None:
        """Close the socket (Asterisk then ends the AGI step and, if the caller is gone, the channel)."""
        self._conn.close()


AgiHandler = Callable[[AgiChannel], Awaitable[None]]
