"""The demo's progress bar on a terminal: calls done of N, placed, answered, waiting (tqdm, on stderr).

Its figures are read through side-effect-free callables (no engine.advance, no timer of its own): a bar must
never change the day it shows. Off when stderr is not a terminal (pipes, files, CI).
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm


class DemoProgress:
    def __init__(self, calls: int, answered: Callable[[], int], waiting: Callable[[], int], *,
                 stream: TextIO | None = None) -> None:
        stream = stream or sys.stderr
        self.answered, self.waiting = answered, waiting
        self.placed = 0
        self.bar = tqdm(total=calls, desc="calls done", unit="call", file=stream, disable=not stream.isatty(),
                        dynamic_ncols=True, leave=True)

    def _show(self, refresh: bool) -> None:
        if not self.bar.disable:
            self.bar.set_postfix({"placed": self.placed, "answered": self.answered(), "waiting": self.waiting()},
                                 refresh=refresh)

    def call_placed(self) -> None:
        self.placed += 1
        self._show(refresh=True)

    def call_done(self) -> None:
        self._show(refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
