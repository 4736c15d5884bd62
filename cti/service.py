"""The CTI as a component of `hotline serve` (hotline.service enters `component(deps)` after the bus
and the AMI link start, before HTTP opens). Puts the Cti object in ``deps.extras["cti"]`` for the
ACD and IVR (call data, ``CustomerDirectory.by_number``, agent states). The ACD, entered after it, is
found in ``deps.extras["acd"]`` when the CTI needs it (queue figures, answers)."""
from __future__ import annotations

import contextlib
import logging

from cti.core import Cti
from cti.mqtt import MqttCommands

log = logging.getLogger("hotline.cti")


@contextlib.asynccontextmanager
async def component(deps):
    session = None
    if deps.ami is not None and getattr(deps.ami, "kind", "") == "cti":
        session = deps.ami.session
    cti = Cti(agents=deps.settings.agents, queues=deps.settings.queues, sessions=deps.sessions,
              publisher=deps.bus, ami=session, acd_source=lambda: deps.extras.get("acd"),
              **({"clock": deps.extras["clock"]} if "clock" in deps.extras else {}))
    deps.extras["cti"] = cti
    await cti.start()
    if session is not None:
        cti.attach(session)
        if session.connected.is_set():      # connected before we registered the resync hook
            await cti.resync(session)
    MqttCommands(cti, deps.bus).register()
    deps.health_checks["cti"] = cti.health
    try:
        yield cti
    finally:
        await cti.close()
