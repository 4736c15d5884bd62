"""Business-based: the service the caller chose in the IVR (call data ``service``, else the call's skill)
names a business; ``strategy_options.services`` maps business -> skill (default: same name). Agents
trained for that business (proficiency >= ``min_proficiency``, default 1) in longest-idle order; a call
with no business goes to the longest-idle member."""
from acd.strategies.base import KeyedPool, Strategy
from acd.strategies.registry import register


@register("business-based")
class BusinessBased(Strategy):
    def __init__(self, queue, order, ctx):
        super().__init__(queue, order, ctx)
        self.services = dict(self.options.get("services") or {})
        self.minimum = int(self.options.get("min_proficiency", 1))
        self.ready: dict[str, object] = {}
        self.by_skill: dict[str | None, KeyedPool] = {}

    def _business_skill(self, call):
        service = call.request.data.get("service") if call.request.data else None
        service = service or call.skill
        if not service:
            return None
        return self.services.get(service, service)

    def _eligible(self, agent, skill):
        return skill is None or agent.proficiency(skill) >= self.minimum

    def _pool(self, skill):
        pool = self.by_skill.get(skill)
        if pool is None:
            pool = KeyedPool(lambda a: (a.idle_since, self.order[a.id]))
            for agent in self.ready.values():
                if self._eligible(agent, skill):
                    pool.add(agent)
            self.by_skill[skill] = pool
        return pool

    def add(self, agent):
        self.ready[agent.id] = agent
        for skill, pool in self.by_skill.items():
            if self._eligible(agent, skill):
                pool.add(agent)

    def remove(self, agent):
        if self.ready.pop(agent.id, None) is not None:
            for pool in self.by_skill.values():
                pool.discard(agent)

    def candidates(self, call):
        return iter(self._pool(self._business_skill(call)))

    def accepts(self, agent, call):
        return self._eligible(agent, self._business_skill(call))

    def __len__(self):
        return len(self.ready)

    def __contains__(self, agent):
        return agent.id in self.ready
