"""Random: a uniformly random ready agent (the RNG is injected, so a seed repeats the choices)."""
from itertools import chain

from acd.strategies.base import SortedPoolStrategy
from acd.strategies.registry import register


@register("random")
class RandomChoice(SortedPoolStrategy):
    def key(self, agent):
        return (self.order[agent.id],)

    def candidates(self, call):
        n = len(self.pool)
        if n == 0:
            return iter(())
        pick = self.pool.at(self.ctx.rng.randrange(n))
        return chain([pick], (a for a in self.pool if a is not pick))
