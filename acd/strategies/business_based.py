"""Business-based: the service the caller chose in the IVR (call data ``service``, else the call's skill)
names a business; ``strategy_options.services`` maps business -> skill (default: same name). Agents
trained for that business (proficiency >= ``min_proficiency``, default 1) in longest-idle order; a call
with no business goes to the longest-idle member."""
from acd.strategies.base import SkillPoolStrategy
from acd.strategies.registry import register


@register("business-based")
class BusinessBased(SkillPoolStrategy):
    def __init__(self, queue, order, ctx):
        super().__init__(queue, order, ctx)
        self.services = dict(self.options.get("services") or {})
        self.minimum = int(self.options.get("min_proficiency", 1))

    def call_skill(self, call):
        service = call.request.data.get("service") if call.request.data else None
        service = service or call.skill
        if not service:
            return None
        return self.services.get(service, service)

    def eligible(self, agent, skill):
        return skill is None or agent.proficiency(skill) >= self.minimum
