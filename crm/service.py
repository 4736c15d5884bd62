"""The CRM's life inside `hotline serve` (hotline/service.py builds the parts and runs them with ``running``):
the deadline watch (escalation, overdue), the follow-up runner (回访 through the ACD) and the IVR intake
(voicemails and callback requests become service requests)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from crm.calls import IvrIntake
from crm.deadlines import watch_deadlines
from crm.followups import FollowUpRunner
from crm.requests import RequestService


log = logging.getLogger("hotline.crm")


def _report_stop(task: asyncio.Task[None]) -> None:
    """A background loop that stops by itself (not cancelled at shutdown) is logged with its cause."""
    if not task.cancelled() and task.exception() is not None:
        log.error("background loop %s stopped: %r", task.get_name(), task.exception(), exc_info=task.exception())


@contextlib.asynccontextmanager
async def running(requests: RequestService, followups: FollowUpRunner, intake: IvrIntake) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(watch_deadlines(requests), name="crm-deadlines"),
             asyncio.create_task(followups.run(), name="crm-followups"),
             asyncio.create_task(intake.run(), name="crm-ivr-intake")]
    for task in tasks:
        task.add_done_callback(_report_stop)
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
