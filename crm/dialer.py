"""Follow-up calls over the ACD: each attempt joins the request's queue as an outbound task (a callback
entry from the start, left out of the inbound figures), so the ACD offers it like any other task (the
agent's phone rings first, then the customer's, through the ACD's callback dialer) and the queue log tells
how it went."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from acd.queue_log import QueueLogEntry
from acd.service import Ticket
from acd.state import CallRequest
from crm.followups import FollowUpCall, FollowUpOutcome

# queue-log events that end a follow-up attempt, and the result each one means
_ENDINGS = {"COMPLETEAGENT": "reached", "COMPLETECALLER": "reached", "TRANSFER": "reached",
            "CALLBACKFAILED": "no-answer", "ABANDON": "failed", "EXITWITHTIMEOUT": "failed",
            "EXITEMPTY": "failed", "OVERFLOW": "failed"}


class Acd(Protocol):
    log_listeners: list[Callable[[QueueLogEntry], None]]

    def join(self, request: CallRequest) -> Ticket: ...
    def caller_hung_up(self, call_id: str) -> bool: ...
    def forget(self, call_id: str) -> None: ...


class AcdFollowUpDialer:
    def __init__(self, acd: Acd, *, attempt_timeout_s: float = 4 * 3600) -> None:
        self.acd = acd
        self.attempt_timeout_s = attempt_timeout_s
        self._pending: dict[str, asyncio.Future[FollowUpOutcome]] = {}
        self._agents: dict[str, str] = {}
        acd.log_listeners.append(self._observe)

    def _observe(self, entry: QueueLogEntry) -> None:
        future = self._pending.get(entry.callid)
        if future is None or future.done():
            return
        if entry.event == "CONNECT" and entry.agent:
            self._agents[entry.callid] = entry.agent
        result = _ENDINGS.get(entry.event)
        if result is not None:
            future.set_result(FollowUpOutcome(result, self._agents.get(entry.callid) or entry.agent or None))

    async def place(self, call: FollowUpCall) -> FollowUpOutcome:
        call_id = f"followup-{call.followup_id}-{call.attempt}"
        future: asyncio.Future[FollowUpOutcome] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        try:
            self.acd.join(CallRequest(call_id=call_id, queue=call.queue, caller=call.number,
                                      callback_number=call.number, outbound=True,
                                      data={"followup": call.followup_id, "request": call.request_id}))
            return await asyncio.wait_for(asyncio.shield(future), self.attempt_timeout_s)
        except TimeoutError:
            self.acd.caller_hung_up(call_id)
            return FollowUpOutcome("failed")
        finally:
            self._pending.pop(call_id, None)
            self._agents.pop(call_id, None)
            self.acd.forget(call_id)
