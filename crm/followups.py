"""Follow-up calls (回访) at their time: the ACD offers each as an outbound task (the agent's phone rings
first, then the customer's); the result is logged on the request and a no-answer is retried per
config/requests.yaml (`followup.max_attempts`, `followup.retry_minutes`)."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.config import RequestRules
from crm.models import FollowUp, RequestEvent
from crm.requests import Publisher

log = logging.getLogger("hotline.crm.followups")

RETRIED = ("no-answer", "busy", "failed")


@dataclass(frozen=True)
class FollowUpCall:
    followup_id: int
    request_id: int
    attempt: int
    number: str
    queue: str
    agent_id: str | None          # the owner it is meant for
    kind: str                     # reply | satisfaction


@dataclass(frozen=True)
class FollowUpOutcome:
    result: str                   # reached | no-answer | busy | wrong-number | failed
    agent_id: str | None = None   # who took it


class FollowUpDialer(Protocol):
    async def place(self, call: FollowUpCall) -> FollowUpOutcome:
        """Ring an agent, then the customer; return when the attempt is over."""


class FollowUpRunner:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], rules: RequestRules, dialer: FollowUpDialer,
                 publisher: Publisher, *, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 poll_s: float = 5.0) -> None:
        self.sessions = sessions
        self.rules = rules
        self.dialer = dialer
        self.publisher = publisher
        self.clock = clock
        self.poll_s = poll_s
        self._running: set[asyncio.Task[None]] = set()

    async def recover(self) -> int:
        """After a restart: attempts that were dialling when the service stopped are scheduled again."""
        async with self.sessions() as session:
            async with session.begin():
                result = await session.execute(update(FollowUp).where(FollowUp.status == "dialing")
                                               .values(status="scheduled"))
        return int(getattr(result, "rowcount", 0) or 0)

    async def start_due(self) -> list[int]:
        """Start every follow-up whose time has come; returns their ids."""
        now = self.clock()
        calls: list[FollowUpCall] = []
        async with self.sessions() as session:
            async with session.begin():
                rows = (await session.execute(select(FollowUp).where(
                    FollowUp.status == "scheduled", FollowUp.scheduled_at <= now)
                    .order_by(FollowUp.scheduled_at, FollowUp.id).limit(50))).scalars().all()
                for row in rows:
                    row.status = "dialing"
                    row.attempts += 1
                    row.last_attempt_at = now
                    calls.append(FollowUpCall(row.id, row.request_id, row.attempts, row.number, row.queue,
                                              row.agent_id, row.kind))
        for call in calls:
            task = asyncio.get_running_loop().create_task(self._attempt(call), name=f"followup-{call.followup_id}")
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return [c.followup_id for c in calls]

    async def _attempt(self, call: FollowUpCall) -> None:
        try:
            outcome = await self.dialer.place(call)
        except Exception as exc:      # the attempt failed; the follow-up is retried, never lost
            log.exception("follow-up %s (request %s) attempt %s failed", call.followup_id, call.request_id, call.attempt)
            outcome = FollowUpOutcome("failed")
            detail = f"{type(exc).__name__}: {exc}"
        else:
            detail = ""
        await self.settle(call, outcome, detail)

    async def settle(self, call: FollowUpCall, outcome: FollowUpOutcome, detail: str = "") -> None:
        now = self.clock()
        rule = self.rules.followup
        async with self.sessions() as session:
            async with session.begin():
                row = await session.get(FollowUp, call.followup_id)
                if row is None:
                    return
                row.result = outcome.result
                row.answered_by = outcome.agent_id or row.answered_by
                if outcome.result in RETRIED and row.attempts < rule.max_attempts:
                    row.status = "scheduled"
                    row.scheduled_at = now + timedelta(minutes=rule.retry_minutes)
                else:
                    row.status = "done" if outcome.result == "reached" else "failed"
                session.add(RequestEvent(request_id=row.request_id, at=now, by=outcome.agent_id or "system",
                                         action="followup-result",
                                         detail={"followup": row.id, "attempt": call.attempt, "result": outcome.result,
                                                 "next": row.scheduled_at.isoformat() if row.status == "scheduled" else None,
                                                 **({"error": detail} if detail else {})}))
        log.info("follow-up %s (request %s) attempt %s: %s", call.followup_id, call.request_id, call.attempt,
                 outcome.result)
        self.publisher.publish(f"requests/{call.request_id}", {
            "event": "followup-result", "id": call.request_id, "followup": call.followup_id,
            "attempt": call.attempt, "result": outcome.result, "status": row.status})

    async def run(self) -> None:
        """The background loop (one of the service's TaskGroup)."""
        await self.recover()
        try:
            while True:
                try:
                    await self.start_due()
                except Exception:
                    log.exception("follow-up scan failed; trying again in %.0f s", self.poll_s)
                await asyncio.sleep(self.poll_s)
        finally:
            for task in list(self._running):
                task.cancel()
