"""queue and transfer nodes: the call leaves the IVR for a person, and (for queue) comes back afterwards."""
from __future__ import annotations

import logging
import re

from ivr.agi.errors import AgiCommandError, AgiConnectionLost, AgiHangup

from ..call import Call
from ..interfaces import QueueOutcome
from ..waiting import QueueWaiting
from ..steps import END, LEAVE

log = logging.getLogger(__name__)

_LITERAL = re.compile(r"[0-9*#+]+|[A-Za-z0-9]+/[^\s]+")


async def queue(call: Call) -> object:
    name = call.text(call.param("queue"))
    skill = call.text(call.param("skill")) or None
    priority_param = call.param("priority", 0)
    priority = int(call.evaluate(priority_param) or 0) if isinstance(priority_param, str) else int(priority_param or 0)
    call.queue = name
    call.vars["queue"] = name
    call.data.setdefault("ivr_path", list(call.path))
    await attach_ivr_path(call)
    pair = lambda v: (str(v[0]), str(v[1])) if v else None  # noqa: E731
    max_wait = call.param("max_wait")
    call.waiting = QueueWaiting(
        call, hold_prompt=call.param("hold_prompt"), wait_prompt=call.param("wait_prompt"),
        announce_interval_s=float(call.param("announce_interval", 30)),
        position_prompts=pair(call.param("position_prompts")), wait_time_prompts=pair(call.param("wait_time_prompts")),
        options_prompt=call.param("options_prompt"), options=call.param("options") or {},
        max_wait_s=float(max_wait) if max_wait is not None else None)
    if call.deps.queues is None:
        outcome = QueueOutcome("overflow", detail="no queue handoff configured")
    else:
        outcome = await call.deps.queues.enqueue(call, name, skill, priority)
    call.vars["queue_outcome"] = outcome.status
    call.count(outcome.status)
    await call.deps.announce("ivr/queue", {
        "uniqueid": call.uniqueid, "linkedid": call.linkedid, "caller": call.caller, "queue": name,
        "skill": skill, "priority": priority, "outcome": outcome.status, "agent_id": outcome.agent_id,
        "wait_s": outcome.wait_s, "flow": call.flow.name, "language": call.lang, "ivr_path": list(call.path),
        "customer": dict(call.customer) if call.customer is not None else None, "data": dict(call.data),
    })
    if outcome.status == "answered":
        if outcome.agent_id:
            call.agent_id = outcome.agent_id
            call.vars["agent_id"] = outcome.agent_id
        return call.target("next")
    if outcome.status == "abandoned":
        if outcome.detail == "connection-lost":
            raise AgiConnectionLost(f"FastAGI connection lost in queue {name} (PBX restart or network), "
                                    f"not a caller abandon")
        raise AgiHangup(f"caller abandoned queue {name}")
    key = str(outcome.extra.get("key") or "")
    if key and key in call.waiting.options:
        call.count(f"option:{key}")
        return call.waiting.options[key]
    return call.target("fallback") or call.target("next")


_VALUE = re.compile(r"[^\w\-.:@+# ]")


async def attach_ivr_path(call: Call) -> None:
    """Leave what the caller did in the IVR on the channel before an agent is rung (the CTI reads the VarSet
    events into the call's data, and the screen pop shows them): HOTLINE_IVR_FLOW, HOTLINE_IVR_LANGUAGE,
    HOTLINE_IVR_PATH (nodes visited), HOTLINE_IVR_CHOICES (menu:key) and HOTLINE_DATA_<VAR> per collected entry.
    Values are kept to one short line of plain characters (they travel in dialplan variables and AMI)."""
    def clean(value: object) -> str:
        return _VALUE.sub("", str(value))[:900]

    values = {"HOTLINE_IVR_FLOW": call.flow.name, "HOTLINE_IVR_LANGUAGE": call.lang,
              "HOTLINE_IVR_PATH": ",".join(clean(p.split(":", 1)[-1]) for p in call.path),
              "HOTLINE_IVR_CHOICES": ",".join(clean(c) for c in call.choices)}
    for var in call.collected:
        if call.vars.get(var) is not None and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,40}", var):
            values[f"HOTLINE_DATA_{var.upper()}"] = clean(call.vars[var])
    try:
        for name, value in values.items():
            await call.channel.set_variable(name, value)
    except AgiCommandError:             # the caller still reaches an agent, only without the path
        log.exception("IVR path not attached to call %s", call.linkedid)


async def transfer(call: Call) -> object:
    raw = call.param("to")
    if isinstance(raw, str) and _LITERAL.fullmatch(raw) is None and "${" not in raw:
        to = str(call.evaluate(raw))  # an expression such as customer.account_manager
    else:
        to = call.text(raw)
    context = call.param("context")
    channel = call.channel
    if context:
        # hand the call back to the dialplan at context,to,1; closing the socket lets it continue there
        await channel.set_context(str(context))
        await channel.set_extension(to)
        await channel.set_priority(1)
        call.count("transferred")
        return LEAVE
    target = to if "/" in to else f"PJSIP/{to}"
    await channel.exec("Dial", f"{target},{int(call.param('timeout', 30))}")
    status = (await channel.get_variable("DIALSTATUS")) or ""
    call.vars["dial_status"] = status
    if status == "ANSWER":
        call.count("transferred")
        return END
    if status == "CANCEL" or channel.hungup:
        raise AgiHangup("caller hung up during the transfer")
    call.count(f"failed:{status or 'unknown'}")
    return call.target("next")
