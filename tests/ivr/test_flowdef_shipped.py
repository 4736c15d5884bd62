"""flows/hotline.yaml and flows/qa_replay.yaml do what the hotline's rules ask (structure and branch logic;
the calls themselves run over FastAGI in the IVR runtime tests)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from ivr.flowdef.calendars import load_calendars
from ivr.flowdef.expr import compile_expr, evaluate_value, runtime_functions
from ivr.flowdef.loader import load_flows
from ivr.prompts.catalogue import PromptCatalogue

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalogue():
    return PromptCatalogue.load(ROOT / "prompts" / "catalogue.yaml")


@pytest.fixture(scope="module")
def flows(catalogue):
    calendars = load_calendars(ROOT / "flows" / "calendars.yaml")
    queues = ["presales", "aftersales", "logistics", "complaints", "vip", "english"]
    return load_flows(ROOT / "flows", catalogue, calendars=calendars, queues=queues)


@pytest.fixture(scope="module")
def hotline(flows):
    return flows["hotline"]


def route(flow, node_id, env, now=datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc), calendars=None):
    """Where a branch node sends the call for these variables."""
    node = flow.nodes[node_id]
    assert node.type == "branch"
    calendars = calendars or load_calendars(ROOT / "flows" / "calendars.yaml")
    functions = runtime_functions(calendars, now=lambda: now)
    for cond in node.params["conditions"]:
        if compile_expr(cond["if"]).evaluate(env, functions):
            return cond["next"]
    return node.params["else"]


def test_both_languages_offered(hotline, flows):
    assert hotline.languages == ("zh-CN", "en") and hotline.default_language == "zh-CN"
    assert flows["qa_replay"].languages == ("zh-CN", "en")


def test_caller_id_lookup_comes_first_and_the_block_list_hangs_up(hotline):
    assert hotline.start == "identify" and hotline.nodes["identify"].type == "lookup"
    assert route(hotline, "screen", {"customer": {"blocked": True}}) == "blocked"
    assert route(hotline, "screen", {"customer": None}) == "opening_hours"
    blocked = hotline.nodes["blocked"]
    assert blocked.type == "hangup" and blocked.params["prompt"] == "malicious_call"


def test_language_choice_and_remembered_language(hotline):
    assert route(hotline, "known_language", {"customer": None}) == "welcome"
    assert route(hotline, "known_language", {"remembered_language": "en"}) == "use_remembered_language"
    assert route(hotline, "known_language", {"customer": {"language": "zh-CN"}}) == "use_customer_language"
    assert route(hotline, "known_language", {"remembered_language": "fr"}) == "welcome"
    assert hotline.nodes["welcome"].params["prompt"] == "welcome"
    choose = hotline.nodes["choose_language"]
    assert choose.params["options"] == {"1": "mandarin", "2": "english", "*": "to_qa_replay"}
    assert hotline.nodes["mandarin"].params["language"] == "zh-CN"
    assert hotline.nodes["english"].params["language"] == "en"
    assert hotline.nodes["to_qa_replay"].params["target"] == "qa_replay:qa_login"
    assert hotline.nodes["welcome_known"].params["options"] == {"*": "to_qa_replay"}


def test_vip_and_key_accounts_go_to_the_vip_queue_with_priority(hotline):
    assert route(hotline, "vip_check", {"customer": {"vip_level": 3}}) == "vip_welcome"
    assert route(hotline, "vip_check", {"customer": {"vip_level": 0, "key_account": True}}) == "vip_welcome"
    assert route(hotline, "vip_check", {"customer": {"vip_level": 1}}) == "recording_notice"
    assert route(hotline, "vip_check", {"customer": None}) == "recording_notice"
    queue = hotline.nodes["vip_queue"]
    assert queue.params["queue"] == "vip"
    assert evaluate_value(queue.params["priority"], {"customer": {"key_account": True, "vip_level": 0}}) == 10
    assert evaluate_value(queue.params["priority"], {"customer": {"key_account": False, "vip_level": 3}}) == 8


def test_main_menu(hotline):
    menu = hotline.nodes["main_menu"].params
    assert menu["options"] == {"1": "presales_queue", "2": "aftersales_menu", "3": "complaints",
                               "4": "self_service_menu", "0": "agent_queue"}
    assert menu["repeat_key"] == "*"
    # invalid: 对不起 + the menu again, 3 tries, then an agent
    assert menu["invalid_prompt"] == "sorry" and menu["retries"] == 3 and menu["fallback"] == "agent_queue"
    after = hotline.nodes["aftersales_menu"].params["options"]
    assert hotline.nodes[after["1"]].params["queue"] == "aftersales"
    assert hotline.nodes[after["2"]].params["queue"] == "logistics"
    assert hotline.nodes["complaints_queue"].params["queue"] == "complaints"
    assert route(hotline, "agent_queue", {"lang": "en"}) == "english_queue"
    assert route(hotline, "agent_queue", {"lang": "zh-CN"}) == "presales_queue"


def test_silent_caller_rule_on_every_menu_a_caller_meets(hotline):
    for node_id in ("choose_language", "main_menu", "aftersales_menu", "self_service_menu"):
        menu = hotline.nodes[node_id].params
        assert 2 <= menu["timeout"] <= 3, node_id
        assert menu["timeout_prompt"] == "silent_prompt" and menu["max_timeouts"] == 3, node_id
        assert menu["timeout_fallback"] == "silent_hangup", node_id
    assert hotline.nodes["silent_hangup"].params == {"prompt": "silent_goodbye"}


def test_self_service_reads_amounts_and_dates(hotline):
    says = {n.params["value"]: n.params["kind"] for n in hotline.nodes.values() if n.type == "say"}
    assert says == {"order.amount": "money", "order.created": "date", "order.expected_delivery": "date",
                    "customer.balance or 0": "money", "customer.points or 0": "number"}
    assert hotline.nodes["find_order"].params["by"] == "order"
    assert route(hotline, "order_status", {"order": {"status": "shipped"}}) == "status_shipped"
    assert route(hotline, "account_check", {"customer": None}) == "account_not_found"


def test_every_queue_offers_voicemail_and_callback_and_ends_with_survey(hotline):
    queues = [n for n in hotline.nodes.values() if n.type == "queue"]
    assert {q.params["queue"] for q in queues} == {"presales", "aftersales", "logistics", "complaints", "vip",
                                                   "english"}
    for queue in queues:
        p = queue.params
        assert p["hold_prompt"] == "please_wait" and p["wait_prompt"] == "sorry_to_keep_waiting"
        assert p["options"] == {"1": "voicemail", "2": "callback"}
        assert p["position_prompts"] == ["queue_position_before", "queue_position_after"]
        assert p["next"] == "survey" and p["fallback"] == "agents_busy"
    assert hotline.nodes["survey"].params["next"] == "goodbye"
    assert hotline.nodes["goodbye"].params["prompt"] == "closing"


def test_after_hours_and_holidays(hotline, tmp_path):
    closed = tmp_path / "calendars.yaml"
    closed.write_text("calendars:\n  default:\n    hours: {mon-fri: '09:00-18:00'}\n", encoding="utf-8")
    monday_night = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)  # 22:00 in Shanghai
    assert route(hotline, "opening_hours", {}, monday_night, load_calendars(closed)) == "after_hours"
    assert route(hotline, "opening_hours", {}, monday_night) == "known_language"  # the shipped calendar: 24 h
    assert hotline.nodes["after_hours"].params["options"] == {"1": "voicemail", "2": "callback"}
    spring = datetime(2027, 2, 6, 2, 0, tzinfo=timezone.utc)
    national = datetime(2027, 10, 2, 2, 0, tzinfo=timezone.utc)
    assert route(hotline, "holiday", {}, spring) == "spring_festival_greeting"
    assert route(hotline, "holiday", {}, national) == "holiday_greeting"
    assert route(hotline, "holiday", {}, monday_night) == "vip_check"


def test_qa_replay_flow(flows):
    qa = flows["qa_replay"]
    login = qa.nodes["qa_login"].params
    assert login["max_attempts"] == 3 and qa.nodes[login["fallback"]].type == "hangup"
    assert [qa.nodes[n].params["var"] for n in ("qa_agent", "qa_date", "qa_from", "qa_to")] == [
        "qa_agent", "qa_date", "qa_from", "qa_to"]
    play = qa.nodes["qa_play"].params
    assert play["keys"] == {"previous": "1", "repeat": "2", "next": "3", "menu": "0"}
    assert play["menu"] == "qa_agent"
    assert route(qa, "qa_check_range", {"qa_from": "0900", "qa_to": "0800"}) == "qa_bad_range"
    assert route(qa, "qa_check_range", {"qa_from": "0900", "qa_to": "1800"}) == "qa_search"


def test_callback_confirms_the_callers_number_and_reports_the_result(hotline):
    callback = hotline.nodes["callback"].params
    assert callback["confirm_prompt"] == "callback_confirm_number" and callback["time_prompt"] == "callback_time"
    assert route(hotline, "callback_result", {"callback_number": "13800000000"}) == "callback_registered"
    assert route(hotline, "callback_result", {}) == "callback_failed"
