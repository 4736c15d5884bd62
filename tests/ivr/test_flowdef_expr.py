"""The flow expression language: what it computes, and what it refuses to do."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from ivr.flowdef.calendars import ALWAYS_OPEN, Calendar, Holiday
from ivr.flowdef.expr import ExprError, compile_expr, evaluate_value, interpolate, runtime_functions

ENV = {
    "caller": "13800000000",
    "lang": "zh-CN",
    "customer": {"vip_level": 3, "key_account": False, "blocked": False, "name": "王芳", "balance": Decimal("12.50")},
    "last_digits": "1",
    "recordings": [{"id": 1}, {"id": 2}],
    "data": {"ticket": "T-1"},
}


@pytest.mark.parametrize("text, expected", [
    ("customer.vip_level >= 2", True),
    ("customer.key_account or customer.vip_level >= 2", True),
    ("not customer.blocked and lang == 'zh-CN'", True),
    ("last_digits in ['1', '2']", True),
    ("last_digits not in ('1',)", False),
    ("customer.balance * 2", Decimal("25.00")),
    ("1 + 2 * 3 - 4 / 2", 5.0),
    ("7 // 2 + 7 % 2", 4),
    ("-customer.vip_level", -3),
    ("'VIP' if customer.vip_level >= 2 else 'normal'", "VIP"),
    ("data['ticket']", "T-1"),
    ("recordings[1].id", 2),
    ("recordings[5]", None),
    ("len(recordings)", 2),
    ("int('42') + 1", 43),
    ("str(customer.vip_level) + '级'", "3级"),
    ("customer is not None", True),
    ("0 < customer.vip_level <= 3", True),
])
def test_evaluates_the_python_like_subset(text, expected):
    assert compile_expr(text).evaluate(ENV, runtime_functions()) == expected


def test_missing_values_are_forgiving():
    env = {"customer": None}
    assert compile_expr("customer.vip_level").evaluate(env) is None
    assert compile_expr("customer.vip_level >= 2").evaluate(env) is False
    assert compile_expr("nobody_set_this").evaluate(env) is None
    assert compile_expr("customer.language in ['zh-CN', 'en']").evaluate(env) is False
    assert compile_expr("missing in ['a']").evaluate(env) is False


def test_names_and_calls_are_recorded():
    expr = compile_expr("business_hours('office') and customer.vip_level > 1 and x")
    assert expr.names == {"customer", "x"}
    assert expr.calls == (("business_hours", ("office",), 0),)


@pytest.mark.parametrize("text, message, column", [
    ("customer.__class__", "attribute '__class__' is not allowed", 9),
    ("__import__('os')", "unknown function '__import__'", 0),
    ("_secret", "name '_secret' is not allowed", 0),
    ("caller.__class__.__mro__", "attribute '__mro__' is not allowed", 17),
    ("open('/etc/passwd')", "unknown function 'open'", 0),
    ("caller.upper()", "only registered functions can be called", 0),
    ("(lambda: 1)()", "only registered functions can be called", 0),
    ("[x for x in caller]", "a comprehension is not allowed", 0),
    ("2 ** 100000", "** (power) is not allowed", 0),
    ("f'{caller}'", "an f-string is not allowed", 0),
    ("{'a': 1}", "a dict literal is not allowed", 0),
    ("caller[1:3]", "slicing is not allowed", 7),
    ("len(x=caller)", "len() takes positional arguments only", 0),
    ("(y := 1)", "assignment (:=) is not allowed", 1),
    ("caller ==", "incomplete expression", 9),
    ("caller caller", "invalid expression: invalid syntax", 7),
    ("", "empty expression", 0),
])
def test_refuses_everything_outside_the_whitelist(text, message, column):
    with pytest.raises(ExprError) as err:
        compile_expr(text)
    assert message in err.value.message
    assert err.value.column == column


def test_functions_must_be_registered_at_compile_and_at_run_time():
    with pytest.raises(ExprError, match="unknown function 'len'"):
        compile_expr("len(caller)", functions={"business_hours"})
    with pytest.raises(ExprError, match="function 'len' is not available"):
        compile_expr("len(caller)").evaluate(ENV, {})


def test_no_attribute_route_to_methods_or_dunders_at_run_time():
    class Record:
        visible = 5

        def method(self):
            raise AssertionError("must never be called")

    assert compile_expr("r.visible").evaluate({"r": Record()}) == 5
    with pytest.raises(ExprError, match="'method' is not a value"):
        compile_expr("r.method").evaluate({"r": Record()})
    with pytest.raises(ExprError, match="has no field"):
        compile_expr("caller.upper").evaluate(ENV)


def test_runtime_errors_are_expr_errors():
    with pytest.raises(ExprError, match="division by zero"):
        compile_expr("1 / 0").evaluate({})
    with pytest.raises(ExprError, match="cannot combine str and int"):
        compile_expr("caller + 1").evaluate(ENV)
    with pytest.raises(ExprError, match="result longer than"):
        compile_expr("caller * 100000").evaluate(ENV)
    with pytest.raises(ExprError, match="int\\(\\) failed"):
        compile_expr("int('abc')").evaluate({}, runtime_functions())


def test_interpolation():
    assert interpolate("您好，${customer.name}，余额${customer.balance}元", ENV) == "您好，王芳，余额12.50元"
    assert interpolate("${missing}|${1 + 1}|$${literal}", ENV) == "|2|${literal}"
    with pytest.raises(ExprError) as err:
        interpolate("a ${caller.__class__}", ENV)
    assert err.value.column == 11
    with pytest.raises(ExprError, match="without a closing"):
        interpolate("${caller", ENV)


def test_evaluate_value_rules():
    assert evaluate_value("customer.vip_level", ENV) == 3
    assert evaluate_value("tel ${caller}", ENV) == "tel 13800000000"
    assert evaluate_value(5, ENV) == 5
    assert evaluate_value(True, ENV) is True
    assert evaluate_value("'text'", ENV) == "text"


def test_calendar_functions_use_the_clock_given():
    shanghai = Calendar("default", __import__("zoneinfo").ZoneInfo("Asia/Shanghai"),
                        tuple(((540, 1080),) for _ in range(7)),
                        (Holiday("spring_festival", datetime(2027, 2, 6).date(), datetime(2027, 2, 12).date()),))
    now = datetime(2027, 2, 6, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai
    functions = runtime_functions({"default": shanghai, "always": Calendar("always", shanghai.time_zone, ALWAYS_OPEN)},
                                  now=lambda: now)
    assert compile_expr("business_hours()").evaluate({}, functions) is True
    assert compile_expr("is_holiday()").evaluate({}, functions) is True
    assert compile_expr("is_holiday('default', 'spring_festival')").evaluate({}, functions) is True
    assert compile_expr("is_holiday('default', 'national_day')").evaluate({}, functions) is False
    assert compile_expr("business_hours('always')").evaluate({}, functions) is True
    with pytest.raises(ExprError, match="unknown calendar 'nope'"):
        compile_expr("business_hours('nope')").evaluate({}, functions)


def test_deep_nesting_is_refused_not_a_crash():
    with pytest.raises(ExprError, match="nested more than"):
        compile_expr("-" * 999 + "1")
    with pytest.raises(ExprError, match="nested more than"):
        compile_expr("1+" * 400 + "1")


from hypothesis import given, settings, strategies as st  # noqa: E402

_PIECES = st.sampled_from(["customer", ".", "vip_level", "__class__", "(", ")", "[", "]", "'a'", "1", " ", "+", "*",
                           "==", "and", "not", "in", "len", "business_hours", "lambda", ":", ",", "_x", "${", "}",
                           "-", "/", "0", "if", "else", "None"])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(_PIECES, max_size=25).map("".join)))
def test_any_text_compiles_or_gives_expr_error_and_evaluation_stays_contained(text):
    try:
        expr = compile_expr(text)
    except ExprError as exc:
        assert exc.column is None or 0 <= exc.column <= len(text)
        return
    env = {"customer": {"vip_level": 2}, "a": [1, 2]}
    try:
        expr.evaluate(env, runtime_functions())
    except ExprError:
        pass


def test_without_calendars_the_default_is_open_around_the_clock():
    functions = runtime_functions(now=lambda: datetime(2027, 2, 6, 3, 0, tzinfo=timezone.utc))
    assert compile_expr("business_hours()").evaluate({}, functions) is True
    assert compile_expr("is_holiday()").evaluate({}, functions) is False
    with pytest.raises(ExprError, match="unknown calendar 'office'"):
        compile_expr("business_hours('office')").evaluate({}, functions)
