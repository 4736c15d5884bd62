"""The one recording search, used by the CLI, the HTTP API and the IVR's phone replay flow.

    page = await search_recordings(session, RecordingFilters(agent_id="1001", start_from=a, start_to=b))
    page.items -> list[Recording]; page.total; page.page; page.page_size; page.has_next

Time range: on `started_at` (when recording began, i.e. the agent answered); `start_from` is INCLUSIVE and
`start_to` is EXCLUSIVE, so consecutive ranges (08:00-09:00, 09:00-10:00) never count a call twice.
Both must be timezone-aware; callers convert local times (settings.service.time_zone) first — see
`parse_local_time`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from recordings.models import Recording

SORT_FIELDS = {
    "started_at": Recording.started_at,
    "duration_s": Recording.duration_s,
    "agent_id": Recording.agent_id,
    "caller": Recording.caller,
    "queue": Recording.queue,
    "id": Recording.id,
}
MAX_PAGE_SIZE = 500


@dataclass
class RecordingFilters:
    agent_id: str | None = None
    start_from: datetime | None = None  # inclusive
    start_to: datetime | None = None  # exclusive
    caller: str | None = None
    called: str | None = None
    queue: str | None = None
    customer_id: str | None = None
    linkedid: str | None = None
    min_duration_s: float | None = None
    statuses: tuple[str, ...] | None = None  # None = every status
    page: int = 1  # 1-based
    page_size: int = 50
    sort: str = "started_at"
    descending: bool = False

    def __post_init__(self):
        for name in ("start_from", "start_to"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} must be timezone-aware (convert local times with parse_local_time)")
        if self.sort not in SORT_FIELDS:
            raise ValueError(f"cannot sort by {self.sort!r}; choose one of {', '.join(SORT_FIELDS)}")
        if self.page < 1:
            raise ValueError("page starts at 1")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")


@dataclass
class RecordingPage:
    items: list[Recording] = field(default_factory=list)
    total: int = 0
    page: int = 1
    page_size: int = 50

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total

    def to_dict(self) -> dict:
        return {
            "items": [r.to_dict() for r in self.items],
            "total": self.total,
            "page": self.page,
            "page_size": self.page_size,
            "has_next": self.has_next,
        }


def _where(stmt: Select, f: RecordingFilters) -> Select:
    if f.agent_id:
        stmt = stmt.where(Recording.agent_id == f.agent_id)
    if f.start_from is not None:
        stmt = stmt.where(Recording.started_at >= f.start_from)
    if f.start_to is not None:
        stmt = stmt.where(Recording.started_at < f.start_to)
    if f.caller:
        stmt = stmt.where(Recording.caller == f.caller)
    if f.called:
        stmt = stmt.where(Recording.called == f.called)
    if f.queue:
        stmt = stmt.where(Recording.queue == f.queue)
    if f.customer_id:
        stmt = stmt.where(Recording.customer_id == f.customer_id)
    if f.linkedid:
        stmt = stmt.where(Recording.linkedid == f.linkedid)
    if f.min_duration_s is not None:
        stmt = stmt.where(Recording.duration_s >= f.min_duration_s)
    if f.statuses is not None:
        stmt = stmt.where(Recording.status.in_(f.statuses))
    return stmt


async def search_recordings(session: AsyncSession, filters: RecordingFilters) -> RecordingPage:
    total = await session.scalar(_where(select(func.count(Recording.id)), filters))
    columns = [SORT_FIELDS[filters.sort]]
    if filters.sort != "id":
        columns.append(Recording.id)
    order = [column.desc() if filters.descending else column.asc() for column in columns]
    stmt = (
        _where(select(Recording), filters)
        .order_by(*order)
        .offset((filters.page - 1) * filters.page_size)
        .limit(filters.page_size)
    )
    items = list((await session.scalars(stmt)).all())
    return RecordingPage(items=items, total=int(total or 0), page=filters.page, page_size=filters.page_size)


def parse_local_time(text: str, tz: ZoneInfo | timezone) -> datetime:
    """'2026-11-01T08:00' (local, in the configured zone) or with an explicit offset -> aware UTC datetime."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"not a date/time: {text!r} (expected e.g. 2026-11-01T08:00)") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(timezone.utc)
