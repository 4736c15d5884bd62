"""Fewest calls taken (ties: longest idle, then member order)."""
from acd.strategies.base import PooledStrategy
from acd.strategies.registry import register


@register("fewest-calls", "fewestcalls")
class FewestCalls(PooledStrategy):
    def key(self, agent):
        return (agent.calls_taken, agent.idle_since, self.order[agent.id])
