"""The simulated PBX: channels, Local pairs, PJSIP endpoints, dialplan execution.

Everything observable happens through ``emit`` (AMI events, in Asterisk's order
and with Asterisk's header names) and through the Channel media operations the
FastAGI client uses. Time is the running loop's clock (virtual in tests/demo).
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Coroutine

from .apps import run_app
from .bridge import Bridge
from .channel import CAUSE_TXT, Channel, parse_callerid
from .dialplan import Dialplan
from .endpoints import Endpoint, EndpointConfig, EndpointState
from .events import CALL, DIALPLAN, SYSTEM, Event
from .media import MediaRecorder
from .participants import ExternalParty, PhoneBehaviour
from .sounds import SoundLibrary

log = logging.getLogger("pbxsim")


@dataclass
class OriginateResult:
    success: bool
    reason: int          # 0 failed, 1 hangup, 3 ring timeout, 4 answered, 5 busy, 8 congestion
    channel: Channel | None


def parse_pjsip_resource(resource: str) -> tuple[str, str | None]:
    """``1001`` / ``1001/sip:x@h`` / ``13800138000@trunk`` / ``trunk/sip:13800138000@carrier``
    -> (endpoint, dialled number or None)."""
    first, _, uri = resource.partition("/")
    if "@" in first:
        number, _, endpoint = first.partition("@")
        return endpoint, number
    number = None
    if uri:
        user = uri.split(":", 1)[-1].split("@", 1)[0]
        number = user or None
    return first, number


DEVICE_STATE_TEXT = {
    "NOT_INUSE": "Not in use", "INUSE": "In use", "BUSY": "Busy", "UNAVAILABLE": "Unavailable",
    "RINGING": "Ringing", "RINGINUSE": "Ring+Inuse", "ONHOLD": "On Hold", "UNKNOWN": "Unknown",
    "INVALID": "Invalid",
}

class Pbx:
    def __init__(self, dialplan: Dialplan | None = None, *, endpoints: list[EndpointConfig] | None = None,
                 sounds: SoundLibrary | None = None, monitor_dir: Path | str = "monitor",
                 seed: int = 0, epoch: int | None = None, agi_override: tuple[str, int] | None = None,
                 newexten_events: bool = True, tz_offset_s: int = 0,
                 queues: dict[str, dict] | None = None, moh_classes: dict[str, dict] | None = None) -> None:
        self.dialplan = dialplan or Dialplan()
        self.globals: dict[str, str] = dict(self.dialplan.globals)
        self.sounds = sounds or SoundLibrary([])
        self.seed = seed
        self.rng = random.Random(seed)
        self.agi_override = agi_override
        self.newexten_events = newexten_events
        self.tz_offset_s = tz_offset_s
        self.queues = queues or {}
        self.moh_classes = moh_classes or {"default": {"mode": "files"}}
        self.media = MediaRecorder(self, Path(monitor_dir))
        self._listeners: list[Callable[[Event], None]] = []
        self._channels: dict[str, Channel] = {}
        self.bridges: dict[str, Bridge[Channel]] = {}
        self.endpoint_states: dict[str, EndpointState] = {}
        for ep in endpoints or []:
            self.add_endpoint(ep)
        self._uid_seq = 0
        self._local_seq = 0
        self._pjsip_seq = 0
        self._tasks: set[asyncio.Task] = set()
        self._wall_start = float(epoch if epoch is not None else int(time.time()))
        self.epoch = int(self._wall_start)
        try:
            self._loop_start = asyncio.get_running_loop().time()
        except RuntimeError:
            self._loop_start = None   # built outside the loop: boot time is set on first use inside it
        self._booted_outside_loop = self._loop_start is None
        self.fully_booted_at = self.loop_time()
        self.last_reload_at = self.fully_booted_at
        self.device_state_cache: dict[str, str] = {}
        self.conferences: dict[str, Bridge[Channel]] = {}      # ConfBridge rooms by name
        self.external_parties: dict[str, ExternalParty] = {}   # by number
        self.external_defaults: PhoneBehaviour | None = None   # for numbers without their own behaviour
        self.astdb: dict[tuple[str, str], str] = {}   # the Asterisk database, (family, key) -> value (AGI and AMI)
        self.history: list[dict] = []   # one summary per finished channel (for demo/tests)

    # -- time ---------------------------------------------------------------
    def loop_time(self) -> float:
        try:
            now = asyncio.get_running_loop().time()
        except RuntimeError:
            return 0.0 if getattr(self, "_loop_start", None) is None else self._loop_start
        if getattr(self, "_loop_start", None) is None:
            self._loop_start = now
            if getattr(self, "_booted_outside_loop", False):
                self.fully_booted_at = self.last_reload_at = now
        return now

    def wall_time(self) -> float:
        return self._wall_start + (self.loop_time() - (self._loop_start or 0.0))

    def uptime_s(self) -> int:
        return int(self.loop_time() - self.fully_booted_at)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def spawn(self, coro: Coroutine, name: str | None = None) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("pbxsim task %s failed", task.get_name(), exc_info=task.exception())

    async def close(self) -> None:
        for chan in list(self._channels.values()):
            chan.request_hangup(16, event=None)
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for rec in list(self.media.active.values()):
            self.media.stop(rec)

    # -- events -------------------------------------------------------------
    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)
        return unsubscribe

    def emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not break the PBX
                log.exception("event listener failed on %s", event.name)

    def emit_event(self, name: str, headers, privilege: str = CALL) -> None:
        self.emit(Event(name, privilege, tuple((k, str(v)) for k, v in headers)))

    def emit_channel_event(self, name: str, chan: Channel, extra=(), privilege: str = CALL) -> None:
        self.emit_event(name, chan.snapshot() + list(extra), privilege)

    def emit_newexten(self, chan: Channel) -> None:
        if self.newexten_events:
            self.emit_channel_event("Newexten", chan, [("Extension", chan.exten), ("Application", chan.app),
                                                       ("AppData", chan.appdata)], DIALPLAN)

    # -- channels -------------------------------------------------------------
    def channel(self, name: str) -> Channel | None:
        return self._channels.get(name)

    def find_channel(self, name: str) -> Channel | None:
        """ast_channel_get_by_name(): exact name, then case-insensitive name, then uniqueid."""
        if not name:
            return None
        chan = self.channel(name)
        if chan is not None:
            return chan
        lname = name.lower()
        for chan in self.channels():
            if chan.name.lower() == lname or chan.uniqueid == name:
                return chan
        return None

    async def run_app(self, chan: Channel, app: str, data: str, *, from_agi: bool = False) -> int:
        """Run one dialplan application on ``chan`` (AGI EXEC and GOSUB come through here)."""
        return await run_app(self, chan, app, data, from_agi=from_agi)

    def channels(self) -> list[Channel]:
        return list(self._channels.values())

    def _new_uniqueid(self) -> str:
        uid = f"{self.epoch}.{self._uid_seq}"
        self._uid_seq += 1
        return uid

    def _register(self, chan: Channel) -> Channel:
        self._channels[chan.name] = chan
        self.emit_channel_event("Newchannel", chan)
        return chan

    def new_local_pair(self, exten: str, context: str, linkedid: str | None = None) -> tuple[Channel, Channel]:
        seq = self._local_seq
        self._local_seq += 1
        base = f"Local/{exten}@{context}-{seq:08x}"
        uid1 = self._new_uniqueid()
        link = linkedid or uid1
        c1 = Channel(self, base + ";1", uid1, link, "Local", context=context, exten=exten, state=0)
        c1.local_half = 1
        self._register(c1)
        c2 = Channel(self, base + ";2", self._new_uniqueid(), link, "Local", context=context, exten=exten, state=4)
        c2.local_half = 2
        c1.peer, c2.peer = c2, c1
        self._register(c2)
        return c1, c2

    def emit_local_bridge(self, c1: Channel, c2: Channel) -> None:
        self.emit_event("LocalBridge", c1.snapshot("LocalOne") + c2.snapshot("LocalTwo") + [
            ("Context", c2.context), ("Exten", c2.exten), ("LocalOptimization", "Yes")])

    def new_pjsip_channel(self, endpoint: str, linkedid: str | None = None, *, context: str = "",
                          exten: str = "s", state: int = 0) -> Channel:
        seq = self._pjsip_seq
        self._pjsip_seq += 1
        uid = self._new_uniqueid()
        chan = Channel(self, f"PJSIP/{endpoint}-{seq:08x}", uid, linkedid or uid, "PJSIP",
                       context=context, exten=exten, state=state)
        chan.endpoint = endpoint
        return self._register(chan)

    # -- states ---------------------------------------------------------------
    def answer(self, chan: Channel) -> None:
        if chan.hungup or chan.state == 6:
            return
        chan.set_state(6)
        if chan.local_half == 2 and chan.peer is not None and not chan.peer.hungup:
            chan.peer.set_state(6)

    def channel_state_changed(self, chan: Channel) -> None:
        if chan.tech == "Local" and chan.state == 6:
            self.emit_event("DeviceStateChange", [("Device", chan.device), ("State", "INUSE")])
        elif chan.tech == "PJSIP":
            self.update_device_state(chan.endpoint)

    # -- dialplan execution ------------------------------------------------------
    def start_dialplan(self, chan: Channel, context: str, exten: str, priority: int = 1) -> asyncio.Task:
        chan.context, chan.exten, chan.priority = context, exten, priority
        chan.runs_dialplan = True
        first = self._prepare_step(chan)
        return self.spawn(self._run_dialplan(chan, first), name=f"dialplan {chan.name}")

    def _prepare_step(self, chan: Channel):
        """Look up the current step, set app/appdata and emit Newexten (synchronously)."""
        step = self.dialplan.find(chan.context, chan.exten, chan.priority)
        if step is None and chan.priority == 1 and self.dialplan.match(chan.context, chan.exten) is None \
                and self.dialplan.exists(chan.context, "i"):
            chan.set_variable("INVALID_EXTEN", chan.exten)
            chan.exten = "i"
            step = self.dialplan.find(chan.context, "i", 1)
        if step is None:
            return None
        chan.app = step.app
        chan.appdata = chan.eval_expression(step.data)
        self.emit_newexten(chan)
        return step

    async def _run_dialplan(self, chan: Channel, step) -> None:
        try:
            while step is not None and not chan.hungup:
                chan._jumped = False
                chan._redirect = None
                app_task = asyncio.ensure_future(run_app(self, chan, step.app, chan.appdata))
                chan._app_task = app_task
                try:
                    res = await asyncio.shield(app_task)
                except asyncio.CancelledError:
                    if chan._redirect is None:
                        app_task.cancel()
                        try:   # let the application clean up (leave bridges...) before the channel goes
                            await asyncio.wait({app_task}, timeout=1.0)
                        except asyncio.CancelledError:
                            pass
                        raise
                    try:
                        await app_task
                    except asyncio.CancelledError:
                        pass
                    res = 0
                finally:
                    chan._app_task = None
                if chan._async_goto:
                    chan._async_goto = False
                    chan.revive()
                if chan._redirect is not None and chan._redirect[0] == "__bridge__":
                    # pulled into an AMI Bridge: wait for it to end, then go on in the dialplan
                    chan._redirect = None
                    done = chan._bridge_done
                    if done is not None:
                        if chan._parked is not None:
                            chan._parked.set()
                        await done.wait()
                    after, chan._after_bridge = chan._after_bridge, None
                    chan._bridge_done = chan._parked = None
                    if after is None or chan.hungup:
                        break
                    chan.context, chan.exten, chan.priority = after
                    step = self._prepare_step(chan)
                    continue
                if chan._redirect is not None:
                    chan.context, chan.exten, chan.priority = chan._redirect
                    chan._redirect = None
                elif chan._jumped:
                    pass
                elif res != 0:
                    break
                else:
                    chan.priority += 1
                if chan.hungup:
                    break
                step = self._prepare_step(chan)
        except asyncio.CancelledError:
            self._finish_dialplan(chan)
            raise
        if not chan.destroyed:
            self._end_of_dialplan(chan)
            if self.dialplan.find(chan.context, "h", 1) is not None:
                await self._run_h_extension(chan)
        self._finish_dialplan(chan)

    def _end_of_dialplan(self, chan: Channel) -> None:
        # the end of the dialplan always soft-hangs-up with AST_SOFTHANGUP_APPUNLOAD (16)
        chan._dialplan_ended = True
        self.emit_channel_event("SoftHangupRequest", chan, [("Cause", "16")])
        chan.request_hangup(chan.hangup_cause if chan.hungup else 16, event=None)

    async def _run_h_extension(self, chan: Channel) -> None:
        """The ``h`` extension of the channel's context runs after the hangup (apps see a dead channel)."""
        chan.exten, chan.priority = "h", 1
        for _ in range(1000):
            step = self.dialplan.find(chan.context, "h", chan.priority)
            if step is None:
                return
            chan.app, chan.appdata = step.app, chan.eval_expression(step.data)
            self.emit_newexten(chan)
            try:
                res = await run_app(self, chan, step.app, chan.appdata)
            except Exception:
                log.exception("h extension step failed on %s", chan.name)
                return
            if res != 0:
                return
            chan.priority += 1

    def _finish_dialplan(self, chan: Channel) -> None:
        chan.runs_dialplan = False
        if chan.destroyed:
            return
        if not getattr(chan, "_dialplan_ended", False):
            self._end_of_dialplan(chan)
        if chan.bridge is not None:
            bridge = chan.bridge
            bridge.clear_peers()
            bridge.leave(chan)
        self.destroy(chan)

    def destroy(self, chan: Channel) -> None:
        """The channel is gone: Hangup event, recordings closed, device state updated."""
        if chan.destroyed:
            return
        if not chan.hungup:
            chan.request_hangup(chan.hangup_cause, event=None)
        peer = chan.peer
        if peer is not None and not peer.hungup and not peer.destroyed:
            peer.request_hangup(chan.hangup_cause, event="HangupRequest")
        self.media.stop_channel(chan)
        chan.destroyed = True
        if chan.bridge is not None:
            chan.bridge.leave(chan)
        cause = chan.hangup_cause
        self.emit_channel_event("Hangup", chan, [("Cause", str(cause)), ("Cause-txt", CAUSE_TXT.get(cause, "Unknown"))])
        self._channels.pop(chan.name, None)
        self.history.append({"channel": chan.name, "uniqueid": chan.uniqueid, "linkedid": chan.linkedid,
                             "created": chan.created, "answered": chan.answered_at, "ended": self.loop_time(),
                             "cause": cause})
        if chan.tech == "Local":
            self.emit_event("DeviceStateChange", [("Device", chan.device), ("State", "NOT_INUSE")])
        else:
            self.update_device_state(chan.endpoint)
        if chan.participant is not None and hasattr(chan.participant, "on_hangup"):
            try:
                chan.participant.on_hangup(chan)
            except Exception:
                log.exception("participant hangup hook failed")
        if peer is not None and not peer.runs_dialplan and not peer.destroyed and getattr(peer, "owner", None) is None:
            self.destroy(peer)

    def hangup(self, chan: Channel, cause: int = 16) -> None:
        """Hang up from outside (AMI Hangup, a participant): the owner finishes the channel."""
        if chan.destroyed:
            return
        if chan.runs_dialplan:
            chan.request_hangup(cause, event=None)
        elif getattr(chan, "owner", None) is not None:
            chan.request_hangup(cause, event="HangupRequest")
        else:
            chan.request_hangup(cause, event=None)
            chan._soft_hangup_sent = True
            self.emit_channel_event("SoftHangupRequest", chan, [("Cause", str(cause))])
            self.destroy(chan)

    def remote_hangup(self, chan: Channel, cause: int = 16) -> None:
        """The far end hung up (a SIP BYE): HangupRequest now, Hangup when the owner lets go."""
        if chan.destroyed or chan.hungup:
            return
        chan.request_hangup(cause, event="HangupRequest")
        if not chan.runs_dialplan and chan.owner is None:
            self.destroy(chan)

    def goto(self, chan: Channel, context: str, exten: str, priority: int = 1) -> None:
        """Send a channel to a dialplan location (Redirect, transfers)."""
        if chan._bridge_done is not None and not chan._bridge_done.is_set() and chan.runs_dialplan:
            # parked in an AMI Bridge: leave it and continue at the target
            chan._after_bridge = (context, exten, priority)
            if chan.bridge is not None:
                chan.bridge.clear_peers()
                chan.bridge.leave(chan)
            return
        if chan.runs_dialplan and chan._in_agi and not chan.hungup:
            # Asterisk's async goto: a soft hangup (AST_SOFTHANGUP_ASYNCGOTO) ends the AGI session
            # as if the caller had hung up; then the channel carries on at the new location.
            chan._redirect = (context, exten, priority)
            chan._async_goto = True
            chan.request_hangup(chan.hangup_cause, event=None)
            self.emit_channel_event("SoftHangupRequest", chan, [("Cause", "2")])
            return
        if chan.runs_dialplan and getattr(chan, "_app_task", None) is not None:
            chan._redirect = (context, exten, priority)
            task = chan._app_task
            chan._app_task = None
            task.cancel()
            return
        if chan.runs_dialplan:
            chan._redirect = (context, exten, priority)
            return
        if chan.bridge is not None:
            bridge = chan.bridge
            bridge.clear_peers()
            bridge.leave(chan)
        chan.owner = None
        self.start_dialplan(chan, context, exten, priority)

    def redirect(self, chan: Channel, context: str, exten: str, priority: int, *, extra: Channel | None = None,
                 extra_context: str | None = None, extra_exten: str | None = None,
                 extra_priority: int | None = None) -> None:
        if extra is not None:
            self.goto(extra, extra_context or context, extra_exten or exten, extra_priority or priority)
        self.goto(chan, context, exten, priority)

    # -- requesting outbound channels ---------------------------------------------
    def request_channel(self, tech: str, resource: str, requestor: Channel | None) -> Channel | int:
        """A new outbound channel (Dial/Originate) or a hangup cause when impossible."""
        linkedid = requestor.linkedid if requestor is not None else None
        if tech.lower() == "local":
            target = resource.split("/", 1)[0]
            exten, _, context = target.partition("@")
            context = context or "default"
            c1, c2 = self.new_local_pair(exten, context, linkedid)
            c1.owner = "request"
            return c1
        if tech.upper() == "PJSIP":
            name, number = parse_pjsip_resource(resource)
            ep = self.endpoint_states.get(name)
            if ep is None:
                return 3   # no such endpoint: CHANUNAVAIL
            if ep.config.kind == "phone" and not ep.registered:
                return 20  # subscriber absent: CHANUNAVAIL
            chan = self.new_pjsip_channel(name, linkedid, context=ep.config.context, exten="s")
            chan.owner = "request"
            if ep.config.kind == "trunk":
                chan.dnid = number or ""
                chan.participant = self.external_party(number or "")
            elif ep.phone is not None:
                chan.participant = ep.phone
            return chan
        return 66  # unknown technology

    def external_party(self, number: str):
        """Who answers a call out through the trunk to ``number`` (participants.ExternalParty)."""
        party = self.external_parties.get(number)
        if party is None:
            party = self.external_parties[number] = ExternalParty(self, number, self.external_defaults)
        return party

    def ring(self, chan: Channel) -> None:
        """Deliver an outbound channel to its endpoint (the softphone / the called number rings)."""
        if chan.tech == "Local":
            peer = chan.peer
            self.emit_local_bridge(chan, peer)
            return
        party = chan.participant
        if party is not None and hasattr(party, "on_incoming"):
            party.on_incoming(chan)
        else:
            chan.set_state(5)

    def start_callee(self, chan: Channel) -> None:
        """After DialBegin: a Local ;2 starts its dialplan."""
        if chan.tech == "Local" and chan.peer is not None:
            peer = chan.peer
            self.start_dialplan(peer, peer.context, peer.exten, 1)

    async def wait_answer(self, chans: list[Channel], timeout_s: float | None,
                          watch: Channel | None = None,
                          on_fail: Callable[[Channel], None] | None = None) -> Channel | None:
        """First channel of ``chans`` to be answered; None on timeout / all failed / watch hung up.
        ``on_fail`` is called once for each channel that hangs up before answering."""
        deadline = None if timeout_s is None else self.loop_time() + timeout_s
        failed: set[str] = set()
        while True:
            for c in chans:
                if c.state == 6 and not c.hungup:
                    return c
            for c in chans:
                if c.hungup and c.name not in failed:
                    failed.add(c.name)
                    if on_fail is not None:
                        on_fail(c)
            if all(c.hungup for c in chans) or (watch is not None and watch.hungup):
                return None
            remaining = None if deadline is None else deadline - self.loop_time()
            if remaining is not None and remaining <= 0:
                return None
            waiters = [asyncio.ensure_future(c.wait_state_change()) for c in chans if not c.hungup]
            if watch is not None:
                waiters.append(asyncio.ensure_future(watch.hangup_event.wait()))
            try:
                await asyncio.wait(waiters, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()

    # -- originate ------------------------------------------------------------------
    async def originate(self, *, channel: str, context: str | None = None, exten: str | None = None,
                        priority: int | None = None, application: str | None = None, data: str = "",
                        callerid: str | None = None, timeout_ms: int = 30000,
                        variables: dict[str, str] | None = None, account: str = "",
                        on_channel: Callable[[Channel], None] | None = None) -> OriginateResult:
        """Place a call; returns when it is answered or has failed. The call belongs to the PBX:
        cancelling the caller of originate() (an AMI client going away) does not cancel the call."""
        task = self.spawn(self._originate(channel=channel, context=context, exten=exten, priority=priority,
                                          application=application, data=data, callerid=callerid,
                                          timeout_ms=timeout_ms, variables=variables, account=account,
                                          on_channel=on_channel), name=f"originate {channel}")
        return await asyncio.shield(task)

    async def _originate(self, *, channel: str, context: str | None, exten: str | None, priority: int | None,
                         application: str | None, data: str, callerid: str | None, timeout_ms: int,
                         variables: dict[str, str] | None, account: str,
                         on_channel: Callable[[Channel], None] | None) -> OriginateResult:
        tech, _, resource = channel.partition("/")
        if tech.lower() not in ("local", "pjsip") or not resource:
            return OriginateResult(False, 0, None)
        got = self.request_channel(tech, resource, None)
        if isinstance(got, int):
            return OriginateResult(False, 0, None)
        c1 = got
        c1.owner = "originate"
        if account:
            c1.accountcode = account
        if on_channel is not None:
            on_channel(c1)
        c1.app, c1.appdata = "AppDial2", "(Outgoing Line)"
        self.emit_newexten(c1)
        cid_num, cid_name = parse_callerid(callerid) if callerid else (None, None)
        for k, v in (variables or {}).items():
            c1.set_variable(k, v)
        if callerid:
            c1.set_caller_id(cid_num, cid_name)
            c1.set_connected_line(cid_num, cid_name)
        if c1.tech == "Local":
            c2 = c1.peer
            for k, v in (variables or {}).items():
                c2.set_variable(k, v)
            if callerid:
                c2.set_caller_id(cid_num, cid_name)
                c2.set_connected_line(cid_num, cid_name)
        self.ring(c1)
        dial_string = resource
        self.emit_event("DialBegin", c1.snapshot("Dest") + [("DialString", dial_string)])
        self.start_callee(c1)
        answered = await self.wait_answer([c1], timeout_ms / 1000 if timeout_ms > 0 else None)
        if answered is None:
            if c1.hungup:
                cause = c1.hangup_cause
                status, reason = {17: ("BUSY", 5), 21: ("BUSY", 5), 34: ("CONGESTION", 8)}.get(cause, ("CANCEL", 1))
            else:
                status, reason = "NOANSWER", 3
            self.emit_event("DialEnd", c1.snapshot("Dest") + [("DialStatus", status)])
            if not c1.destroyed:
                c1.request_hangup(19 if status == "NOANSWER" else c1.hangup_cause, event=None)
                self.destroy(c1)
            return OriginateResult(False, reason, None)
        self.emit_event("DialEnd", c1.snapshot("Dest") + [("DialStatus", "ANSWER")])
        c1.owner = None
        if application:
            c1.runs_dialplan = True
            c1.app, c1.appdata = application, data
            self.spawn(self._run_application(c1, application, data), name=f"originate app {c1.name}")
        else:
            self.start_dialplan(c1, context or "default", exten or "s", priority or 1)
        return OriginateResult(True, 4, c1)

    async def _run_application(self, chan: Channel, app: str, data: str) -> None:
        try:
            chan._app_task = asyncio.current_task()
            chan.appdata = chan.eval_expression(data)
            self.emit_newexten(chan)
            await run_app(self, chan, app, chan.appdata)
        except asyncio.CancelledError:
            if getattr(chan, "_redirect", None) is None:
                raise
        finally:
            redirect = getattr(chan, "_redirect", None)
            if redirect is not None and not chan.hungup:
                chan._redirect = None
                chan.runs_dialplan = False
                self.start_dialplan(chan, *redirect)
            else:
                self._finish_dialplan(chan)

    # -- inbound calls (trunk) ----------------------------------------------------------
    def inbound_call(self, endpoint: str, *, caller_num: str, caller_name: str = "", dnid: str = "s",
                     context: str | None = None, participant: Any = None,
                     variables: dict[str, str] | None = None) -> Channel:
        ep = self.endpoint_states.get(endpoint)
        ctx = context or (ep.config.context if ep else "default")
        chan = Channel(self, "", self._new_uniqueid(), "", "PJSIP", context=ctx, exten=dnid, state=4)
        seq = self._pjsip_seq
        self._pjsip_seq += 1
        chan.name = f"PJSIP/{endpoint}-{seq:08x}"
        chan.linkedid = chan.uniqueid
        chan.endpoint = endpoint
        chan.dnid = dnid
        chan.caller_num = caller_num or "<unknown>"
        chan.caller_name = caller_name or "<unknown>"
        chan.participant = participant
        self._register(chan)
        for k, v in (variables or {}).items():
            chan.set_variable(k, v)
        self.start_dialplan(chan, ctx, dnid, 1)
        return chan

    # -- bridges ---------------------------------------------------------------------
    def new_bridge(self, bridge_type: str = "basic", technology: str = "simple_bridge", *,
                   creator: str = "<unknown>", name: str = "<unknown>") -> Bridge[Channel]:
        bid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        bridge: Bridge[Channel] = Bridge(self, bid, bridge_type=bridge_type, technology=technology, creator=creator,
                                         name=name)
        self.bridges[bid] = bridge
        self.emit_event("BridgeCreate", bridge.headers())
        return bridge

    def bridge(self, chan1: Channel, chan2: Channel, tone: str = "no") -> None:
        """AMI Bridge: pull both channels out of the dialplan into a new bridge."""
        self.spawn(self._ami_bridge(chan1, chan2), name=f"bridge {chan1.name}")

    async def _ami_bridge(self, chan1: Channel, chan2: Channel) -> None:
        """Asterisk's Bridge action: both leave what they were doing; when the bridge ends each one
        goes on in the dialplan at the priority after where it was (or where a Redirect sent it)."""
        parked = []
        for c in (chan1, chan2):
            c._bridge_done = asyncio.Event()
            c._after_bridge = None
            if c.runs_dialplan:
                c._after_bridge = (c.context, c.exten, c.priority + 1)
                c._parked = asyncio.Event()
                parked.append(c._parked)
                if c._in_agi and not c.hungup:
                    c._redirect = ("__bridge__", "s", 1)
                    c._async_goto = True
                    c.request_hangup(c.hangup_cause, event=None)
                    self.emit_channel_event("SoftHangupRequest", c, [("Cause", "2")])
                elif c._app_task is not None:
                    task, c._app_task = c._app_task, None
                    c._redirect = ("__bridge__", "s", 1)
                    task.cancel()
            else:
                if c.bridge is not None:
                    c.bridge.clear_peers()
                    c.bridge.leave(c)
                c.owner = "ami-bridge"
        if parked:
            await asyncio.wait([asyncio.ensure_future(p.wait()) for p in parked], timeout=30)
        for c in (chan1, chan2):
            if c.state != 6 and not c.hungup:
                self.answer(c)
        bridge = self.new_bridge()
        for c in (chan1, chan2):
            if not c.hungup and not c.destroyed:
                bridge.enter(c)
        bridge.set_peers()
        await bridge.wait_broken()
        bridge.clear_peers()
        for c in [c for c in bridge.channels if c.hungup] + [c for c in bridge.channels if not c.hungup]:
            bridge.leave(c)
        bridge.destroy()
        for c in (chan1, chan2):
            if c._bridge_done is not None:
                c._bridge_done.set()
            if not c.runs_dialplan and not c.destroyed:
                if not c.hungup:
                    c.request_hangup(16, event=None)
                self.destroy(c)

    # -- recording ----------------------------------------------------------------------
    def mixmonitor(self, chan: Channel, file: str, options: str = "", command: str = "") -> str:
        rec = self.media.start(chan, file, options)
        chan.set_variable("MIXMONITOR_FILENAME", str(rec.path) if Path(file).is_absolute() else str(rec.path))
        self.emit_channel_event("MixMonitorStart", chan)
        return rec.id

    def stop_mixmonitor(self, chan: Channel, mixmonitor_id: str | None = None) -> bool:
        recs = self.media.for_channel(chan)
        if mixmonitor_id:
            recs = [r for r in recs if r.id == mixmonitor_id]
        if not recs:
            return False
        for rec in recs:
            self.media.stop(rec)
        self.emit_channel_event("MixMonitorStop", chan)
        return True

    def mixmonitor_mute(self, chan: Channel, direction: str, state: bool) -> bool:
        recs = self.media.for_channel(chan)
        if not recs or direction not in ("read", "write", "both"):
            return False
        for rec in recs:
            self.media.mute(rec, direction, state)
        self.emit_channel_event("MixMonitorMute", chan, [("Direction", direction), ("State", "1" if state else "0")])
        return True

    # -- transfers -----------------------------------------------------------------------
    def blind_transfer(self, chan: Channel, context: str, exten: str) -> str:
        bridge = chan.bridge
        if bridge is None or chan.hungup:
            return "Invalid"
        if not self.dialplan.exists(context, exten):
            return "Fail"
        others = [c for c in bridge.channels if c is not chan]
        if not others:
            return "Invalid"
        transferee = others[0]
        self.emit_event("BlindTransfer", [("Result", "Success")] + chan.snapshot("Transferer")
                        + [("TransfererBridge" + k[len("Bridge"):] if k.startswith("Bridge") else k, v)
                           for k, v in bridge.headers()]
                        + transferee.snapshot("Transferee")
                        + [("IsExternal", "No"), ("Context", context), ("Extension", exten)])
        bridge.clear_peers()
        for c in list(bridge.channels):
            bridge.leave(c)
        self.goto(transferee, context, exten, 1)
        self.hangup(chan, 16)
        return "Success"

    async def atxfer(self, chan: Channel, exten: str, context: str) -> bool:
        """Attended transfer: consult ``exten@context``; when the transferer hangs up,
        the transferee and the target are bridged (AttendedTransfer event)."""
        bridge = chan.bridge
        if bridge is None or chan.hungup:
            return False
        others = [c for c in bridge.channels if c is not chan]
        if not others:
            return False
        transferee = others[0]
        self.spawn(self._atxfer(chan, transferee, bridge, exten, context), name=f"atxfer {chan.name}")
        return True

    async def _atxfer(self, chan: Channel, transferee: Channel, bridge: Bridge, exten: str, context: str) -> None:
        self.hold(chan, True)
        target = self.request_channel("Local", f"{exten}@{context}", chan)
        target.set_caller_id(chan.caller_num, chan.caller_name)
        self.ring(target)
        self.emit_event("DialBegin", chan.snapshot() + target.snapshot("Dest") + [("DialString", f"{exten}@{context}")])
        self.start_callee(target)
        answered = await self.wait_answer([target], 30.0, watch=chan)
        status = "ANSWER" if answered else ("CANCEL" if chan.hungup else "NOANSWER")
        self.emit_event("DialEnd", chan.snapshot() + target.snapshot("Dest") + [("DialStatus", status)])
        if not answered:
            self.hold(chan, False)
            if not target.destroyed:
                self.destroy(target)
            return
        consult = self.new_bridge()
        consult.enter(target)
        target.owner = "bridge"
        done = asyncio.Event()

        def complete(transferer: Channel) -> None:
            """The transferer hung up: the transferee and the target talk (synchronously, before
            the original bridge notices the transferer is gone)."""
            transferer.hangup_hooks.remove(complete)
            if target.hungup or transferee.hungup or bridge.destroyed:
                done.set()
                return
            self.emit_event("AttendedTransfer", [("Result", "Success")] + transferer.snapshot("OrigTransferer")
                            + [("OrigBridge" + k[len("Bridge"):], v) for k, v in bridge.headers()]
                            + transferer.snapshot("SecondTransferer")
                            + [("SecondBridge" + k[len("Bridge"):], v) for k, v in consult.headers()]
                            + transferee.snapshot("Transferee") + target.snapshot("TransferTarget")
                            + [("IsExternal", "No"), ("DestType", "Bridge"), ("DestBridgeUniqueid", bridge.uniqueid)])
            consult.leave(target)
            consult.destroy()
            bridge.clear_peers()
            bridge.leave(transferer)
            if not transferer.runs_dialplan:
                self.destroy(transferer)
            transferee.set_music(False)
            bridge.enter(target)
            bridge.set_peers()
            done.set()

        chan.hangup_hooks.append(complete)
        waiters = [asyncio.ensure_future(done.wait()), asyncio.ensure_future(target.hangup_event.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
        if complete in chan.hangup_hooks:      # the target hung up during the consultation
            chan.hangup_hooks.remove(complete)
            consult.leave(target)
            consult.destroy()
            self.hold(chan, False)
            if not target.destroyed:
                self.destroy(target)

    # -- hold ----------------------------------------------------------------------------
    def hold(self, chan: Channel, on: bool, music_class: str = "default") -> None:
        """``chan``'s phone puts the call on hold: Hold/Unhold on ``chan``, music for the other party."""
        if chan.hungup or chan.on_hold == on:
            return
        chan.on_hold = on
        if on:
            self.emit_channel_event("Hold", chan, [("MusicClass", music_class)])
        else:
            self.emit_channel_event("Unhold", chan)
        for other in chan.media_targets():
            other.set_music(on, music_class)
        if chan.tech == "PJSIP":
            self.update_device_state(chan.endpoint)

    # -- endpoints / device state ------------------------------------------------------------
    def add_endpoint(self, config: EndpointConfig) -> EndpointState:
        st = self.endpoint_states.get(config.name)
        if st is None:
            st = EndpointState(config)
            if config.kind == "trunk" or config.contact:
                st.registered = True
                st.contact_uri = config.contact or f"sip:{config.name}@127.0.0.1:5060"
            self.endpoint_states[config.name] = st
        else:
            st.config = config
        return st

    def set_registered(self, endpoint: str, registered: bool, contact: str | None = None) -> None:
        st = self.endpoint_states[endpoint]
        if st.registered == registered:
            return
        st.registered = registered
        if registered:
            st.contact_uri = contact or f"sip:{endpoint}@127.0.0.1:{5100 + len(self.endpoint_states)}"
        uri = st.contact_uri
        self.emit_event("ContactStatus", [("URI", uri), ("ContactStatus", "Created" if registered else "Removed"),
                                          ("AOR", endpoint), ("EndpointName", endpoint),
                                          ("RoundtripUsec", "0")], SYSTEM)
        if registered:
            self.emit_event("ContactStatus", [("URI", uri), ("ContactStatus", "Reachable"), ("AOR", endpoint),
                                              ("EndpointName", endpoint), ("RoundtripUsec", "0")], SYSTEM)
        self.update_device_state(endpoint)

    def endpoint_device_state(self, endpoint: str) -> str:
        st = self.endpoint_states.get(endpoint)
        if st is None:
            return "INVALID"
        if not st.registered:
            return "UNAVAILABLE"
        chans = [c for c in self._channels.values() if c.tech == "PJSIP" and c.endpoint == endpoint and not c.destroyed]
        if not chans:
            return "NOT_INUSE"
        up = [c for c in chans if c.state == 6]
        ringing = [c for c in chans if c.state == 5]
        if any(c.on_hold for c in up) and len(up) == 1:
            return "ONHOLD"
        if up and ringing:
            return "RINGINUSE"
        if up:
            return "INUSE"
        if ringing:
            return "RINGING"
        return "INUSE"

    def update_device_state(self, endpoint: str) -> None:
        if not endpoint or endpoint not in self.endpoint_states:
            return
        state = self.endpoint_device_state(endpoint)
        device = f"PJSIP/{endpoint}"
        if self.device_state_cache.get(device) != state:
            self.device_state_cache[device] = state
            self.emit_event("DeviceStateChange", [("Device", device), ("State", state)])

    def endpoints(self) -> list[Endpoint]:
        out = []
        for name, st in self.endpoint_states.items():
            state = self.endpoint_device_state(name)
            active = len([c for c in self._channels.values() if c.tech == "PJSIP" and c.endpoint == name])
            out.append(Endpoint(name=name, device_state=DEVICE_STATE_TEXT.get(state, "Unknown"),
                                contacts=[st.contact_uri] if st.registered and st.contact_uri else [],
                                max_contacts=st.config.max_contacts, active_channels=active))
        return out

    def device_states(self) -> dict[str, str]:
        return {f"PJSIP/{name}": self.endpoint_device_state(name) for name in self.endpoint_states}
