"""ivr.say: numbers, digits, money, dates, times and percentages as prompt IDs, in Mandarin and English."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from ivr import say
from ivr.say import SAY_PROMPTS, SayError, render_text


def zh(kind, value):
    return render_text(say.say(kind, value, "zh-CN"), "zh-CN")


def en(kind, value):
    return render_text(say.say(kind, value, "en"), "en")


@pytest.mark.parametrize("n, text", [
    (0, "零"), (1, "一"), (2, "二"), (10, "十"), (11, "十一"), (15, "十五"), (20, "二十"), (22, "二十二"),
    (100, "一百"), (101, "一百零一"), (110, "一百一十"), (115, "一百一十五"), (200, "两百"), (222, "两百二十二"),
    (1000, "一千"), (1001, "一千零一"), (1010, "一千零一十"), (1100, "一千一百"), (2000, "两千"),
    (2222, "两千二百二十二"), (10000, "一万"), (10050, "一万零五十"), (10086, "一万零八十六"), (20000, "两万"),
    (100000, "十万"), (110000, "十一万"), (100010, "十万零一十"), (1000000, "一百万"), (10000001, "一千万零一"),
    (100000000, "一亿"), (100001000, "一亿零一千"), (100010000, "一亿零一万"), (200000000, "两亿"),
    (1234567890, "十二亿三千四百五十六万七千八百九十"), (1000000000000, "一万亿"),
])
def test_mandarin_numbers(n, text):
    assert zh("number", n) == text


def test_mandarin_decimals_and_negatives():
    assert zh("number", "3.05") == "三点零五"
    assert zh("number", "-7") == "负七"
    assert zh("number", "12.50") == "十二点五"


@pytest.mark.parametrize("amount, zh_text, en_text", [
    ("0", "零元", "zero yuan"),
    ("0.05", "五分", "five cents"),
    ("0.5", "五角", "fifty cents"),
    ("2", "两元", "two yuan"),
    ("2.22", "两元两角两分", "two yuan and twenty two cents"),
    ("12.05", "十二元零五分", "twelve yuan and five cents"),
    ("12.50", "十二元五角", "twelve yuan and fifty cents"),
    ("1000.01", "一千元零一分", "one thousand yuan and one cent"),
    ("1234.5", "一千二百三十四元五角", "one thousand two hundred thirty four yuan and fifty cents"),
])
def test_money(amount, zh_text, en_text):
    assert zh("money", amount) == zh_text
    assert en("money", amount) == en_text


def test_english_numbers():
    assert en("number", 0) == "zero"
    assert en("number", 115) == "one hundred fifteen"
    assert en("number", 10086) == "ten thousand eighty six"
    assert en("number", 1234567890) == ("one billion two hundred thirty four million five hundred sixty seven "
                                        "thousand eight hundred ninety")


def test_digits_read_one_as_yao_in_mandarin():
    assert zh("digits", "13800138000") == "幺三八零零幺三八零零零"
    assert en("digits", "400-1*#") == "four zero zero one star pound"


def test_dates_and_times():
    assert zh("date", "2026-11-23") == "二零二六年十一月二十三日"
    assert en("date", dt.date(2026, 11, 23)) == "November twenty third two thousand twenty six"
    assert zh("time", "14:05") == "十四点零五分"
    assert zh("time", "02:00") == "两点整"
    assert en("time", "14:05") == "two oh five p m"
    assert en("time", dt.time(0, 30)) == "twelve thirty a m"
    assert zh("date", dt.datetime(2027, 2, 6, 9, 0)) == "二零二七年二月六日"


def test_percent():
    assert zh("percent", "12.5") == "百分之十二点五"
    assert en("percent", 80) == "eighty percent"


def test_bad_values_are_clear_errors():
    with pytest.raises(SayError, match="not a number"):
        say.number("abc", "zh-CN")
    with pytest.raises(SayError, match="unknown say kind"):
        say.say("colour", 1, "en")
    with pytest.raises(SayError, match="no spoken numbers"):
        say.number(1, "fr")
    with pytest.raises(SayError, match="not a date"):
        say.date("23/11/2026", "en")
    with pytest.raises(SayError, match="cannot read"):
        say.digits("12a", "en")


def test_every_prompt_id_has_both_texts_and_is_in_the_prompt_catalogue():
    assert all(set(texts) == {"zh-CN", "en"} and all(texts.values()) for texts in SAY_PROMPTS.values())
    catalogue = yaml.safe_load((Path(__file__).resolve().parents[2] / "prompts" / "catalogue.yaml").read_text())
    missing = [pid for pid in SAY_PROMPTS if pid not in catalogue["prompts"]]
    assert missing == []
    for values in (12345678, "3.14", -5):
        for lang in ("zh-CN", "en"):
            assert all(pid in SAY_PROMPTS for pid in say.number(values, lang))
