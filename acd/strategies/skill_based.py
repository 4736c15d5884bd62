"""座席技能分配: the highest proficiency in the call's skill (the queue's first skill when the call names
none); ties by longest idle, then member order. One sorted pool per skill, built on first use."""
from acd.strategies.base import KeyedPool, Strategy
from acd.strategies.registry import register


@register("skill-based")
class SkillBased(Strategy):
    def __init__(self, queue, order, ctx):
        super().__init__(queue, order, ctx)
        self.ready: dict[str, object] = {}
        self.by_skill: dict[str, KeyedPool] = {}
        self._pool(queue.primary_skill)              # kept up to date from the start, never rebuilt

    def _skill(self, call):
        return call.skill or self.queue.primary_skill

    def _pool(self, skill):
        pool = self.by_skill.get(skill)
        if pool is None:
            if skill is None:
                pool = KeyedPool(lambda a: (a.idle_since, self.order[a.id]))
            else:
                pool = KeyedPool(lambda a, s=skill: (-a.proficiency(s), a.idle_since, self.order[a.id]))
            for agent in self.ready.values():
                if skill is None or agent.proficiency(skill) > 0:
                    pool.add(agent)
            self.by_skill[skill] = pool
        return pool

    def add(self, agent):
        self.ready[agent.id] = agent
        for skill, pool in self.by_skill.items():
            if skill is None or agent.proficiency(skill) > 0:
                pool.add(agent)

    def remove(self, agent):
        if self.ready.pop(agent.id, None) is not None:
            for pool in self.by_skill.values():
                pool.discard(agent)

    def candidates(self, call):
        return iter(self._pool(self._skill(call)))

    def accepts(self, agent, call):
        skill = self._skill(call)
        return skill is None or agent.proficiency(skill) > 0

    def __len__(self):
        return len(self.ready)

    def __contains__(self, agent):
        return agent.id in self.ready
