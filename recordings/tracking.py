"""From AMI bridge events to Recorder calls: who is bridged with whom, when an agent joins or leaves.

    BridgeEnter  caller + agent now in one bridge   -> recorder.on_agent_answered(CallFacts)
    BridgeLeave  the agent leaves, the caller stays -> recorder.on_segment_ended(linkedid)
    Hangup       of the caller's channel            -> recorder.on_call_ended(linkedid)

An agent is a channel of a configured agent endpoint (agents.yaml `endpoint`, e.g. PJSIP/1001-0000002a);
the caller is the other party. Events are applied in wire order, one call (linkedid) after another's
coroutine finishes, so a segment never ends before it started. This tracker is the one place recordings
start and end (hotline/service.py puts it on the AMI session's observers, see recordings.service.running).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from recordings.policy import CallFacts
from recordings.ports import Agent
from recordings.recorder import Recorder

log = logging.getLogger(__name__)


class CallTracker:
    def __init__(
        self,
        recorder: Recorder,
        agents: Iterable[Agent],
        call_info: Callable[[str], Mapping[str, Any]] | None = None,
    ):
        """agents: objects with id, name, endpoint (hotline.config.AgentConfig); call_info(linkedid) may add
        queue / customer_id / called known to the CTI layer."""
        self._recorder = recorder
        self._agents = {str(a.endpoint): a for a in agents}
        self._call_info = call_info
        self._bridges: dict[str, dict[str, Mapping[str, str]]] = {}
        self._callers: dict[str, str] = {}  # linkedid -> caller channel being recorded
        self._chains: dict[str, asyncio.Task[None]] = {}

    def agent_of(self, channel: str) -> Agent | None:
        """`PJSIP/1001-0000002a` -> the agent whose endpoint is PJSIP/1001, else None."""
        endpoint = channel.rsplit("-", 1)[0] if "-" in channel else channel
        return self._agents.get(endpoint)

    def on_event(self, event: Mapping[str, str]) -> None:
        name = event.get("Event")
        if name == "BridgeEnter":
            self._bridge_enter(event)
        elif name == "BridgeLeave":
            self._bridge_leave(event)
        elif name == "Hangup":
            linkedid = event.get("Linkedid", "")
            if self._callers.get(linkedid) == event.get("Channel"):
                del self._callers[linkedid]
                self._run(linkedid, self._recorder.on_call_ended(linkedid))

    def panoramisk_callback(self, manager, event) -> None:
        """For Manager.register_event(name, tracker.panoramisk_callback)."""
        self.on_event(event)

    def _bridge_enter(self, event: Mapping[str, str]) -> None:
        members = self._bridges.setdefault(event.get("BridgeUniqueid", ""), {})
        members[event.get("Channel", "")] = dict(event)
        agents = [m for c, m in members.items() if self.agent_of(c) is not None]
        callers = [m for c, m in members.items() if self.agent_of(c) is None]
        if not agents or not callers:
            return
        entered_is_agent = self.agent_of(event.get("Channel", "")) is not None
        agent_event = event if entered_is_agent else agents[-1]
        caller_event = callers[0] if entered_is_agent else event
        if not entered_is_agent and len(callers) > 1:
            return  # a third party (supervisor barge, conference) joining is not a new segment
        agent = self.agent_of(agent_event["Channel"])
        if agent is None:
            return
        linkedid = caller_event.get("Linkedid", "")
        info = dict(self._call_info(linkedid) or {}) if self._call_info else {}
        facts = CallFacts(
            linkedid=linkedid,
            channel=caller_event["Channel"],
            caller=str(info.get("caller") or _num(caller_event.get("CallerIDNum"))),
            called=str(info.get("called") or _num(caller_event.get("Exten"))),
            agent_id=str(agent.id),
            agent_name=str(getattr(agent, "name", "")),
            queue=str(info.get("queue") or ""),
            customer_id=str(info["customer_id"]) if info.get("customer_id") is not None else None,
            direction=str(info.get("direction") or "inbound"),
        )
        self._callers[linkedid] = caller_event["Channel"]
        self._run(linkedid, self._recorder.on_agent_answered(facts))

    def _bridge_leave(self, event: Mapping[str, str]) -> None:
        members = self._bridges.get(event.get("BridgeUniqueid", ""), {})
        channel = event.get("Channel", "")
        members.pop(channel, None)
        if not members:
            self._bridges.pop(event.get("BridgeUniqueid", ""), None)
        linkedid = event.get("Linkedid", "")
        caller = self._callers.get(linkedid)
        if self.agent_of(channel) is not None and caller in members:
            self._run(linkedid, self._recorder.on_segment_ended(linkedid))

    def _run(self, linkedid: str, coro) -> None:
        previous = self._chains.get(linkedid)

        async def step():
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            try:
                await coro
            except Exception:
                log.exception("recording call %s", linkedid)

        task = asyncio.ensure_future(step())
        self._chains[linkedid] = task
        def forget(done: asyncio.Task[None]) -> None:
            if self._chains.get(linkedid) is done:
                del self._chains[linkedid]

        task.add_done_callback(forget)

    async def drain(self) -> None:
        while self._chains:
            await asyncio.gather(*list(self._chains.values()), return_exceptions=True)


def _num(value: str | None) -> str:
    return "" if value in (None, "<unknown>") else str(value)
