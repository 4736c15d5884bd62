"""最长空闲: the agent idle longest, idle counted from the end of the last wrap-up (ties: member order)."""
from acd.strategies.base import PooledStrategy
from acd.strategies.registry import register


@register("longest-idle", "leastrecent")
class LongestIdle(PooledStrategy):
    def key(self, agent):
        return (agent.idle_since, self.order[agent.id])
