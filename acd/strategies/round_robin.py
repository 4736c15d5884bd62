"""均衡分配: round robin with memory — the next ready agent after the one offered last, wrapping around.

The ring is a sorted list of member positions with lazy deletion: an agent that stops being ready keeps
its place until the pointer passes it (then it is dropped), and finds it again if it is back by then."""
from __future__ import annotations

from bisect import bisect_left, bisect_right, insort

from acd.state import AgentRecord
from acd.strategies.base import LazyStrategy
from acd.strategies.registry import register


@register("round-robin", "rrmemory", "balanced")
class RoundRobin(LazyStrategy):
    def __init__(self, queue, order, ctx):
        super().__init__(queue, order, ctx)
        self.last = -1                                  # member order of the agent offered last
        self.ring: list[int] = []                       # member positions, sorted (some stale)
        self.at: dict[int, AgentRecord] = {}            # member position -> agent

    def add(self, agent):
        if self._admit(agent):
            position = self.order[agent.id]
            if position not in self.at:
                self.at[position] = agent
                insort(self.ring, position)

    def _walk(self, tried):
        """(first live agent after ``last`` in ring order, first one not in ``tried``); drops stale places."""
        ring, at, stamp = self.ring, self.at, self._stamp
        n = len(ring)
        i = bisect_right(ring, self.last)
        first = found = None
        stale = []
        for _ in range(n):
            if i == n:
                i = 0
            position = ring[i]
            i += 1
            agent = at[position]
            if stamp.get(agent.id) != agent.ready_stamp:
                stale.append(position)
                continue
            if first is None:
                first = agent
            if agent.id not in tried:
                found = agent
                break
        for position in stale:
            del ring[bisect_left(ring, position)]
            del at[position]
        return first, found

    def pick(self, call, tried):
        first, found = self._walk(tried)
        return found or first

    def candidates(self, call):
        start = bisect_right(self.ring, self.last)
        ring = self.ring[start:] + self.ring[:start]
        return iter([a for a in (self.at[p] for p in ring) if self.is_ready(a)])

    def offered(self, agent, call):
        self.last = self.order[agent.id]

    def check(self, ready):
        live = sorted(a.id for a in (self.at[p] for p in self.ring) if self._stamp.get(a.id) == a.ready_stamp)
        assert live == sorted(a.id for a in ready), f"{self.queue.name}: ring != ready"
        assert sorted(self.at) == self.ring, f"{self.queue.name}: ring positions disagree"
