"""Live queue figures for the supervisor desk and the retained ``queues/{name}/stats`` topic."""
from __future__ import annotations

import time
from typing import Any, Iterable

from cti.agents import AgentService, AgentState


def eligible(queue: Any, agent) -> bool:
    members = tuple(getattr(queue, "members", ()) or ())
    if members:
        return agent.id in members
    skills = dict(getattr(queue, "skills", {}) or {})
    return bool(skills) and all(agent.skills.get(skill, 0) >= level for skill, level in skills.items())


def queue_stats(queues: Iterable[Any], agents: AgentService, model, calldata=None) -> dict[str, dict[str, Any]]:
    now = time.time()
    answered = {a.linkedid for a in agents.agents.values() if a.linkedid}
    waiting_by_queue: dict[str, list[float]] = {}
    if calldata is not None:
        for linkedid in calldata.live_calls():
            data = calldata.get(linkedid)
            queue = data.get("queue")
            if queue and linkedid in model.calls and linkedid not in answered:
                entered = data.get("queue_entered_at")
                waiting_by_queue.setdefault(queue, []).append(now - entered if isinstance(entered, (int, float))
                                                              else 0.0)
    stats = {}
    for queue in queues:
        members = [a for a in agents.agents.values() if eligible(queue, a)]
        counts = {state.value: 0 for state in AgentState}
        for agent in members:
            counts[agent.state.value] += 1
        waits = waiting_by_queue.get(queue.name, [])
        stats[queue.name] = {"v": 1, "queue": queue.name, "agents": len(members), "by_state": counts,
                             "logged_in": len(members) - counts[AgentState.LOGGED_OUT.value],
                             "calls_waiting": len(waits), "longest_wait_seconds": round(max(waits), 1) if waits else 0,
                             "at": now}
    return stats
