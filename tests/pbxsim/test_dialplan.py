"""extensions.conf parsing: contexts, priorities, labels, patterns, includes, errors with line numbers."""
from __future__ import annotations

import pytest

from pbxsim.channel import evaluate_expr, substitute
from pbxsim.dialplan import Dialplan, DialplanError, split_args
from pbxsim_capture import CONF, SITE_CONF

SAMPLE = """\
[general]
static = yes

[globals]
TRUNK = trunk ; the carrier
GREETING=hello-world

[main]
exten => s,1,NoOp(start ${CALLERID(num)})   ; a comment
 same => n(menu),Background(${GREETING})
 same => n,Set(X=a\\;b)
 same => n,Goto(menu)
exten => _1XX,1,NoOp(three digits from 1)
exten => _1[0-4]X,1,NoOp(narrower)
exten => 123,1,NoOp(exact)
exten => _9.,1,NoOp(outside)
exten => _8!,1,NoOp(eight or more)
exten => _NXXNXXXXXX,1,NoOp(ten digits)
exten => 200,hint,PJSIP/200
exten => 200,1,Dial(PJSIP/200,20,tT)
include => shared

[shared]
exten => 500,1,NoOp(from include)
 same => 5(five),NoOp(label at five)
"""


def test_contexts_priorities_labels_and_globals():
    dp = Dialplan.from_text(SAMPLE)
    assert set(dp.contexts) == {"main", "shared"}
    assert dp.globals == {"TRUNK": "trunk", "GREETING": "hello-world"}
    steps = dp.match("main", "s").steps
    assert [(p, s.app, s.data) for p, s in sorted(steps.items())] == [
        (1, "NoOp", "start ${CALLERID(num)}"), (2, "Background", "${GREETING}"), (3, "Set", "X=a;b"),
        (4, "Goto", "menu")]
    assert dp.label_priority("main", "s", "menu") == 2
    assert dp.label_priority("main", "500", "five") == 5
    assert dp.match("main", "200").hint == "PJSIP/200"
    assert dp.find("main", "200", 1).data == "PJSIP/200,20,tT"
    assert dp.find("main", "s", 9) is None


@pytest.mark.parametrize("exten,expected", [
    ("123", "exact"), ("105", "narrower"), ("155", "three digits from 1"), ("9", None), ("90", "outside"),
    ("8", "eight or more"), ("800", "eight or more"), ("2125551234", "ten digits"), ("1125551234", None),
    ("500", "from include"), ("777", None),
])
def test_pattern_matching_prefers_exact_then_specific(exten, expected):
    dp = Dialplan.from_text(SAMPLE)
    step = dp.find("main", exten, 1)
    assert (step.data if step else None) == expected


@pytest.mark.parametrize("text,line,reason", [
    ("exten => s,1,NoOp()\n", 1, "outside of any [context]"),
    ("[a]\nexten => s,1,NoOp()\n same => x,Hangup()\n", 3, "bad priority"),
    ("[a]\n same => n,NoOp()\n", 2, "same => without a preceding exten"),
    ("[a]\nexten => s,n,NoOp()\n", 2, "priority 'n' before priority 1"),
    ("[a]\nexten => s,1,NoOp(\n", 2, "unbalanced parentheses"),
    ("[a]\nexten => s,1,NoOp()\nexten => s,1,Hangup()\n", 3, "duplicate priority 1"),
    ("[a]\nexten => s,1\n", 2, "missing application"),
    ("[a\nexten => s,1,NoOp()\n", 1, "malformed context header"),
    ("[a]\nfoo bar\n", 2, "expected 'exten =>'"),
    ("[a]\nexten => _1[2,1,NoOp()\n", 2, "unclosed ["),
])
def test_errors_name_the_line_and_the_reason(text, line, reason):
    with pytest.raises(DialplanError) as err:
        Dialplan.from_text(text, "bad.conf")
    assert err.value.line == line
    assert str(err.value).startswith(f"bad.conf:{line}: ")
    assert reason in err.value.reason


def test_include_directive_and_missing_file(tmp_path):
    (tmp_path / "extra.conf").write_text("[extra]\nexten => 1,1,NoOp(extra)\n")
    (tmp_path / "extensions.conf").write_text('[main]\nexten => s,1,NoOp()\n#include "extra.conf"\n')
    dp = Dialplan.load(tmp_path / "extensions.conf")
    assert dp.find("extra", "1", 1).data == "extra"
    (tmp_path / "broken.conf").write_text('[main]\n#include "missing.conf"\n')
    with pytest.raises(DialplanError) as err:
        Dialplan.load(tmp_path / "broken.conf")
    assert "missing.conf" in str(err.value)


def test_capture_and_site_dialplans_load():
    capture = Dialplan.load(CONF / "extensions.conf")
    assert {"ivrctx", "callerctx", "agentctx"} <= set(capture.contexts)
    # [callerctx] appears twice in the capture's file: both halves are kept
    assert capture.find("callerctx", "digits", 7).data == "34#"
    assert capture.find("ivrctx", "s", 4).data == "agi://127.0.0.1:4573/ivr?lang=en,arg1,arg two"
    site = Dialplan.load(SITE_CONF / "extensions.conf")
    assert site.find("hotline-inbound", "4008001234", 3).app == "AGI"
    assert site.find("hotline-inbound", "s", 3).data == "agi://127.0.0.1:4573/hotline"
    assert site.find("hotline-agents", "1003", 2).data == "PJSIP/${EXTEN},30"


def test_argument_splitting_and_substitution():
    assert split_args("agi://h:1/ivr?lang=en,arg1,arg two") == ["agi://h:1/ivr?lang=en", "arg1", "arg two"]
    assert split_args('Local/s@ctx,20,${IF($[1=1]?a:b)}') == ["Local/s@ctx", "20", "${IF($[1=1]?a:b)}"]
    values = {"A": "hello", "EXTEN": "5551001", "N": "3"}
    assert substitute("${A}-${EXTEN:3}-${EXTEN:-4:2}-${MISSING}", None, values.get) == "hello-1001-10-"
    assert substitute("$[${N} + 2]", None, values.get) == "5"
    assert evaluate_expr("3 > 2 & 1 = 1") == "1"
    assert evaluate_expr('"abc" = "abd"') == "0"
