"""Customer-based: the agent who last served this caller within ``sticky_days`` (default 30) gets the
first offer; then VIP and key-account callers (vip_level >= ``vip_min_level``, default 1) go to senior
agents first and everyone else to the other agents first (keeping seniors free for VIPs), each group in
longest-idle order. Senior = ``senior: true`` in agents.yaml or proficiency >= ``senior_min_proficiency``
(default 8) in the queue's first skill."""
from itertools import chain

from acd.strategies.base import KeyedPool, Strategy
from acd.strategies.registry import register

DAY = 86400.0


@register("customer-based")
class CustomerBased(Strategy):
    def __init__(self, queue, order, ctx):
        super().__init__(queue, order, ctx)
        self.sticky_s = float(self.options.get("sticky_days", 30)) * DAY
        self.vip_min = int(self.options.get("vip_min_level", 1))
        self.senior_min = int(self.options.get("senior_min_proficiency", 8))
        key = lambda a: (a.idle_since, self.order[a.id])  # noqa: E731
        self.seniors = KeyedPool(key)
        self.others = KeyedPool(key)
        self.ready: dict[str, object] = {}

    def is_senior(self, agent):
        return agent.profile.senior or agent.proficiency(self.queue.primary_skill) >= self.senior_min

    def is_vip(self, call):
        return call.request.key_account or call.request.vip_level >= self.vip_min

    def add(self, agent):
        self.ready[agent.id] = agent
        (self.seniors if self.is_senior(agent) else self.others).add(agent)

    def remove(self, agent):
        if self.ready.pop(agent.id, None) is not None:
            self.seniors.discard(agent)
            self.others.discard(agent)

    def candidates(self, call):
        first = []
        last = self.ctx.last_served(call.request.caller) if call.request.caller else None
        if last is not None:
            agent_id, when = last
            agent = self.ready.get(agent_id)
            if agent is not None and self.ctx.now() - when <= self.sticky_s:
                first.append(agent)
        groups = (self.seniors, self.others) if self.is_vip(call) else (self.others, self.seniors)
        return chain(first, (a for a in chain(*groups) if not first or a is not first[0]))

    def __len__(self):
        return len(self.ready)

    def __contains__(self, agent):
        return agent.id in self.ready
