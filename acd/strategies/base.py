"""What a routing strategy is, and the pooled strategies the built-in ones derive from.

A strategy instance belongs to one queue and holds that queue's *ready* agents in pools ordered the way
the strategy prefers them, so a decision looks at the front of a pool (O(log n)), never walks every agent.
The engine calls ``add`` when an agent of the queue becomes ready. When the agent stops being ready the
engine bumps its ``ready_stamp``: a *lazy* strategy (``lazy = True``) needs nothing more — its entries for
the agent are stale from then on — while an eager one also gets ``remove``. An agent's sort key is computed
at ``add`` time and stays fixed while the agent is ready (its figures only change while it is busy).

Waiting calls are indexed per queue by the strategy's ``call_class``: every call of one class may be taken
by the same agents (``accepts_class``), so an agent becoming ready looks at the head of each class it may
take instead of walking the queue. A strategy that overrides ``accepts`` without classes is still correct:
the engine then walks the queue's callers in order and asks ``accepts`` for each.
"""
from __future__ import annotations

import abc
import random
from dataclasses import dataclass, field
from typing import Callable, Collection, Hashable, Iterable, Iterator, Mapping

from acd.config import QueueSettings
from acd.state import AgentRecord, AgentState, CallRecord
from acd.strategies.pools import KeyedPool, LazyPool

__all__ = ["KeyedPool", "LazyPool", "LazyStrategy", "PooledStrategy", "SkillPoolStrategy", "SortedPoolStrategy",
           "Strategy", "StrategyContext"]

_NO_SUCH_SKILL = "\0no-such-skill"


@dataclass
class StrategyContext:
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    # caller number -> (agent id, when that agent last served the caller); for customer-based routing
    last_served: Callable[[str], tuple[str, float] | None] = lambda caller: None
    now: Callable[[], float] = lambda: 0.0


class Strategy(abc.ABC):
    name = "abstract"
    lazy = False                  # True: leaving the pools is the engine's stamp bump; ``remove`` is not called

    def __init__(self, queue: QueueSettings, order: Mapping[str, int], ctx: StrategyContext) -> None:
        self.queue = queue
        self.order = order            # agent id -> position in this queue's member order
        self.ctx = ctx
        self.options = queue.strategy_options

    @abc.abstractmethod
    def add(self, agent: AgentRecord) -> None:
        ...

    def remove(self, agent: AgentRecord) -> None:
        """The agent is no longer ready (only called on eager strategies)."""

    @abc.abstractmethod
    def candidates(self, call: CallRecord) -> Iterator[AgentRecord]:
        """Ready agents that may take ``call``, best first (lazily: the engine usually takes the first)."""

    def pick(self, call: CallRecord, tried: Collection[str]) -> AgentRecord | None:
        """The best candidate whose id is not in ``tried`` (agents that missed this call); if every ready
        candidate missed it, the best one again (like app_queue's retry). None: nobody may take it."""
        fallback = None
        for looked, agent in enumerate(self.candidates(call)):
            if agent.id not in tried:
                return agent
            if fallback is None:
                fallback = agent
            if looked >= len(tried):
                break
        return fallback

    def accepts(self, agent: AgentRecord, call: CallRecord) -> bool:
        """May this member of the queue take this call at all (e.g. has the call's skill)?"""
        return True

    def call_class(self, call: CallRecord) -> Hashable:
        """Calls of one class are accepted by the same agents (computed once when the call joins)."""
        return None

    def accepts_class(self, agent: AgentRecord, cls: Hashable) -> bool:
        return True

    def classes_for(self, agent: AgentRecord) -> Iterable[Hashable] | None:
        """The classes this agent may take, or None: look at every class present (``accepts_class``)."""
        return None

    def offered(self, agent: AgentRecord, call: CallRecord) -> None:
        """Called when the engine offers ``call`` to ``agent`` (strategies with memory remember it)."""

    def check(self, ready: list[AgentRecord]) -> None:
        """Invariant check: ``ready`` are the queue's ready members; the pools hold exactly them."""

    @abc.abstractmethod
    def __len__(self) -> int:
        ...

    @abc.abstractmethod
    def __contains__(self, agent: AgentRecord) -> bool:
        ...


class LazyStrategy(Strategy):
    """Membership by stamp: the agent is in this strategy's pools iff it was added in its current ready period."""
    lazy = True

    def __init__(self, queue, order, ctx) -> None:
        super().__init__(queue, order, ctx)
        self._stamp: dict[str, int] = {}          # agent id -> ready stamp when added
        self.seen: dict[str, AgentRecord] = {}    # members that were ever ready

    def _admit(self, agent: AgentRecord) -> bool:
        """Record the agent's new ready period; False if it was already added in this one."""
        if self._stamp.get(agent.id) == agent.ready_stamp:
            return False
        self._stamp[agent.id] = agent.ready_stamp
        self.seen[agent.id] = agent
        return True

    def is_ready(self, agent: AgentRecord) -> bool:
        return agent.state is AgentState.READY and self._stamp.get(agent.id) == agent.ready_stamp

    def ready_agents(self) -> list[AgentRecord]:
        return [a for a in self.seen.values() if self.is_ready(a)]

    def __len__(self):
        return len(self.ready_agents())

    def __contains__(self, agent):
        return self.is_ready(agent)


class PooledStrategy(LazyStrategy):
    """A strategy whose preference is one sort key over the queue's ready agents."""

    def __init__(self, queue, order, ctx) -> None:
        super().__init__(queue, order, ctx)
        self.pool = LazyPool(self.key)

    @abc.abstractmethod
    def key(self, agent: AgentRecord) -> tuple:
        ...

    def add(self, agent):
        if self._admit(agent):
            self.pool.push(agent)

    def pick(self, call, tried):
        first, untried = self.pool.take(tried)
        return untried or first

    def candidates(self, call):
        return iter(self.pool.ordered())

    def check(self, ready):
        self.pool.check(ready)


class SortedPoolStrategy(Strategy):
    """An eager pool in a sorted list (positional access, e.g. random picks): ``remove`` on leaving."""

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

    def check(self, ready):
        assert sorted(a.id for a in self.pool) == sorted(a.id for a in ready), f"{self.queue.name}: pool != ready"

    def __len__(self):
        return len(self.pool)

    def __contains__(self, agent):
        return agent in self.pool


class SkillPoolStrategy(LazyStrategy):
    """Ready agents in one pool per skill (built on first use, then kept up to date): a call is offered
    from the pool of the skill it needs; waiting calls are classed by that skill. Subclasses say which
    skill a call needs, who qualifies for a skill, and the order within a pool."""

    def __init__(self, queue, order, ctx) -> None:
        super().__init__(queue, order, ctx)
        self.by_skill: dict[str | None, LazyPool] = {}
        self._pools_of: dict[str, list[LazyPool]] = {}          # agent id -> the pools it qualifies for
        self._classes_of: dict[str, list | None] = {}

    @abc.abstractmethod
    def call_skill(self, call: CallRecord) -> str | None:
        ...

    @abc.abstractmethod
    def eligible(self, agent: AgentRecord, skill: str | None) -> bool:
        ...

    def pool_key(self, skill: str | None) -> Callable[[AgentRecord], tuple]:
        """Longest idle first, then member order (a subclass may rank by proficiency first)."""
        return lambda a: (a.idle_since, self.order[a.id])

    def _pool(self, skill: str | None) -> LazyPool:
        pool = self.by_skill.get(skill)
        if pool is None:
            pool = LazyPool(self.pool_key(skill))
            for agent in self.ready_agents():
                if self.eligible(agent, skill):
                    pool.push(agent)
            self.by_skill[skill] = pool
            self._pools_of.clear()
        return pool

    def add(self, agent):
        if not self._admit(agent):
            return
        pools = self._pools_of.get(agent.id)
        if pools is None:
            pools = self._pools_of[agent.id] = [p for s, p in self.by_skill.items() if self.eligible(agent, s)]
        for pool in pools:
            pool.push(agent)

    def pick(self, call, tried):
        first, untried = self._pool(call.route_class).take(tried)     # route_class: the call's skill
        return untried or first

    def candidates(self, call):
        return iter(self._pool(self.call_skill(call)).ordered())

    def accepts(self, agent, call):
        return self.eligible(agent, self.call_skill(call))

    def call_class(self, call):
        return self.call_skill(call)

    def accepts_class(self, agent, cls):
        return self.eligible(agent, cls)

    def classes_for(self, agent):
        try:
            return self._classes_of[agent.id]
        except KeyError:
            pass
        if self.eligible(agent, _NO_SUCH_SKILL):            # qualifies even without the skill: look at all
            classes = None
        else:
            classes = [s for s in agent.profile.skills if self.eligible(agent, s)]
            if self.eligible(agent, None):
                classes.append(None)
        self._classes_of[agent.id] = classes
        return classes

    def check(self, ready):
        for skill, pool in self.by_skill.items():
            pool.check([a for a in ready if self.eligible(a, skill)])
