"""The live model of the PBX: channels grouped into calls by Linkedid, bridges, holds, transfers,
recordings and device states, rebuilt from AMI events in wire order.

``LiveModel.apply(event)`` is a fast, synchronous state update (an AmiSession observer).
``LiveModel.resync(...)`` replaces the picture with what CoreShowChannels / PJSIPShowEndpoints /
DeviceStateList report after a (re)connect, so the model equals the PBX again.

Events can arrive out of order or orphaned (a Hangup before its Newchannel, a Newstate after the Hangup,
BridgeEnter or DialEnd for a channel never announced, a DialBegin without DestUniqueid). The model
never brings a hung-up channel back (recently hung-up uniqueids are remembered), and any event that had
to invent a channel or a dial marks the model *suspect*: ``reconcile_due()`` then asks for a light
reconciliation (CoreShowChannels -> ``resync_channels``) once the stream is quiet for a moment (or at the
latest ``max_wait`` later), and every ``every`` seconds regardless, so a ghost cannot outlive it.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

ENDPOINT_STATE_WORDS = {  # PJSIPShowEndpoints DeviceState -> DeviceStateChange words
    "not in use": "NOT_INUSE", "in use": "INUSE", "busy": "BUSY", "invalid": "INVALID",
    "unavailable": "UNAVAILABLE", "ringing": "RINGING", "ring+inuse": "RINGINUSE", "on hold": "ONHOLD",
    "unknown": "UNKNOWN",
}
HOLD_APPLICATIONS = {"musiconhold"}


def endpoint_of(channel_name: str) -> str:
    """``PJSIP/1001-0000000a`` -> ``PJSIP/1001``; Local and other channels -> ''."""
    if not channel_name.startswith(("PJSIP/", "SIP/", "IAX2/")) or "-" not in channel_name:
        return ""
    return channel_name.rsplit("-", 1)[0]


_FIELDS = (("caller_num", "CallerIDNum"), ("caller_name", "CallerIDName"), ("connected_num", "ConnectedLineNum"),
           ("connected_name", "ConnectedLineName"), ("context", "Context"), ("exten", "Exten"))
_KEYS: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {}


def _keys(prefix: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """The header names of one channel block ("Dest", "LocalOne", … prefixes), built once per prefix."""
    keys = _KEYS[prefix] = (prefix + "Channel", prefix + "ChannelStateDesc",
                            tuple((attr, prefix + header) for attr, header in _FIELDS))
    return keys


def _clean(value: str | None) -> str:
    return "" if value in (None, "<unknown>") else value


@dataclass
class ChannelInfo:
    uniqueid: str
    name: str
    linkedid: str
    state: str = "Down"
    caller_num: str = ""
    caller_name: str = ""
    connected_num: str = ""
    connected_name: str = ""
    context: str = ""
    exten: str = ""
    application: str = ""
    bridge_id: str = ""
    on_hold: bool = False
    recording: bool = False
    recording_file: str = ""
    created_at: float = field(default_factory=time.time)
    answered_at: float | None = None

    @property
    def endpoint(self) -> str:
        return endpoint_of(self.name)

    def view(self) -> dict[str, Any]:
        return {"uniqueid": self.uniqueid, "name": self.name, "linkedid": self.linkedid, "state": self.state,
                "caller": {"num": self.caller_num, "name": self.caller_name},
                "connected": {"num": self.connected_num, "name": self.connected_name},
                "endpoint": self.endpoint, "context": self.context, "exten": self.exten,
                "application": self.application, "bridge": self.bridge_id or None, "on_hold": self.on_hold,
                "recording": self.recording, "recording_file": self.recording_file or None,
                "created_at": self.created_at, "answered_at": self.answered_at}


@dataclass
class BridgeInfo:
    id: str
    type: str = ""
    technology: str = ""
    channels: list[str] = field(default_factory=list)  # uniqueids, in order of entry


@dataclass
class CallInfo:
    linkedid: str
    started_at: float = field(default_factory=time.time)
    ended_at: float | None = None
    channels: list[str] = field(default_factory=list)   # uniqueids ever seen, in order
    dials: list[dict[str, Any]] = field(default_factory=list)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    recordings: list[dict[str, Any]] = field(default_factory=list)
    spies: list[dict[str, Any]] = field(default_factory=list)
    conference: str = ""
    end_reason: str = ""


GONE_KEPT = 20_000           # hung-up uniqueids remembered (a late event for one of them is ignored)
QUIET_S, MAX_WAIT_S, EVERY_S = 2.0, 15.0, 300.0


class LiveModel:
    def __init__(self, *, ended_calls_kept: int = 500, clock: Callable[[], float] = time.time,
                 quiet_s: float = QUIET_S, max_wait_s: float = MAX_WAIT_S, every_s: float = EVERY_S):
        self.channels: dict[str, ChannelInfo] = {}
        self.bridges: dict[str, BridgeInfo] = {}
        self.calls: dict[str, CallInfo] = {}
        self.ended_calls: deque[dict[str, Any]] = deque(maxlen=ended_calls_kept)
        self.devices: dict[str, str] = {}            # "PJSIP/1001" -> NOT_INUSE | UNAVAILABLE | ...
        self.local_pairs: dict[str, str] = {}        # Local ;1 uniqueid <-> ;2 uniqueid
        self.clock = clock
        self.events_applied = 0
        self.gone: dict[str, None] = {}              # recently hung-up uniqueids, oldest first
        self.suspect_since: float | None = None      # first event since the last reconcile that invented state
        self.suspect_events = 0
        self.last_event_at = 0.0
        self.last_reconcile_at = clock()
        self.quiet_s, self.max_wait_s, self.every_s = quiet_s, max_wait_s, every_s
        self._handlers: dict[str, Callable[[Mapping[str, Any]], str | None] | None] = {}  # Event -> _on_…
        self.call_ended_listeners: list[Callable[[dict[str, Any]], None]] = []

    # -- queries ------------------------------------------------------------------------------
    def channel_by_name(self, name: str) -> ChannelInfo | None:
        for chan in self.channels.values():
            if chan.name == name:
                return chan
        return None

    def channels_of_endpoint(self, endpoint: str) -> list[ChannelInfo]:
        return [c for c in self.channels.values() if c.endpoint == endpoint]

    def live_channels_of_call(self, linkedid: str) -> list[ChannelInfo]:
        """The call's channels still up: looked up through the call (every live channel is listed in its
        call's ``channels``), not by scanning every channel of the PBX."""
        call = self.calls.get(linkedid)
        if call is None:
            return [c for c in self.channels.values() if c.linkedid == linkedid]
        live = []
        for uid in call.channels:
            chan = self.channels.get(uid)
            if chan is not None and chan.linkedid == linkedid:
                live.append(chan)
        return live

    def bridge_peers(self, uniqueid: str) -> list[ChannelInfo]:
        """Channels sharing a bridge with this one (looking through Local channel pairs)."""
        chan = self.channels.get(uniqueid)
        if chan is None or not chan.bridge_id or chan.bridge_id not in self.bridges:
            return []
        peers: list[ChannelInfo] = []
        for uid in self.bridges[chan.bridge_id].channels:
            if uid == uniqueid or uid not in self.channels:
                continue
            peer = self.channels[uid]
            partner = self.local_pairs.get(uid)
            if partner and partner in self.channels and self.channels[partner].bridge_id:
                far = self.channels[partner]
                peers.extend(p for p in self.bridge_peers_direct(far) if p.uniqueid != partner)
            else:
                peers.append(peer)
        return peers

    def bridge_peers_direct(self, chan: ChannelInfo) -> list[ChannelInfo]:
        if not chan.bridge_id or chan.bridge_id not in self.bridges:
            return []
        return [self.channels[u] for u in self.bridges[chan.bridge_id].channels
                if u != chan.uniqueid and u in self.channels]

    def call_view(self, linkedid: str) -> dict[str, Any] | None:
        call = self.calls.get(linkedid)
        if call is None:
            for ended in self.ended_calls:
                if ended["linkedid"] == linkedid:
                    return ended
            return None
        return self._view(call)

    def calls_view(self) -> list[dict[str, Any]]:
        return [self._view(c) for c in self.calls.values()]

    def _view(self, call: CallInfo) -> dict[str, Any]:
        live = self.live_channels_of_call(call.linkedid)
        bridges = sorted({c.bridge_id for c in live if c.bridge_id})
        talking = []
        for bid in bridges:
            members = [self.channels[u].name for u in self.bridges.get(bid, BridgeInfo(bid)).channels
                       if u in self.channels]
            if len(members) >= 2:
                talking.append({"bridge": bid, "parties": members})
        state = "ended" if call.ended_at else ("talking" if talking else
                                               "ringing" if any(d["status"] == "ringing" for d in call.dials)
                                               else "active")
        if live and all(c.on_hold or not c.bridge_id for c in live) and any(c.on_hold for c in live):
            state = "on-hold"
        return {"v": 1, "linkedid": call.linkedid, "state": state, "started_at": call.started_at,
                "ended_at": call.ended_at, "channels": [c.view() for c in live], "bridges": bridges,
                "talking": talking, "on_hold": [c.name for c in live if c.on_hold],
                "dials": list(call.dials), "transfers": list(call.transfers),
                "recordings": [r for r in call.recordings if r.get("running")],
                "conference": call.conference or None, "spies": list(call.spies),
                "end_reason": call.end_reason or None}

    # -- event application ---------------------------------------------------------------------
    def apply(self, event: Mapping[str, Any]) -> str | None:
        """Apply one AMI event; returns the Linkedid it touched (or None)."""
        name = event.get("Event", "")
        self.events_applied += 1
        self.last_event_at = self.clock()
        if name in self._handlers:
            handler = self._handlers[name]
        else:
            handler = getattr(self, "_on_" + str(name).lower(), None)
            if len(self._handlers) < 1024:
                self._handlers[name] = handler
        if handler is not None:
            return handler(event)
        if event.get("Uniqueid") and event.get("Channel"):
            chan = self._touch(event)
            return chan.linkedid if chan else None
        return None

    def _touch(self, e: Mapping[str, Any], prefix: str = "", create: bool = True) -> ChannelInfo | None:
        uid = e.get(prefix + "Uniqueid")
        if not uid:
            return None
        chan = self.channels.get(uid)
        linkedid = e.get(prefix + "Linkedid") or (chan.linkedid if chan else uid)
        if chan is None:
            if not create or uid in self.gone:      # never resurrect a hung-up channel
                return None
            if e.get("Event") != "Newchannel":
                self.suspect(f"{e.get('Event')} for unknown channel {uid}")
            chan = ChannelInfo(uniqueid=uid, name=e.get(prefix + "Channel", ""), linkedid=linkedid,
                               created_at=self.clock())
            self.channels[uid] = chan
            self._call(linkedid).channels.append(uid)
        elif linkedid != chan.linkedid:      # the call this channel belongs to changed (transfer, masquerade)
            chan.linkedid = linkedid
            call = self._call(linkedid)
            if uid not in call.channels:
                call.channels.append(uid)
        keys = _KEYS.get(prefix) or _keys(prefix)
        name = e.get(keys[0])
        if name:
            chan.name = name
        state = e.get(keys[1])
        if state:
            if state == "Up" and chan.state != "Up":
                chan.answered_at = self.clock()
            chan.state = state
        for attr, header in keys[2]:
            value = e.get(header)
            if value is not None:
                setattr(chan, attr, "" if value == "<unknown>" else value)
        return chan

    def _call(self, linkedid: str) -> CallInfo:
        call = self.calls.get(linkedid)
        if call is None:
            call = self.calls[linkedid] = CallInfo(linkedid=linkedid, started_at=self.clock())
        return call

    def _on_newchannel(self, e):
        chan = self._touch(e)
        return chan.linkedid if chan else None

    def _on_rename(self, e):
        chan = self.channels.get(e.get("Uniqueid", ""))
        if chan:
            chan.name = e.get("Newname", chan.name)
            return chan.linkedid
        return None

    def _on_hangup(self, e):
        uid = e.get("Uniqueid", "")
        if uid:
            self._forget(uid)
        chan = self.channels.pop(uid, None)
        if chan is None:
            return None
        call = self.calls.get(chan.linkedid)
        if call is not None:
            for dial in call.dials:
                if dial["status"] == "ringing" and dial["to_uniqueid"] in (uid, "") and (
                        dial["to_uniqueid"] or dial["to"] == chan.name):
                    dial["status"] = "hangup"
        self._leave_bridge(chan)
        partner = self.local_pairs.pop(uid, None)
        if partner:
            self.local_pairs.pop(partner, None)
        self._maybe_end(chan.linkedid, e.get("Cause-txt") or f"cause {e.get('Cause', '')}".strip())
        return chan.linkedid

    def _forget(self, uid: str) -> None:
        gone = self.gone
        gone[uid] = None
        if len(gone) > GONE_KEPT:
            del gone[next(iter(gone))]

    # -- consistency ---------------------------------------------------------------------------
    def suspect(self, why: str) -> None:
        """Some event did not fit (orphan, out of order): a reconciliation with the PBX is due soon."""
        self.suspect_events += 1
        if self.suspect_since is None:
            self.suspect_since = self.clock()

    def reconcile_due(self, now: float | None = None) -> bool:
        """Time for a light reconciliation: suspect and quiet for quiet_s (or suspect for max_wait_s), or
        every_s since the last one."""
        now = self.clock() if now is None else now
        if now - self.last_reconcile_at >= self.every_s:
            return True
        since = self.suspect_since
        if since is None:
            return False
        return now - self.last_event_at >= self.quiet_s or now - since >= self.max_wait_s

    def _maybe_end(self, linkedid: str, reason: str) -> None:
        call = self.calls.get(linkedid)
        if call is None or self.live_channels_of_call(linkedid):
            return
        call.ended_at = self.clock()
        call.end_reason = reason
        for rec in call.recordings:
            rec["running"] = False
        view = self._view(call)
        del self.calls[linkedid]
        self.ended_calls.append(view)
        for listener in self.call_ended_listeners:
            listener(view)

    def _on_dialbegin(self, e):
        src = self._touch(e) if e.get("Uniqueid") else None
        dest = self._touch(e, "Dest")
        if not e.get("DestUniqueid"):
            self.suspect("DialBegin without DestUniqueid")
        chan = src or dest
        linkedid = chan.linkedid if chan else None
        if linkedid:
            self._call(linkedid).dials.append({
                "from": src.name if src else "", "to": dest.name if dest else e.get("DestChannel", ""),
                "to_uniqueid": e.get("DestUniqueid", ""), "dialstring": e.get("DialString", ""),
                "status": "ringing", "at": self.clock()})
        return linkedid

    def _on_dialend(self, e):
        if e.get("Uniqueid"):
            self._touch(e)
        dest = self._touch(e, "Dest", create=False)
        linkedid = e.get("Linkedid") or e.get("DestLinkedid")
        call = self.calls.get(linkedid or "")
        matched = False
        if call:
            for dial in reversed(call.dials):
                if dial["to_uniqueid"] == e.get("DestUniqueid", "") and dial["status"] == "ringing":
                    dial["status"] = (e.get("DialStatus") or "").lower() or "ended"
                    matched = True
                    break
        if not matched:
            self.suspect("DialEnd for no ringing dial")
        return dest.linkedid if dest else linkedid

    def _on_bridgecreate(self, e):
        bid = e.get("BridgeUniqueid", "")
        self.bridges.setdefault(bid, BridgeInfo(bid, e.get("BridgeType", ""), e.get("BridgeTechnology", "")))
        return None

    def _on_bridgeenter(self, e):
        bid = e.get("BridgeUniqueid", "")
        bridge = self.bridges.setdefault(bid, BridgeInfo(bid, e.get("BridgeType", ""),
                                                         e.get("BridgeTechnology", "")))
        chan = self._touch(e)
        if chan is None:
            return None
        if chan.bridge_id and chan.bridge_id != bid:
            self._leave_bridge(chan)
        chan.bridge_id = bid
        if chan.uniqueid not in bridge.channels:
            bridge.channels.append(chan.uniqueid)
        return chan.linkedid

    def _on_bridgeleave(self, e):
        chan = self._touch(e, create=False)
        if chan is None:
            return None
        self._leave_bridge(chan)
        return chan.linkedid

    def _leave_bridge(self, chan: ChannelInfo) -> None:
        bridge = self.bridges.get(chan.bridge_id)
        if bridge and chan.uniqueid in bridge.channels:
            bridge.channels.remove(chan.uniqueid)
        chan.bridge_id = ""

    def _on_bridgedestroy(self, e):
        bridge = self.bridges.pop(e.get("BridgeUniqueid", ""), None)
        if bridge:
            for uid in bridge.channels:
                if uid in self.channels:
                    self.channels[uid].bridge_id = ""
        return None

    def _on_localbridge(self, e):
        one, two = self._touch(e, "LocalOne"), self._touch(e, "LocalTwo")
        if one and two:
            self.local_pairs[one.uniqueid] = two.uniqueid
            self.local_pairs[two.uniqueid] = one.uniqueid
        return one.linkedid if one else None

    def _set_hold(self, e, on: bool):
        chan = self._touch(e, create=False)
        if chan is None:
            return None
        chan.on_hold = on
        return chan.linkedid

    def _on_hold(self, e):
        return self._set_hold(e, True)

    def _on_unhold(self, e):
        return self._set_hold(e, False)

    def _on_musiconholdstart(self, e):
        return self._set_hold(e, True)

    def _on_musiconholdstop(self, e):
        return self._set_hold(e, False)

    def _on_newstate(self, e):
        chan = self._touch(e)
        return chan.linkedid if chan else None

    def _on_blindtransfer(self, e):
        return self._transfer(e, "Transferer", "blind", f"{e.get('Extension', '')}@{e.get('Context', '')}")

    def _on_attendedtransfer(self, e):
        return self._transfer(e, "OrigTransferer", "attended",
                              e.get("TransferTargetChannel", "") or e.get("SecondTransfererChannel", ""))

    def _transfer(self, e, prefix: str, kind: str, to: str):
        chan = self._touch(e, prefix, create=False)
        linkedid = chan.linkedid if chan else e.get(f"{prefix}Linkedid")
        if linkedid and linkedid in self.calls:
            self.calls[linkedid].transfers.append({
                "kind": kind, "result": e.get("Result", ""), "by": e.get(f"{prefix}Channel", ""), "to": to,
                "at": self.clock()})
        return linkedid

    def _on_mixmonitorstart(self, e):
        chan = self._touch(e, create=False)
        if chan is None:
            return None
        chan.recording = True
        call = self._call(chan.linkedid)
        call.recordings.append({"channel": chan.name, "file": chan.recording_file or None,
                                "id": e.get("MixMonitorID", ""), "running": True, "started_at": self.clock()})
        return chan.linkedid

    def _on_mixmonitorstop(self, e):
        chan = self._touch(e, create=False)
        if chan is None:
            return None
        chan.recording = False
        for rec in self.calls.get(chan.linkedid, CallInfo("")).recordings:
            if rec["channel"] == chan.name and rec["running"]:
                rec["running"] = False
                rec["stopped_at"] = self.clock()
        return chan.linkedid

    def _on_varset(self, e):
        chan = self._touch(e, create=False)
        if chan is None:
            return None
        if e.get("Variable") == "MIXMONITOR_FILENAME":
            chan.recording_file = e.get("Value", "")
            for rec in self.calls.get(chan.linkedid, CallInfo("")).recordings:
                if rec["channel"] == chan.name and not rec["file"]:
                    rec["file"] = chan.recording_file
        return chan.linkedid

    def _on_confbridgejoin(self, e):
        chan = self._touch(e)
        if chan:
            self._call(chan.linkedid).conference = e.get("Conference", "")
            return chan.linkedid
        return None

    def _on_chanspystart(self, e):
        spyer = self._touch(e, "Spyer", create=False)
        spyee = self._touch(e, "Spyee", create=False)
        if spyee:
            self._call(spyee.linkedid).spies.append({"spyer": e.get("SpyerChannel", ""),
                                                      "spyee": spyee.name, "at": self.clock()})
            return spyee.linkedid
        return spyer.linkedid if spyer else None

    def _on_chanspystop(self, e):
        spyee = self._touch(e, "Spyee", create=False)
        if spyee:
            call = self.calls.get(spyee.linkedid)
            if call:
                call.spies = [s for s in call.spies if s["spyer"] != e.get("SpyerChannel")]
            return spyee.linkedid
        return None

    def _on_devicestatechange(self, e):
        self.devices[e.get("Device", "")] = e.get("State", "")
        return None

    def _on_contactstatus(self, e):
        endpoint = e.get("EndpointName") or e.get("AOR") or ""
        status = e.get("ContactStatus", "")
        if endpoint and status in ("Removed", "Unreachable"):
            self.devices[f"PJSIP/{endpoint}"] = "UNAVAILABLE"
        elif endpoint and status in ("Created", "Reachable") and self.devices.get(f"PJSIP/{endpoint}") in (
                None, "UNAVAILABLE"):
            self.devices[f"PJSIP/{endpoint}"] = "NOT_INUSE"
        return None

    def _on_originateresponse(self, e):
        return None

    # -- resync --------------------------------------------------------------------------------
    def resync_channels(self, channels: Iterable[Mapping[str, Any]],
                        reason: str = "gone from the PBX (reconciled)") -> dict[str, list[str]]:
        """The light reconciliation: channels and bridges replaced by CoreShowChannels' report (devices
        kept); a call the PBX no longer has ends with ``reason``."""
        return self.resync(channels, reason=reason)

    def resync(self, channels: Iterable[Mapping[str, Any]], endpoints: Iterable[Mapping[str, Any]] = (),
               device_states: Iterable[Mapping[str, Any]] = (), *,
               reason: str = "ended while disconnected") -> dict[str, list[str]]:
        """Replace channels, bridges and devices with the PBX's own report. Calls that vanished while
        we were away end with ``reason``. Returns what changed."""
        seen: dict[str, ChannelInfo] = {}
        bridges: dict[str, BridgeInfo] = {}
        for item in channels:
            uid = item.get("Uniqueid", "")
            old = self.channels.get(uid)
            chan = ChannelInfo(uniqueid=uid, name=item.get("Channel", ""), linkedid=item.get("Linkedid") or uid,
                               state=item.get("ChannelStateDesc", ""),
                               caller_num=_clean(item.get("CallerIDNum")), caller_name=_clean(item.get("CallerIDName")),
                               connected_num=_clean(item.get("ConnectedLineNum")),
                               connected_name=_clean(item.get("ConnectedLineName")),
                               context=item.get("Context", ""), exten=item.get("Exten", ""),
                               application=item.get("Application", ""),
                               bridge_id=item.get("BridgeId", "") or item.get("BridgeID", ""),
                               created_at=old.created_at if old else self.clock(),
                               answered_at=old.answered_at if old else None)
            chan.on_hold = chan.application.lower() in HOLD_APPLICATIONS or bool(old and old.on_hold and
                                                                                  not chan.bridge_id)
            if old:
                chan.recording, chan.recording_file = old.recording, old.recording_file
            seen[uid] = chan
            if chan.bridge_id:
                old_bridge = self.bridges.get(chan.bridge_id)
                bridge = bridges.setdefault(chan.bridge_id, BridgeInfo(
                    chan.bridge_id, old_bridge.type if old_bridge else "", old_bridge.technology if old_bridge else ""))
                bridge.channels.append(uid)
        gone = [uid for uid in self.channels if uid not in seen]
        added = [uid for uid in seen if uid not in self.channels]
        self.channels = seen
        self.bridges = bridges
        self.local_pairs = {a: b for a, b in self.local_pairs.items() if a in seen and b in seen}
        for chan in seen.values():
            call = self._call(chan.linkedid)
            if chan.uniqueid not in call.channels:
                call.channels.append(chan.uniqueid)
        for uid in seen:
            self.gone.pop(uid, None)                 # the PBX says it lives: believe it
        for call in self.calls.values():
            for dial in call.dials:
                if dial["status"] == "ringing" and dial["to_uniqueid"] not in seen:
                    dial["status"] = "gone"
        for linkedid in list(self.calls):
            self._maybe_end(linkedid, reason)
        self.suspect_since = None
        self.last_reconcile_at = self.clock()
        for item in endpoints:
            name = item.get("ObjectName") or item.get("Endpoint") or ""
            if name:
                word = ENDPOINT_STATE_WORDS.get(str(item.get("DeviceState", "")).lower(), "UNKNOWN")
                self.devices[f"PJSIP/{name}"] = word
        for item in device_states:
            if item.get("Device"):
                self.devices[item["Device"]] = item.get("State", "")
        return {"added": added, "gone": gone}

    def snapshot(self) -> dict[str, Any]:
        """Comparable picture (tests compare it with the simulator's)."""
        return {"channels": {u: (c.name, c.linkedid, c.state, c.bridge_id) for u, c in self.channels.items()},
                "calls": sorted(self.calls)}
