"""[hotline-after-agent]: a caller whose agent leg ended after the CTI moved the call hears the survey and
the closing phrase (flows/after_agent.yaml), through the simulator's dialplan and FastAGI over TCP."""
from __future__ import annotations

from sqlalchemy import select

from ivr.models import SurveyResult
from pbxsim.participants import CallerScript
from tests.ivr.sim_env import run_with_simulator


def test_after_agent_context_runs_the_survey_then_the_closing_phrase(tmp_path):
    async def body(sim, ivr, sessions):
        call = await sim.place_call(CallerScript("13800138000", dnid="s", context="hotline-after-agent",
                                                 steps=["wait 2", "press 4"]))
        outcome = await call.wait()
        async with sessions() as db:
            surveys = list((await db.execute(select(SurveyResult))).scalars())
        return outcome, ivr.engine.results[-1], surveys

    outcome, result, surveys = run_with_simulator(tmp_path, body)
    assert result.outcome == "completed"
    assert result.path == ["after_agent:language", "after_agent:survey", "after_agent:goodbye"]
    assert [s.rating for s in surveys] == [4]
    assert outcome.hung_up_by == "pbx"
