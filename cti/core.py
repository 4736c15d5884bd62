"""The CTI in one object: the live model, agents, call data, screen pops, commands, supervisor desk.

    cti = Cti(agents=settings.agents, queues=settings.queues, sessions=sessions, publisher=bus,
              acd=acd_handoff, queue_wrapup_seconds={"presales": 30.0})
    await cti.start()            # agent states recovered from the database
    cti.attach(ami_session)      # model fed by the reader, handlers on per-call workers, resync on connect
    ...
    await cti.close()

The ACD owns queues: their figures (``queues/{name}/stats``), their wrap-up times and the ring-no-answer
policy. The CTI reads the figures from it and tells it when an agent answers, through ``cti.ports.QueueDesk``
(None: no queue figures, e.g. a CTI tested on its own).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from cti.ami_reader import AmiMessage as Message

from cti.agents import AgentService, CtiError
from cti.ami import AmiActionError, AmiSession
from cti.auth import Authenticator, Principal
from cti.calldata import CallDataStore
from cti.commands import AgentCommands
from cti.customers import CustomerDirectory, normalise_number
from cti.inputs import command_args
from cti.dialplan import DialplanNames
from cti.model import LiveModel, endpoint_of
from cti.notifier import Notifier, Publisher
from cti.ports import QueueDesk
from cti.records import CallRecords
from cti.screenpop import ScreenPop
from cti.supervisor import Announcements, SupervisorDesk
from cti.tracking import CALL_ENDED, AgentTracker

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from hotline.config import AgentConfig, QueueConfig

log = logging.getLogger("hotline.cti")
SUPERVISOR_COMMANDS = ("listen", "whisper", "barge", "force-hangup", "force-state", "announce")


class Cti:
    def __init__(self, *, agents: Iterable[AgentConfig], queues: Iterable[QueueConfig] = (),
                 sessions: async_sessionmaker[AsyncSession], publisher: Publisher | None,
                 ami: AmiSession | None = None, dialplan: DialplanNames = DialplanNames(),
                 default_wrapup_seconds: float = 30.0, queue_wrapup_seconds: Mapping[str, float] | None = None,
                 ring_timeout: float = 30.0, auth_secret: bytes | None = None, acd: QueueDesk | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        """``queue_wrapup_seconds``: each queue's wrap-up after its calls (the ACD's reading of queues.yaml)."""
        agents = list(agents)
        self.queue_configs = list(queues)
        self.ami = ami
        self.acd = acd
        self.model = LiveModel()
        self.notifier = Notifier(publisher)
        self.agents = AgentService(agents, sessions, default_wrapup_seconds=default_wrapup_seconds,
                                   queue_wrapup_seconds=dict(queue_wrapup_seconds or {}), clock=clock)
        self.calldata = CallDataStore()
        self.customers = CustomerDirectory(sessions)
        self.records = CallRecords(sessions, clock)
        self.screenpop = ScreenPop(self.customers, self.calldata, self.notifier,
                                   agent_names={a.id: a.name for a in agents})
        self.tracker = AgentTracker(agents=self.agents, model=self.model, calldata=self.calldata,
                                    screenpop=self.screenpop, records=self.records, notifier=self.notifier)
        self.announcements = Announcements(sessions, self.agents, self.notifier)
        self.commands = AgentCommands(ami=ami, model=self.model, agents=self.agents, calldata=self.calldata,
                                      records=self.records, tracker=self.tracker,
                                      queues={q.name: q for q in self.queue_configs}, dialplan=dialplan,
                                      ring_timeout=ring_timeout, announcements=self.announcements)
        self.supervisor = SupervisorDesk(ami=ami, model=self.model, agents=self.agents,
                                         announcements=self.announcements, queue_stats=self.queue_stats)
        self.auth = Authenticator(agents, secret=auth_secret, sessions=sessions)
        self.resyncs = 0
        self.agents.listeners.append(lambda agent, change: self.notifier.agent_state(agent.view()))

    # -- the ACD ---------------------------------------------------------------------------------
    def queue_stats(self) -> dict[str, dict[str, Any]]:
        """Live queue figures, from the ACD (their one owner); none without an ACD."""
        acd = self.acd
        return acd.queue_stats() if acd is not None else {}

    def tell_acd_answer(self, e: Message) -> None:
        """AMI observer (on the reader, in arrival order, before any slower handler): an agent's leg answered
        (DialEnd ANSWER) -> the ACD at once, so its live figures and the agent's busy state start with the
        conversation rather than when the caller's Dial returns at its end."""
        if e.get("Event") != "DialEnd" or e.get("DialStatus") != "ANSWER":
            return
        acd = self.acd
        agent = self.agents.for_endpoint(endpoint_of(e.get("DestChannel", "")))
        if acd is not None and agent is not None:
            acd.offer_answered(e.get("Linkedid") or e.get("DestLinkedid") or "", agent.id)

    def apply_to_model(self, e: Message) -> None:
        """AMI observer: the live model follows every event, in arrival order."""
        self.model.apply(e)

    # -- life cycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.auth.start()             # login lockouts survive a restart
        await self.agents.recover()
        for agent in self.agents.agents.values():
            self.notifier.agent_state(agent.view())

    def attach(self, session: AmiSession) -> None:
        self.ami = self.commands.ami = self.supervisor.ami = session
        session.add_observer(self.apply_to_model)
        session.add_observer(self.tell_acd_answer)
        session.add_handler(self.tracker.handle)
        session.add_connect_hook(self.resync)
        session.add_periodic_hook(self.tracker.reconcile_with_pbx)    # ghosts and stuck dials
        self.model.call_ended_listeners.append(
            lambda view: session.dispatcher.submit(view["linkedid"], Message(
                {"Event": CALL_ENDED, "CallLinkedid": view["linkedid"]})))

    async def resync(self, session: AmiSession) -> None:
        """After every (re)connect: the PBX's channels, endpoints and device states replace the model."""
        channels = await session.send_list({"Action": "CoreShowChannels"}, "CoreShowChannel")
        endpoints = await session.send_list({"Action": "PJSIPShowEndpoints"}, "EndpointList",
                                            empty_messages=("No endpoints found", "No endpoints found\n"))
        try:
            devices = await session.send_list({"Action": "DeviceStateList"}, "DeviceStateChange")
        except AmiActionError as exc:       # older Asterisk: endpoints' DeviceState is enough
            log.info("DeviceStateList not available: %s", exc)
            devices = []
        changes = self.model.resync(channels, endpoints, devices)
        await self.tracker.reconcile()
        self.resyncs += 1
        log.info("resync %d: %d channels (%d new, %d gone), %d endpoints", self.resyncs, len(channels),
                 len(changes["added"]), len(changes["gone"]), len(endpoints))

    async def close(self) -> None:
        await self.agents.close()
        await self.auth.close()

    # -- one entry for HTTP and MQTT commands ----------------------------------------------------
    async def dispatch(self, principal: Principal, agent_id: str, command: str,
                       args: dict[str, Any] | None = None) -> dict[str, Any]:
        if command in SUPERVISOR_COMMANDS or command in self.commands.table:
            args = command_args(command, args if args is not None else {})   # 422 with the reason
        args = dict(args or {})
        if command not in SUPERVISOR_COMMANDS:
            return await self.commands.execute(principal, agent_id, command, args)
        if command == "announce":
            return await self.supervisor.announce(principal, args.get("text", ""), args.get("audience") or {},
                                                  args.get("priority", "normal"))
        self.agents.get(agent_id)
        if command in ("listen", "whisper", "barge"):
            return await self.supervisor.spy(principal, agent_id, command)
        if command == "force-hangup":
            return await self.supervisor.force_hangup(principal, agent_id)
        if "state" not in args:
            raise CtiError("force-state needs a 'state' (logged-out, not-ready or ready)")
        return await self.supervisor.force_state(principal, agent_id, args["state"], args.get("reason"))

    def on_current_call(self, agent_id: str, number: str) -> bool:
        """Whether ``number`` is a party of the agent's current call (ringing, talking, on hold or in wrap-up):
        the rule by which an agent sees a customer's record and history."""
        agent = self.agents.agents.get(agent_id)
        if agent is None or not agent.linkedid:
            return False
        view = self.model.call_view(agent.linkedid)
        wanted = normalise_number(number)
        if view is None or not wanted:
            return False
        return any(normalise_number(c[side]["num"] or "") == wanted
                   for c in view["channels"] for side in ("caller", "connected"))

    def health(self) -> dict[str, Any]:
        return {"ok": True, "calls": len(self.model.calls), "channels": len(self.model.channels),
                "agents_logged_in": sum(1 for a in self.agents.agents.values() if a.state.value != "logged-out"),
                "resyncs": self.resyncs}
