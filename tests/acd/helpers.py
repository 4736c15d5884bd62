"""Building engines and driving them in tests."""
from __future__ import annotations

import random
from types import SimpleNamespace

from acd import actions as act
from acd.config import AgentProfile, queue_settings
from acd.engine import Engine
from acd.state import CallRequest


def agent(agent_id: str, senior: bool = False, **skills: int) -> AgentProfile:
    return AgentProfile(id=agent_id, endpoint=f"PJSIP/{agent_id}", skills=skills or {"sales": 5}, senior=senior)


def queue(name: str = "sales", **raw) -> object:
    raw.setdefault("skills", {"sales": 1})
    raw.setdefault("max_wait", None)
    return queue_settings({"name": name, **raw})


def engine(queues, agents, seed: int = 0, log: list | None = None) -> Engine:
    eng = Engine(queues, agents, rng=random.Random(seed))
    if log is not None:
        eng.log.append(log.append)
    return eng


def offers(eng: Engine) -> list[act.Offer]:
    out = [a for a in eng.actions if isinstance(a, act.Offer)]
    eng.actions.clear()
    return out


def call(call_id: str, queue: str = "sales", **kw) -> CallRequest:
    return CallRequest(call_id=call_id, queue=queue, caller=kw.pop("caller", f"138{call_id:0>8}"), **kw)


def serve(eng: Engine, now: float, call_id: str, talk: float = 60.0, by: str = "agent") -> str:
    """Answer the pending offer for call_id and end it after ``talk`` seconds; returns the agent ID."""
    c = eng.calls[call_id]
    agent_id = c.agent_id
    assert eng.offer_answered(now, call_id, agent_id)
    assert eng.call_ended(now + talk, call_id, by=by)
    return agent_id


def queued_call(channel, lang: str = "zh-CN", customer=None, data=None) -> SimpleNamespace:
    """The caller as the IVR hands it to AcdHandoff.enqueue (acd.ports.QueuedCall), without waiting messages."""
    return SimpleNamespace(channel=channel, linkedid=channel.request.uniqueid, caller=channel.request.caller,
                           lang=lang, customer=customer, data=data or {}, waiting=None,
                           sound=lambda prompt_id: f"hotline/{lang}/{prompt_id}")
