"""play, say and hangup nodes."""
from __future__ import annotations

from ivr import say as speech
from ivr.agi.errors import AgiHangup

from ..call import Call
from ..steps import END


async def play(call: Call) -> object:
    prompts = call.param("prompts") or [call.param("prompt")]
    barge_in = str(call.param("barge_in") or "")
    digit = await call.play_all([str(p) for p in prompts if p], barge_in)
    call.vars["last_digits"] = digit or ""
    if digit:
        call.count(f"barge_in:{digit}")
        call.pending_digit = digit  # the next menu/collect takes it as its first key
    return call.target("next")


async def say(call: Call) -> object:
    kind = str(call.param("kind"))
    value = call.evaluate(call.param("value"))
    ids = speech.say(kind, value, call.lang)
    await call.play_all(ids)
    return call.target("next")


async def hangup(call: Call) -> object:
    prompt = call.param("prompt")
    if prompt:
        try:
            await call.play(str(prompt))
        except AgiHangup:
            pass  # the caller left during the goodbye: nothing left to do
    await call.channel.hangup()
    call.count("completed")
    return END
