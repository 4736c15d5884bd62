"""The ACD's life inside `hotline serve` (hotline/service.py builds the AcdService and its handoff, then runs
them with ``running`` once the CTI is up):

- agent states, wrap-up included, come from the CTI's agent state machine (``acd.agents.link_cti``);
- the day's figures so far are restored from the stored queue log;
- timers and the queue-log writer run (``AcdService.run``), and the queue figures are published retained on
  ``queues/{name}/stats`` every few seconds.
Callbacks originate over the CTI's AMI session (``acd.callback.originate_over``) and come back on the
``acd-callback`` FastAGI route (``acd.callback.callback_session``), both wired by hotline/service.py.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from acd.agents import link_cti
from acd.ports import CtiAgents, StatsPublisher
from acd.publisher import run_publisher
from acd.service import AcdService


log = logging.getLogger("hotline.acd")


def _report_stop(task: asyncio.Task[None]) -> None:
    """A background loop that stops by itself (not cancelled at shutdown) is logged with its cause."""
    if not task.cancelled() and task.exception() is not None:
        log.error("background loop %s stopped: %r", task.get_name(), task.exception(), exc_info=task.exception())


@contextlib.asynccontextmanager
async def running(service: AcdService, agents: CtiAgents, stats: StatsPublisher) -> AsyncIterator[AcdService]:
    await service.restore_today()
    unlink = link_cti(service, agents)
    tasks = [asyncio.create_task(service.run(), name="acd"),
             asyncio.create_task(run_publisher(service, stats.publish), name="acd-stats")]
    for task in tasks:
        task.add_done_callback(_report_stop)
    try:
        yield service
    finally:
        unlink()
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
