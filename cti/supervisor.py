"""Supervisor desk (班长席): everything live, listen / whisper / barge (强插), force hangup (强拆),
force an agent's state, and announcements (公告) kept until each agent has read them."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from cti.agents import AgentService, AgentState, CtiError
from cti.ami import AmiError, AmiSession
from cti.auth import SUPERVISE, Principal, require, require_read
from cti.commands import PbxError
from cti.model import LiveModel
from cti.models import Announcement, AnnouncementDelivery
from cti.notifier import Notifier
from cti.tracking import UNREACHABLE_STATES
from hotline.db import as_utc

log = logging.getLogger("hotline.cti.supervisor")
S = AgentState
SPY_OPTIONS = {"listen": "qE", "whisper": "qwE", "barge": "qBE"}
MAX_ANNOUNCEMENT = 2000


class NotFound(CtiError):
    status = 404


class Announcements:
    def __init__(self, sessions: async_sessionmaker, agents: AgentService, notifier: Notifier,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.sessions = sessions
        self.agents = agents
        self.notifier = notifier
        self.clock = clock

    def recipients(self, audience: dict[str, Any]) -> list[str]:
        if audience.get("all"):
            return [a.id for a in self.agents.agents.values()]
        if audience.get("team"):
            team = str(audience["team"])
            ids = [a.id for a in self.agents.agents.values() if a.team == team]
            if not ids:
                raise CtiError(f"no agent is in team {team!r}")
            return ids
        if audience.get("agents"):
            ids = [str(i) for i in audience["agents"]]
            for agent_id in ids:
                self.agents.get(agent_id)
            return ids
        raise CtiError("an announcement needs an audience: {\"all\": true}, {\"team\": \"A\"} or "
                       "{\"agents\": [\"1001\", ...]}")

    async def announce(self, by: str, text: str, audience: dict[str, Any], priority: str = "normal") -> dict[str, Any]:
        text = str(text or "").strip()
        if not text:
            raise CtiError("an announcement needs a text")
        if len(text) > MAX_ANNOUNCEMENT:
            raise CtiError(f"the announcement is {len(text)} characters; at most {MAX_ANNOUNCEMENT}")
        if priority not in ("normal", "urgent"):
            raise CtiError("priority is 'normal' or 'urgent'")
        ids = self.recipients(audience)
        label = "all" if audience.get("all") else (f"team:{audience['team']}" if audience.get("team")
                                                   else "agents:" + ",".join(ids))
        async with self.sessions() as session:
            async with session.begin():
                row = Announcement(at=self.clock(), by=by, audience=label[:200], text=text, priority=priority)
                session.add(row)
                await session.flush()
                for agent_id in ids:
                    session.add(AnnouncementDelivery(announcement_id=row.id, agent_id=agent_id))
        payload = self._payload(row)
        for agent_id in ids:
            self.notifier.announcement(agent_id, payload)
        log.info("announcement %d by %s to %s", row.id, by, label)
        return dict(payload, recipients=ids)

    @staticmethod
    def _payload(row: Announcement, read_at: datetime | None = None) -> dict[str, Any]:
        return {"id": row.id, "at": as_utc(row.at).isoformat(), "by": row.by, "audience": row.audience,
                "text": row.text, "priority": row.priority,
                "read_at": as_utc(read_at).isoformat() if read_at else None}

    async def unread(self, agent_id: str) -> list[dict[str, Any]]:
        self.agents.get(agent_id)
        async with self.sessions() as session:
            rows = (await session.execute(
                select(Announcement).join(AnnouncementDelivery,
                                          AnnouncementDelivery.announcement_id == Announcement.id)
                .where(AnnouncementDelivery.agent_id == agent_id, AnnouncementDelivery.read_at.is_(None))
                .order_by(Announcement.id))).scalars().all()
        return [self._payload(r) for r in rows]

    async def redeliver(self, agent_id: str) -> int:
        """Send the agent's unread announcements again (at login)."""
        unread = await self.unread(agent_id)
        for payload in unread:
            self.notifier.announcement(agent_id, payload)
        return len(unread)

    async def ack(self, agent_id: str, announcement_id: int) -> dict[str, Any]:
        self.agents.get(agent_id)
        async with self.sessions() as session:
            async with session.begin():
                delivery = (await session.execute(select(AnnouncementDelivery).where(
                    AnnouncementDelivery.agent_id == agent_id,
                    AnnouncementDelivery.announcement_id == announcement_id))).scalar_one_or_none()
                if delivery is None:
                    raise NotFound(f"announcement {announcement_id} was not sent to agent {agent_id}")
                if delivery.read_at is None:
                    delivery.read_at = self.clock()
                row = await session.get(Announcement, announcement_id)
                read_at = delivery.read_at
        return self._payload(row, read_at)


class SupervisorDesk:
    def __init__(self, *, ami: AmiSession | None, model: LiveModel, agents: AgentService,
                 announcements: Announcements, queue_stats: Callable[[], dict[str, Any]] = dict):
        self.ami = ami
        self.model = model
        self.agents = agents
        self.announcements = announcements
        self.queue_stats = queue_stats          # the ACD's live figures per queue

    def _agent_channel(self, agent_id: str):
        agent = self.agents.get(agent_id)
        chans = self.model.channels_of_endpoint(agent.endpoint)
        chans.sort(key=lambda c: (c.linkedid != agent.linkedid, c.state != "Up"))
        if not chans:
            raise CtiError(f"agent {agent_id} has no call (state {agent.state.value})")
        return chans[0]

    async def _send(self, action: dict[str, Any]) -> Any:
        if self.ami is None:
            raise PbxError("no AMI connection configured")
        try:
            return await self.ami.send_action(action)
        except AmiError as exc:
            raise PbxError(f"{action['Action']}: {exc}") from exc

    async def spy(self, principal: Principal, agent_id: str, mode: str) -> dict[str, Any]:
        """listen (quiet), whisper (only the agent hears the supervisor) or barge (all three talk)."""
        if mode not in SPY_OPTIONS:
            raise CtiError(f"spy mode {mode!r} is one of {', '.join(SPY_OPTIONS)}")
        require(principal, mode, agent_id=agent_id, roles=SUPERVISE | ({"qa"} if mode == "listen" else set()))
        target = self._agent_channel(agent_id)
        spyer = self.agents.get(principal.agent_id)
        device = self.model.devices.get(spyer.endpoint, "")
        if device in UNREACHABLE_STATES:
            raise CtiError(f"your phone {spyer.endpoint} is not registered (device state {device})")
        response = await self._send({
            "Action": "Originate", "Channel": spyer.endpoint, "Application": "ChanSpy",
            "Data": f"{target.name},{SPY_OPTIONS[mode]}", "Async": "true", "Timeout": "30000",
            "CallerID": f"\"{mode} {agent_id}\" <{agent_id}>"})
        log.info("%s %s agent %s (channel %s)", principal.agent_id, mode, agent_id, target.name)
        return {mode: {"agent_id": agent_id, "channel": target.name, "action_id": response.get("ActionID")}}

    async def force_hangup(self, principal: Principal, agent_id: str) -> dict[str, Any]:
        require(principal, "force-hangup", agent_id=agent_id, roles=SUPERVISE)
        target = self._agent_channel(agent_id)
        await self._send({"Action": "Hangup", "Channel": target.name, "Cause": "16"})
        log.info("%s force-hung-up agent %s (channel %s)", principal.agent_id, agent_id, target.name)
        return {"hung_up": target.name}

    async def force_state(self, principal: Principal, agent_id: str, state: str,
                          reason: str | None = None) -> dict[str, Any]:
        require(principal, "force-state", agent_id=agent_id, roles=SUPERVISE)
        agent = await self.agents.force(agent_id, state, by=principal.agent_id, reason=reason)
        return {"agent": agent.view()}

    async def announce(self, principal: Principal, text: str, audience: dict[str, Any],
                       priority: str = "normal") -> dict[str, Any]:
        require(principal, "announce", roles=SUPERVISE)
        return {"announcement": await self.announcements.announce(principal.agent_id, text, audience, priority)}

    def overview(self, principal: Principal) -> dict[str, Any]:
        require_read(principal, "see the supervisor overview")
        return {"v": 1, "agents": self.agents.views(), "queues": self.queue_stats(),
                "calls": self.model.calls_view()}
