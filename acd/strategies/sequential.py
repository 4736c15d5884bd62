"""顺序分配: always the first ready agent in the queue's member order (linear hunt)."""
from acd.strategies.base import PooledStrategy
from acd.strategies.registry import register


@register("sequential", "linear")
class Sequential(PooledStrategy):
    def key(self, agent):
        return (self.order[agent.id],)
