"""座席技能分配: the highest proficiency in the call's skill (the queue's first skill when the call names
none); ties by longest idle, then member order. One sorted pool per skill, built on first use."""
from acd.strategies.base import SkillPoolStrategy
from acd.strategies.registry import register


@register("skill-based")
class SkillBased(SkillPoolStrategy):
    def __init__(self, queue, order, ctx):
        super().__init__(queue, order, ctx)
        self.primary = queue.primary_skill
        self._pool(self.primary)                     # kept up to date from the start, never rebuilt

    def call_skill(self, call):
        return call.request.skill or self.primary

    def eligible(self, agent, skill):
        return skill is None or agent.proficiency(skill) > 0

    def pool_key(self, skill):
        if skill is None:
            return super().pool_key(skill)
        return lambda a: (-a.proficiency(skill), a.idle_since, self.order[a.id])
