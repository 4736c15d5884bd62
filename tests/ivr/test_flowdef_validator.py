"""Each kind of flow error is reported as file:line:column: reason at the offending key or value."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ivr.flowdef.calendars import load_calendars
from ivr.flowdef.loader import load_flow, load_flows
from ivr.flowdef.model import FlowError
from ivr.flowdef.validator import validate_files
from ivr.prompts.catalogue import PromptCatalogue

CATALOGUE = PromptCatalogue({
    "menu": {"zh-CN": "请按1", "en": "Press 1"},
    "closing": {"zh-CN": "再见", "en": "Goodbye"},
    "sorry": {"zh-CN": "对不起", "en": "Sorry"},
    "only_zh": {"zh-CN": "只有中文"},
})


def write(tmp_path: Path, text: str, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str, **kwargs) -> list[str]:
    path = write(tmp_path, text)
    kwargs.setdefault("catalogue", CATALOGUE)
    catalogue = kwargs.pop("catalogue")
    _, found = validate_files([path], catalogue, **kwargs)
    return [str(p).replace(str(tmp_path) + "/", "") for p in found]


VALID = """
flow: demo
languages: [zh-CN, en]
default_language: zh-CN
start: hello
nodes:
  hello:
    type: menu
    prompt: menu
    options: {"1": bye, "2": check}
    fallback: bye
  check:
    type: branch
    conditions:
      - {if: "customer.vip_level >= 2 and business_hours()", next: bye}
    else: bye
  bye:
    type: hangup
    prompt: closing
"""


def test_a_valid_flow_passes_and_loads(tmp_path):
    assert problems(tmp_path, VALID) == []
    flow = load_flow(tmp_path / "demo.yaml", CATALOGUE)
    assert flow.name == "demo" and flow.start == "hello" and flow.languages == ("zh-CN", "en")
    assert flow.nodes["hello"].type == "menu"
    assert flow.nodes["hello"].params["options"] == {"1": "bye", "2": "check"}
    assert "type" not in flow.nodes["hello"].params
    assert (flow.nodes["check"].line, flow.nodes["check"].column) == (11, 3)


def test_unknown_node_type(tmp_path):
    text = VALID.replace("type: branch", "type: brnach")
    assert problems(tmp_path, text) == [
        "demo.yaml:12:11: unknown node type 'brnach' (did you mean 'branch'?) (known: play, menu, collect, say, "
        "branch, set, lookup, queue, transfer, voicemail, callback, survey, subflow, goto, hangup, qa_login, "
        "recordings_search, recordings_play)"]


def test_unknown_and_missing_params(tmp_path):
    text = VALID.replace("    fallback: bye\n", "    fallbak: bye\n").replace("    prompt: closing\n", "")
    text = text.replace("    else: bye\n", "")
    assert problems(tmp_path, text) == [
        "demo.yaml:10:5: unknown parameter 'fallbak' for menu node 'hello' (did you mean 'fallback'?) "
        "(expected: prompt, options, repeat_key, timeout, retries, max_timeouts, invalid_prompt, timeout_prompt, "
        "fallback, timeout_fallback)",
        "demo.yaml:11:3: branch node 'check' is missing required parameter 'else'",
    ]


def test_wrong_param_types(tmp_path):
    text = VALID.replace("    fallback: bye\n", "    fallback: bye\n    timeout: soon\n    retries: 0\n")
    assert problems(tmp_path, text) == [
        "demo.yaml:11:14: 'timeout' of menu node 'hello' must be a positive number (seconds), not 'soon'",
        "demo.yaml:12:14: 'retries' of menu node 'hello' must be a positive whole number, not 0",
    ]


def test_dangling_target(tmp_path):
    text = VALID.replace('{"1": bye, "2": check}', '{"1": bye, "2": chek}')
    # only the cause: 'check' being unreachable now follows from it and is not reported on top
    assert problems(tmp_path, text) == [
        "demo.yaml:9:30: option 2 of menu node 'hello' points to node 'chek', which does not exist "
        "(did you mean 'check'?)"]


def test_dangling_start(tmp_path):
    assert problems(tmp_path, VALID.replace("start: hello", "start: hallo")) == [
        "demo.yaml:4:8: start node 'hallo' does not exist (did you mean 'hello'?)"]


def test_unreachable_node(tmp_path):
    text = VALID + "  orphan:\n    type: hangup\n"
    assert problems(tmp_path, text) == ["demo.yaml:19:3: node 'orphan' is unreachable from start node 'hello'"]


def test_loop_with_no_exit(tmp_path):
    text = """
    flow: demo
    languages: [zh-CN]
    start: a
    nodes:
      a: {type: play, prompt: menu, next: b}
      b:
        type: branch
        conditions:
          - {if: "caller == '1'", next: a}
        else: c
      c: {type: play, prompt: sorry, next: a}
    """
    assert problems(tmp_path, text) == [
        "demo.yaml:5:3: loop with no exit: a → b → c can never end the call "
        "(no hangup, queue, transfer, voicemail or fallback reachable)"]


def test_loop_with_a_way_out_is_fine(tmp_path):
    text = """
    flow: demo
    languages: [zh-CN]
    start: a
    nodes:
      a: {type: play, prompt: menu, next: b}
      b:
        type: branch
        conditions:
          - {if: "caller == '1'", next: a}
        else: done
      done: {type: hangup}
    """
    assert problems(tmp_path, text) == []


def test_menu_without_fallback_can_end_the_call(tmp_path):
    text = """
    flow: demo
    languages: [zh-CN]
    start: m
    nodes:
      m: {type: menu, prompt: menu, options: {"1": m2}}
      m2: {type: menu, prompt: menu, options: {"1": m}}
    """
    assert problems(tmp_path, text) == []
    text = text.replace('options: {"1": m}}', 'options: {"1": m}, fallback: m}').replace(
        '"1": m2}}', '"1": m2}, fallback: m2}')
    assert problems(tmp_path, text)[0].startswith("demo.yaml:5:3: loop with no exit: m → m2")


def test_prompt_missing_in_a_language(tmp_path):
    text = VALID.replace("    prompt: closing\n", "    prompt: only_zh\n")
    assert problems(tmp_path, text) == [
        "demo.yaml:18:13: prompt 'only_zh' has no en text, and the flow offers en"]


def test_unknown_prompt(tmp_path):
    text = VALID.replace("    prompt: closing\n", "    prompt: closng\n")
    assert problems(tmp_path, text) == [
        "demo.yaml:18:13: unknown prompt 'closng' in 'prompt' of hangup node 'bye' (did you mean 'closing'?) "
        "(not in the prompt catalogue)"]


def test_prompts_not_checked_without_a_catalogue(tmp_path):
    assert problems(tmp_path, VALID.replace("prompt: closing", "prompt: whatever"), catalogue=None) == []


def test_digit_used_twice_in_a_menu(tmp_path):
    text = VALID.replace('    options: {"1": bye, "2": check}\n',
                         '    options:\n      "1": bye\n      "2": check\n      "1": check\n')
    assert problems(tmp_path, text) == ["demo.yaml:12:7: digit '1' used twice in menu 'hello' (first at line 10)"]


def test_digit_used_twice_quoted_and_unquoted(tmp_path):
    text = VALID.replace('    options: {"1": bye, "2": check}\n',
                         '    options:\n      1: bye\n      "2": check\n      "1": check\n')
    assert problems(tmp_path, text) == ["demo.yaml:12:7: digit '1' used twice in menu 'hello' (first at line 10)"]


def test_repeat_key_that_is_also_an_option(tmp_path):
    text = VALID.replace("    fallback: bye\n", '    fallback: bye\n    repeat_key: "2"\n')
    assert problems(tmp_path, text) == [
        "demo.yaml:11:17: digit '2' used twice in menu 'hello': it is the repeat_key and an option"]


def test_duplicate_node_id(tmp_path):
    text = VALID + "  bye:\n    type: hangup\n"
    assert problems(tmp_path, text) == ["demo.yaml:19:3: duplicate key 'bye' (first defined at line 16)"]


def test_bad_expression_points_into_the_text(tmp_path):
    text = VALID.replace('"customer.vip_level >= 2 and business_hours()"', '"customer.vip_level >= and x"')
    assert problems(tmp_path, text) == [
        "demo.yaml:14:37: bad expression in 'conditions' of branch node 'check': invalid expression: invalid syntax"]


def test_expression_with_dunder_and_unknown_function(tmp_path):
    text = VALID.replace('"customer.vip_level >= 2 and business_hours()"', "customer.__class__")
    assert problems(tmp_path, text) == [
        "demo.yaml:14:23: bad expression in 'conditions' of branch node 'check': attribute '__class__' is not "
        "allowed (attributes may not start with '_')"]
    text = VALID.replace('"customer.vip_level >= 2 and business_hours()"', '"open(caller)"')
    assert problems(tmp_path, text)[0].startswith(
        "demo.yaml:14:15: bad expression in 'conditions' of branch node 'check': unknown function 'open'")


def test_unknown_calendar(tmp_path):
    text = VALID.replace("business_hours()", "business_hours('ofice')")
    cal_file = tmp_path / "calendars.yaml"
    cal_file.write_text("calendars:\n  office: {}\n", encoding="utf-8")
    calendars = load_calendars(cal_file)
    assert problems(tmp_path, text, calendars=calendars) == [
        "demo.yaml:14:43: unknown calendar 'ofice' in 'conditions' of branch node 'check' (did you mean 'office'?) "
        "(calendars come from flows/calendars.yaml)"]


def test_bad_regex_pattern(tmp_path):
    text = """
    flow: demo
    languages: [zh-CN]
    start: ask
    nodes:
      ask:
        type: collect
        prompt: menu
        var: order_no
        max_digits: 8
        pattern: "^[0-9{3,8}$"
        next: bye
      bye: {type: hangup}
    """
    assert problems(tmp_path, text) == [
        "demo.yaml:10:16: bad regular expression in 'pattern' of collect node 'ask': unterminated character set"]


def test_bad_template_in_transfer(tmp_path):
    text = """
    flow: demo
    languages: [zh-CN]
    start: t
    nodes:
      t: {type: transfer, to: "8${customer.manager", next: bye}
      bye: {type: hangup}
    """
    assert problems(tmp_path, text) == [
        "demo.yaml:5:29: bad ${...} in 'to' of transfer node 't': '${' without a closing '}'"]


def test_unknown_queue(tmp_path):
    text = """
    flow: demo
    languages: [zh-CN]
    start: q
    nodes:
      q: {type: queue, queue: presale}
    """
    assert problems(tmp_path, text, queues=["presales", "vip"]) == [
        "demo.yaml:5:27: unknown queue 'presale' (did you mean 'presales'?) (queues come from config/queues.yaml)"]


def test_yaml_syntax_error(tmp_path):
    text = "flow: demo\nnodes:\n  a: {type: play\n  b: x\n"
    found = problems(tmp_path, text)
    assert len(found) == 1 and found[0].startswith("demo.yaml:4:4: YAML syntax error:")


def test_top_level_shape(tmp_path):
    assert problems(tmp_path, "flow: demo\nlanguage: [zh-CN]\nstart: a\nnodes: {a: {type: hangup}}\n") == [
        "demo.yaml:1:1: missing required top-level key 'languages'",
        "demo.yaml:2:1: unknown top-level key 'language' (expected flow, languages, default_language, start, "
        "variables, nodes)",
    ]
    assert problems(tmp_path, "- just\n- a list\n") == [
        "demo.yaml:1:1: a flow file is a mapping with flow, languages, start and nodes"]


def test_default_language_must_be_offered(tmp_path):
    text = VALID.replace("default_language: zh-CN", "default_language: fr")
    assert problems(tmp_path, text) == [
        "demo.yaml:3:19: default_language 'fr' is not one of the flow's languages ['zh-CN', 'en']"]


def test_play_needs_exactly_one_of_prompt_or_prompts(tmp_path):
    text = """
    flow: demo
    languages: [zh-CN]
    start: p
    nodes:
      p: {type: play, prompt: menu, prompts: [menu], next: bye}
      bye: {type: hangup}
    """
    assert problems(tmp_path, text) == ["demo.yaml:5:3: play node 'p' needs exactly one of prompt or prompts"]


def test_new_qa_node_types_are_checked(tmp_path):
    text = """
    flow: demo
    languages: [zh-CN]
    start: play
    nodes:
      play:
        type: recordings_play
        prompt: menu
        keys: {next: "3", previous: "3", rewind: "1"}
        menu: play
        next: bye
      bye: {type: hangup}
    """
    assert problems(tmp_path, text) == [
        "demo.yaml:8:33: digit '3' used twice in 'keys' of recordings_play node 'play' (next and previous)",
        "demo.yaml:8:38: unknown action 'rewind' in 'keys' of recordings_play node 'play' "
        "(expected next, previous, repeat, menu)",
    ]


# --- across files ------------------------------------------------------------------------------------

CALLER = """
flow: main
languages: [zh-CN, en]
start: go
nodes:
  go: {type: subflow, flow: helper, next: jump}
  jump: {type: goto, target: "helper:step"}
"""
HELPER = """
flow: helper
languages: [zh-CN, en]
start: step
nodes:
  step: {type: hangup}
"""


def test_cross_flow_targets_resolve_in_a_directory(tmp_path):
    write(tmp_path, CALLER, "main.yaml")
    write(tmp_path, HELPER, "helper.yaml")
    flows = load_flows(tmp_path, CATALOGUE)
    assert sorted(flows) == ["helper", "main"]


def test_cross_flow_targets_that_do_not_exist(tmp_path):
    write(tmp_path, CALLER.replace("flow: helper", "flow: helpr").replace("helper:step", "helper:stop"), "main.yaml")
    write(tmp_path, HELPER, "helper.yaml")
    with pytest.raises(FlowError) as err:
        load_flows(tmp_path, CATALOGUE)
    assert [str(p).replace(str(tmp_path) + "/", "") for p in err.value.errors] == [
        "main.yaml:5:29: unknown flow 'helpr' (did you mean 'helper'?)",
        "main.yaml:6:30: flow 'helper' has no node 'stop' (did you mean 'step'?)",
    ]


def test_cross_flow_language_mismatch(tmp_path):
    write(tmp_path, CALLER, "main.yaml")
    write(tmp_path, HELPER.replace("[zh-CN, en]", "[zh-CN]"), "helper.yaml")
    with pytest.raises(FlowError) as err:
        load_flow(tmp_path / "main.yaml", CATALOGUE)  # a single file still sees its sibling flows
    assert str(err.value).splitlines()[0].endswith(
        "main.yaml:5:29: flow 'helper' does not offer en, which 'main' offers")


def test_flow_error_lists_every_problem_as_lines(tmp_path):
    path = write(tmp_path, VALID.replace("start: hello", "start: nowhere").replace("type: branch", "type: x"))
    with pytest.raises(FlowError) as err:
        load_flow(path, CATALOGUE)
    lines = str(err.value).splitlines()
    assert len(lines) == len(err.value.errors) == 2
    assert all(line.startswith(f"{path}:") for line in lines)


def test_a_broken_sibling_is_still_a_known_flow(tmp_path):
    write(tmp_path, CALLER, "main.yaml")
    write(tmp_path, HELPER.replace("step: {type: hangup}", "step: {type: hangup, bad: 1}"), "helper.yaml")
    _, found = validate_files([tmp_path / "main.yaml"], CATALOGUE)
    assert found == []  # helper's own problem is reported when helper.yaml is validated, not as "unknown flow"
    _, found = validate_files([tmp_path / "main.yaml", tmp_path / "helper.yaml"], CATALOGUE)
    assert [str(p).replace(str(tmp_path) + "/", "") for p in found] == [
        "helper.yaml:5:24: unknown parameter 'bad' for hangup node 'step' (expected: prompt)"]


def test_transfer_target_literal_template_or_expression(tmp_path):
    base = """
    flow: demo
    languages: [zh-CN]
    start: t
    nodes:
      t: {type: transfer, to: TARGET, timeout: 20, next: bye}
      bye: {type: hangup}
    """
    for ok in ("'8001'", "PJSIP/1001", "'+8613800000000'", "customer.manager", "'8${customer.ext}'"):
        assert problems(tmp_path, base.replace("TARGET", ok)) == [], ok
    assert problems(tmp_path, base.replace("TARGET", "customer..manager")) == [
        "demo.yaml:5:36: bad expression in 'to' of transfer node 't': invalid expression: invalid syntax"]
