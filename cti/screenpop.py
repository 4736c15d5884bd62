"""Screen pop (弹屏): when an agent's phone rings for a call, tell the desktop who is calling and why."""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

from cti.calldata import CallDataStore
from cti.customers import CustomerDirectory, normalise_number
from cti.notifier import Notifier

log = logging.getLogger("hotline.cti.screenpop")


class ScreenPop:
    def __init__(self, directory: CustomerDirectory, calldata: CallDataStore, notifier: Notifier, *,
                 agent_names: dict[str, str], clock: Callable[[], float] = time.time, history_limit: int = 10):
        self.directory = directory
        self.calldata = calldata
        self.notifier = notifier
        self.agent_names = agent_names
        self.clock = clock
        self.history_limit = history_limit

    async def build(self, *, agent_id: str, linkedid: str, caller_number: str, caller_name: str = "",
                    call_started_at: float | None = None) -> dict[str, Any]:
        data = self.calldata.get(linkedid)
        number = normalise_number(data.get("caller_number") or caller_number)
        customer = await self.directory.by_number(number) if number else None
        history = await self.directory.history(number, limit=self.history_limit, exclude_linkedid=linkedid,
                                               agent_names=self.agent_names) if number else []
        entered = data.get("queue_entered_at")
        started = entered if isinstance(entered, (int, float)) else call_started_at
        wait = round(max(0.0, self.clock() - started), 1) if started else None
        ivr = {"path": data.get("ivr_path", []), "flow": data.get("ivr_flow"),
               "collected": {k: v for k, v in data.items()
                             if k not in ("ivr_path", "ivr_flow", "queue", "queue_entered_at", "caller_number")}}
        return {"agent_id": agent_id, "linkedid": linkedid,
                "caller": {"number": number or caller_number, "name": caller_name or None},
                "customer": customer, "history": history, "ivr": ivr, "queue": data.get("queue"),
                "wait_seconds": wait, "call_data": data}

    async def pop(self, **kwargs) -> dict[str, Any]:
        payload = await self.build(**kwargs)
        self.notifier.screenpop(payload["agent_id"], payload)
        log.info("screen pop to agent %s for call %s (%s)", payload["agent_id"], payload["linkedid"],
                 payload["caller"]["number"])
        return payload
