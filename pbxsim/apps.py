"""Dialplan applications of the simulated PBX.

Each application is ``async def app(pbx, chan, args: list[str], raw: str) -> int``
returning 0 to continue, -1 to hang up (as Asterisk). ``run_app`` returns -2
for an unknown application (AGI EXEC answers ``200 result=-2``).
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Awaitable, Callable, Protocol

from .agi import run_fastagi
from .channel import DIGITS, Channel, evaluate_expr, parse_callerid
from .dialplan import split_args

if TYPE_CHECKING:
    from .bridge import Bridge
    from .dialplan import Dialplan
    from .endpoints import EndpointState
    from .media import MediaRecorder
    from .sounds import SoundLibrary


class DialplanHost(Protocol):
    """What the applications use of the PBX running them (pbx.Pbx)."""

    dialplan: Dialplan
    sounds: SoundLibrary
    media: MediaRecorder
    queues: dict[str, dict]
    conferences: dict[str, Bridge[Channel]]
    endpoint_states: dict[str, EndpointState]
    agi_override: tuple[str, int] | None

    def loop_time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    def channels(self) -> list[Channel]: ...

    def emit_event(self, name: str, headers: list[tuple[str, str]], privilege: str = ...) -> None: ...

    def emit_channel_event(self, name: str, chan: Channel, extra=(), privilege: str = ...) -> None: ...

    def emit_newexten(self, chan: Channel) -> None: ...

    def answer(self, chan: Channel) -> None: ...

    def destroy(self, chan: Channel) -> None: ...

    def request_channel(self, tech: str, resource: str, requestor: Channel | None) -> Channel | int: ...

    def ring(self, chan: Channel) -> None: ...

    def start_callee(self, chan: Channel) -> None: ...

    async def wait_answer(self, chans: list[Channel], timeout_s: float | None, watch: Channel | None = None,
                          on_fail: Callable[[Channel], None] | None = None) -> Channel | None: ...

    def new_bridge(self, bridge_type: str = ..., technology: str = ..., *, creator: str = ...,
                   name: str = ...) -> Bridge[Channel]: ...

    def mixmonitor(self, chan: Channel, file: str, options: str = ..., command: str = ...) -> str: ...

    def stop_mixmonitor(self, chan: Channel, mixmonitor_id: str | None = None) -> bool: ...

log = logging.getLogger("pbxsim")

DIAL_RESET_VARS = ("DIALSTATUS", "DIALEDPEERNUMBER", "DIALEDPEERNAME", "ANSWEREDTIME", "ANSWEREDTIME_MS",
                   "DIALEDTIME", "DIALEDTIME_MS", "RINGTIME", "RINGTIME_MS", "PROGRESSTIME", "PROGRESSTIME_MS")
AppFn = Callable[[DialplanHost, Channel, list[str], str], Awaitable[int]]
APPS: dict[str, AppFn] = {}


def app(*names: str):
    def deco(fn: AppFn) -> AppFn:
        for n in names:
            APPS[n.lower()] = fn
        return fn
    return deco


async def run_app(pbx: DialplanHost, chan: Channel, name: str, data: str, *, from_agi: bool = False) -> int:
    fn = APPS.get(name.lower())
    if fn is None:
        return -2
    prev = (chan.app, chan.appdata)
    if from_agi:
        chan.app, chan.appdata = name, data
    try:
        return await fn(pbx, chan, split_args(data) if data else [], data)
    finally:
        if from_agi:
            chan.app, chan.appdata = prev


def parse_options(text: str) -> dict[str, str]:
    """Application options like ``gtm(default)U(sub^a)`` -> {"g": "", "t": "", "m": "default", "U": "sub^a"}."""
    out: dict[str, str] = {}
    i = 0
    while i < len(text):
        letter = text[i]
        i += 1
        arg = ""
        if i < len(text) and text[i] == "(":
            end = text.find(")", i)
            end = len(text) if end < 0 else end
            arg = text[i + 1:end]
            i = end + 1
        out[letter] = arg
    return out


def _float(text: str, default: float | None = None) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return default


# -- simple apps -------------------------------------------------------------------
@app("NoOp", "Verbose", "Log", "Progress", "Ringing", "Playtones", "StopPlaytones", "Set_Language",
     "ResetCDR", "NoCDR", "CELGenUserEvent", "Congestion_Noop")
async def app_noop(pbx, chan, args, raw):
    return 0


@app("Answer")
async def app_answer(pbx, chan, args, raw):
    if chan.hungup:
        return -1
    was_up = chan.state == 6
    pbx.answer(chan)
    if not was_up and chan.local_half == 2 and chan.peer is not None and chan.peer.owner == "request":
        # Asterisk waits up to 500 ms for media when a dialed Local channel answers
        if not await chan.sleep(0.5):
            return -1
    return 0


@app("Hangup")
async def app_hangup(pbx, chan, args, raw):
    cause = int(args[0]) if args and args[0].strip().isdigit() else 16
    chan.request_hangup(cause, event=None)   # the SoftHangupRequest comes when the dialplan ends
    return -1


@app("Busy", "Congestion")
async def app_busy(pbx, chan, args, raw):
    timeout = _float(args[0] if args else "", None) or 10.0
    await chan.sleep(timeout)
    chan.hangup_cause = 17 if chan.app.lower() == "busy" else 34
    return -1


@app("Wait")
async def app_wait(pbx, chan, args, raw):
    seconds = _float(args[0] if args else "0", 0.0) or 0.0
    if chan.hungup:   # EXEC Wait from a dead AGI channel still waits (capture agi_raw2)
        await pbx.sleep(seconds)
        return 0
    ok = await chan.sleep(seconds)
    chan.flush_digits()
    return 0 if ok else -1


@app("Set", "MSet")
async def app_set(pbx, chan, args, raw):
    items = [raw] if chan.app.lower() == "set" or not args else args
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            continue
        chan.set_variable(name.strip(), value)
    return 0


@app("Goto")
async def app_goto(pbx, chan, args, raw):
    return 0 if _goto(pbx, chan, args) else -1


def _goto(pbx, chan: Channel, args: list[str]) -> bool:
    args = [a.strip() for a in args if a is not None]
    if len(args) == 1:
        ctx, ext, prio = chan.context, chan.exten, args[0]
    elif len(args) == 2:
        ctx, ext, prio = chan.context, args[0], args[1]
    elif len(args) >= 3:
        ctx, ext, prio = args[0], args[1], args[2]
    else:
        return False
    if prio.isdigit():
        p = int(prio)
    else:
        p = pbx.dialplan.label_priority(ctx, ext, prio)
        if p is None:
            return False
    chan.context, chan.exten, chan.priority = ctx, ext, p
    chan._jumped = True
    return True


@app("GotoIf")
async def app_gotoif(pbx, chan, args, raw):
    cond, _, rest = raw.partition("?")
    yes, _, no = rest.partition(":")
    target = yes if evaluate_expr(cond).strip() not in ("", "0") else no
    if not target.strip():
        return 0
    return 0 if _goto(pbx, chan, split_args(target)) else -1


@app("ExecIf")
async def app_execif(pbx, chan, args, raw):
    cond, _, rest = raw.partition("?")
    yes, _, no = rest.partition(":")
    target = yes if evaluate_expr(cond).strip() not in ("", "0") else no
    if not target:
        return 0
    name, _, data = target.partition("(")
    return await run_app(pbx, chan, name.strip(), data.rstrip(")"))


@app("UserEvent")
async def app_userevent(pbx, chan, args, raw):
    if not args:
        return 0
    headers = chan.snapshot() + [("UserEvent", args[0])]
    for a in args[1:]:
        k, _, v = a.partition(":")
        headers.append((k.strip(), v.strip()))
    pbx.emit_event("UserEvent", headers, "user,all")
    return 0


@app("SendDTMF")
async def app_senddtmf(pbx, chan, args, raw):
    digits = args[0] if args else ""
    between = (_float(args[1], 250.0) if len(args) > 1 and args[1] else 250.0) / 1000
    duration = (_float(args[2], 100.0) if len(args) > 2 and args[2] else 100.0) / 1000
    await chan.send_dtmf(digits, between, duration)
    return -1 if chan.hungup else 0


# -- media ------------------------------------------------------------------------------
@app("Playback")
async def app_playback(pbx, chan, args, raw):
    files = (args[0] if args else "").split("&")
    options = args[1] if len(args) > 1 else ""
    if chan.hungup:   # EXEC Playback from a dead AGI channel: 0 at once (capture agi_raw2)
        return 0
    if chan.state != 6 and "noanswer" not in options:
        pbx.answer(chan)
    status = "SUCCESS"
    for f in files:
        if not f:
            continue
        samples = pbx.sounds.length(f, chan.language)
        if samples is None:
            status = "FAILED"
            continue
        if not await chan.sleep(samples / 8000):
            return -1
    chan.flush_digits()
    chan.set_variable("PLAYBACKSTATUS", status)
    return 0


@app("Background")
async def app_background(pbx, chan, args, raw):
    files = (args[0] if args else "").split("&")
    if chan.state != 6:
        pbx.answer(chan)
    for f in files:
        samples = pbx.sounds.length(f, chan.language)
        if samples is None:
            continue
        result = await chan._play(samples, DIGITS)
        if result.hungup:
            return -1
        if result.digit is not None:
            return await _collect_exten(pbx, chan, result.digit, 3.0)
    return 0


async def _collect_exten(pbx, chan: Channel, first: str, timeout: float) -> int:
    digits = first
    while not (pbx.dialplan.exists(chan.context, digits) and not _more_possible(pbx, chan.context, digits)):
        d = await chan._next_digit(pbx.loop_time() + timeout)
        if chan.hungup:
            return -1
        if d is None or d == "#":
            break
        digits += d
    target = digits if pbx.dialplan.exists(chan.context, digits) else "i"
    if not pbx.dialplan.exists(chan.context, target):
        return 0
    chan.exten, chan.priority = target, 1
    if target == "i":
        chan.set_variable("INVALID_EXTEN", digits)
    chan._jumped = True
    return 0


def _more_possible(pbx, context: str, digits: str) -> bool:
    ctx = pbx.dialplan.contexts.get(context)
    if ctx is None:
        return False
    return any(name != digits and name.startswith(digits) for name in ctx.extensions)


@app("WaitExten")
async def app_waitexten(pbx, chan, args, raw):
    timeout = _float(args[0] if args else "", None) or 10.0
    d = await chan._next_digit(pbx.loop_time() + timeout)
    if chan.hungup:
        return -1
    if d is None:
        if pbx.dialplan.exists(chan.context, "t"):
            chan.exten, chan.priority = "t", 1
            chan._jumped = True
            return 0
        return -1
    return await _collect_exten(pbx, chan, d, 3.0)


@app("Read")
async def app_read(pbx, chan, args, raw):
    var = args[0] if args else "READ"
    prompt = args[1] if len(args) > 1 else ""
    maxd = int(args[2]) if len(args) > 2 and args[2].isdigit() else 0
    timeout = _float(args[5] if len(args) > 5 else "", None)
    res = await chan.get_data(prompt.split("&")[0], int((timeout or 0) * 1000), maxd)
    chan.set_variable(var, res.digits)
    chan.set_variable("READSTATUS", "HANGUP" if res.hungup else ("TIMEOUT" if res.timed_out and not res.digits else "OK"))
    return -1 if res.hungup else 0


@app("SayDigits", "SayNumber", "SayAlpha")
async def app_say(pbx, chan, args, raw):
    kind = {"saydigits": "digits", "saynumber": "number", "sayalpha": "alpha"}[chan.app.lower()] \
        if chan.app.lower() in ("saydigits", "saynumber", "sayalpha") else "digits"
    res = await chan.say(kind, args[0] if args else "")
    return -1 if res.hungup else 0


@app("MusicOnHold")
async def app_moh(pbx, chan, args, raw):
    cls = (args[0] if args else "") or "default"
    duration = _float(args[1] if len(args) > 1 else "", None)
    if chan.state != 6:
        pbx.answer(chan)
    chan.set_music(True, cls)
    try:
        if duration:
            ok = await chan.sleep(duration)
        else:
            await chan.hangup_event.wait()
            ok = False
    finally:
        chan.set_music(False)
    return 0 if ok else -1


@app("StartMusicOnHold")
async def app_start_moh(pbx, chan, args, raw):
    chan.set_music(True, (args[0] if args else "") or "default")
    return 0


@app("StopMusicOnHold")
async def app_stop_moh(pbx, chan, args, raw):
    chan.set_music(False)
    return 0


@app("MixMonitor")
async def app_mixmonitor(pbx, chan, args, raw):
    if not args or not args[0]:
        return -1
    rid = pbx.mixmonitor(chan, args[0], args[1] if len(args) > 1 else "", args[2] if len(args) > 2 else "")
    opts = args[1] if len(args) > 1 else ""
    m = re.search(r"i\(([^)]+)\)", opts)
    if m:
        chan.set_variable(m.group(1), rid)
    return 0


@app("StopMixMonitor")
async def app_stopmixmonitor(pbx, chan, args, raw):
    pbx.stop_mixmonitor(chan, args[0] if args and args[0] else None)
    return 0


@app("Record")
async def app_record(pbx, chan, args, raw):
    spec = args[0] if args else ""
    base, _, fmt = spec.rpartition(".")
    if not base:
        base, fmt = spec, "wav"
    silence = int(args[1]) if len(args) > 1 and args[1].isdigit() else None
    maxdur = int(args[2]) if len(args) > 2 and args[2].isdigit() else 0
    options = args[3] if len(args) > 3 else ""
    if chan.state != 6:
        pbx.answer(chan)
    res = await chan.record_file(base, fmt, "#", maxdur * 1000 if maxdur else -1,
                                 beep="q" not in options, silence_s=silence or None)
    chan.set_variable("RECORDED_FILE", base)
    status = "ERROR" if res.error else ("HANGUP" if res.hungup else ("DTMF" if res.digit else "TIMEOUT"))
    chan.set_variable("RECORD_STATUS", status)
    return -1 if res.hungup and "k" not in options else 0


@app("VoiceMail")
async def app_voicemail(pbx, chan, args, raw):
    box = (args[0] if args else "default").split("&")[0]
    mailbox, _, vmctx = box.partition("@")
    if chan.state != 6:
        pbx.answer(chan)
    res = await chan.stream_file("vm-intro", "#")
    if res.hungup:
        chan.set_variable("VMSTATUS", "USEREXIT")
        return -1
    folder = pbx.media.resolve(f"voicemail/{vmctx or 'default'}/{mailbox.lstrip('usb')}")
    index = len(list(folder.glob("msg*.wav"))) if folder.exists() else 0
    rec = await chan.record_file(str(folder / f"msg{index:04d}"), "wav", "#", 300_000, beep=True, silence_s=3)
    pbx.emit_event("MessageWaiting", [("Mailbox", f"{mailbox}@{vmctx or 'default'}"), ("Waiting", "1"),
                                      ("New", str(index + 1)), ("Old", "0")])
    chan.set_variable("VMSTATUS", "SUCCESS")
    return -1 if rec.hungup else 0


# -- AGI ------------------------------------------------------------------------------------
@app("AGI", "EAGI", "DeadAGI")
async def app_agi(pbx, chan, args, raw):
    if not args or not args[0]:
        chan.set_variable("AGISTATUS", "FAILURE")
        return -1
    url = args[0]
    if pbx.agi_override and url.startswith("agi://"):
        host, port = pbx.agi_override
        rest = url[len("agi://"):]
        path = rest.split("/", 1)[1] if "/" in rest else ""
        url = f"agi://{host}:{port}/{path}"
    chan._in_agi = True
    try:
        status = await run_fastagi(pbx, chan, url, list(args[1:]))
    except (OSError, ConnectionError):
        status = "FAILURE"
    except Exception:   # a bug in the AGI client must not take the PBX down
        log.exception("AGI session on %s failed", chan.name)
        status = "FAILURE"
    finally:
        chan._in_agi = False
    chan.set_variable("AGISTATUS", status)
    # res_agi: only HANGUP ends the dialplan; SUCCESS and FAILURE continue
    return -1 if status == "HANGUP" else 0


# -- Dial -------------------------------------------------------------------------------------
@app("Dial")
async def app_dial(pbx, chan, args, raw):
    if not args or not args[0]:
        return -1
    targets = [t for t in args[0].split("&") if t]
    timeout = _float(args[1], None) if len(args) > 1 and args[1] else None
    options = args[2] if len(args) > 2 else ""
    return await dial(pbx, chan, targets, timeout, options)


async def dial(pbx: DialplanHost, chan: Channel, targets: list[str], timeout: float | None, options: str = "",
               *, dial_vars: bool = True) -> int:
    if dial_vars:
        for v in DIAL_RESET_VARS:
            chan.set_variable(v, "")
    start = pbx.loop_time()
    outs: list[tuple[Channel, str]] = []
    failures: list[int] = []
    for target in targets:
        tech, _, resource = target.partition("/")
        got = pbx.request_channel(tech, resource, chan)
        if isinstance(got, int):
            failures.append(got)
            continue
        dial_string = resource
        out = got
        peer_number = resource.split("/", 1)[0]
        out.set_variable("DIALEDPEERNUMBER", peer_number)
        out.exten = chan.exten
        out.caller_num, out.caller_name = chan.exten, chan.caller_name
        out.connected_num, out.connected_name = chan.caller_num, chan.caller_name
        out.app, out.appdata = "AppDial", "(Outgoing Line)"
        pbx.emit_newexten(out)
        out.set_caller_id(None, None)
        out.set_connected_line(None, None)
        if out.tech == "Local":
            o2 = out.peer
            o2.set_variable("DIALEDPEERNUMBER", peer_number)
            o2.caller_num, o2.caller_name = chan.caller_num, chan.caller_name
            o2.connected_num, o2.connected_name = chan.exten, chan.caller_name
            o2.set_caller_id(None, None)
            o2.set_connected_line(None, None)
        pbx.ring(out)
        pbx.emit_event("DialBegin", chan.snapshot() + out.snapshot("Dest") + [("DialString", dial_string)])
        pbx.start_callee(out)
        outs.append((out, peer_number))
    if not outs:
        status = "CHANUNAVAIL" if not failures or any(c in (3, 20, 66, 1, 27) for c in failures) else "CONGESTION"
        _set_end_vars(chan, start, None, status)
        return 0
    statuses: dict[str, str] = {}

    def leg_failed(out: Channel) -> None:
        if chan.hungup:
            return
        st = {17: "BUSY", 21: "BUSY", 34: "CONGESTION", 19: "NOANSWER"}.get(out.hangup_cause, "CHANUNAVAIL")
        statuses[out.name] = st
        pbx.emit_event("DialEnd", chan.snapshot() + out.snapshot("Dest") + [("DialStatus", st)])
        if not out.destroyed:
            pbx.destroy(out)

    moh = "m" in parse_options(options)
    if moh:   # m(class): the caller hears music instead of ringing
        chan.set_music(True, parse_options(options)["m"] or "default")
    try:
        answered = await pbx.wait_answer([o for o, _ in outs], timeout, watch=chan, on_fail=leg_failed)
    finally:
        if moh:
            chan.set_music(False)
    try:
        if answered is None or chan.hungup:
            for out, _ in outs:
                if out.name in statuses:
                    continue
                st = "CANCEL" if chan.hungup else "NOANSWER"
                statuses[out.name] = st
                pbx.emit_event("DialEnd", chan.snapshot() + out.snapshot("Dest") + [("DialStatus", st)])
                if not out.destroyed:
                    if not out.hungup:
                        out.request_hangup(16 if st != "NOANSWER" else 19, event=None)
                    pbx.destroy(out)
            values = list(statuses.values())
            if chan.hungup:
                status = "CANCEL"
            else:
                status = "NOANSWER" if "NOANSWER" in values else (values[0] if values else "CHANUNAVAIL")
            _set_end_vars(chan, start, None, status)
            return -1 if chan.hungup else 0
        # someone answered
        peer_number = dict((o.name, n) for o, n in outs)[answered.name]
        answer_time = pbx.loop_time()
        for out, _ in outs:
            if out is not answered and out.name not in statuses:
                pbx.emit_event("DialEnd", chan.snapshot() + out.snapshot("Dest") + [("DialStatus", "CANCEL")])
                if not out.destroyed:
                    out.request_hangup(26, event=None)
                    pbx.destroy(out)
        if answered.tech == "PJSIP":   # the 200 OK carries the agent's identity (connected line update)
            ep = pbx.endpoint_states.get(answered.endpoint)
            num, name = parse_callerid(ep.config.callerid) if ep and ep.config.callerid else (answered.endpoint, "")
            chan.set_connected_line(num or answered.endpoint, name)
        chan.set_variable("DIALSTATUS", "ANSWER")
        chan.set_variable("DIALEDPEERNAME", answered.name)
        chan.set_variable("DIALEDPEERNUMBER", peer_number)
        answered.exten = ""
        pbx.emit_event("DialEnd", chan.snapshot() + answered.snapshot("Dest") + [("DialStatus", "ANSWER")])
        if chan.state != 6:
            pbx.answer(chan)
        result = await bridge_call(pbx, chan, answered, options)
        chan.set_variable("ANSWEREDTIME", str(int(pbx.loop_time() - answer_time)))
        chan.set_variable("ANSWEREDTIME_MS", str(int((pbx.loop_time() - answer_time) * 1000)))
        _set_end_vars(chan, start, answered, "ANSWER")
        return result
    finally:
        for out, _ in outs:
            if not out.destroyed and out.owner == "request" and not out.runs_dialplan:
                if not out.hungup:
                    out.request_hangup(16, event=None)
                pbx.destroy(out)


def _set_end_vars(chan: Channel, start: float, answered: Channel | None, status: str) -> None:
    elapsed = chan.pbx.loop_time() - start
    chan.set_variable("DIALEDTIME", str(int(elapsed)))
    chan.set_variable("DIALEDTIME_MS", str(int(elapsed * 1000)))
    chan.set_variable("DIALSTATUS", status)


async def bridge_call(pbx: DialplanHost, chan: Channel, callee: Channel, options: str = "") -> int:
    """Bridge caller and callee until one hangs up (or leaves); returns Dial's result."""
    bridge = pbx.new_bridge()
    callee.app, callee.appdata = "AppDial", "(Outgoing Line)"
    pbx.emit_newexten(callee)
    bridge.enter(callee)
    bridge.enter(chan)
    bridge.set_peers()
    if callee.participant is not None and hasattr(callee.participant, "on_bridged"):
        callee.participant.on_bridged(callee, chan)
    if chan.participant is not None and hasattr(chan.participant, "on_bridged"):
        chan.participant.on_bridged(chan, callee)
    try:
        await bridge.wait_broken()
    finally:
        if not bridge.destroyed:
            bridge.clear_peers()
            others = [c for c in bridge.channels if c is not chan]
            for other in sorted(others, key=lambda c: not c.hungup):
                bridge.leave(other)
                if not other.runs_dialplan and not other.destroyed and other.owner in ("request", "bridge"):
                    if not other.hungup:
                        other.request_hangup(16, event=None)
                    pbx.destroy(other)
            if chan in bridge.channels:
                bridge.leave(chan)
            bridge.destroy()
        if not callee.runs_dialplan and not callee.destroyed and callee.owner in ("request", "bridge"):
            if not callee.hungup:
                callee.request_hangup(16, event=None)
            pbx.destroy(callee)
    if chan.hungup:
        return -1
    # the callee hung up or was redirected away: with g the caller goes on in the dialplan
    return 0 if "g" in parse_options(options) else -1


# -- Queue (minimal ringall) ------------------------------------------------------------------------
@app("Queue")
async def app_queue(pbx, chan, args, raw):
    name = args[0] if args else ""
    options = args[1] if len(args) > 1 else ""
    timeout = _float(args[4], None) if len(args) > 4 and args[4] else None
    queue = pbx.queues.get(name)
    if queue is None:
        chan.set_variable("QUEUESTATUS", "UNKNOWN")
        return 0
    members = queue.get("members", [])
    ring_timeout = float(queue.get("timeout", 15) or 15)
    if chan.state != 6:
        pbx.answer(chan)
    pbx.emit_channel_event("QueueCallerJoin", chan, [("Queue", name), ("Position", "1"), ("Count", "1")], "agent,all")
    deadline = None if timeout is None else pbx.loop_time() + timeout
    chan.set_music(True, queue.get("musicclass", "default"))
    status = "TIMEOUT"
    try:
        while not chan.hungup:
            remaining = None if deadline is None else deadline - pbx.loop_time()
            if remaining is not None and remaining <= 0:
                break
            if not members:
                status = "JOINEMPTY"
                break
            attempt = ring_timeout if remaining is None else min(ring_timeout, remaining)
            outs = []
            for m in members:
                tech, _, res = m.partition("/")
                got = pbx.request_channel(tech, res, chan)
                if isinstance(got, Channel):
                    got.set_caller_id(chan.caller_num, chan.caller_name, emit=False)
                    pbx.ring(got)
                    pbx.emit_event("DialBegin", chan.snapshot() + got.snapshot("Dest") + [("DialString", res)])
                    pbx.start_callee(got)
                    outs.append(got)
            if not outs:
                await chan.sleep(min(attempt, 5.0))
                continue
            answered = await pbx.wait_answer(outs, attempt, watch=chan)
            for o in outs:
                if o is not answered:
                    pbx.emit_event("DialEnd", chan.snapshot() + o.snapshot("Dest") + [("DialStatus", "CANCEL" if answered or chan.hungup else "NOANSWER")])
                    if not o.destroyed:
                        o.request_hangup(26 if answered else 16, event=None)
                        pbx.destroy(o)
            if answered is not None:
                pbx.emit_event("DialEnd", chan.snapshot() + answered.snapshot("Dest") + [("DialStatus", "ANSWER")])
                chan.set_music(False)
                pbx.emit_channel_event("QueueCallerLeave", chan, [("Queue", name), ("Position", "1"), ("Count", "0")], "agent,all")
                result = await bridge_call(pbx, chan, answered, options)
                return result
            if chan.hungup:
                break
    finally:
        chan.set_music(False)
    if chan.hungup:
        status = "ABANDON" if status == "TIMEOUT" else status
    pbx.emit_channel_event("QueueCallerLeave", chan, [("Queue", name), ("Position", "1"), ("Count", "0")], "agent,all")
    chan.set_variable("QUEUESTATUS", status)
    return -1 if chan.hungup else 0


# -- ConfBridge --------------------------------------------------------------------------------------
@app("ConfBridge")
async def app_confbridge(pbx, chan, args, raw):
    """Join conference ``args[0]`` (a softmix bridge) until hangup or Redirect."""
    name = (args[0] if args else "") or "default"
    if chan.hungup:
        return -1
    if chan.state != 6:
        pbx.answer(chan)
    conf = pbx.conferences.get(name)
    if conf is None or conf.destroyed:
        conf = pbx.conferences[name] = pbx.new_bridge("base", "softmix", creator="ConfBridge", name=name)
        pbx.emit_event("ConfbridgeStart", [("Conference", name)] + conf.headers())
    conf.enter(chan)
    pbx.emit_event("ConfbridgeJoin", [("Conference", name)] + conf.headers() + chan.snapshot()
                   + [("Admin", "No"), ("Muted", "No")])
    try:
        while not chan.hungup and chan.bridge is conf:
            waiters = [asyncio.ensure_future(chan.hangup_event.wait()), asyncio.ensure_future(conf._changed.wait())]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()
    finally:
        if chan in conf.channels:
            conf.leave(chan)
            pbx.emit_event("ConfbridgeLeave", [("Conference", name)] + conf.headers() + chan.snapshot()
                           + [("Admin", "No")])
        if not conf.channels and not conf.destroyed:
            pbx.emit_event("ConfbridgeEnd", [("Conference", name)] + conf.headers())
            conf.destroy()
            if pbx.conferences.get(name) is conf:
                del pbx.conferences[name]
    return -1 if chan.hungup else 0


# -- ChanSpy ----------------------------------------------------------------------------------------------
@app("ChanSpy")
async def app_chanspy(pbx, chan, args, raw):
    """Listen to (q: quietly, w: whisper, B: barge) a channel whose name starts with the prefix.
    Without E the spy looks for the next channel when the spied one hangs up."""
    prefix = args[0] if args else ""
    options = args[1] if len(args) > 1 else ""
    if chan.state != 6:
        pbx.answer(chan)
    while not chan.hungup:
        target = next((c for c in pbx.channels() if c is not chan and not c.hungup and c.name.startswith(prefix)
                       and c.state == 6 and c.spying_on is None), None)
        if target is None:
            if not await chan.sleep(1.0):
                return -1
            continue
        mode = "barge" if "B" in options else ("whisper" if "w" in options else "spy")
        pbx.emit_event("ChanSpyStart", chan.snapshot("Spyer") + target.snapshot("Spyee"))
        chan.spying_on = target
        chan.variables["SPY_MODE"] = mode
        bridge = target.bridge
        if bridge is not None:
            bridge.spies.append(chan)
        waiters = [asyncio.ensure_future(chan.hangup_event.wait()), asyncio.ensure_future(target.hangup_event.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
            if bridge is not None and chan in bridge.spies:
                bridge.spies.remove(chan)
            chan.spying_on = None
        pbx.emit_event("ChanSpyStop", chan.snapshot("Spyer") + target.snapshot("Spyee"))
        if "E" in options:
            break
    return -1 if chan.hungup else 0
