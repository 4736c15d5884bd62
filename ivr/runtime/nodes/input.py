"""menu and collect nodes: keypad input with timeouts, retries, invalid/timeout prompts and fallbacks."""
from __future__ import annotations

import asyncio
import re

from ..call import ALL_KEYS, Call
from ..steps import HANGUP

# A terminator within this long after a complete fixed-length entry belongs to that entry (callers press `#`
# after an 8-digit date out of habit; on a real Asterisk it would otherwise answer the next prompt).
LATE_TERMINATOR_S = 2.0


async def menu(call: Call) -> object:
    options = {str(k): str(v) for k, v in (call.param("options") or {}).items()}
    repeat_key = call.param("repeat_key")
    repeat_key = str(repeat_key) if repeat_key is not None else None
    timeout = float(call.param("timeout", 5))
    retries = int(call.param("retries", 3))
    max_timeouts = int(call.param("max_timeouts", retries))
    prompt = call.param("prompt")
    invalid_prompt = call.param("invalid_prompt")
    timeout_prompt = call.param("timeout_prompt")
    fallback = call.target("fallback")
    timeout_fallback = call.target("timeout_fallback") or fallback

    invalid = timeouts = 0
    to_play = prompt
    while True:
        digit = await call.ask(to_play, timeout)
        if digit is None:
            timeouts += 1
            call.count("timeout")
            if timeouts >= max_timeouts:
                call.count("timeout_fallback")
                return timeout_fallback or HANGUP
            to_play = timeout_prompt or prompt
            continue
        if repeat_key is not None and digit == repeat_key:
            call.count("repeat")
            to_play = prompt
            continue
        if digit in options:
            call.count(f"option:{digit}")
            call.vars["last_digits"] = digit
            call.choices.append(f"{call.node.id if call.node else ''}:{digit}")
            return options[digit]
        invalid += 1
        call.count("invalid")
        if invalid >= retries:
            call.count("fallback")
            return fallback or HANGUP
        if invalid_prompt:
            pressed = await call.play(str(invalid_prompt), ALL_KEYS)
            if pressed:
                call.pending_digit = pressed
        to_play = prompt


async def _read_digits(call: Call, prompt: str | None, timeout_s: float, max_digits: int, terminator: str) -> tuple[str, bool]:
    """Keys until the terminator, ``max_digits`` keys, or ``timeout_s`` without a key. Returns (digits, timed_out)."""
    digits = ""
    first = await call.ask(prompt, timeout_s)
    key = first
    while True:
        if key is None:
            return digits, True
        if terminator and key in terminator:
            return digits, False
        digits += key
        if len(digits) >= max_digits:
            if terminator:
                call.late_terminator = (terminator, asyncio.get_running_loop().time() + LATE_TERMINATOR_S)
            return digits, False
        key = await call.channel.wait_for_digit(int(timeout_s * 1000))


async def collect(call: Call) -> object:
    var = str(call.param("var"))
    min_digits = int(call.param("min_digits", 1))
    max_digits = int(call.param("max_digits"))
    terminator = str(call.param("terminator", "#") or "")
    pattern = call.param("pattern")
    regex = re.compile(str(pattern)) if pattern else None
    timeout = float(call.param("timeout", 5))
    retries = int(call.param("retries", 3))
    prompt = call.param("prompt")
    invalid_prompt = call.param("invalid_prompt")

    for attempt in range(1, retries + 1):
        digits, timed_out = await _read_digits(call, prompt, timeout, max_digits, terminator)
        if not digits and timed_out:
            call.count("timeout")
        elif len(digits) < min_digits or (regex is not None and not regex.fullmatch(digits)):
            call.count("invalid")
        else:
            call.vars[var] = digits
            call.vars["last_digits"] = digits
            if var not in call.collected:
                call.collected.append(var)
            call.count("collected")
            return call.target("next")
        if attempt < retries and invalid_prompt:
            await call.play(str(invalid_prompt))
    call.vars[var] = None
    call.count("fallback")
    return call.target("fallback") or HANGUP
