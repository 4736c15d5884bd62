"""From AMI events to agent states, screen pops, call records, call data and call notifications.

Runs as an AmiSession handler (off the reader, ordered per call). The live model has already applied the
event when this runs, so the model may be ahead; decisions use the event's own headers.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Any, AsyncContextManager, Callable, Protocol, Sequence

from cti.agents import ON_CALL, AgentService, AgentState, CtiError, IllegalTransition
from cti.calldata import CallDataStore
from cti.model import LiveModel, endpoint_of
from cti.notifier import Notifier
from cti.records import CallRecords
from cti.screenpop import ScreenPop

log = logging.getLogger("hotline.cti.tracking")
S = AgentState
CALL_ENDED = "HotlineCallEnded"          # synthetic event queued behind a call's last event
UNREACHABLE_STATES = {"UNAVAILABLE", "INVALID"}
# what the IVR leaves on the caller's channel (ivr.runtime.nodes.routing.attach_ivr_path) -> call data keys
IVR_LISTS = {"HOTLINE_IVR_PATH": "ivr_path", "HOTLINE_IVR_CHOICES": "ivr_choices"}
IVR_VALUES = {"HOTLINE_IVR_FLOW": "ivr_flow", "HOTLINE_IVR_LANGUAGE": "ivr_language"}


class ChannelLister(Protocol):
    """What the light reconciliation needs from the AMI session."""

    async def send_list(self, action: dict, item_event: str) -> Sequence[Any]: ...

    def holding_events(self) -> AsyncContextManager[None]: ...


class AgentTracker:
    def __init__(self, *, agents: AgentService, model: LiveModel, calldata: CallDataStore, screenpop: ScreenPop,
                 records: CallRecords, notifier: Notifier):
        self.agents = agents
        self.model = model
        self.calldata = calldata
        self.screenpop = screenpop
        self.records = records
        self.notifier = notifier
        self.dial_listeners: list[Callable[[dict[str, Any]], None]] = []   # consult/transfer waiters
        self.event_listeners: list[Callable[[Any], Any]] = []              # commands: OriginateResponse, UserEvent
        self.outbound: dict[str, dict[str, Any]] = {}                      # agent channel linkedid -> info
        self.callers: dict[tuple[str, str], str] = {}                      # (agent, linkedid) -> caller number
        self._published: dict[str, dict[str, Any]] = {}                    # linkedid -> last calls/{id} update

    async def _try(self, agent_id: str, request: str, **kw) -> bool:
        try:
            await self.agents.transition(agent_id, request, by="pbx", **kw)
            return True
        except IllegalTransition as exc:
            log.info("PBX event ignored for the agent state: %s", exc)
            return False

    async def handle(self, e) -> None:
        name = e.get("Event", "")
        method = getattr(self, "_on_" + name.lower(), None)
        if method is not None:
            await method(e)
        for listener in list(self.event_listeners):
            result = listener(e)
            if asyncio.iscoroutine(result):
                await result
        linkedid = e.get("CallLinkedid") if name == CALL_ENDED else e.get("Linkedid")
        if not linkedid:
            return
        view = self.model.call_view(linkedid) if name != CALL_ENDED else None
        if view is None or view["state"] == "ended":
            self._published.pop(linkedid, None)
            return
        update = dict(view, data=self.calldata.get(linkedid))
        if self._published.get(linkedid) != update:   # most events change nothing a desktop shows
            self._published[linkedid] = update
            self.notifier.call(linkedid, update)

    # -- ringing, answer, no answer --------------------------------------------------------------
    async def _on_dialbegin(self, e) -> None:
        agent = self.agents.for_endpoint(endpoint_of(e.get("DestChannel", "")))
        if agent is None or agent.state is S.LOGGED_OUT:
            return
        linkedid = e.get("DestLinkedid") or e.get("Linkedid") or ""
        if agent.state in ON_CALL and agent.linkedid == linkedid:
            return
        data = self.calldata.get(linkedid)
        if not await self._try(agent.id, "ring", linkedid=linkedid, queue=data.get("queue")):
            return
        if e.get("Uniqueid"):             # a caller dials the agent: inbound (or internal) call
            number = e.get("CallerIDNum", "").replace("<unknown>", "")
            name = e.get("CallerIDName", "").replace("<unknown>", "")
            call = self.model.calls.get(linkedid)
            if self.agents.for_endpoint(endpoint_of(e.get("Channel", ""))) is not None and call:
                # a colleague's consult/transfer leg: pop the customer of the call, not the colleague
                first = self.model.channels.get(call.channels[0]) if call.channels else None
                if first is not None and not self.agents.for_endpoint(first.endpoint):
                    number, name = first.caller_num, first.caller_name
            self.callers[(agent.id, linkedid)] = number
            await self.screenpop.pop(agent_id=agent.id, linkedid=linkedid, caller_number=number,
                                     caller_name=name, call_started_at=call.started_at if call else None)

    async def _on_newstate(self, e) -> None:
        """Outbound calls: the Originated agent channel may ring/answer without a DialBegin naming it."""
        agent = self.agents.for_endpoint(endpoint_of(e.get("Channel", "")))
        if agent is None or agent.state is S.LOGGED_OUT:
            return
        linkedid = e.get("Linkedid", "")
        state = e.get("ChannelStateDesc", "")
        if state == "Ringing" and agent.state not in ON_CALL:
            await self._try(agent.id, "ring", linkedid=linkedid)
        elif state == "Up" and agent.state is S.RINGING and agent.linkedid == linkedid:
            await self._answered(agent.id, linkedid, e)

    async def _answered(self, agent_id: str, linkedid: str, e) -> None:
        if not await self._try(agent_id, "answer", linkedid=linkedid):
            return
        info = self.outbound.get(linkedid)
        call = self.model.calls.get(linkedid)
        first = self.model.channels.get(call.channels[0]) if call and call.channels else None
        caller = info["number"] if info else self.callers.pop((agent_id, linkedid), None)
        if caller is None:
            caller = first.caller_num if first else ""
        queue = self.calldata.get(linkedid).get("queue") or (info or {}).get("queue")
        started = datetime.fromtimestamp(call.started_at, timezone.utc) if call else None
        await self.records.open(linkedid=linkedid, agent_id=agent_id, caller_number=caller or "", queue=queue,
                                direction="outbound" if info else "inbound", started_at=started)

    async def _on_dialend(self, e) -> None:
        status = e.get("DialStatus", "")
        for listener in list(self.dial_listeners):
            listener({"source": e.get("Channel", ""), "dest": e.get("DestChannel", ""), "status": status,
                      "linkedid": e.get("Linkedid") or e.get("DestLinkedid")})
        agent = self.agents.for_endpoint(endpoint_of(e.get("DestChannel", "")))
        if agent is None or agent.state is S.LOGGED_OUT:
            return
        linkedid = e.get("DestLinkedid") or e.get("Linkedid") or ""
        if agent.linkedid != linkedid:
            return
        if status == "ANSWER":
            if agent.state is S.RINGING:
                await self._answered(agent.id, linkedid, e)
        elif status == "NOANSWER":          # recorded; whether the agent goes not-ready is the ACD's call
            await self._try(agent.id, "ring-no-answer", linkedid=linkedid)
        elif status == "CHANUNAVAIL":
            await self._try(agent.id, "unreachable", linkedid=linkedid)
        elif agent.state is S.RINGING:           # CANCEL, BUSY, CONGESTION: back to where the agent was
            await self._try(agent.id, "abandon", linkedid=linkedid)

    # -- the end of an agent's leg and of calls --------------------------------------------------
    async def _on_hangup(self, e) -> None:
        agent = self.agents.for_endpoint(endpoint_of(e.get("Channel", "")))
        if agent is None or agent.state is S.LOGGED_OUT:
            return
        linkedid = e.get("Linkedid", "")
        if agent.linkedid != linkedid:
            return
        remaining = [c for c in self.model.channels_of_endpoint(agent.endpoint) if c.linkedid == linkedid]
        if remaining:
            return
        if agent.state in (S.TALKING, S.ON_HOLD, S.TRANSFERRING):
            await self._try(agent.id, "hangup", linkedid=linkedid)
        elif agent.state is S.RINGING:
            await self._try(agent.id, "abandon", linkedid=linkedid)

    async def _on_hotlinecallended(self, e) -> None:
        linkedid = e.get("CallLinkedid", "")
        data = self.calldata.end(linkedid)
        self.screenpop.forget(linkedid)
        await self.records.close(linkedid, data)
        self.outbound.pop(linkedid, None)
        for key in [k for k in self.callers if k[1] == linkedid]:
            del self.callers[key]
        view = self.model.call_view(linkedid)
        if view is not None:
            self.notifier.call(linkedid, dict(view, data=data))

    # -- devices ---------------------------------------------------------------------------------
    async def _unreachable(self, endpoint: str) -> None:
        agent = self.agents.for_endpoint(endpoint)
        if agent is None or agent.state is S.LOGGED_OUT:
            return
        if agent.state is S.NOT_READY and agent.reason == "unreachable":
            return
        await self._try(agent.id, "unreachable")

    async def _on_devicestatechange(self, e) -> None:
        if e.get("State", "") in UNREACHABLE_STATES:
            await self._unreachable(e.get("Device", ""))

    async def _on_contactstatus(self, e) -> None:
        if e.get("ContactStatus", "") in ("Removed", "Unreachable"):
            await self._unreachable("PJSIP/" + (e.get("EndpointName") or e.get("AOR") or ""))

    async def _on_peerstatus(self, e) -> None:
        if e.get("PeerStatus", "") in ("Unregistered", "Unreachable"):
            await self._unreachable(e.get("Peer", ""))

    # -- call data from the dialplan / IVR -------------------------------------------------------
    async def _on_varset(self, e) -> None:
        variable, value, linkedid = e.get("Variable", ""), e.get("Value", ""), e.get("Linkedid", "")
        if not linkedid or not variable.startswith("HOTLINE_"):
            return
        try:
            if variable == "HOTLINE_QUEUE":
                self.calldata.update(linkedid, {"queue": value or None,
                                                "queue_entered_at": self.model.clock() if value else None})
            elif variable in IVR_LISTS:
                self.calldata.update(linkedid, {IVR_LISTS[variable]: [p for p in value.split(",") if p]})
            elif variable in IVR_VALUES:
                self.calldata.update(linkedid, {IVR_VALUES[variable]: value or None})
            elif variable.startswith("HOTLINE_DATA_"):
                self.calldata.update(linkedid, {variable[len("HOTLINE_DATA_"):].lower(): value})
        except CtiError as exc:
            log.error("call %s: %s=%r not stored: %s", linkedid, variable, value[:80], exc)

    # -- after a reconnect or restart: the PBX's picture wins -------------------------------------
    async def reconcile_with_pbx(self, session: ChannelLister) -> bool:
        """The light reconciliation (an AMI periodic hook, called often): when the model says it is due
        (orphan or out-of-order events then a quiet moment, or every few minutes), CoreShowChannels
        replaces the channels — ghost calls end, dials to nowhere stop ringing — and agent states
        follow. Returns whether it ran."""
        if not self.model.reconcile_due():
            return False
        suspects = self.model.suspect_events
        async with session.holding_events():
            channels = await session.send_list({"Action": "CoreShowChannels"}, "CoreShowChannel")
            changes = self.model.resync_channels(channels)
        self.model.suspect_events = 0
        await self.reconcile()
        if changes["gone"] or changes["added"] or suspects:
            log.info("reconciled with the PBX after %d odd event(s): %d channels, %d ghost(s) removed, %d missed",
                     suspects, len(channels), len(changes["gone"]), len(changes["added"]))
        return True

    async def reconcile(self) -> None:
        for agent in list(self.agents.agents.values()):
            if agent.state is S.LOGGED_OUT:
                continue
            chans = [c for c in self.model.channels_of_endpoint(agent.endpoint)]
            device = self.model.devices.get(agent.endpoint, "")
            if chans:
                chan = next((c for c in chans if c.linkedid == agent.linkedid), chans[0])
                if chan.state == "Up":
                    if agent.state in (S.TALKING, S.ON_HOLD, S.TRANSFERRING) and agent.linkedid == chan.linkedid:
                        continue
                    await self.agents.set_from_pbx(agent.id, S.TALKING, reason=None, linkedid=chan.linkedid)
                elif agent.state is not S.RINGING or agent.linkedid != chan.linkedid:
                    await self.agents.set_from_pbx(agent.id, S.RINGING, reason=None, linkedid=chan.linkedid)
            elif device in UNREACHABLE_STATES:
                if not (agent.state is S.NOT_READY and agent.reason == "unreachable"):
                    await self.agents.set_from_pbx(agent.id, S.NOT_READY, reason="unreachable", linkedid=None)
            elif agent.state in (S.TALKING, S.ON_HOLD, S.TRANSFERRING):
                await self.agents.set_from_pbx(agent.id, S.WRAP_UP, reason=None, linkedid=agent.linkedid)
            elif agent.state is S.RINGING:
                back = agent.state_before_ring if agent.state_before_ring in (S.READY, S.NOT_READY) else S.READY
                await self.agents.set_from_pbx(agent.id, back, linkedid=None,
                                               reason=agent.reason_before_ring if back is S.NOT_READY else None)
