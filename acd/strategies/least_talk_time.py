"""Least total talk time (ties: longest idle, then member order)."""
from acd.strategies.base import PooledStrategy
from acd.strategies.registry import register


@register("least-talk-time")
class LeastTalkTime(PooledStrategy):
    def key(self, agent):
        return (agent.talk_time, agent.idle_since, self.order[agent.id])
