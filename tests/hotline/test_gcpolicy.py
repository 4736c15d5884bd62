"""hotline serve's GC policy (hotline/gcpolicy.py); `tests/hotline/test_serve.py` reads it off a running serve."""
from __future__ import annotations

import gc

from hotline import gcpolicy


def test_settle_freezes_what_exists_and_collects_the_young_less_often():
    before = gc.get_threshold()
    try:
        gcpolicy.settle()
        assert gc.get_threshold() == (gcpolicy.YOUNG_THRESHOLD, before[1], before[2])
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
