"""均衡分配: round robin with memory — the next ready agent after the one offered last, wrapping around."""
from itertools import chain

from acd.strategies.base import PooledStrategy
from acd.strategies.registry import register


@register("round-robin", "rrmemory", "balanced")
class RoundRobin(PooledStrategy):
    def __init__(self, queue, order, ctx):
        super().__init__(queue, order, ctx)
        self.last = -1                                  # member order of the agent offered last

    def key(self, agent):
        return (self.order[agent.id],)

    def candidates(self, call):
        entries = self.pool._list
        start = entries.bisect_right((self.last, "\uffff"))
        agents = self.pool._agents
        return (agents[e[-1]] for e in chain(entries.islice(start), entries.islice(0, start)))

    def offered(self, agent, call):
        self.last = self.order[agent.id]
