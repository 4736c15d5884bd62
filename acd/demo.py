"""`hotline demo` hooks: agents log in and get ready; the summary gains the ACD's figures.

Summary keys (overall, and per queue under ``queues``): ``reached_queue`` (callers handed to the ACD),
``answered``, ``abandoned``, ``voicemails`` (left with the voicemail key or overflowed to voicemail),
``callbacks``, ``overflows`` (to the flow's fallback), ``service_level`` (answered within T ÷ answered),
``asa_s``, ``aht_s``. reached_queue = answered + abandoned + voicemails + callbacks + overflows + still_waiting.
"""
from __future__ import annotations

from typing import Any

from acd.stats import DayCounters, figures


async def prepare(ctx: Any) -> None:
    deps = ctx.service.deps
    cti = deps.extras.get("cti")
    service = deps.extras.get("acd_service")
    if service is None or cti is None:
        return                                       # without CTI every agent is ready from the start
    for agent_id in service.engine.agents:
        agent = cti.agents.get(agent_id)
        if agent.state.value == "logged-out":
            await cti.agents.transition(agent_id, "login")
        if cti.agents.get(agent_id).state.value != "ready":
            await cti.agents.transition(agent_id, "ready")


def _figures(service, name: str | None, c: DayCounters) -> dict[str, Any]:
    if name is not None:
        q = service.engine.queues[name]
    else:
        q = next(iter(service.engine.queues.values()))
    f = figures(q, c)
    return {"answered": f["answered"], "abandoned": f["abandoned"], "service_level": f["service_level"],
            "asa_s": f["asa_s"], "aht_s": f["aht_s"]}


def summarize(ctx: Any) -> dict[str, Any]:
    service = ctx.service.deps.extras.get("acd_service")
    if service is None:
        return {}
    eng = service.engine
    outcomes = {o.value: n for o, n in eng.finished.items()}
    still = len(eng.calls)
    summary: dict[str, Any] = {
        "reached_queue": sum(outcomes.values()) + still,
        "answered": outcomes["answered"], "abandoned": outcomes["abandoned"],
        "voicemails": outcomes["voicemail"], "callbacks": outcomes["callback"] + sum(c.callback for c in eng.calls.values()),
        "overflows": outcomes["overflow"], "still_waiting": sum(not c.callback for c in eng.calls.values()),
    }
    overall = service.stats.totals()
    # one threshold overall: the service level of each queue uses its own T; overall uses the first queue's
    summary.update({k: v for k, v in _figures(service, None, overall).items() if k not in ("answered", "abandoned")})
    summary["queues"] = {name: _figures(service, name, service.stats.totals(name)) for name in eng.queues
                         if service.stats.totals(name).offered}
    return summary


# what callers want (main menu key, then a sub-menu key), how patient they are, how long they talk
_CHOICES = [("1", None), ("1", None), ("2", "1"), ("2", "2"), ("0", None), ("3", None)]


def caller_script(ctx: Any, index: int):
    """A caller who picks a language, a service in the main menu, then waits in the queue (used when no
    other package provides callers that go through the flow)."""
    from pbxsim.participants import CallerScript

    rng = ctx.rng
    main, sub = _CHOICES[rng.randrange(len(_CHOICES))]
    steps: list[Any] = ["wait 7", "press " + rng.choice("11112"), "wait 9", f"press {main}"]
    if sub:
        steps += ["wait 5", f"press {sub}"]
    roll = rng.random()
    if roll < 0.08:
        steps += ["wait 40", "press 1"]              # leaves a voicemail while waiting
    elif roll < 0.12:
        steps += ["wait 40", "press 2"]              # asks for a call back
    patience = rng.choice([None, None, None, 60.0, 150.0])
    return CallerScript(caller_num=f"139{rng.randrange(10**8):08d}", dnid="4008001234", steps=steps,
                        patience_s=patience + 25 if patience else None, talk_time_s=rng.uniform(30, 240))
