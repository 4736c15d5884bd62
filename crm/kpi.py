"""The request figures of kpis.md for a period (requests accepted in [start, end)):

- reply rate (答复率)          answered ÷ accepted                               target 100 %
- on-time rate (按时答复率)    answered by the due time ÷ decided (answered, or past due unanswered)   100 %
- complaints answered ≤ 48 h   complaints answered within 48 h of intake ÷ complaints              100 %
- repeat-complaint rate        repeat ÷ (complaints − repeat); a repeat is a further complaint by the
                               same customer on the same (named) category in the period           ≤ 1 %
- satisfaction with the answer satisfied (4–5) ÷ rated, from the satisfaction follow-ups (满意度回访)  ≥ 90 %
Each figure is given overall and for consultations (咨询) and complaints (投诉) separately where kpis.md
separates them."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.models import ServiceRequest
from hotline.db import as_utc

COMPLAINT_HOURS = 48


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _figure(name: str, label: str, part: int, whole: int, target: float, *, at_most: bool = False) -> dict[str, Any]:
    value = _ratio(part, whole)
    met = None if value is None else (value <= target if at_most else value >= target)
    return {"name": name, "label": label, "value": value, "numerator": part, "denominator": whole,
            "target": target, "target_rule": "≤" if at_most else "≥", "met": met}


async def request_kpis(sessions: async_sessionmaker[AsyncSession], start: datetime, end: datetime,
                       now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or datetime.now(timezone.utc)
    async with sessions() as session:
        rows = (await session.execute(select(ServiceRequest).where(
            ServiceRequest.created_at >= start, ServiceRequest.created_at < end)
            .order_by(ServiceRequest.created_at, ServiceRequest.id))).scalars().all()

    def answered(r: ServiceRequest) -> bool:
        return r.answered_at is not None

    def on_time(r: ServiceRequest) -> bool:
        return r.answered_at is not None and as_utc(r.answered_at) <= as_utc(r.due_at)

    def decided(r: ServiceRequest) -> bool:
        return r.answered_at is not None or as_utc(r.due_at) <= now

    enquiries = [r for r in rows if r.type == "enquiry"]
    complaints = [r for r in rows if r.type == "complaint"]
    per_topic = Counter((r.customer_id, r.category) for r in complaints if r.category)   # unnamed: no repeat
    repeats = sum(n - 1 for n in per_topic.values())
    within = sum(1 for r in complaints if r.answered_at is not None
                 and as_utc(r.answered_at) - as_utc(r.created_at) <= timedelta(hours=COMPLAINT_HOURS))
    rated = [r.satisfaction for r in rows if r.satisfaction is not None]
    rated_complaints = [r.satisfaction for r in complaints if r.satisfaction is not None]
    return [
        _figure("reply_rate", "答复率 (all requests)", sum(map(answered, rows)), len(rows), 1.0),
        _figure("consultation_reply_rate", "咨询答复率", sum(map(answered, enquiries)), len(enquiries), 1.0),
        _figure("on_time_rate", "按时答复率 (consultations)", sum(map(on_time, enquiries)),
                sum(map(decided, enquiries)), 1.0),
        _figure("complaint_on_time_rate", "投诉按时答复率", sum(map(on_time, complaints)),
                sum(map(decided, complaints)), 1.0),
        _figure("complaint_answered_48h", "投诉 48 小时内答复", within, len(complaints), 1.0),
        _figure("repeat_complaint_rate", "重复投诉率", repeats, len(complaints) - repeats, 0.01, at_most=True),
        _figure("answer_satisfaction", "答复满意度", sum(1 for s in rated if s >= 4), len(rated), 0.9),
        _figure("complaint_satisfaction", "投诉满意度", sum(1 for s in rated_complaints if s >= 4),
                len(rated_complaints), 0.85),
    ]
