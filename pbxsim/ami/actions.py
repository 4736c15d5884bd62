"""One handler per AMI action, with Asterisk 22's messages (main/manager.c,
app_mixmonitor.c, res_pjsip, res_manager_devicestate.c).

A handler is ``async def handler(s: AmiSession, m: Message)``; it writes its
response with ``s.send``/``s.ack``/``s.error`` and may return ``CLOSE``.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from ..callerid import parse_callerid
from ..events import make_event
from . import cli, codec
from .codec import Message
from .session import CLOSE, AmiSession
from .users import event_mask, is_false, is_true

log = logging.getLogger("pbxsim.ami")

Handler = Callable[[AmiSession, Message], Awaitable[object]]


@dataclass(frozen=True)
class Action:
    name: str
    handler: Handler
    authority: frozenset[str]   # empty: anyone logged in; else any of these write classes
    synopsis: str


ACTIONS: dict[str, Action] = {}


def action(name: str, authority: str = "", synopsis: str = ""):
    def register(fn: Handler) -> Handler:
        ACTIONS[name.lower()] = Action(name, fn, frozenset(a for a in authority.split(",") if a), synopsis)
        return fn
    return register


async def dispatch(s: AmiSession, m: Message):
    """process_message(): parse errors, missing action, login gate, lookup, write permission."""
    if m.parse_error:
        s.error(m, m.parse_error)
        return None
    name = m.get("Action", skip_empty=True)
    if not name:
        s.error(m, "Missing action in request")
        return None
    lname = name.lower()
    if not s.authenticated and lname not in ("login", "logoff", "challenge"):
        s.error(m, "Permission denied")
        return None
    act = ACTIONS.get(lname)
    if act is None:
        s.error(m, f"Invalid/unknown command: {name}. Use Action: ListCommands to show available commands.")
        return None
    if act.authority and s.user is not None and not (act.authority & s.user.write):
        s.error(m, "Permission denied")
        return None
    return await act.handler(s, m)


# ---- helpers --------------------------------------------------------------------------------
_INT = re.compile(r"^\s*([+-]?\d+)")


def scan_int(text: str) -> int | None:
    """sscanf("%30d"): leading blanks, optional sign, digits; trailing junk ignored."""
    match = _INT.match(text)
    return int(match.group(1)) if match else None


def find_channel_prefix(pbx, prefix: str):
    """ast_channel_get_by_name_prefix() as used by the Bridge action."""
    chan = pbx.find_channel(prefix)
    if chan is not None:
        return chan
    lprefix = prefix.lower()
    for chan in pbx.channels():
        if chan.name.lower().startswith(lprefix):
            return chan
    return None


def variables_of(m: Message) -> dict[str, str]:
    """astman_get_variables(): every ``Variable:`` header, comma-separated ``name=value`` items."""
    out: dict[str, str] = {}
    for value in m.get_all("Variable"):
        for item in value.split(","):
            var, sep, val = item.partition("=")
            if sep and var:
                out[var] = val
    return out


def dialplan_of(pbx):
    return getattr(pbx, "dialplan", None)


def resolve_priority(pbx, context: str, exten: str, priority: str) -> int | None:
    value = scan_int(priority)
    if value is not None:
        return value
    dp = dialplan_of(pbx)
    if dp is not None and hasattr(dp, "label_priority"):
        try:
            return dp.label_priority(context, exten, priority.strip())
        except Exception:
            return None
    return None


def get_global(s: AmiSession, name: str) -> str | None:
    table = getattr(s.pbx, "globals", None)
    if not isinstance(table, dict):
        table = s.server.globals
    return table.get(name)


def set_global(s: AmiSession, name: str, value: str) -> None:
    table = getattr(s.pbx, "globals", None)
    if not isinstance(table, dict):
        table = s.server.globals
    table[name] = value


def duration_hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{(seconds % 3600) // 60:02d}:{seconds % 60:02d}"


def channel_age_s(chan) -> int:
    try:
        return max(0, int(asyncio.get_running_loop().time() - chan.created))
    except Exception:
        return 0


def formats_of(chan) -> tuple[str, str]:
    codec_name = "slin" if chan.tech == "Local" else "ulaw"
    return f"({codec_name})", codec_name


# ---- session actions ------------------------------------------------------------------------
@action("Login", synopsis="Login Manager.")
async def login(s: AmiSession, m: Message):
    if s.authenticated:
        s.ack(m, "Already authenticated")
        return None
    username = m.get("Username")
    user = s.server.find_user(username) if username else None
    ok = False
    if user is None:
        if username:
            s.report_invalid_user(username)
    elif m.get("AuthType").lower() == "md5":
        key = m.get("Key")
        if key and s.challenge:
            ok = hashlib.md5((s.challenge + user.secret).encode()).hexdigest() == key
    elif m.get("Secret") == user.secret:
        ok = True
    else:
        s.report_invalid_password(username)
    if not ok:
        await asyncio.sleep(1)
        s.error(m, "Authentication failed")
        return CLOSE
    s.user = user
    s.authenticated = True
    mask = event_mask(m.get("Events"))
    if mask is not None:
        s.send_events = mask
    s.report_auth_success()
    s.ack(m, "Authentication accepted")
    if "system" in s.send_events and "system" in user.read:
        uptime = int(s.pbx.uptime_s()) if hasattr(s.pbx, "uptime_s") else 0
        reload_at = getattr(s.pbx, "last_reload_at", None)
        booted_at = getattr(s.pbx, "fully_booted_at", None)
        last_reload = uptime
        if isinstance(reload_at, (int, float)) and isinstance(booted_at, (int, float)):
            last_reload = max(0, uptime - int(reload_at - booted_at))
        s.send(f"Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: {uptime}\r\n"
               f"LastReload: {last_reload}\r\nStatus: Fully Booted\r\n\r\n")
    return None


@action("Challenge", synopsis="Generate Challenge for MD5 Auth.")
async def challenge(s: AmiSession, m: Message):
    if m.get("AuthType").lower() != "md5":
        s.error(m, "Must specify AuthType")
        return None
    if not s.challenge:
        s.challenge = str(secrets.randbelow(2**31))
    s.send(codec.response_head("Success", m.action_id) + f"Challenge: {s.challenge}\r\n\r\n")
    return None


@action("Logoff", synopsis="Logoff Manager.")
async def logoff(s: AmiSession, m: Message):
    s.send(codec.response("Goodbye", m.action_id, "Thanks for all the fish."))
    return CLOSE


@action("Ping", synopsis="Keepalive command.")
async def ping(s: AmiSession, m: Message):
    now = s.server.wall_time()
    # Asterisk writes these pieces separately; clients see them split across reads (ami_actions).
    head = codec.response_head("Success", m.action_id)
    s.send(head[:len("Response: Success\r\n")])
    s.send(head[len("Response: Success\r\n"):]
           + f"Ping: Pong\r\nTimestamp: {int(now)}.{int(now * 1e6) % 1000000:06d}\r\n\r\n")
    return None


@action("Events", synopsis="Control Event Flow.")
async def events(s: AmiSession, m: Message):
    mask = event_mask(m.get("EventMask"))
    id_text = f"ActionID: {m.action_id}\r\n" if m.action_id else ""
    if mask is None:
        s.error(m, "Invalid event mask")
        return None
    s.send_events = mask
    s.send(f"Response: Success\r\n{id_text}Events: {'On' if mask else 'Off'}\r\n\r\n")
    return None


@action("ListCommands", synopsis="List available manager commands.")
async def list_commands(s: AmiSession, m: Message):
    body = codec.response_head("Success", m.action_id)
    for act in ACTIONS.values():
        if not act.authority or (s.user and act.authority & s.user.write):
            priv = ",".join(sorted(act.authority)) or "<none>"
            body += f"{act.name}: {act.synopsis}  (Priv: {priv})\r\n"
    s.send(body + "\r\n")
    return None


@action("Command", "command", "Execute Asterisk CLI Command.")
async def command(s: AmiSession, m: Message):
    text = m.get("Command")
    if not text:
        s.error(m, "No command provided")
        return None
    ok, output = cli.run(s.pbx, text)
    s.send(codec.response_head("Success" if ok else "Error", m.action_id))
    if output.endswith("\n"):
        output = output[:-1]
    s.send("Message: Command output follows\r\n")
    s.send("".join(f"Output: {line}\r\n" for line in output.split("\n")) + "\r\n")
    return None


# ---- calls ----------------------------------------------------------------------------------
@action("Originate", "originate,call", "Originate a call.")
async def originate(s: AmiSession, m: Message):
    name = m.get("Channel")
    exten, context = m.get("Exten"), m.get("Context")
    priority_text, timeout_text = m.get("Priority"), m.get("Timeout")
    app, appdata = m.get("Application"), m.get("Data")
    callerid, account = m.get("CallerID"), m.get("Account")
    if not name:
        s.error(m, "Channel not specified")
        return None
    priority = 0
    if priority_text:
        priority = resolve_priority(s.pbx, context, exten, priority_text)
        if priority is None or priority < 1:
            s.error(m, "Invalid priority")
            return None
    timeout = 30000
    if timeout_text:
        timeout = scan_int(timeout_text)
        if timeout is None:
            s.error(m, "Invalid timeout")
            return None
    if "/" not in name:
        s.error(m, "Invalid channel")
        return None
    cid_name, cid_num = parse_callerid(callerid)
    if not app:
        if not (exten and context and priority):
            s.error(m, "Originate with 'Exten' requires 'Context' and 'Priority'")
            return None
        dp = dialplan_of(s.pbx)
        if dp is not None and hasattr(dp, "exists") and not dp.exists(context, exten, priority):
            s.error(m, "Extension does not exist.")
            return None
    kwargs = dict(channel=name, timeout_ms=timeout, variables=variables_of(m) or None, account=account,
                  callerid=callerid or None)
    if app:
        kwargs.update(application=app, data=appdata)
    else:
        kwargs.update(context=context, exten=exten, priority=priority)

    async def run():
        try:
            return await s.pbx.originate(**kwargs)
        except (ValueError, LookupError) as exc:
            log.info("Originate %s failed: %s", name, exc)
            return None

    if is_true(m.get("Async")):
        s.ack(m, "Originate successfully queued")
        action_id = m.action_id

        async def fast_originate():
            result = await run()
            chan = getattr(result, "channel", None)
            ok = bool(result and result.success)
            headers = [("ActionID", action_id)] if action_id else []
            headers += [("Response", "Success" if ok else "Failure"),
                        ("Channel", chan.name if chan is not None else name),
                        ("Context", context), ("Exten", exten),
                        ("Reason", str(getattr(result, "reason", 0) or 0)),
                        ("Uniqueid", chan.uniqueid if chan is not None else "<null>"),
                        ("CallerIDNum", cid_num or "<unknown>"), ("CallerIDName", cid_name or "<unknown>")]
            s.pbx.emit(make_event("OriginateResponse", "call,all", headers))

        s.server.spawn(fast_originate(), name=f"originate {name}")
        return None
    result = await run()
    if result is not None and result.success:
        s.ack(m, "Originate successfully queued")
    else:
        s.error(m, "Originate failed")
    return None


@action("Redirect", "call", "Redirect (transfer) a call.")
async def redirect(s: AmiSession, m: Message):
    name, context, exten, prio = m.get("Channel"), m.get("Context"), m.get("Exten"), m.get("Priority")
    extra_name = m.get("ExtraChannel")
    extra_context, extra_exten, extra_prio = m.get("ExtraContext"), m.get("ExtraExten"), m.get("ExtraPriority")
    for value, what in ((name, "Channel"), (context, "Context"), (exten, "Exten"), (prio, "Priority")):
        if not value:
            s.error(m, f"{what} not specified")
            return None
    priority = resolve_priority(s.pbx, context, exten, prio)
    if priority is None or priority < 1:
        s.error(m, "Priority is invalid")
        return None
    extra_priority = None
    if extra_name and extra_prio:
        extra_priority = resolve_priority(s.pbx, extra_context or context, extra_exten or exten, extra_prio)
        if extra_priority is None or extra_priority < 1:
            s.error(m, "Priority2 is invalid")
            return None
    chan = s.pbx.find_channel(name)
    if chan is None:
        s.error(m, f"Channel does not exist: {name}")
        return None
    if chan.hungup:
        s.error(m, "Redirect failed, channel not up.")
        return None
    if not extra_name:
        try:
            s.pbx.redirect(chan, context, exten, priority)
        except Exception as exc:
            log.info("Redirect of %s failed: %s", name, exc)
            s.error(m, "Redirect failed")
            return None
        s.ack(m, "Redirect successful")
        return None
    extra = s.pbx.find_channel(extra_name)
    if extra is None:
        s.error(m, f"ExtraChannel does not exist: {extra_name}")
        return None
    if extra.hungup:
        s.error(m, "Redirect failed, extra channel not up.")
        return None
    try:
        s.pbx.redirect(chan, context, exten, priority, extra=extra,
                       extra_context=extra_context or context, extra_exten=extra_exten or exten,
                       extra_priority=extra_priority or priority)
    except Exception as exc:
        log.info("Dual redirect of %s/%s failed: %s", name, extra_name, exc)
        s.error(m, "Redirect failed")
        return None
    s.ack(m, "Dual Redirect successful")
    return None


@action("Hangup", "system,call", "Hangup channel.")
async def hangup(s: AmiSession, m: Message):
    target = m.get("Channel")
    cause_text = m.get("Cause")
    cause = 16
    if cause_text:
        if re.fullmatch(r"\d+", cause_text) and int(cause_text) <= 127:
            cause = int(cause_text)
        else:
            log.info("Invalid 'Cause: %s' in manager action Hangup", cause_text)
    if not target:
        s.error(m, "No channel specified")
        return None
    if not target.startswith("/"):
        chan = s.pbx.find_channel(target)
        if chan is None:
            s.error(m, "No such channel")
            return None
        s.pbx.hangup(chan, cause)
        s.ack(m, "Channel Hungup")
        return None
    pattern = target[1:-1] if target.endswith("/") and len(target) > 1 else target[1:]
    try:
        regex = re.compile(pattern)
    except re.error:
        s.error(m, "Invalid regex")
        return None
    s.send(codec.response("Success", m.action_id, "Channels hung up will follow", event_list="start"))
    count = 0
    for chan in list(s.pbx.channels()):
        if regex.search(chan.name):
            s.pbx.hangup(chan, cause)
            s.send(codec.list_item("ChannelHungup", m.action_id, [("Channel", chan.name)], action_id_last=True))
            count += 1
    s.send(codec.list_complete("ChannelsHungupListComplete", m.action_id, count))
    return None


@action("Getvar", "call,reporting", "Gets a channel variable or function value.")
async def getvar(s: AmiSession, m: Message):
    name, var = m.get("Channel"), m.get("Variable")
    if not var:
        s.error(m, "No variable specified")
        return None
    chan = None
    if name:
        chan = s.pbx.find_channel(name)
        if chan is None:
            s.error(m, "No such channel")
            return None
    if chan is not None:
        value = chan.get_variable(var)
    else:
        value = get_global(s, var)
    s.send(codec.response_head("Success", m.action_id))
    s.send(f"Variable: {var}\r\nValue: {value or ''}\r\n\r\n")
    return None


@action("Setvar", "call", "Sets a channel variable or function value.")
async def setvar(s: AmiSession, m: Message):
    name, var, value = m.get("Channel"), m.get("Variable"), m.get("Value")
    if not var:
        s.error(m, "No variable specified")
        return None
    if name:
        chan = s.pbx.find_channel(name)
        if chan is None:
            s.error(m, "No such channel")
            return None
        chan.set_variable(var, value)
    else:
        set_global(s, var, value)
    s.ack(m, "Variable Set")
    return None


@action("Status", "system,call,reporting", "List channel status.")
async def status(s: AmiSession, m: Message):
    name = m.get("Channel")
    wanted = [v for v in m.get("Variables").split(",") if v]
    if name:
        chan = s.pbx.find_channel(name)
        if chan is None:
            s.error(m, "No such channel")
            return None
        chans = [chan]
    else:
        chans = list(s.pbx.channels())
    s.send(codec.response("Success", m.action_id, "Channel status will follow", event_list="start"))
    for chan in chans:
        native, fmt = formats_of(chan)
        headers = list(chan.snapshot()) + [
            ("Type", chan.tech), ("DNID", chan.dnid or ""),
            ("EffectiveConnectedLineNum", chan.connected_num), ("EffectiveConnectedLineName", chan.connected_name),
            ("TimeToHangup", "0"), ("BridgeID", chan.bridge_id or ""),
            ("Application", chan.app or ""), ("Data", chan.appdata or ""),
            ("Nativeformats", native), ("Readformat", fmt), ("Readtrans", ""),
            ("Writeformat", fmt), ("Writetrans", ""), ("Callgroup", "0"), ("Pickupgroup", "0"),
            ("Seconds", str(channel_age_s(chan)))]
        headers += [("Variable", f"{v}={chan.get_variable(v) or ''}") for v in wanted]
        s.send(codec.list_item("Status", m.action_id, headers, privilege="Call", action_id_last=True))
    s.send(codec.list_complete("StatusComplete", m.action_id, len(chans), [("Items", str(len(chans)))]))
    return None


@action("CoreShowChannels", "system,reporting", "List currently active channels.")
async def core_show_channels(s: AmiSession, m: Message):
    chans = list(s.pbx.channels())
    s.send(codec.response("Success", m.action_id, "Channels will follow", event_list="start"))
    for chan in chans:
        headers = list(chan.snapshot()) + [
            ("Application", chan.app or ""), ("ApplicationData", chan.appdata or ""),
            ("Duration", duration_hms(channel_age_s(chan))), ("BridgeId", chan.bridge_id or "")]
        s.send(codec.list_item("CoreShowChannel", m.action_id, headers))
    s.send(codec.list_complete("CoreShowChannelsComplete", m.action_id, len(chans)))
    return None


# ---- recording ------------------------------------------------------------------------------
def _monitored_channel(s: AmiSession, m: Message):
    """The Channel of a MixMonitor action, or None after Asterisk's error reply."""
    name = m.get("Channel")
    if not name:
        s.error(m, "No channel specified")
        return None
    chan = s.pbx.find_channel(name)
    if chan is None:
        s.error(m, "No such channel")
    return chan


@action("MixMonitor", "system,call", "Record a call and mix the audio during the recording.")
async def mixmonitor(s: AmiSession, m: Message):
    chan = _monitored_channel(s, m)
    if chan is None:
        return None
    options = m.get("Options")
    if not m.get("File") and not re.search(r"[rt]\(", options or ""):
        # mixmonitor_exec(): "MixMonitor requires an argument (filename or ,t(filename) and/or r(filename)"
        s.error(m, "Could not start monitoring channel")
        return None
    try:
        mixmonitor_id = s.pbx.mixmonitor(chan, m.get("File"), options, m.get("Command"))
    except Exception as exc:
        log.info("MixMonitor on %s failed: %s", chan.name, exc)
        s.error(m, "Could not start monitoring channel")
        return None
    body = codec.response_head("Success", m.action_id)
    uid_var = re.search(r"i\(([^)]*)\)", options or "")
    if uid_var:
        shown = chan.get_variable(uid_var.group(1)) or mixmonitor_id or ""
        if shown:
            body += f"MixMonitorID: {shown}\r\n"
    s.send(body + "\r\n")
    return None


@action("StopMixMonitor", "system,call", "Stop recording a call through MixMonitor, and free the recording's file handle.")
async def stop_mixmonitor(s: AmiSession, m: Message):
    chan = _monitored_channel(s, m)
    if chan is None:
        return None
    if not s.pbx.stop_mixmonitor(chan, m.get("MixMonitorID") or None):
        s.error(m, "Could not stop monitoring channel")
        return None
    s.send(codec.response_head("Success", m.action_id) + "\r\n")
    return None


@action("MixMonitorMute", "system,call", "Mute / unMute a Mixmonitor recording.")
async def mixmonitor_mute(s: AmiSession, m: Message):
    direction, state = m.get("Direction"), m.get("State")
    if not m.get("Channel"):
        s.error(m, "No channel specified")
        return None
    if not direction:
        s.error(m, "No direction specified. Must be read, write or both")
        return None
    if not state:
        s.error(m, "No state specified")
        return None
    if direction.lower() not in ("read", "write", "both"):
        s.error(m, "Invalid direction specified. Must be read, write or both")
        return None
    chan = _monitored_channel(s, m)
    if chan is None:
        return None
    if not s.pbx.mixmonitor_mute(chan, direction.lower(), not is_false(state)):
        s.error(m, "Cannot set mute flag")
        return None
    s.send(codec.response_head("Success", m.action_id) + "\r\n")
    return None


# ---- transfers and bridges --------------------------------------------------------------------
def _transfer_request(s: AmiSession, m: Message):
    """(channel, exten, context) of a BlindTransfer/Atxfer, or (None, …) after Asterisk's error reply."""
    name, exten, context = m.get("Channel"), m.get("Exten"), m.get("Context")
    if not name:
        s.error(m, "No channel specified")
        return None, exten, context
    if not exten:
        s.error(m, "No extension specified")
        return None, exten, context
    chan = s.pbx.find_channel(name)
    if chan is None:
        s.error(m, "Channel specified does not exist")
    return chan, exten, context


@action("BlindTransfer", "call", "Blind transfer channel(s) to the given destination")
async def blind_transfer(s: AmiSession, m: Message):
    chan, exten, context = _transfer_request(s, m)
    if chan is None:
        return None
    result = s.pbx.blind_transfer(chan, context or chan.context, exten)
    messages = {"Not Permitted": "Transfer not permitted", "Invalid": "Transfer invalid", "Fail": "Transfer failed"}
    if result == "Success":
        s.ack(m, "Transfer succeeded")
    else:
        s.error(m, messages.get(result, "Transfer failed"))
    return None


@action("Atxfer", "call", "Attended transfer.")
async def atxfer(s: AmiSession, m: Message):
    chan, exten, context = _transfer_request(s, m)
    if chan is None:
        return None
    if context:
        chan.set_variable("TRANSFER_CONTEXT", context)
    s.ack(m, "Atxfer successfully queued")
    s.server.spawn(s.pbx.atxfer(chan, exten, context or chan.context), name=f"atxfer {chan.name}")
    return None


@action("Bridge", "call", "Bridge two channels already in the PBX.")
async def bridge(s: AmiSession, m: Message):
    name1, name2, tone = m.get("Channel1"), m.get("Channel2"), m.get("Tone")
    if not name1 or not name2:
        s.error(m, "Missing channel parameter in request")
        return None
    chan1 = find_channel_prefix(s.pbx, name1)
    if chan1 is None:
        s.error(m, f"Channel1 does not exist: {name1}")
        return None
    chan2 = find_channel_prefix(s.pbx, name2)
    if chan2 is None:
        s.error(m, f"Channel2 does not exist: {name2}")
        return None
    try:
        s.pbx.bridge(chan1, chan2, tone or "no")
    except Exception as exc:
        log.info("Bridge %s + %s failed: %s", name1, name2, exc)
        s.error(m, "Unable to bridge channels")
        return None
    s.ack(m, "Channels have been bridged")
    return None


# ---- endpoints and device states ---------------------------------------------------------------
@action("PJSIPShowEndpoints", "system", "Lists PJSIP endpoints.")
async def pjsip_show_endpoints(s: AmiSession, m: Message):
    endpoints = list(s.pbx.endpoints())
    if not endpoints:
        s.error(m, "No endpoints found\n")
        return None
    s.send(codec.response("Success", m.action_id, "A listing of Endpoints follows, presented as EndpointList events",
                          event_list="start"))
    states = getattr(s.pbx, "endpoint_states", {})
    for ep in endpoints:
        config = getattr(states.get(ep.name), "config", None)
        extra = getattr(config, "extra", {}) or {}
        aor = extra.get("aors", ep.name)
        contacts = "".join(f"{aor}/{c}," for c in (ep.contacts or []))
        headers = [("ObjectType", "endpoint"), ("ObjectName", ep.name),
                   ("Transport", getattr(config, "transport", "") or ""),
                   ("Aor", aor), ("Auths", extra.get("auth", "")), ("OutboundAuths", extra.get("outbound_auth", "")),
                   ("Contacts", contacts), ("DeviceState", ep.device_state),
                   # res_pjsip's active_channels_to_str() returns early whenever a snapshot exists,
                   # so Asterisk always prints this empty.
                   ("ActiveChannels", "")]
        s.send(codec.list_item("EndpointList", m.action_id, headers))
    s.send(codec.list_complete("EndpointListComplete", m.action_id, len(endpoints)))
    return None


@action("DeviceStateList", "call,reporting", "List the current known device states.")
async def device_state_list(s: AmiSession, m: Message):
    states = dict(s.pbx.device_states())
    s.send(codec.response("Success", m.action_id, "Device State Changes will follow", event_list="start"))
    for device, state in states.items():
        s.send(codec.list_item("DeviceStateChange", m.action_id, [("Device", device), ("State", state)]))
    s.send(codec.list_complete("DeviceStateListComplete", m.action_id, len(states)))
    return None


# ---- astdb (shared with the FastAGI DATABASE commands) -------------------------------------------
@action("DBGet", "system,reporting", "Get DB Entry.")
async def db_get(s: AmiSession, m: Message):
    family, key = m.get("Family"), m.get("Key")
    if not family:
        s.error(m, "No family specified.")
        return None
    if not key:
        s.error(m, "No key specified.")
        return None
    value = s.pbx.astdb.get((family, key))
    if value is None:
        s.error(m, "Database entry not found")
        return None
    s.send(codec.response("Success", m.action_id, "Result will follow", event_list="start"))
    s.send(codec.list_item("DBGetResponse", m.action_id, [("Family", family), ("Key", key), ("Val", value)]))
    s.send(codec.list_complete("DBGetComplete", m.action_id, 1))
    return None


@action("DBPut", "system", "Put DB entry.")
async def db_put(s: AmiSession, m: Message):
    family, key = m.get("Family"), m.get("Key")
    if not family:
        s.error(m, "No family specified")
        return None
    if not key:
        s.error(m, "No key specified")
        return None
    s.pbx.astdb[(family, key)] = m.get("Val")
    s.ack(m, "Updated database successfully")
    return None


@action("DBDel", "system", "Delete DB entry.")
async def db_del(s: AmiSession, m: Message):
    family, key = m.get("Family"), m.get("Key")
    if not family:
        s.error(m, "No family specified.")
        return None
    if not key:
        s.error(m, "No key specified.")
        return None
    if s.pbx.astdb.pop((family, key), None) is None:
        s.error(m, "Database entry not found")
        return None
    s.ack(m, "Key deleted successfully")
    return None


# ---- small system actions -------------------------------------------------------------------------
@action("UserEvent", "user", "Send an arbitrary event.")
async def user_event(s: AmiSession, m: Message):
    # Every header but Action:/UserEvent: is copied, ActionID included (manager.c action_userevent).
    body = [tuple(line.split(":", 1)) if ":" in line else (line, None) for line in m.lines
            if not line.lower().startswith(("userevent:", "action:"))]
    s.ack(m, "Event Sent")
    headers = [("UserEvent", m.get("UserEvent"))]
    for key, value in body:
        headers.append((key, value.lstrip(" ")) if value is not None else (key, ""))
    s.pbx.emit(make_event("UserEvent", "user,all", headers))
    return None


@action("CoreSettings", "system,reporting", "Show PBX core settings (version etc).")
async def core_settings(s: AmiSession, m: Message):
    s.send(codec.response_head("Success", m.action_id)
           + "AMIversion: 11.0.0\r\nAsteriskVersion: 22.10.1\r\nSystemName: \r\nCoreMaxCalls: 0\r\n"
             "CoreMaxLoadAvg: 0.000000\r\nCoreRunUser: \r\nCoreRunGroup: \r\nCoreMaxFilehandles: 0\r\n"
             "CoreRealTimeEnabled: No\r\nCoreCDRenabled: Yes\r\nCoreHTTPenabled: No\r\n"
             "SoundsSearchCustomDir: No\r\n\r\n")
    return None


@action("CoreStatus", "system,reporting", "Show PBX core status variables.")
async def core_status(s: AmiSession, m: Message):
    now = s.server.wall_time()
    uptime = int(s.pbx.uptime_s()) if hasattr(s.pbx, "uptime_s") else 0
    start = time.localtime(now - uptime)
    chans = list(s.pbx.channels())
    calls = len({c.linkedid for c in chans})
    processed = getattr(s.pbx, "processed_calls", calls)
    processed = processed() if callable(processed) else processed
    day, clock = time.strftime("%Y-%m-%d", start), time.strftime("%H:%M:%S", start)
    s.send(codec.response_head("Success", m.action_id)
           + f"CoreStartupDate: {day}\r\nCoreStartupTime: {clock}\r\nCoreReloadDate: {day}\r\n"
             f"CoreReloadTime: {clock}\r\nCoreCurrentCalls: {calls}\r\nCoreProcessedCalls: {processed}\r\n\r\n")
    return None
