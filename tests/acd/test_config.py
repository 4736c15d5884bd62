"""Queue fields parsed from queues.yaml entries, with clear errors."""
from __future__ import annotations

import pytest

from acd.config import QueueConfigError, check_queues, from_settings, queue_settings
from hotline.config import load_settings


def test_defaults_and_every_field():
    q = queue_settings({"name": "vip", "skills": {"vip": 5}})
    assert (q.strategy, q.max_wait_s, q.overflow.kind, q.ring_timeout_s, q.max_no_answer) == (
        "skill-based", 300, "voicemail", 15, 3)
    q = queue_settings({
        "name": "vip", "skills": {"vip": 5}, "strategy": "customer-based", "strategy_options": {"sticky_days": 7},
        "priorities": {"default": 5, "vip": 8}, "max_wait": 120, "overflow": "queue:complaints", "max_length": 20,
        "service_level_threshold": 10, "service_level_target": 90, "announce_interval": 45,
        "announce_wait": False, "music_on_hold": "jiangnan", "wrapup_time": 30, "ring_timeout": 12,
        "max_no_answer": 0, "join_when_empty": False, "leave_when_empty": True, "voicemail_key": 9,
        "callback_key": None, "default_handle_time": 240})
    assert q.overflow.kind == "queue" and q.overflow.queue == "complaints"
    assert q.priorities.default == 5 and q.priorities.key_account == 5 and q.priorities.vip == 8
    assert q.service_level_target == 0.9 and q.service_level_s == 10 and q.max_length == 20
    assert (q.voicemail_key, q.callback_key, q.music_on_hold, q.announce_wait) == ("9", None, "jiangnan", False)
    assert q.strategy_options["sticky_days"] == 7 and not q.join_when_empty and q.leave_when_empty


@pytest.mark.parametrize("raw,key,reason", [
    ({"max_wait": "long"}, "max_wait", "must be a number"),
    ({"ring_timeout": 0}, "ring_timeout", "must be >= 1"),
    ({"max_no_answer": 1.5}, "max_no_answer", "whole number"),
    ({"overflow": "elsewhere"}, "overflow", "voicemail, callback, hangup or queue:<name>"),
    ({"overflow": {"kind": "queue"}}, "overflow.queue", "names the queue"),
    ({"priorities": {"gold": 3}}, "priorities.gold", "unknown key"),
    ({"callback_key": "22"}, "callback_key", "one DTMF key"),
    ({"join_when_empty": "yes"}, "join_when_empty", "true or false"),
])
def test_bad_fields_name_queue_and_key(raw, key, reason):
    with pytest.raises(QueueConfigError) as err:
        queue_settings({"name": "sales", "skills": {"sales": 1}, **raw})
    assert err.value.key == key and reason in str(err.value) and "queue 'sales'" in str(err.value)


def test_cross_queue_checks():
    a = queue_settings({"name": "a", "skills": {"x": 1}, "overflow": "queue:nowhere"})
    with pytest.raises(QueueConfigError, match="unknown queue 'nowhere'"):
        check_queues([a])
    b = queue_settings({"name": "b", "skills": {"x": 1}, "overflow": "queue:b"})
    with pytest.raises(QueueConfigError, match="cannot overflow into itself"):
        check_queues([b])


def test_repo_config_loads():
    queues, agents = from_settings(load_settings())
    assert {q.name for q in queues} >= {"presales", "vip"}
    assert all(a.endpoint.startswith("PJSIP/") for a in agents)
