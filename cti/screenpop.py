"""Screen pop (弹屏): when an agent's phone rings for a call, tell the desktop who is calling and why."""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

from cti.calldata import CallDataStore
from cti.customers import CustomerDirectory, normalise_number
from cti.notifier import Notifier

log = logging.getLogger("hotline.cti.screenpop")
MAX_OPEN_POPS = 2000
IVR_KEYS = ("ivr_path", "ivr_flow", "ivr_language", "ivr_choices", "queue", "queue_entered_at", "caller_number")


def ivr_part(data: dict[str, Any]) -> dict[str, Any]:
    """The IVR path the caller took: flow, language, nodes visited, menu choices (menu:key) and what was
    collected (every other call-data key: an order number, an IVR result)."""
    return {"path": data.get("ivr_path", []), "flow": data.get("ivr_flow"), "language": data.get("ivr_language"),
            "choices": data.get("ivr_choices", []),
            "collected": {k: v for k, v in data.items() if k not in IVR_KEYS}}


class ScreenPop:
    def __init__(self, directory: CustomerDirectory, calldata: CallDataStore, notifier: Notifier, *,
                 agent_names: dict[str, str], clock: Callable[[], float] = time.time, history_limit: int = 10):
        self.directory = directory
        self.calldata = calldata
        self.notifier = notifier
        self.agent_names = agent_names
        self.clock = clock
        self.history_limit = history_limit
        # the last pop per call: when the IVR's part of the call data arrives after the pop (the AGI and
        # AMI sides learn about a call in either order), the pop is sent again with it
        self._popped: dict[str, dict[str, Any]] = {}
        calldata.listeners.append(self._data_changed)

    def _data_changed(self, linkedid: str, data: dict[str, Any]) -> None:
        popped = self._popped.get(linkedid)
        if popped is None:
            return
        if ivr_part(data) == popped["ivr"] and data.get("queue") == popped["queue"]:
            return
        payload = dict(popped, ivr=ivr_part(data), queue=data.get("queue") or popped["queue"], call_data=dict(data),
                       update=True)
        self._popped[linkedid] = payload
        self.notifier.screenpop(payload["agent_id"], payload)

    def forget(self, linkedid: str) -> None:
        self._popped.pop(linkedid, None)

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
        return {"agent_id": agent_id, "linkedid": linkedid,
                "caller": {"number": number or caller_number, "name": caller_name or None},
                "customer": customer, "history": history, "ivr": ivr_part(data), "queue": data.get("queue"),
                "wait_seconds": wait, "call_data": data}

    async def pop(self, **kwargs) -> dict[str, Any]:
        payload = await self.build(**kwargs)
        self._popped[payload["linkedid"]] = payload
        while len(self._popped) > MAX_OPEN_POPS:
            self._popped.pop(next(iter(self._popped)))
        self.notifier.screenpop(payload["agent_id"], payload)
        log.info("screen pop to agent %s for call %s (%s)", payload["agent_id"], payload["linkedid"],
                 payload["caller"]["number"])
        return payload
