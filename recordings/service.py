"""The recordings inside `hotline serve`: what hotline/service.py builds and hands to the others.

    RecordingsService   the recorder, its policy, the context (storage, config, sessions) and the search;
                        the IVR's QA replay uses it as its ``RecordingsSearch`` (``find``, ``audit_replay``)
                        and its survey node as its ``SurveyRatings`` (``set_satisfaction``)
    CallTracker         (recordings.tracking) drives the recorder from the AMI session's bridge events:
                        the one place recordings start and end
    running(...)        the tracker on the AMI session for the service's lifetime; drained at the end
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from recordings.context import RecordingsContext
from recordings.maintenance import audit
from recordings.models import STATUS_COMPLETE, TIER_PRIMARY
from recordings.policy import RecordingPolicy
from recordings.ports import AmiEvents, CallData
from recordings.recorder import Recorder
from recordings.recovery import RecordingRecovery
from recordings.search import RecordingFilters, RecordingPage, search_recordings
from recordings.tracking import CallTracker

REPLAY_LIMIT = 200          # recordings offered to one phone replay search


@dataclass
class RecordingsService:
    context: RecordingsContext
    policy: RecordingPolicy
    recorder: Recorder

    async def search(self, filters: RecordingFilters) -> RecordingPage:
        async with self.context.sessions() as session:
            return await search_recordings(session, filters)

    async def find(self, agent_id: str, start: datetime, end: datetime) -> list[Mapping[str, Any]]:
        """The IVR's phone replay (ivr.runtime.interfaces.RecordingsSearch): complete recordings of
        ``agent_id`` started in [start, end), oldest first. Only recordings on the primary (local) tier are
        offered: their files are where Asterisk can play them; ``sound`` is the absolute path without
        extension, as STREAM FILE wants it."""
        page = await self.search(RecordingFilters(
            agent_id=agent_id, start_from=start, start_to=end, statuses=(STATUS_COMPLETE,),
            page_size=REPLAY_LIMIT, sort="started_at"))
        storage = self.context.primary
        items: list[Mapping[str, Any]] = []
        for rec in page.items:
            if rec.storage_tier != TIER_PRIMARY:
                continue
            local = storage.local_path(rec.path)
            if local is None:
                continue
            path = str(local)
            items.append({"id": rec.id, "agent_id": rec.agent_id, "caller": rec.caller, "start": rec.started_at,
                          "duration": rec.duration_s, "sound": path.removesuffix(f".{rec.format}")})
        return items

    async def audit_replay(self, staff_id: str, recording_id: int, channel: str = "phone", detail: str = "") -> None:
        """One audit row per replay (the HTTP audio endpoint writes its own for the browser): actor = staff ID."""
        await audit(self.context, str(staff_id), "replay", int(recording_id),
                    f"{channel} {detail}".strip())

    async def set_wrapup(self, disposition: dict) -> int:
        """CTI's wrap-up of one agent leg ({linkedid, agent_id, disposition, notes}) onto its recordings."""
        return await self.recorder.set_wrapup(disposition["linkedid"], disposition["agent_id"],
                                              disposition["disposition"], disposition.get("notes", ""))

    async def set_satisfaction(self, linkedid: str, rating: int) -> int:
        """The IVR's post-call survey rating (1-5) onto every recording segment of the call; returns how many."""
        return await self.recorder.set_satisfaction(linkedid, rating)


def call_info_from(calldata: CallData) -> Callable[[str], dict[str, Any]]:
    """Queue, customer and called number of a call, from the CTI's call-attached data."""
    def info(linkedid: str) -> dict[str, Any]:
        data = calldata.get(linkedid) or {}
        customer = data.get("customer") if isinstance(data.get("customer"), dict) else {}
        return {
            "queue": data.get("queue") or "",
            "customer_id": data.get("customer_id") or (customer or {}).get("id"),
            "called": data.get("dnid") or data.get("called") or "",
        }
    return info


@asynccontextmanager
async def running(service: RecordingsService, tracker: CallTracker, events: AmiEvents,
                  recovery: RecordingRecovery) -> AsyncIterator[RecordingsService]:
    """The tracker follows ``events`` (the AMI session's bridge and hangup events) while the service runs;
    at every AMI (re)connect ``recovery`` finishes the rows whose call the PBX no longer has (a PBX restart,
    an AMI drop longer than the call, a restart of this service); the recordings still being written are
    finished before it stops."""
    events.add_observer(tracker.on_event)
    events.add_connect_hook(recovery.on_connect)
    if events.connected.is_set():                  # connected before the hook was there
        await recovery.on_connect(events)
    try:
        yield service
    finally:
        await tracker.drain()
        await recovery.drain()
        await service.recorder.drain()
