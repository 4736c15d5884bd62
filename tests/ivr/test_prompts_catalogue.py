"""prompts/catalogue.yaml: the customer's standard phrases verbatim, both languages, the say prompts."""
from __future__ import annotations

from pathlib import Path

import pytest

from ivr.flowdef.model import FlowError
from ivr.prompts.catalogue import PromptCatalogue
from ivr.say import SAY_PROMPTS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalogue():
    return PromptCatalogue.load(ROOT / "prompts" / "catalogue.yaml")


@pytest.mark.parametrize("prompt_id, text", [
    ("welcome", "您好，江南云商客服中心为您服务。"),
    ("malicious_call", "对不起，您所咨询的内容不是我们的服务范围，请您挂机，再见。"),
    ("silent_prompt", "您好，您的电话已接通，请讲。"),
    ("silent_goodbye", "对不起，听不到您的声音，请您再拨一次好吗？"),
    ("please_wait", "对不起，请稍等。"),
    ("sorry_to_keep_waiting", "对不起，让您久等了。"),
    ("closing", "感谢您的来电，欢迎再次拨打，再见。"),
    ("sorry", "对不起。"),
    ("anything_else", "请问您还有什么需要帮助？"),
    ("holiday_spring_festival", "新春快乐！"),
])
def test_standard_phrases_verbatim(catalogue, prompt_id, text):
    assert catalogue.text(prompt_id, "zh-CN") == text


def test_every_prompt_has_both_languages(catalogue):
    assert catalogue.languages() == ["en", "zh-CN"]
    for prompt_id in catalogue.ids():
        assert catalogue.has(prompt_id, "zh-CN") and catalogue.has(prompt_id, "en"), prompt_id


def test_menus_use_the_please_press_form(catalogue):
    assert "请按1" in catalogue.text("main_menu", "zh-CN") and "请按0" in catalogue.text("main_menu", "zh-CN")
    assert "please press 1" in catalogue.text("main_menu", "en")
    assert "普通话服务请按1" in catalogue.text("choose_language", "zh-CN")


def test_say_prompts_are_all_there_with_the_same_text(catalogue):

    for prompt_id, texts in SAY_PROMPTS.items():
        for lang, text in texts.items():
            assert catalogue.text(prompt_id, lang) == text, (prompt_id, lang)


def test_sound_names():
    assert PromptCatalogue.sound_name("welcome", "zh-CN") == "hotline/zh-CN/welcome"


def test_lookups_of_what_is_not_there(catalogue):
    assert not catalogue.has_id("nope") and not catalogue.has("welcome", "fr")
    with pytest.raises(KeyError, match="no fr text for prompt 'welcome'"):
        catalogue.text("welcome", "fr")


@pytest.mark.parametrize("body, message", [
    ("prompts:\n  welcome:\n    zh-CN: 您好\n    zh-CN: 你好\n",
     "catalogue.yaml:4:5: duplicate key 'zh-CN' (first defined at line 3)"),
    ("prompts:\n  welcome:\n    zh-CN: ''\n", "catalogue.yaml:3:12: prompt 'welcome' has an empty zh-CN text"),
    ("prompts:\n  ../etc/passwd:\n    en: x\n",
     "catalogue.yaml:2:3: bad prompt id '../etc/passwd': letters, digits, _ . - (it becomes a file name)"),
    ("prompts:\n  welcome:\n    English: Hello\n", "catalogue.yaml:3:5: bad language code 'English' in prompt 'welcome'"),
    ("prompt: {}\n", "catalogue.yaml:1:1: expected `prompts:` mapping prompt id → {language: text}"),
])
def test_catalogue_errors_have_positions(tmp_path, body, message):
    path = tmp_path / "catalogue.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(FlowError) as err:
        PromptCatalogue.load(path)
    assert str(err.value).replace(str(tmp_path) + "/", "") == message
