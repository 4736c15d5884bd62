"""How a long-running hotline process uses Python's cyclic garbage collector.

Two facts of a call-center server decide it. What is built at start (settings, flows, the ORM, the HTTP routes:
~140,000 objects in ``hotline serve``) lives as long as the process, yet every full collection walks all of it
again: ~80 ms during which no caller hears the next prompt and no AMI event is read. And a call's own objects
(its FastAGI task, futures, the agi_ header) live for a few turns of the event loop and die by reference
counting; collected every 700 allocations (Python's default), the young generation is walked while hundreds of
calls are mid-command, so their live objects are scanned and promoted over and over (measured with 500 FastAGI
sessions: ~9 % of the process's CPU in the collector, single pauses of 50 ms; with this policy ~1 %, under 10 ms).

:func:`settle` is called once the service has started: it freezes what exists (``gc.freeze``: never scanned
again, never freed; nothing of it is garbage) and collects the young generation after ``YOUNG_THRESHOLD`` net
allocations. Cycles are still collected; nothing here turns the collector off.
"""
from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000       # net allocations of tracked objects before a young collection (Python: 700)


def settle() -> None:
    """After start-up: keep the start-up objects out of every later collection, collect the young less often."""
    gc.collect()               # what start-up left as garbage is freed, not frozen
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
