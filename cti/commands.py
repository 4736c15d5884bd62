"""Agent commands (HTTP POST /api/agents/{id}/{command}, MQTT {prefix}/agents/{id}/cmd).

Every command checks the agent's state first and answers with a clear error (CtiError, HTTP status in
``.status``) before anything is sent to the PBX. Call control uses stock AMI actions and the dialplan
contexts of cti.dialplan (see /work/brief/cti_dialplan.md):

  dial            Originate the agent's phone into hotline-agent-outbound/<number> (agent rings first,
                  then the customer, with the queue's caller ID)
  hangup          Hangup the agent's channel
  hold / unhold   Redirect customer -> hotline-hold (music on hold) + agent -> hotline-agent-hold; Bridge back
  transfer        BlindTransfer of the agent's channel to hotline-transfer/<target>
  consult         hold the customer, the agent's channel dials the target (hotline-consult/<target>)
  consult-complete / consult-cancel / consult-swap / conference (ConfBridge room of the three)
  send-to-ivr     Redirect the customer to hotline-ivr-return/<flow>; the UserEvent at its end brings
                  them back and the flow's result becomes call data
  disposition     disposition code + notes on the call record (at wrap-up or during the call)
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from cti.agents import ON_CALL, AgentService, AgentState, CtiError
from cti.ami import AmiError, AmiSession
from cti.auth import Principal, require
from cti.calldata import CallDataStore
from cti.dialplan import DialplanNames
from cti.model import ChannelInfo, LiveModel
from cti.records import CallRecords
from cti.tracking import UNREACHABLE_STATES, AgentTracker

log = logging.getLogger("hotline.cti.commands")
S = AgentState
_NUMBER = re.compile(r"^\+?[0-9*#]{2,32}$")
_FLOW = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class PbxError(CtiError):
    status = 502


@dataclass
class CallControl:
    """What the CTI did to an agent's call that the PBX picture alone cannot tell."""
    linkedid: str
    agent_channel: str
    customer_channel: str
    held: bool = False
    consult_target: str = ""           # what was dialled (endpoint id or number)
    consult_channel: str = ""          # the target's channel once it answers
    talking_to: str = "customer"       # during a consult: "customer" or "target"
    conference_room: str = ""
    ivr_flow: str = ""
    waiters: list[asyncio.Future] = field(default_factory=list)


class AgentCommands:
    def __init__(self, *, ami: AmiSession | None, model: LiveModel, agents: AgentService, calldata: CallDataStore,
                 records: CallRecords, tracker: AgentTracker, queues: dict[str, Any] | None = None,
                 dialplan: DialplanNames = DialplanNames(), ring_timeout: float = 30.0,
                 announcements: Any = None):
        self.ami = ami
        self.model = model
        self.agents = agents
        self.calldata = calldata
        self.records = records
        self.tracker = tracker
        self.queues = queues or {}
        self.dp = dialplan
        self.ring_timeout = ring_timeout
        self.announcements = announcements
        self.controls: dict[str, CallControl] = {}        # agent id -> control of its current call
        self.originates: dict[str, dict[str, Any]] = {}   # ActionID -> outbound request
        tracker.dial_listeners.append(self._dial_result)
        tracker.event_listeners.append(self._event)
        self.table: dict[str, Callable[..., Awaitable[dict[str, Any]]]] = {
            "login": self.login, "logout": self.logout, "ready": self.ready, "not-ready": self.not_ready,
            "end-wrap-up": self.end_wrapup, "dial": self.dial, "hangup": self.hangup, "hold": self.hold,
            "unhold": self.unhold, "transfer": self.blind_transfer, "consult": self.consult,
            "consult-complete": self.consult_complete, "consult-cancel": self.consult_cancel,
            "consult-swap": self.consult_swap, "conference": self.conference, "send-to-ivr": self.send_to_ivr,
            "disposition": self.disposition, "ack-announcement": self.ack_announcement,
        }

    # -- entry point -----------------------------------------------------------------------------
    async def execute(self, principal: Principal, agent_id: str, command: str,
                      args: dict[str, Any] | None = None) -> dict[str, Any]:
        handler = self.table.get(command)
        if handler is None:
            raise CtiError(f"unknown agent command {command!r}; known: {', '.join(sorted(self.table))}")
        self.agents.get(agent_id)                                  # unknown agent -> 404 first
        require(principal, command, agent_id=agent_id)
        args = dict(args or {})
        try:
            inspect.signature(handler).bind(agent_id, **args)
        except TypeError as exc:
            raise CtiError(f"{command}: bad arguments {sorted(args)}: {exc}") from None
        try:
            result = await handler(agent_id, **args)
        except AmiError as exc:
            raise PbxError(f"{command} for agent {agent_id}: {exc}") from exc
        return {"agent": self.agents.get(agent_id).view(), **result}

    async def _send(self, action: dict[str, Any], **kw) -> Any:
        if self.ami is None:
            raise PbxError("no AMI connection configured")
        return await self.ami.send_action(action, **kw)

    # -- helpers ---------------------------------------------------------------------------------
    def _logged_in(self, agent_id: str, what: str):
        agent = self.agents.get(agent_id)
        if agent.state is S.LOGGED_OUT:
            raise CtiError(f"agent {agent_id} is not logged in; log in before '{what}'")
        return agent

    def _phone_ok(self, agent) -> None:
        state = self.model.devices.get(agent.endpoint, "")
        if state in UNREACHABLE_STATES:
            raise CtiError(f"agent {agent.id}'s phone {agent.endpoint} is not registered (device state {state})")

    def _agent_channel(self, agent) -> ChannelInfo:
        chans = self.model.channels_of_endpoint(agent.endpoint)
        chans.sort(key=lambda c: (c.linkedid != agent.linkedid, c.state != "Up"))
        if not chans:
            raise CtiError(f"agent {agent.id} has no call (state {agent.state.value})")
        return chans[0]

    def _control(self, agent) -> CallControl:
        chan = self._agent_channel(agent)
        ctl = self.controls.get(agent.id)
        if ctl is not None and ctl.agent_channel == chan.name and chan.name in {
                c.name for c in self.model.channels.values()}:
            return ctl
        peers = self.model.bridge_peers(chan.uniqueid)
        if not peers:
            raise CtiError(f"agent {agent.id} is not connected to anybody (channel {chan.name})")
        ctl = CallControl(linkedid=chan.linkedid, agent_channel=chan.name, customer_channel=peers[0].name)
        self.controls[agent.id] = ctl
        return ctl

    def _require_state(self, agent, states: set[AgentState], what: str) -> None:
        if agent.state not in states:
            raise CtiError(f"agent {agent.id} is {agent.state.value}; '{what}' needs "
                           f"{' or '.join(sorted(s.value for s in states))}")

    async def _redirect(self, channel: str, context: str, exten: str, *, extra: str | None = None,
                        extra_context: str | None = None, extra_exten: str | None = None) -> None:
        action = {"Action": "Redirect", "Channel": channel, "Context": context, "Exten": exten, "Priority": "1"}
        if extra:
            action.update({"ExtraChannel": extra, "ExtraContext": extra_context or context,
                           "ExtraExten": extra_exten or exten, "ExtraPriority": "1"})
        await self._send(action)

    async def _redirect_both(self, ctl: CallControl, customer_to: tuple[str, str], agent_to: tuple[str, str]) -> None:
        """Move customer and agent in one dual Redirect. The PBX moves the ExtraChannel first, so the party
        that was dialled (the callee of the other's Dial) goes there: moving the Dial caller first would end
        its Dial and hang the callee up."""
        call = self.model.calls.get(ctl.linkedid)
        agent_dialled_customer = call is not None and any(
            d["from"] == ctl.agent_channel and d["to"] == ctl.customer_channel for d in call.dials)
        if agent_dialled_customer:
            await self._redirect(ctl.agent_channel, *agent_to, extra=ctl.customer_channel,
                                 extra_context=customer_to[0], extra_exten=customer_to[1])
        else:
            await self._redirect(ctl.customer_channel, *customer_to, extra=ctl.agent_channel,
                                 extra_context=agent_to[0], extra_exten=agent_to[1])

    async def _bridge(self, one: str, two: str) -> None:
        await self._send({"Action": "Bridge", "Channel1": one, "Channel2": two, "Tone": "no"})

    # -- state commands --------------------------------------------------------------------------
    async def login(self, agent_id: str, ready: bool = False) -> dict[str, Any]:
        agent = await self.agents.transition(agent_id, "login")
        if self.model.devices.get(agent.endpoint, "") in UNREACHABLE_STATES:
            await self.agents.transition(agent_id, "unreachable", by="pbx")
            return {"warning": f"phone {agent.endpoint} is not registered; the agent stays not-ready"}
        if ready:
            await self.agents.transition(agent_id, "ready")
        if self.announcements is not None:
            await self.announcements.redeliver(agent_id)
        return {}

    async def logout(self, agent_id: str) -> dict[str, Any]:
        await self.agents.transition(agent_id, "logout")
        return {}

    async def ready(self, agent_id: str) -> dict[str, Any]:
        agent = self._logged_in(agent_id, "ready")
        self._phone_ok(agent)
        await self.agents.transition(agent_id, "ready")
        return {}

    async def not_ready(self, agent_id: str, reason: str = "") -> dict[str, Any]:
        self._logged_in(agent_id, "not-ready")
        await self.agents.transition(agent_id, "not-ready", reason=reason)
        return {}

    async def end_wrapup(self, agent_id: str) -> dict[str, Any]:
        self._logged_in(agent_id, "end-wrap-up")
        await self.agents.transition(agent_id, "end-wrap-up")
        return {}

    async def disposition(self, agent_id: str, code: str = "", notes: str = "",
                          linkedid: str | None = None) -> dict[str, Any]:
        agent = self._logged_in(agent_id, "disposition")
        call = linkedid or agent.linkedid
        if not call:
            raise CtiError(f"agent {agent_id} has no current or wrap-up call to give a disposition to; "
                           f"pass the call's linkedid")
        return {"disposition": await self.records.dispose(linkedid=call, agent_id=agent_id,
                                                          disposition=code, notes=notes)}

    async def ack_announcement(self, agent_id: str, announcement_id: int = 0) -> dict[str, Any]:
        if self.announcements is None:
            raise CtiError("announcements are not available")
        return {"announcement": await self.announcements.ack(agent_id, int(announcement_id))}

    # -- calls -----------------------------------------------------------------------------------
    async def dial(self, agent_id: str, number: str = "", queue: str | None = None) -> dict[str, Any]:
        agent = self._logged_in(agent_id, "dial")
        if agent.state in ON_CALL or agent.state is S.RESERVED:
            raise CtiError(f"agent {agent_id} is {agent.state.value}; finish the current call before dialling")
        self._phone_ok(agent)
        if not _NUMBER.match(str(number)):
            raise CtiError(f"{number!r} is not a number to dial (digits, * and #, optional leading +)")
        caller_id = self._caller_id(queue)
        action = {"Action": "Originate", "Channel": agent.endpoint, "Context": self.dp.outbound,
                  "Exten": number, "Priority": "1", "Async": "true",
                  "Timeout": str(int(self.ring_timeout * 1000)),
                  "CallerID": f"\"{number}\" <{number}>",
                  "Variable": [f"HOTLINE_AGENT={agent_id}", f"HOTLINE_OUTBOUND_CID={caller_id}",
                               f"HOTLINE_OUTBOUND_TRUNK={self.dp.outbound_trunk}",
                               f"HOTLINE_QUEUE={queue or ''}"]}
        response = await self._send(action)
        action_id = response.get("ActionID", "")
        self.originates[action_id] = {"agent_id": agent_id, "number": number, "queue": queue}
        return {"originate": {"action_id": action_id, "number": number, "caller_id": caller_id,
                              "status": "queued"}}

    def _caller_id(self, queue: str | None) -> str:
        if queue is None:
            return ""
        cfg = self.queues.get(queue)
        if cfg is None:
            raise CtiError(f"unknown queue {queue!r}; known: {', '.join(sorted(self.queues))}")
        raw = getattr(cfg, "raw", cfg) or {}
        return str(raw.get("caller_id") or raw.get("outbound_caller_id") or "")

    async def hangup(self, agent_id: str) -> dict[str, Any]:
        agent = self._logged_in(agent_id, "hangup")
        chan = self._agent_channel(agent)
        await self._send({"Action": "Hangup", "Channel": chan.name, "Cause": "16"})
        return {"hung_up": chan.name}

    async def hold(self, agent_id: str) -> dict[str, Any]:
        agent = self._logged_in(agent_id, "hold")
        self._require_state(agent, {S.TALKING}, "hold")
        ctl = self._control(agent)
        await self._redirect_both(ctl, (self.dp.hold, "s"), (self.dp.agent_hold, "s"))
        ctl.held = True
        await self.agents.transition(agent_id, "hold")
        return {"held": ctl.customer_channel}

    async def unhold(self, agent_id: str) -> dict[str, Any]:
        agent = self._logged_in(agent_id, "unhold")
        self._require_state(agent, {S.ON_HOLD}, "unhold")
        ctl = self.controls.get(agent_id)
        if ctl is None or not ctl.held:
            raise CtiError(f"agent {agent_id}'s call was not put on hold by the CTI; unhold it on the phone")
        await self._bridge(ctl.customer_channel, ctl.agent_channel)
        ctl.held = False
        await self.agents.transition(agent_id, "unhold")
        return {"resumed": ctl.customer_channel}

    def _target_check(self, target: str) -> None:
        target_agent = self.agents.agents.get(str(target))
        if target_agent is not None:
            if target_agent.state is not S.READY:
                raise CtiError(f"transfer target agent {target} is {target_agent.state.value}, not ready")
            device = self.model.devices.get(target_agent.endpoint, "")
            if device in UNREACHABLE_STATES or device in ("INUSE", "BUSY", "RINGING"):
                raise CtiError(f"transfer target agent {target}'s phone is {device.lower()}")
        elif not _NUMBER.match(str(target)):
            raise CtiError(f"transfer target {target!r} is neither an agent ID nor a number")

    async def blind_transfer(self, agent_id: str, target: str = "") -> dict[str, Any]:
        agent = self._logged_in(agent_id, "transfer")
        self._require_state(agent, {S.TALKING}, "transfer")
        self._target_check(target)
        target_endpoint = self._target_exten(target)
        chan = self._agent_channel(agent)
        await self.agents.transition(agent_id, "transfer-start")
        try:
            await self._send({"Action": "BlindTransfer", "Channel": chan.name, "Context": self.dp.transfer,
                              "Exten": target_endpoint})
        except AmiError:
            await self.agents.transition(agent_id, "transfer-cancel")
            raise
        if agent.state is S.TRANSFERRING:
            await self.agents.transition(agent_id, "transfer-complete", by="pbx")
        return {"transferred_to": target}

    def _target_exten(self, target: str) -> str:
        target_agent = self.agents.agents.get(str(target))
        return target_agent.endpoint.split("/", 1)[1] if target_agent else str(target)

    async def consult(self, agent_id: str, target: str = "", timeout: float | None = None) -> dict[str, Any]:
        """Hold the customer and ring the target from the agent's phone; returns once the target answers.
        If the target is busy or does not answer, the customer is back with the agent and this raises."""
        agent = self._logged_in(agent_id, "consult")
        self._require_state(agent, {S.TALKING}, "consult")
        self._target_check(target)
        ctl = self._control(agent)
        exten = self._target_exten(target)
        waiter = asyncio.get_running_loop().create_future()
        ctl.waiters.append(waiter)
        ctl.consult_target, ctl.consult_channel = exten, ""
        await self.agents.transition(agent_id, "transfer-start")
        try:
            await self._send({"Action": "Setvar", "Channel": ctl.agent_channel, "Variable": "HOTLINE_RING_TIMEOUT",
                              "Value": f"{self.ring_timeout:g}"})
            await self._redirect_both(ctl, (self.dp.hold, "s"), (self.dp.consult, exten))
        except AmiError:
            ctl.waiters.remove(waiter)
            await self.agents.transition(agent_id, "transfer-cancel")
            raise
        ctl.held = True
        try:
            status, dest = await asyncio.wait_for(waiter, timeout or self.ring_timeout + 5)
        except TimeoutError:            # the dialplan's own ring timeout should have fired: cancel the ringing
            status, dest = "NOANSWER", ""
            for chan in self.model.channels_of_endpoint(f"PJSIP/{exten}"):
                if chan.linkedid == ctl.linkedid and chan.state != "Up":
                    await self._send({"Action": "Hangup", "Channel": chan.name, "Cause": "19"}, check=False)
        finally:
            if waiter in ctl.waiters:
                ctl.waiters.remove(waiter)
        if status == "ANSWER":
            ctl.consult_channel, ctl.talking_to = dest, "target"
            return {"consult": {"target": target, "channel": dest}}
        await self._back_to_customer(agent_id, ctl)
        raise CtiError(f"transfer target {target} did not take the call ({status.lower() or 'no answer'}); "
                       f"the caller is back with agent {agent_id}")

    def _dial_result(self, dial: dict[str, Any]) -> None:
        for ctl in self.controls.values():
            if ctl.waiters and dial["source"] == ctl.agent_channel:
                for waiter in ctl.waiters:
                    if not waiter.done():
                        waiter.set_result((dial["status"], dial["dest"]))

    async def _back_to_customer(self, agent_id: str, ctl: CallControl) -> None:
        await self._bridge(ctl.customer_channel, ctl.agent_channel)
        ctl.held, ctl.consult_channel, ctl.consult_target, ctl.talking_to = False, "", "", "customer"
        if self.agents.get(agent_id).state is S.TRANSFERRING:
            await self.agents.transition(agent_id, "transfer-cancel")

    def _consulting(self, agent_id: str, what: str) -> CallControl:
        agent = self._logged_in(agent_id, what)
        self._require_state(agent, {S.TRANSFERRING}, what)
        ctl = self.controls.get(agent_id)
        if ctl is None or not ctl.consult_channel:
            raise CtiError(f"agent {agent_id} has no answered consult call; '{what}' needs one")
        return ctl

    async def consult_complete(self, agent_id: str) -> dict[str, Any]:
        ctl = self._consulting(agent_id, "consult-complete")
        target_chan = self.model.channel_by_name(ctl.consult_channel)
        if target_chan is not None and target_chan.linkedid != ctl.linkedid:
            self.calldata.link(target_chan.linkedid, ctl.linkedid)
        # the target leaves the agent's Dial first (else ending that Dial would hang the target up)
        await self._redirect(ctl.consult_channel, self.dp.agent_hold, "s")
        await self._bridge(ctl.customer_channel, ctl.consult_channel)
        if self.model.channel_by_name(ctl.agent_channel) is not None:
            try:
                await self._send({"Action": "Hangup", "Channel": ctl.agent_channel, "Cause": "16"})
            except AmiError as exc:          # already gone: Dial ended when the target left
                log.info("consult-complete: agent leg already ended: %s", exc)
        self.controls.pop(agent_id, None)
        if self.agents.get(agent_id).state is S.TRANSFERRING:
            await self.agents.transition(agent_id, "transfer-complete", by="agent")
        return {"transferred_to": ctl.consult_channel}

    async def consult_cancel(self, agent_id: str) -> dict[str, Any]:
        agent = self._logged_in(agent_id, "consult-cancel")
        self._require_state(agent, {S.TRANSFERRING}, "consult-cancel")
        ctl = self.controls.get(agent_id)
        if ctl is None:
            raise CtiError(f"agent {agent_id} has no consult call to cancel")
        target, ctl.consult_channel = ctl.consult_channel, ""     # its Hangup event is no longer ours to handle
        if target and self.model.channel_by_name(target) is not None:
            await self._send({"Action": "Hangup", "Channel": target, "Cause": "16"}, check=False)
        await self._back_to_customer(agent_id, ctl)
        return {"resumed": ctl.customer_channel}

    async def consult_swap(self, agent_id: str) -> dict[str, Any]:
        ctl = self._consulting(agent_id, "consult-swap")
        talking, waiting = ((ctl.consult_channel, ctl.customer_channel) if ctl.talking_to == "target"
                            else (ctl.customer_channel, ctl.consult_channel))
        await self._redirect(talking, self.dp.hold, "s")
        await self._bridge(ctl.agent_channel, waiting)
        ctl.talking_to = "customer" if ctl.talking_to == "target" else "target"
        return {"talking_to": ctl.talking_to}

    async def conference(self, agent_id: str) -> dict[str, Any]:
        """All three parties of a consult into one ConfBridge room (named after the call)."""
        ctl = self._consulting(agent_id, "conference")
        room = re.sub(r"\D", "", ctl.linkedid) or "1"
        await self._redirect(ctl.customer_channel, self.dp.conference, room)
        # the target (callee of the agent's consult Dial) must move first, or ending that Dial drops it;
        # Asterisk (and pbxsim) move the ExtraChannel first
        await self._redirect(ctl.agent_channel, self.dp.conference, room, extra=ctl.consult_channel)
        target_chan = self.model.channel_by_name(ctl.consult_channel)
        if target_chan is not None and target_chan.linkedid != ctl.linkedid:
            self.calldata.link(target_chan.linkedid, ctl.linkedid)
        ctl.conference_room, ctl.held = room, False
        await self.agents.transition(agent_id, "transfer-cancel")       # the agent talks again (to both)
        return {"conference": room}

    async def send_to_ivr(self, agent_id: str, flow: str = "") -> dict[str, Any]:
        agent = self._logged_in(agent_id, "send-to-ivr")
        self._require_state(agent, {S.TALKING}, "send-to-ivr")
        if not _FLOW.match(str(flow)):
            raise CtiError(f"{flow!r} is not a flow name (lower-case letters, digits, - and _)")
        ctl = self._control(agent)
        await self._redirect_both(ctl, (self.dp.ivr_return, flow), (self.dp.agent_hold, "s"))
        ctl.held, ctl.ivr_flow = True, flow
        self.calldata.update(ctl.linkedid, {"ivr_flow": flow})
        await self.agents.transition(agent_id, "hold")
        return {"sent_to_ivr": flow}

    async def _event(self, e) -> None:
        name = e.get("Event", "")
        if name == "Hangup":
            await self._party_left(e.get("Channel", ""))
        elif name == "UserEvent" and e.get("UserEvent") == self.dp.ivr_return_event:
            await self._ivr_returned(e)
        elif name == "OriginateResponse":
            request = self.originates.pop(e.get("ActionID", ""), None)
            if request is None:
                return
            if e.get("Response") == "Success":
                self.tracker.outbound[e.get("Linkedid") or self._linkedid_of(e.get("Uniqueid", ""))] = request
            else:
                log.warning("outbound call of agent %s to %s failed: the agent's phone did not answer "
                            "(reason %s)", request["agent_id"], request["number"], e.get("Reason"))

    async def _party_left(self, channel: str) -> None:
        """The customer or the consulted party of a call the CTI moved (hold, consult, conference, IVR) hung
        up. Once neither is left, the agent's leg — which after an AMI Bridge goes on in the dialplan
        (possibly into hotline-agent-hold) or stays alone in a ConfBridge room — is hung up too. When the
        consulted party leaves a conference the agent goes on talking to the customer; when the customer
        leaves, the conference ends (see _end_conference)."""
        if not channel:
            return
        for agent_id, ctl in list(self.controls.items()):
            if channel not in (ctl.customer_channel, ctl.consult_channel):
                continue
            remaining = [c for c in (ctl.customer_channel, ctl.consult_channel)
                         if c and c != channel and self.model.channel_by_name(c) is not None]
            if remaining:
                if ctl.conference_room and channel == ctl.customer_channel:
                    await self._end_conference(agent_id, ctl, remaining)
                elif ctl.conference_room:
                    log.info("%s left agent %s's conference %s; %s still there", channel, agent_id,
                             ctl.conference_room, ", ".join(remaining))
                elif channel == ctl.consult_channel:
                    await self._consult_target_left(agent_id, ctl)
                continue
            del self.controls[agent_id]
            if self.model.channel_by_name(ctl.agent_channel) is not None:
                try:
                    await self._send({"Action": "Hangup", "Channel": ctl.agent_channel, "Cause": "16"}, check=False)
                except AmiError as exc:
                    log.warning("agent %s's leg %s not hung up after the other parties left: %s", agent_id,
                                ctl.agent_channel, exc)

    async def _end_conference(self, agent_id: str, ctl: CallControl, remaining: list[str]) -> None:
        """The rule of a three-way conference: it exists for the customer. When the customer leaves, the
        conference ends: the agent's and the consulted party's legs are hung up, so both agents are released
        to wrap-up (each by its own hang-up, as after any call), and the recording and the call record end
        with the call's last channel. (A colleague who leaves leaves the agent with the customer.)"""
        del self.controls[agent_id]
        log.info("customer %s left agent %s's conference %s: the conference ends, %s hung up", ctl.customer_channel,
                 agent_id, ctl.conference_room, ", ".join([ctl.agent_channel, *remaining]))
        for leg in dict.fromkeys([ctl.agent_channel, *remaining]):
            if self.model.channel_by_name(leg) is None:
                continue
            try:
                await self._send({"Action": "Hangup", "Channel": leg, "Cause": "16"}, check=False)
            except AmiError as exc:
                log.warning("conference %s: %s not hung up after the customer left: %s", ctl.conference_room, leg,
                            exc)

    async def _consult_target_left(self, agent_id: str, ctl: CallControl) -> None:
        """The consulted party hung up before complete/cancel: like Asterisk's attended transfer, the agent
        is back with the held caller (bridged again if the agent was talking to the target)."""
        log.info("consult target %s of agent %s hung up; the caller is back with the agent", ctl.consult_channel,
                 agent_id)
        if ctl.talking_to == "target":
            await self._back_to_customer(agent_id, ctl)
            return
        ctl.held, ctl.consult_channel, ctl.consult_target, ctl.talking_to = False, "", "", "customer"
        if self.agents.get(agent_id).state is S.TRANSFERRING:
            await self.agents.transition(agent_id, "transfer-cancel")

    def _linkedid_of(self, uniqueid: str) -> str:
        chan = self.model.channels.get(uniqueid)
        return chan.linkedid if chan else uniqueid

    async def _ivr_returned(self, e) -> None:
        channel = e.get("Channel", "")
        for agent_id, ctl in list(self.controls.items()):
            if ctl.ivr_flow and ctl.customer_channel == channel:
                result = e.get("Result", "")
                self.calldata.update(ctl.linkedid, {"ivr_result": {"flow": ctl.ivr_flow, "result": result}})
                await self._bridge(ctl.customer_channel, ctl.agent_channel)
                ctl.held, ctl.ivr_flow = False, ""
                if self.agents.get(agent_id).state is S.ON_HOLD:
                    await self.agents.transition(agent_id, "unhold")
                log.info("caller of agent %s is back from the IVR with result %r", agent_id, result)
                return
