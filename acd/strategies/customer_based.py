"""Customer-based: the agent who last served this caller within ``sticky_days`` (default 30) gets the
first offer; then VIP and key-account callers (vip_level >= ``vip_min_level``, default 1) go to senior
agents first and everyone else to the other agents first (keeping seniors free for VIPs), each group in
longest-idle order. Senior = ``senior: true`` in agents.yaml or proficiency >= ``senior_min_proficiency``
(default 8) in the queue's first skill."""
from itertools import chain

from acd.strategies.base import LazyPool, LazyStrategy
from acd.strategies.registry import register

DAY = 86400.0


@register("customer-based")
class CustomerBased(LazyStrategy):
    def __init__(self, queue, order, ctx):
        super().__init__(queue, order, ctx)
        self.sticky_s = float(self.options.get("sticky_days", 30)) * DAY
        self.vip_min = int(self.options.get("vip_min_level", 1))
        self.senior_min = int(self.options.get("senior_min_proficiency", 8))
        key = lambda a: (a.idle_since, self.order[a.id])  # noqa: E731
        self.seniors = LazyPool(key)
        self.others = LazyPool(key)

    def is_senior(self, agent):
        return agent.profile.senior or agent.proficiency(self.queue.primary_skill) >= self.senior_min

    def is_vip(self, call):
        return call.request.key_account or call.request.vip_level >= self.vip_min

    def add(self, agent):
        if self._admit(agent):
            (self.seniors if self.is_senior(agent) else self.others).push(agent)

    def _sticky(self, call):
        last = self.ctx.last_served(call.request.caller) if call.request.caller else None
        if last is not None:
            agent_id, when = last
            agent = self.seen.get(agent_id)
            if agent is not None and self.is_ready(agent) and self.ctx.now() - when <= self.sticky_s:
                return agent
        return None

    def _groups(self, call):
        return (self.seniors, self.others) if self.is_vip(call) else (self.others, self.seniors)

    def pick(self, call, tried):
        first = self._sticky(call)
        if first is not None and first.id not in tried:
            return first
        for group in self._groups(call):              # a sticky agent here already missed the call
            best, untried = group.take(tried)
            if untried is not None:
                return untried
            if first is None:
                first = best
        return first

    def candidates(self, call):
        sticky = self._sticky(call)
        rest = (a for a in chain(*(g.ordered() for g in self._groups(call))) if a is not sticky)
        return chain([sticky] if sticky else [], rest)

    def check(self, ready):
        self.seniors.check([a for a in ready if self.is_senior(a)])
        self.others.check([a for a in ready if not self.is_senior(a)])
