"""recording.yaml: the shipped file loads; every mistake names the key and the reason."""
from __future__ import annotations

from pathlib import Path

import pytest

from recordings.config import RecordingConfigError, load_recording_config, parse_recording_config
from recordings.policy import CallFacts, RecordingPolicy

REPO = Path(__file__).resolve().parents[2]


def test_shipped_config_records_everything_with_the_scorecard():
    config = load_recording_config(REPO / "config" / "recording.yaml")
    assert config.policy.mode == "all" and config.postprocess.format == "wav"
    assert sum(item.weight for item in config.scorecard.items) == 100
    assert config.retention == {"primary": None, "archive": 1095}
    policy = RecordingPolicy(config)
    assert policy.should_record(CallFacts(linkedid="1", channel="PJSIP/trunk-1"))
    assert policy.mixmonitor_options() == "b" and policy.announcement_prompt() is None


@pytest.mark.parametrize("raw,message", [
    ({"policy": {"mode": "numbers"}}, "policy.numbers: mode 'numbers' needs at least one entry"),
    ({"policy": {"mode": "agents", "agents": "1001"}}, "policy.agents: must be a list, got '1001'"),
    ({"postprocess": {"format": "flac"}}, "postprocess.format: must be one of wav, mp3, ogg, got 'flac'"),
    ({"retention": {"archive": -3}}, "retention.archive: must be a positive number of days or null, got -3"),
    ({"retention": {"cold": 30}}, "retention.cold: unknown key (known: archive, primary)"),
    ({"mixmonitor": {"stereo": "maybe"}}, "mixmonitor.stereo: must be true or false, got 'maybe'"),
    ({"mixmonitor": {"sterio": True}}, "mixmonitor.sterio: unknown key, did you mean 'stereo'?"),
    ({"postprocess": {"headroom_db": "loud"}}, "postprocess.headroom_db: must be a number, got 'loud'"),
    ({"scorecard": {"items": [{"id": "a", "weight": 1}, {"id": "a", "weight": 2}]}},
     "scorecard.items[1].id: duplicate item 'a'"),
    ({"scorecard": {"items": [{"id": "a", "weight": 0}]}}, "scorecard.items[0].weight: must be positive"),
])
def test_mistakes_are_named(raw, message):
    """Each mistake is named; several are all reported at once, one line each."""
    with pytest.raises(RecordingConfigError) as info:
        parse_recording_config(raw, source="recording.yaml")
    assert str(info.value) == f"recording.yaml: {message}"


def test_every_problem_is_one_line():
    raw = {"mixmonitor": {"stereo": "maybe"}, "retension": {}, "postprocess": {"normalise": 1}}
    with pytest.raises(RecordingConfigError) as info:
        parse_recording_config(raw, source="recording.yaml")
    assert str(info.value).splitlines() == [
        "recording.yaml: mixmonitor.stereo: must be true or false, got 'maybe'",
        "recording.yaml: retension: unknown section, did you mean 'retention'?",
        "recording.yaml: postprocess.normalise: must be true or false, got 1",
    ]


def test_announcement_and_stereo():
    config = parse_recording_config({"announcement": {"enabled": True, "prompt": "recording_notice"},
                                     "mixmonitor": {"stereo": True, "bridged_only": False}})
    policy = RecordingPolicy(config)
    assert policy.announcement_prompt() == "recording_notice" and policy.mixmonitor_options() == "D"


def test_scorecard_total_is_the_weighted_mean():
    card = parse_recording_config({"scorecard": {"scale": 10, "items": [
        {"id": "greeting", "weight": 3}, {"id": "closing", "weight": 1}]}}).scorecard
    assert card.total({"greeting": 10, "closing": 2}) == 8.0
    with pytest.raises(ValueError, match="unknown scorecard item"):
        card.total({"greeting": 10, "closing": 2, "smile": 5})
