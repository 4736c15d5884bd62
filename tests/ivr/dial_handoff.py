"""A test double of the IVR's QueueHandoff for tests of the IVR alone (the product always hands callers to the
ACD, acd.handoff.AcdHandoff): ring every skilled agent at once (ringall) with ``EXEC Dial``, the caller
hearing music on hold meanwhile (Dial option ``m``).

Members of a queue: its pinned ``members`` if any, else every agent (role agent) whose skills meet the
queue's required minimum proficiencies (or the node's ``skill``). After Dial returns, DIALSTATUS tells the
outcome: ANSWER → answered (the agent is the one whose endpoint DIALEDPEERNAME names), CANCEL → the caller
hung up while it rang (abandoned), anything else → overflow.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Iterable, Mapping

from ivr.runtime.interfaces import QueueOutcome

log = logging.getLogger(__name__)


class DialQueueHandoff:
    def __init__(self, agents: Iterable[Any], queues: Iterable[Any], *, ring_timeout_s: int = 20,
                 music_class: str = "default") -> None:
        self.agents = [a for a in agents if getattr(a, "role", "agent") == "agent"]
        self.queues: dict[str, Any] = {q.name: q for q in queues}
        self.ring_timeout_s = ring_timeout_s
        self.music_class = music_class

    def members(self, queue: str, skill: str | None = None, language: str | None = None) -> list[Any]:
        q = self.queues.get(queue)
        if q is None:
            return []
        pinned = tuple(getattr(q, "members", ()) or ())
        if pinned:
            found = [a for a in self.agents if a.id in pinned]
        else:
            required: Mapping[str, int] = {skill: 1} if skill else dict(q.skills)
            found = [a for a in self.agents if all(a.skills.get(s, 0) >= lvl for s, lvl in required.items())]
        if language:
            speaking = [a for a in found if language in tuple(getattr(a, "languages", ()) or ())]
            found = speaking or found
        return found

    async def enqueue(self, call, queue: str, skill: str | None, priority: int) -> QueueOutcome:
        members = self.members(queue, skill, call.lang)
        if not members:
            return QueueOutcome("overflow", detail=f"no agent can take queue {queue!r}")
        channel = call.channel
        waiting = getattr(call, "waiting", None)
        clock = asyncio.get_running_loop().time   # the call's clock (virtual under the simulator), not the host's
        started = clock()
        await channel.set_variable("HOTLINE_QUEUE", queue)
        if waiting is not None:
            key = await waiting.hold()
            if key:
                return QueueOutcome(waiting.outcome_for(key), wait_s=clock() - started, extra={"key": key})
        dial = "&".join(a.endpoint for a in members)
        while True:
            ring_s = self.ring_timeout_s
            if waiting is not None and waiting.announce_interval_s > 0 and (waiting.options or waiting.wait_prompt):
                ring_s = max(1, int(min(ring_s, waiting.announce_interval_s)))
            if waiting is not None and waiting.max_wait_s is not None:
                left = waiting.max_wait_s - (clock() - started)
                ring_s = max(1, int(min(ring_s, left)))
            await channel.exec("Dial", f"{dial},{ring_s},m({self.music_class})")
            status = (await channel.get_variable("DIALSTATUS")) or ""
            elapsed = clock() - started
            if status == "ANSWER":
                peer = (await channel.get_variable("DIALEDPEERNAME")) or ""
                agent = next((a for a in members if peer.startswith(a.endpoint + "-") or peer == a.endpoint), None)
                if agent is None and len(members) == 1:
                    agent = members[0]
                agent_id = agent.id if agent else ""
                if agent_id:
                    await channel.set_variable("HOTLINE_AGENT_ID", agent_id)
                return QueueOutcome("answered", agent_id=agent_id, talk_s=elapsed, detail=status)
            if status == "CANCEL" or channel.hungup:
                return QueueOutcome("abandoned", wait_s=elapsed, detail=status)
            if waiting is None or status in ("CHANUNAVAIL", "CONGESTION", "INVALIDARGS") or (
                    waiting.max_wait_s is not None and elapsed >= waiting.max_wait_s - 0.5):
                return QueueOutcome("overflow", wait_s=elapsed, detail=status or "unknown")
            if not (waiting.options or waiting.wait_prompt):
                return QueueOutcome("overflow", wait_s=elapsed, detail=status or "unknown")
            key = await waiting.announce(position=None, wait_s=None)
            if key:
                return QueueOutcome(waiting.outcome_for(key), wait_s=clock() - started, extra={"key": key})
