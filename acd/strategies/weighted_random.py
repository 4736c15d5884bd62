"""Weighted random: an agent drawn with probability proportional to its weight —
``strategy_options.weights[agent_id]``, else its proficiency in the queue's first skill (at least 1).
A Fenwick tree over the member slots keeps the draw O(log n)."""
from itertools import chain

from acd.strategies.base import SortedPoolStrategy
from acd.strategies.registry import register


class Fenwick:
    def __init__(self, size: int) -> None:
        self.size = size
        self.tree = [0.0] * (size + 1)
        self.values = [0.0] * size
        self.total = 0.0

    def set(self, index: int, value: float) -> None:
        delta = value - self.values[index]
        self.values[index] = value
        self.total += delta
        i = index + 1
        while i <= self.size:
            self.tree[i] += delta
            i += i & -i

    def find(self, target: float) -> int:
        """Smallest index whose prefix sum exceeds ``target``."""
        pos, step = 0, 1 << self.size.bit_length()
        while step:
            nxt = pos + step
            if nxt <= self.size and self.tree[nxt] <= target:
                pos = nxt
                target -= self.tree[nxt]
            step >>= 1
        return min(pos, self.size - 1)


@register("weighted-random")
class WeightedRandom(SortedPoolStrategy):
    def __init__(self, queue, order, ctx):
        super().__init__(queue, order, ctx)
        self.weights = {str(k): float(v) for k, v in (self.options.get("weights") or {}).items()}
        self.tree = Fenwick(max(order.values(), default=-1) + 1)
        self.by_slot: dict[int, object] = {}

    def key(self, agent):
        return (self.order[agent.id],)

    def weight(self, agent):
        if agent.id in self.weights:
            return max(self.weights[agent.id], 0.0)
        return float(max(agent.proficiency(self.queue.primary_skill), 1))

    def add(self, agent):
        if agent in self.pool:
            return
        super().add(agent)
        slot = self.order[agent.id]
        self.by_slot[slot] = agent
        self.tree.set(slot, self.weight(agent))

    def remove(self, agent):
        if agent not in self.pool:
            return
        super().remove(agent)
        slot = self.order[agent.id]
        self.by_slot.pop(slot, None)
        self.tree.set(slot, 0.0)

    def candidates(self, call):
        if not len(self.pool):
            return iter(())
        if self.tree.total <= 1e-9:                     # every ready agent weighs 0: fall back to order
            return iter(self.pool)
        pick = self.by_slot.get(self.tree.find(self.ctx.rng.random() * self.tree.total))
        if pick is None:                                 # float rounding at the edge
            return iter(self.pool)
        return chain([pick], (a for a in self.pool if a is not pick))
