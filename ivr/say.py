"""Spoken numbers, digits, money, dates, times and percentages as sequences of prompt IDs.

Each function returns the prompt IDs (``num-3``, ``num-10``, ``word-yuan`` …) that, played one after
the other as ``hotline/<lang>/<id>``, read the value aloud in Mandarin (``zh-CN``) or English (``en``).
The IDs and their texts in both languages are listed by :data:`SAY_PROMPTS` (exported to the prompt
catalogue).

Mandarin rules implemented here: 零 once for a run of zeros inside a number and before a section that
does not fill its four digits (一万零五十, 一亿零一万), never at the end; 十 instead of 一十 at the start
of a number (十五, 十万) but 一十 inside (一百一十); 两 instead of 二 before 千/万/亿 and for a leading
百 (两百, 两千, 两万), and for a counted amount (两元, 两点).
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal, InvalidOperation
from typing import Any

LANGUAGES = ("zh-CN", "en")

_ZH_DIGITS = "零一二三四五六七八九"
_EN_SMALL = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
]
_EN_TENS = {20: "twenty", 30: "thirty", 40: "forty", 50: "fifty", 60: "sixty", 70: "seventy", 80: "eighty", 90: "ninety"}
_EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December"]
_EN_ORDINAL_SMALL = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
                     "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
                     "eighteenth", "nineteenth", "twentieth"]


def _build_catalogue() -> dict[str, dict[str, str]]:
    cat: dict[str, dict[str, str]] = {}
    for d in range(10):
        cat[f"num-{d}"] = {"zh-CN": _ZH_DIGITS[d], "en": _EN_SMALL[d]}
    cat["num-liang"] = {"zh-CN": "两", "en": "two"}
    cat["num-yao"] = {"zh-CN": "幺", "en": "one"}
    for d in range(10, 20):
        cat[f"num-{d}"] = {"zh-CN": "十" + (_ZH_DIGITS[d - 10] if d > 10 else ""), "en": _EN_SMALL[d]}
    for t, word in _EN_TENS.items():
        cat[f"num-{t}"] = {"zh-CN": _ZH_DIGITS[t // 10] + "十", "en": word}
    cat["num-100"] = {"zh-CN": "百", "en": "hundred"}
    cat["num-1000"] = {"zh-CN": "千", "en": "thousand"}
    cat["num-wan"] = {"zh-CN": "万", "en": "ten thousand"}
    cat["num-yi"] = {"zh-CN": "亿", "en": "hundred million"}
    cat["num-million"] = {"zh-CN": "百万", "en": "million"}
    cat["num-billion"] = {"zh-CN": "十亿", "en": "billion"}
    words = {
        "word-minus": ("负", "minus"),
        "word-point": ("点", "point"),
        "word-percent": ("百分之", "percent"),
        "word-yuan": ("元", "yuan"),
        "word-jiao": ("角", "jiao"),
        "word-fen": ("分", "fen"),
        "word-cents": ("分", "cents"),
        "word-cent": ("分", "cent"),
        "word-and": ("和", "and"),
        "word-year": ("年", "year"),
        "word-month": ("月", "month"),
        "word-day": ("日", "day"),
        "word-oclock": ("点", "o'clock"),
        "word-hour": ("点", "hours"),
        "word-minute": ("分", "minutes"),
        "word-zheng": ("整", "sharp"),
        "word-oh": ("零", "oh"),
        "word-am": ("上午", "a m"),
        "word-pm": ("下午", "p m"),
        "word-star": ("星号", "star"),
        "word-hash": ("井号", "pound"),
    }
    for pid, (zh, en) in words.items():
        cat[pid] = {"zh-CN": zh, "en": en}
    for m in range(1, 13):
        cat[f"month-{m}"] = {"zh-CN": ("十" + _ZH_DIGITS[m - 10] if m > 10 else ("十" if m == 10 else _ZH_DIGITS[m])) + "月",
                             "en": _EN_MONTHS[m - 1]}
    for d in range(1, 32):
        if d <= 20:
            en = _EN_ORDINAL_SMALL[d]
        elif d % 10 == 0:
            en = "thirtieth"
        else:
            en = _EN_TENS[d - d % 10] + " " + _EN_ORDINAL_SMALL[d % 10]
        tens, unit = divmod(d, 10)
        zh = ("" if tens == 0 else ("十" if tens == 1 else _ZH_DIGITS[tens] + "十")) + (_ZH_DIGITS[unit] if unit else "")
        cat[f"ord-{d}"] = {"zh-CN": zh + "日", "en": en}
    return cat


class SayError(ValueError):
    """A value that cannot be read aloud (wrong kind, unparsable, out of range)."""


def _check_lang(lang: str) -> str:
    if lang.startswith("zh"):
        return "zh-CN"
    if lang.startswith("en"):
        return "en"
    raise SayError(f"no spoken numbers for language {lang!r} (have {', '.join(LANGUAGES)})")


# --- Mandarin --------------------------------------------------------------------------------

_ZH_POS_UNIT = {1: "num-10", 2: "num-100", 3: "num-1000"}
_ZH_GROUP_UNIT = ["", "num-wan", "num-yi", "num-wan"]  # 4th group: 万亿 (亿 already said for the 3rd)


def _zh_integer(n: int, counted: bool = False) -> list[str]:
    """Read a non-negative integer. ``counted``: a quantity before a measure word (两元), so a bare 2 is 两."""
    if n == 0:
        return ["num-0"]
    if n >= 10 ** 16:
        raise SayError(f"number too large to read: {n}")
    if n == 2 and counted:
        return ["num-liang"]
    groups = []
    rest = n
    while rest:
        rest, g = divmod(rest, 10000)
        groups.append(g)
    out: list[str] = []
    pending_zero = False
    for gi in range(len(groups) - 1, -1, -1):
        g = groups[gi]
        if g == 0:
            if out:
                pending_zero = True
            continue
        if out and (pending_zero or g < 1000):
            out.append("num-0")
        pending_zero = False
        out.extend(_zh_group(g, number_start=not out, group_index=gi))
        unit = _ZH_GROUP_UNIT[gi]
        if gi == 3 and groups[2] == 0:
            out.append("num-wan")
            out.append("num-yi")
        elif gi == 3:
            out.append("num-wan")
        elif unit:
            out.append(unit)
    return out


def _zh_group(g: int, number_start: bool, group_index: int) -> list[str]:
    digits = [(g // 10 ** p) % 10 for p in (3, 2, 1, 0)]
    out: list[str] = []
    zero = False
    for d, pos in zip(digits, (3, 2, 1, 0)):
        if d == 0:
            if out:
                zero = True
            continue
        if zero:
            out.append("num-0")
            zero = False
        first = number_start and not out
        if pos == 1 and d == 1 and first:
            out.append("num-10")  # 十五, not 一十五 — only at the very start
            continue
        if d == 2 and (pos == 3 or (pos == 2 and first) or (pos == 0 and first and g == 2 and group_index > 0)):
            out.append("num-liang")
        else:
            out.append(f"num-{d}")
        if pos:
            out.append(_ZH_POS_UNIT[pos])
    return out


def _zh_digit_ids(text: str, phone_style: bool) -> list[str]:
    out = []
    for ch in text:
        if ch == "1" and phone_style:
            out.append("num-yao")
        elif ch.isdigit():
            out.append(f"num-{ch}")
        elif ch == "*":
            out.append("word-star")
        elif ch == "#":
            out.append("word-hash")
        elif ch in " -":
            continue
        else:
            raise SayError(f"cannot read {ch!r} as a digit")
    return out


# --- English ---------------------------------------------------------------------------------

def _en_below_thousand(n: int) -> list[str]:
    out: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        out += [f"num-{hundreds}", "num-100"]
    if rest:
        if rest < 20:
            out.append(f"num-{rest}")
        else:
            tens, unit = divmod(rest, 10)
            out.append(f"num-{tens * 10}")
            if unit:
                out.append(f"num-{unit}")
    return out


def _en_integer(n: int) -> list[str]:
    if n == 0:
        return ["num-0"]
    if n >= 10 ** 12:
        raise SayError(f"number too large to read: {n}")
    out: list[str] = []
    for scale, unit in ((10 ** 9, "num-billion"), (10 ** 6, "num-million"), (1000, "num-1000")):
        if n >= scale:
            high, n = divmod(n, scale)
            out += _en_below_thousand(high) + [unit]
    out += _en_below_thousand(n)
    return out


# --- public API --------------------------------------------------------------------------------

def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise SayError(f"not a number: {value!r}")
    try:
        d = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise SayError(f"not a number: {value!r}") from None
    if not d.is_finite():
        raise SayError(f"not a number: {value!r}")
    return d


def _integer(lang: str, n: int, counted: bool = False) -> list[str]:
    return _zh_integer(n, counted) if lang == "zh-CN" else _en_integer(n)


def number(value: Any, lang: str) -> list[str]:
    """A whole or decimal number: 10086 → 一万零八十六; 3.05 → 三点零五; -7 → minus seven."""
    lang = _check_lang(lang)
    d = _to_decimal(value)
    out: list[str] = []
    if d < 0:
        out.append("word-minus")
        d = -d
    text = format(d, "f")
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    out += _integer(lang, int(whole))
    if frac:
        out.append("word-point")
        out += [f"num-{c}" for c in frac]
    return out


def digits(value: Any, lang: str) -> list[str]:
    """Digit by digit (phone, order numbers); Mandarin reads 1 as 幺 the way phone numbers are read."""
    lang = _check_lang(lang)
    text = str(value)
    return _zh_digit_ids(text, phone_style=(lang == "zh-CN"))


def money(value: Any, lang: str) -> list[str]:
    """An amount in yuan: 12.05 → 十二元零五分 / twelve yuan and five cents."""
    lang = _check_lang(lang)
    d = _to_decimal(value).quantize(Decimal("0.01"))
    out: list[str] = []
    if d < 0:
        out.append("word-minus")
        d = -d
    fen_total = int(d * 100)
    yuan, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)
    if lang == "zh-CN":
        if yuan or not cents:
            out += _zh_integer(yuan, counted=True) + ["word-yuan"]
        if jiao:
            out += _zh_integer(jiao, counted=True) + ["word-jiao"]
        if fen:
            if yuan and not jiao:
                out.append("num-0")
            out += _zh_integer(fen, counted=True) + ["word-fen"]
        return out
    if yuan or not cents:
        out += _en_integer(yuan) + ["word-yuan"]
    if cents:
        if yuan:
            out.append("word-and")
        out += _en_integer(cents) + ["word-cent" if cents == 1 else "word-cents"]
    return out


def _to_date(value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise SayError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _to_time(value: Any) -> _dt.time:
    if isinstance(value, _dt.datetime):
        return value.time()
    if isinstance(value, _dt.time):
        return value
    text = str(value).strip()
    if "T" in text or (" " in text and len(text) > 8):
        text = text.replace("T", " ").split(" ", 1)[1]
    try:
        return _dt.time.fromisoformat(text)
    except ValueError:
        raise SayError(f"not a time (HH:MM): {value!r}") from None


def date(value: Any, lang: str) -> list[str]:
    """2026-11-23 → 二零二六年十一月二十三日 / November twenty third, two thousand twenty six."""
    lang = _check_lang(lang)
    d = _to_date(value)
    if lang == "zh-CN":
        return [f"num-{c}" for c in f"{d.year:04d}"] + ["word-year", f"month-{d.month}", f"ord-{d.day}"]
    return [f"month-{d.month}", f"ord-{d.day}"] + _en_integer(d.year)


def time(value: Any, lang: str) -> list[str]:
    """14:05 → 十四点零五分 / two oh five p m; 2:00 → 两点整 / two o'clock a m."""
    lang = _check_lang(lang)
    t = _to_time(value)
    if lang == "zh-CN":
        out = _zh_integer(t.hour, counted=True) + ["word-oclock"]
        if t.minute == 0:
            return out + ["word-zheng"]
        if t.minute < 10:
            out.append("num-0")
        return out + _zh_integer(t.minute) + ["word-minute"]
    hour12 = t.hour % 12 or 12
    out = _en_integer(hour12)
    if t.minute == 0:
        out.append("word-oclock")
    elif t.minute < 10:
        out += ["word-oh", f"num-{t.minute}"]
    else:
        out += _en_integer(t.minute)
    return out + ["word-am" if t.hour < 12 else "word-pm"]


def percent(value: Any, lang: str) -> list[str]:
    """12.5 → 百分之十二点五 / twelve point five percent."""
    lang = _check_lang(lang)
    d = _to_decimal(value)
    sign: list[str] = []
    if d < 0:
        sign, d = ["word-minus"], -d
    body = number(d, lang)
    if lang == "zh-CN":
        return sign + ["word-percent"] + body
    return sign + body + ["word-percent"]


KINDS = {"number": number, "digits": digits, "money": money, "date": date, "time": time, "percent": percent}


def say(kind: str, value: Any, lang: str) -> list[str]:
    """Dispatch by the ``say`` node's ``kind``."""
    try:
        fn = KINDS[kind]
    except KeyError:
        raise SayError(f"unknown say kind {kind!r} (expected one of {', '.join(KINDS)})") from None
    return fn(value, lang)


SAY_PROMPTS: dict[str, dict[str, str]] = _build_catalogue()


def render_text(ids: list[str], lang: str) -> str:
    """The text the IDs would speak (for logs and tests)."""
    lang = _check_lang(lang)
    sep = "" if lang == "zh-CN" else " "
    return sep.join(SAY_PROMPTS[i][lang] for i in ids)
