"""均衡分配: round robin with memory — the next ready agent after the one offered last, wrapping around.

The ring is a sorted list of member positions with lazy deletion: an agent that stops being ready keeps
its place until the pointer passes it (then it is dropped), and finds it again if it is back by then."""
from itertools import chain

from sortedcontainers import SortedList

from acd.strategies.base import LazyStrategy
from acd.strategies.registry import register


@register("round-robin", "rrmemory", "balanced")
class RoundRobin(LazyStrategy):
    def __init__(self, queue, order, ctx):
        super().__init__(queue, order, ctx)
        self.last = -1                                  # member order of the agent offered last
        self.ring = SortedList()                        # member positions (some stale)
        self.at: dict[int, object] = {}                 # member position -> agent

    def add(self, agent):
        if self._admit(agent):
            position = self.order[agent.id]
            if position not in self.at:
                self.at[position] = agent
                self.ring.add(position)

    def _walk(self):
        """Live agents in ring order from after ``last``; stale positions met on the way are dropped."""
        ring = self.ring
        start = ring.bisect_right(self.last)
        stale = []
        try:
            for position in chain(ring.islice(start), ring.islice(0, start)):
                agent = self.at[position]
                if self._stamp.get(agent.id) == agent.ready_stamp:
                    yield agent
                else:
                    stale.append(position)
        finally:
            for position in stale:
                ring.remove(position)
                del self.at[position]

    def pick(self, call, tried):
        first = None
        walk = self._walk()
        try:
            for agent in walk:
                if agent.id not in tried:
                    return agent
                if first is None:
                    first = agent
        finally:
            walk.close()
        return first

    def candidates(self, call):
        return iter(list(self._walk()))

    def offered(self, agent, call):
        self.last = self.order[agent.id]

    def check(self, ready):
        live = sorted(a.id for a in (self.at[p] for p in self.ring) if self._stamp.get(a.id) == a.ready_stamp)
        assert live == sorted(a.id for a in ready), f"{self.queue.name}: ring != ready"
        assert sorted(self.at) == list(self.ring), f"{self.queue.name}: ring positions disagree"
