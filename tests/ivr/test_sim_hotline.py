"""The hotline flow (flows/hotline.yaml) through the PBX simulator: scripted callers in both languages.

Every call here goes caller → pbxsim trunk → [hotline-inbound] → AGI(agi://…/hotline) over real TCP to the
IVR's FastAGI server → flows/hotline.yaml → EXEC Dial to the agents' simulated softphones.
Prompts are 1 s silent WAVs (number prompts 0.3 s), so the timings below are in those units.
"""
from __future__ import annotations

from sqlalchemy import select

from cti.models import Customer
from ivr.models import CallbackRequest, SurveyResult, Voicemail
from ivr.stats import read_stats
from pbxsim.participants import CallerScript, PhoneBehaviour

from .runtime_env import Published
from .sim_env import run_with_simulator

AGENT_HANGS_UP = PhoneBehaviour(answer_after_s=2.0, talk_time_s=10.0)


def _call(number, steps, **kw):
    return CallerScript(number, dnid="4008001234", steps=steps, **kw)


async def _rows(sessions, model):
    async with sessions() as db:
        return list((await db.execute(select(model).order_by(model.id))).scalars())


def test_mandarin_caller_presales_agent_survey_and_closing(tmp_path):
    async def body(sim, ivr, sessions):
        call = await sim.place_call(_call("13800138000", ["wait 2", "press 1", "wait 2", "press 1", "wait 14",
                                                          "press 5"]))
        outcome = await call.wait()
        return outcome, ivr.engine.results[-1], await _rows(sessions, SurveyResult), await read_stats(sessions)

    outcome, result, surveys, stats = run_with_simulator(tmp_path, body, phone_defaults=AGENT_HANGS_UP)
    assert result.outcome == "completed"
    assert result.path[-5:] == ["hotline:recording_notice", "hotline:main_menu", "hotline:presales_queue",
                                "hotline:survey", "hotline:goodbye"]
    assert outcome.bridged_with.startswith(("PJSIP/1001-", "PJSIP/1002-", "PJSIP/1006-"))
    agent = outcome.bridged_with.split("/")[1].split("-")[0]
    assert [(s.rating, s.agent_id, s.queue) for s in surveys] == [(5, agent, "presales")]
    assert outcome.hung_up_by == "pbx"   # the closing phrase, then the IVR hung up
    assert stats[("hotline", "choose_language", "option:1")] == 1
    assert stats[("hotline", "main_menu", "option:1")] == 1
    assert stats[("hotline", "presales_queue", "answered")] == 1


def test_english_caller_self_service_then_silence_rule(tmp_path):
    async def body(sim, ivr, sessions):
        call = await sim.place_call(_call("13900000001", ["wait 2", "press 2", "wait 2", "press 4", "wait 1",
                                                          "press 2"]))
        outcome = await call.wait()
        return outcome, ivr.engine.results[-1], await read_stats(sessions)

    outcome, result, stats = run_with_simulator(tmp_path, body)
    assert result.outcome == "completed"
    assert "hotline:english" in result.path and "hotline:account_not_found" in result.path
    # back in the self-service menu the caller stays silent: 请讲 twice, then 听不到您的声音 and hang up
    assert result.path[-2:] == ["hotline:self_service_menu", "hotline:silent_hangup"]
    assert stats[("hotline", "self_service_menu", "timeout")] == 3
    assert outcome.hung_up_by == "pbx"


def test_three_wrong_keys_go_to_an_agent_in_the_callers_language(tmp_path):
    async def body(sim, ivr, sessions):
        call = await sim.place_call(_call("13900000002", ["wait 2", "press 2", "wait 2", "press 7", "wait 1.5",
                                                          "press 8", "wait 1.5", "press 9", "wait 6", "hangup"]))
        outcome = await call.wait()
        return outcome, ivr.engine.results[-1], await read_stats(sessions)

    outcome, result, stats = run_with_simulator(tmp_path, body)
    menu = result.path.index("hotline:main_menu")
    assert result.path[menu:menu + 3] == ["hotline:main_menu", "hotline:agent_queue", "hotline:english_queue"]
    assert stats[("hotline", "main_menu", "invalid")] == 3 and stats[("hotline", "main_menu", "fallback")] == 1
    assert outcome.bridged_with.startswith("PJSIP/1006-")  # the only agent with the english skill


def test_blocked_caller_is_told_and_hung_up(tmp_path):
    async def body(sim, ivr, sessions):
        async with sessions() as db, db.begin():
            db.add(Customer(number="13700000000", name="blocked", blocked=True))
        outcome = await (await sim.place_call(_call("13700000000", []))).wait()
        return outcome, ivr.engine.results[-1]

    outcome, result = run_with_simulator(tmp_path, body)
    assert result.path == ["hotline:identify", "hotline:screen", "hotline:blocked"]
    assert outcome.hung_up_by == "pbx" and outcome.ended - outcome.answered < 3


def test_vip_goes_to_the_vip_queue_and_language_is_remembered(tmp_path):
    published = Published()

    async def body(sim, ivr, sessions):
        async with sessions() as db, db.begin():
            db.add(Customer(number="13600000000", name="王总", vip_level=2))
        first = await (await sim.place_call(_call("13600000000", ["wait 2", "press 2", "wait 8", "hangup"]))).wait()
        first_path = list(ivr.engine.results[-1].path)
        await (await sim.place_call(_call("13600000000", ["wait 8", "hangup"]))).wait()
        return first_path, ivr.engine.results[-1].path

    first, second = run_with_simulator(tmp_path, body, published=published)
    vip = first.index("hotline:vip_check")
    assert first[vip:vip + 3] == ["hotline:vip_check", "hotline:vip_welcome", "hotline:vip_queue"]
    assert "hotline:use_remembered_language" in second and "hotline:choose_language" not in second
    queued = [p for t, p in published if t == "ivr/queue"]
    assert [(q["queue"], q["priority"]) for q in queued] == [("vip", 7), ("vip", 7)]
    ends = [p for t, p in published if t == "ivr/call_end"]
    assert [e["language"] for e in ends] == ["en", "en"]


def test_agents_not_answering_caller_leaves_a_voicemail_while_waiting(tmp_path):
    published = Published()

    async def body(sim, ivr, sessions):
        steps = ["wait 2", "press 1", "wait 2", "press 1", "wait 23", "press 1", "wait 2", "talk 6", "wait 8"]
        outcome = await (await sim.place_call(_call("13500000000", steps))).wait()
        return outcome, ivr.engine.results[-1], await _rows(sessions, Voicemail)

    outcome, result, voicemails = run_with_simulator(tmp_path, body, published=published,
                                                     phone_defaults=PhoneBehaviour(mode="no-answer"))
    assert result.path[-4:] == ["hotline:presales_queue", "hotline:voicemail", "hotline:voicemail_saved",
                                "hotline:goodbye"]
    assert len(voicemails) == 1 and voicemails[0].caller == "13500000000" and voicemails[0].duration_s > 0
    assert voicemails[0].path.startswith(str(tmp_path / "recordings" / "voicemail"))
    assert [p["id"] for t, p in published if t == "voicemail/new"] == [voicemails[0].id]


def test_callback_request_while_waiting(tmp_path):
    async def body(sim, ivr, sessions):
        steps = ["wait 2", "press 1", "wait 2", "press 1", "wait 23", "press 2", "wait 1", "press 1", "wait 1",
                 "press 1430#", "wait 4"]
        await (await sim.place_call(_call("13400000000", steps))).wait()
        return ivr.engine.results[-1], await _rows(sessions, CallbackRequest)

    result, callbacks = run_with_simulator(tmp_path, body, phone_defaults=PhoneBehaviour(mode="no-answer"))
    assert "hotline:callback" in result.path and result.path[-1] == "hotline:goodbye"
    assert [(c.number, c.queue) for c in callbacks] == [("13400000000", "presales")]
    assert callbacks[0].preferred_at is not None


def test_hangup_mid_prompt_is_counted_and_nothing_is_left_running(tmp_path):
    async def body(sim, ivr, sessions):
        await (await sim.place_call(_call("13300000000", ["wait 0.5", "hangup"]))).wait()
        await (await sim.place_call(_call("13300000001", ["wait 2", "press 1", "wait 1.5", "hangup"]))).wait()
        return ivr.engine.results[-2:], await read_stats(sessions)

    results, stats = run_with_simulator(tmp_path, body)
    assert [(r.outcome, r.node) for r in results] == [("hangup", "welcome"), ("hangup", "recording_notice")] or \
        [(r.outcome, r.node) for r in results] == [("hangup", "welcome"), ("hangup", "main_menu")]
    assert stats[("hotline", "welcome", "hangup")] == 1


CALENDARS = """
calendars:
  default:
    hours: {mon-fri: "08:00-20:00"}
    holidays:
      - {name: spring_festival, from: 2027-02-05, to: 2027-02-11}
      - {name: national_day, from: 2027-10-01, to: 2027-10-07, closed: true}
"""


def _calendars(tmp_path):
    from ivr.flowdef.calendars import load_calendars
    path = tmp_path / "calendars.yaml"
    path.write_text(CALENDARS, encoding="utf-8")
    return load_calendars(path, "Asia/Shanghai")


def test_closed_line_offers_voicemail_or_callback(tmp_path):
    from datetime import datetime, timezone
    saturday_night = datetime(2026, 11, 28, 14, 0, tzinfo=timezone.utc)  # 22:00 in Shanghai

    async def body(sim, ivr, sessions):
        steps = ["wait 0.5", "press 2", "wait 1", "press 1", "wait 1", "press 1530#", "wait 4"]
        await (await sim.place_call(_call("13200000000", steps))).wait()
        return ivr.engine.results[-1], await _rows(sessions, CallbackRequest)

    result, callbacks = run_with_simulator(tmp_path, body, calendars=_calendars(tmp_path),
                                           now=lambda: saturday_night)
    assert result.path[:5] == ["hotline:identify", "hotline:screen", "hotline:opening_hours", "hotline:after_hours",
                               "hotline:callback"]
    assert [c.number for c in callbacks] == ["13200000000"]
    # 15:30 Shanghai, the next day (it is 22:00 now) = 07:30 UTC on the 29th
    assert callbacks[0].preferred_at.replace(tzinfo=None) == datetime(2026, 11, 29, 7, 30)


def test_spring_festival_greeting_while_open(tmp_path):
    from datetime import datetime, timezone
    festival_morning = datetime(2027, 2, 8, 2, 0, tzinfo=timezone.utc)  # Monday 10:00 in Shanghai

    async def body(sim, ivr, sessions):
        await (await sim.place_call(_call("13200000001", ["wait 2", "press 1", "wait 1", "hangup"]))).wait()
        return ivr.engine.results[-1]

    result = run_with_simulator(tmp_path, body, calendars=_calendars(tmp_path), now=lambda: festival_morning)
    assert "hotline:spring_festival_greeting" in result.path
