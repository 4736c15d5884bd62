"""Every recording row reaches a final state, whatever happened to the call: after each AMI (re)connect —
the first one after start-up included — the rows still ``recording``/``processing`` whose call the PBX no
longer has are finished (recordings.recorder.Recorder.reconcile). Covers a PBX restart in the middle of
calls, an AMI drop longer than the call and a restart of this service. Without an AMI connection nothing is
decided: whether a call still runs is only the PBX's to say.

Run by ``recordings.service.running`` as a connect hook of the service's AMI session.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from recordings.ports import LiveChannels

log = logging.getLogger("hotline.recordings.recovery")


class Reconciling(Protocol):
    async def reconcile(self, live_linkedids: set[str], started_before: datetime) -> list[int]: ...


class RecordingRecovery:
    def __init__(self, recorder: Reconciling, clock: Callable[[], datetime]) -> None:
        self.recorder = recorder
        self.clock = clock
        self.finished: list[int] = []
        self._tasks: set[asyncio.Task] = set()

    async def on_connect(self, session: LiveChannels) -> None:
        """The AMI connect hook: take the PBX's live calls now (events are held meanwhile), finish the
        orphaned rows in the background so event delivery is not held up by post-processing."""
        try:
            channels = await session.send_list({"Action": "CoreShowChannels"}, "CoreShowChannel")
        except Exception as exc:                        # never break the connection over this
            log.warning("recordings: live channel list unavailable (%s); rows checked at the next connect", exc)
            return
        live = {str(c.get("Linkedid") or c.get("Uniqueid") or "") for c in channels} - {""}
        task = asyncio.get_running_loop().create_task(self._reconcile(live, self.clock()),
                                                      name="recordings-reconcile")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reconcile(self, live: set[str], started_before: datetime) -> None:
        try:
            done = await self.recorder.reconcile(live, started_before)
        except Exception:
            log.exception("recordings: reconciling rows with the PBX failed; retried at the next connect")
            return
        self.finished.extend(done)
        if done:
            log.info("recordings: %d row(s) finished after the PBX connection (re)opened", len(done))

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
