"""branch, set, lookup, goto and subflow nodes."""
from __future__ import annotations

import logging

from ..call import Call, FlowRuntimeError
from ..steps import EnterSubflow

log = logging.getLogger(__name__)


async def branch(call: Call) -> object:
    for i, cond in enumerate(call.param("conditions") or []):
        if call.evaluate(cond["if"]):
            call.count(f"branch:{i + 1}")
            return str(cond["next"])
    call.count("branch:else")
    return call.target("else")


async def set_(call: Call) -> object:
    for name, expr in (call.param("vars") or {}).items():
        call.vars[str(name)] = call.evaluate(expr)
    for key, expr in (call.param("data") or {}).items():
        call.data[str(key)] = call.evaluate(expr)
    # channel variables the dialplan reads after the flow (e.g. HOTLINE_IVR_RESULT for the agent who sent the
    # caller here: asterisk-conf [hotline-ivr-return])
    for name, expr in (call.param("channel") or {}).items():
        await call.channel.set_variable(str(name), str(call.evaluate(expr)))
    language = call.param("language")
    if language is not None:
        # a language code the flow offers is taken as written; anything else is an expression
        lang = language if language in call.flow.languages else str(call.evaluate(language))
        if lang not in call.flow.languages:
            raise FlowRuntimeError(f"language {lang!r} is not offered by flow {call.flow.name!r} "
                                   f"({', '.join(call.flow.languages)})")
        call.lang = lang
        call.count(f"language:{lang}")
        if call.caller and call.deps.preferences is not None:
            try:
                await call.deps.preferences.remember_language(call.caller, lang)
            except Exception:
                log.exception("could not remember the language of %s", call.caller)
    return call.target("next")


async def lookup(call: Call) -> object:
    by = str(call.param("by", "caller"))
    found = None
    if by == "order":
        var = str(call.param("var", "order"))
        key = call.evaluate(call.param("key"))
        if key not in (None, "") and call.deps.orders is not None:
            found = await call.deps.orders.by_number(str(key))
        call.vars[var] = dict(found) if found is not None else None
    else:
        var = str(call.param("var", "customer"))
        if call.caller and call.deps.customers is not None:
            found = await call.deps.customers.by_number(call.caller)
        value = dict(found) if found is not None else None
        if var == "customer":
            call.customer = value
        else:
            call.vars[var] = value
    call.count("found" if found is not None else "not_found")
    if found is None and call.target("not_found"):
        return call.target("not_found")
    return call.target("next")


async def goto(call: Call) -> object:
    return str(call.param("target"))


async def subflow(call: Call) -> object:
    name = str(call.param("flow"))
    if name not in call.deps.flows:
        raise FlowRuntimeError(f"subflow {name!r} is not loaded")
    return EnterSubflow(flow=name, return_to=call.target("next"))
