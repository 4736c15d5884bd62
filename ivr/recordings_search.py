"""RecordingsSearch (the QA replay flow's recordings_search node) over the recordings service's search."""
from __future__ import annotations

from datetime import datetime
from typing import Any


class ServiceRecordingsSearch:
    """Adapter: ``deps.extras["recordings"]`` (recordings.service.RecordingsService) → list of playable items.

    Only complete recordings on the primary (local) tier are offered: their files are where Asterisk can play
    them; ``sound`` is the absolute path without extension, as STREAM FILE wants it. Every recording played
    to a caller is audit-logged with ``audit_replay`` (actor: the QA staff ID, channel "phone")."""

    def __init__(self, service: Any, limit: int = 200) -> None:
        self.service = service
        self.limit = limit

    async def find(self, agent_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        from recordings.models import STATUS_COMPLETE, TIER_PRIMARY
        from recordings.search import RecordingFilters

        page = await self.service.search(RecordingFilters(
            agent_id=agent_id, start_from=start, start_to=end, statuses=(STATUS_COMPLETE,),
            page_size=self.limit, sort="started_at"))
        storage = self.service.context.primary
        items = []
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

    async def audit_replay(self, staff_id: str, recording_id: int) -> None:
        await self.service.audit_replay(staff_id, recording_id, channel="phone")
