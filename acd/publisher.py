"""Queue stats published every few seconds (topic suffix ``queues/{name}/stats``, retained).

``publish(topic_suffix, payload, retain)`` is injected (the bus adds the ``hotline/`` prefix);
a failed publish is logged and retried at the next interval, it never stops the loop.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

log = logging.getLogger(__name__)

Publish = Callable[[str, dict, bool], Awaitable[Any]]


async def publish_once(service, publish: Publish) -> int:
    sent = 0
    for name in service.queue_names():
        try:
            await publish(f"queues/{name}/stats", service.queue_stats(name), True)
            sent += 1
        except Exception:
            log.exception("publishing stats of queue %s failed", name)
    return sent


async def run_publisher(service, publish: Publish, interval_s: float = 5.0) -> None:
    while True:
        await publish_once(service, publish)
        await asyncio.sleep(interval_s)
