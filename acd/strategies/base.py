"""What a routing strategy is, and the sorted pools the built-in strategies keep their ready agents in.

A strategy instance belongs to one queue and holds that queue's *ready* agents in an index ordered the
way the strategy prefers them, so a decision is a look at the front of a sorted container (O(log n)),
never a walk over every agent. The engine calls ``add`` when an agent of the queue becomes ready and
``remove`` when it stops being ready; an agent's sort key is computed at ``add`` time and stays fixed
while the agent is in the pool (its figures only change while it is busy, i.e. outside the pool).
"""
from __future__ import annotations

import abc
import random
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping

from sortedcontainers import SortedList

from acd.config import QueueSettings
from acd.state import AgentRecord, CallRecord


@dataclass
class StrategyContext:
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    # caller number -> (agent id, when that agent last served the caller); for customer-based routing
    last_served: Callable[[str], tuple[str, float] | None] = lambda caller: None
    now: Callable[[], float] = lambda: 0.0


class Strategy(abc.ABC):
    name = "abstract"

    def __init__(self, queue: QueueSettings, order: Mapping[str, int], ctx: StrategyContext) -> None:
        self.queue = queue
        self.order = order            # agent id -> position in this queue's member order
        self.ctx = ctx
        self.options = queue.strategy_options

    @abc.abstractmethod
    def add(self, agent: AgentRecord) -> None:
        ...

    @abc.abstractmethod
    def remove(self, agent: AgentRecord) -> None:
        ...

    @abc.abstractmethod
    def candidates(self, call: CallRecord) -> Iterator[AgentRecord]:
        """Ready agents that may take ``call``, best first (lazily: the engine usually takes the first)."""

    def accepts(self, agent: AgentRecord, call: CallRecord) -> bool:
        """May this member of the queue take this call at all (e.g. has the call's skill)?"""
        return True

    def offered(self, agent: AgentRecord, call: CallRecord) -> None:
        """Called when the engine offers ``call`` to ``agent`` (strategies with memory remember it)."""

    @abc.abstractmethod
    def __len__(self) -> int:
        ...

    @abc.abstractmethod
    def __contains__(self, agent: AgentRecord) -> bool:
        ...


class KeyedPool:
    """Agents sorted by a key computed when they join; removal by id in O(log n)."""

    def __init__(self, key: Callable[[AgentRecord], tuple]) -> None:
        self._key = key
        self._list: SortedList = SortedList()
        self._entries: dict[str, tuple] = {}
        self._agents: dict[str, AgentRecord] = {}

    def add(self, agent: AgentRecord) -> None:
        if agent.id in self._entries:
            return
        entry = (*self._key(agent), agent.id)
        self._entries[agent.id] = entry
        self._agents[agent.id] = agent
        self._list.add(entry)

    def discard(self, agent: AgentRecord) -> None:
        entry = self._entries.pop(agent.id, None)
        if entry is not None:
            self._list.remove(entry)
            del self._agents[agent.id]

    def __iter__(self) -> Iterator[AgentRecord]:
        agents = self._agents
        for entry in self._list:
            yield agents[entry[-1]]

    def __len__(self) -> int:
        return len(self._list)

    def __contains__(self, agent: AgentRecord) -> bool:
        return agent.id in self._entries

    def at(self, index: int) -> AgentRecord:
        return self._agents[self._list[index][-1]]

    def agents(self) -> Iterator[AgentRecord]:
        return iter(list(self._agents.values()))


class PooledStrategy(Strategy):
    """A strategy whose preference is one sort key over the queue's ready agents."""

    def __init__(self, queue, order, ctx) -> None:
        super().__init__(queue, order, ctx)
        self.pool = KeyedPool(self.key)

    @abc.abstractmethod
    def key(self, agent: AgentRecord) -> tuple:
        ...

    def add(self, agent):
        self.pool.add(agent)

    def remove(self, agent):
        self.pool.discard(agent)

    def candidates(self, call):
        return iter(self.pool)

    def __len__(self):
        return len(self.pool)

    def __contains__(self, agent):
        return agent in self.pool


class SkillPoolStrategy(Strategy):
    """Ready agents in one sorted pool per skill (built on first use, then kept up to date): a call is
    offered from the pool of the skill it needs. Subclasses say which skill a call needs, who qualifies
    for a skill, and the order within a pool."""

    def __init__(self, queue, order, ctx) -> None:
        super().__init__(queue, order, ctx)
        self.ready: dict[str, AgentRecord] = {}
        self.by_skill: dict[str | None, KeyedPool] = {}

    @abc.abstractmethod
    def call_skill(self, call: CallRecord) -> str | None:
        ...

    @abc.abstractmethod
    def eligible(self, agent: AgentRecord, skill: str | None) -> bool:
        ...

    def pool_key(self, skill: str | None) -> Callable[[AgentRecord], tuple]:
        """Longest idle first, then member order (a subclass may rank by proficiency first)."""
        return lambda a: (a.idle_since, self.order[a.id])

    def _pool(self, skill: str | None) -> KeyedPool:
        pool = self.by_skill.get(skill)
        if pool is None:
            pool = KeyedPool(self.pool_key(skill))
            for agent in self.ready.values():
                if self.eligible(agent, skill):
                    pool.add(agent)
            self.by_skill[skill] = pool
        return pool

    def add(self, agent):
        self.ready[agent.id] = agent
        for skill, pool in self.by_skill.items():
            if self.eligible(agent, skill):
                pool.add(agent)

    def remove(self, agent):
        if self.ready.pop(agent.id, None) is not None:
            for pool in self.by_skill.values():
                pool.discard(agent)

    def candidates(self, call):
        return iter(self._pool(self.call_skill(call)))

    def accepts(self, agent, call):
        return self.eligible(agent, self.call_skill(call))

    def __len__(self):
        return len(self.ready)

    def __contains__(self, agent):
        return agent.id in self.ready
