"""`hotline demo` hook of the CRM: the agents' 工单 of the day.

After the day, the requests the agents filed during their wrap-ups are written with the time they were filed:
every answered call of the complaints queue becomes a complaint (投诉), some after-sales and presales calls an
enquiry (咨询) or a business request (业务办理); most enquiries are answered within the hour, one complaint is
answered and closed (which schedules its satisfaction follow-up, 满意度回访) and one gets a reply follow-up
(回访) for the next morning. Seeded: the same seed, the same requests.

Summary: ``requests`` {opened, complaints, enquiries, business, answered, closed, followups}.
"""
from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import select

from crm.calls import StoredCalls
from crm.requests import RequestService, Staff
from cti.models import CallRecord

SUMMARIES = {
    "complaint": [("快递三天未送达", "物流"), ("商品破损要求赔偿", "物流"), ("退款迟迟未到账", "售后"),
                  ("客服答复不一致", "服务")],
    "enquiry": [("咨询退货流程", "售后"), ("发票如何开具", "发票"), ("保修期查询", "售后"), ("咨询优惠活动", "售前")],
    "business": [("修改收货地址", "订单"), ("取消订单", "订单")],
}
# which requests a queue's calls give: (type, share of the answered calls)
FILED = {"complaints": [("complaint", 1.0)], "aftersales": [("enquiry", 0.3), ("business", 0.1)],
         "presales": [("enquiry", 0.1)], "logistics": [("complaint", 0.1), ("business", 0.1)]}


class _FiledAt:
    """The time the agent filed the request (the demo writes the day's requests after it)."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


async def settle(ctx: Any) -> None:
    service = ctx.service
    sessions = service.deps.sessions
    rng = random.Random(f"{ctx.seed}:requests")
    async with sessions() as session:
        calls = (await session.execute(select(CallRecord).where(
            CallRecord.agent_id.is_not(None), CallRecord.answered_at.is_not(None))
            .order_by(CallRecord.started_at, CallRecord.id))).scalars().all()
    end_of_day = service.requests.clock()
    filed_at = _FiledAt(end_of_day)
    requests = RequestService(sessions, service.requests.rules, calls=StoredCalls(sessions), publisher=service.bus,
                              agent_queues=service.requests.agent_queues, clock=filed_at)
    tally = {"opened": 0, "complaints": 0, "enquiries": 0, "business": 0, "answered": 0, "closed": 0, "followups": 0}
    complaints: list[tuple[int, str]] = []
    for call in calls:
        kind = next((k for k, share in FILED.get(call.queue or "", []) if rng.random() < share), None)
        if kind is None or call.agent_id is None:
            continue
        ended = call.ended_at or call.answered_at or end_of_day
        filed_at.now = min(_aware(ended) + dt.timedelta(seconds=rng.randint(20, 90)), end_of_day)
        summary, category = rng.choice(SUMMARIES[kind])
        made = await requests.create(Staff(call.agent_id), type=kind, summary=summary, category=category,
                                     linkedid=call.linkedid, queue=call.queue)
        tally["opened"] += 1
        tally[{"complaint": "complaints", "enquiry": "enquiries", "business": "business"}[kind]] += 1
        if kind == "complaint":
            complaints.append((made["id"], call.agent_id))
            continue
        answered = filed_at.now + dt.timedelta(minutes=rng.randint(5, 60))
        if rng.random() < 0.7 and answered < end_of_day:
            filed_at.now = answered
            await requests.update(Staff(call.agent_id), made["id"], status="answered", note="已电话答复客户")
            tally["answered"] += 1
    if complaints:
        request_id, owner = complaints[0]            # answered the same day and closed: 满意度回访 scheduled
        filed_at.now = end_of_day
        await requests.update(Staff(owner), request_id, status="answered", note="已核实并补发，向客户致歉")
        await requests.update(Staff(owner), request_id, status="closed")
        tally["answered"] += 1
        tally["closed"] += 1
        tally["followups"] += 1
    if len(complaints) > 1:                          # still open: a reply follow-up tomorrow morning
        request_id, owner = complaints[1]
        tomorrow = (end_of_day + dt.timedelta(days=1)).replace(hour=2, minute=0, second=0, microsecond=0)
        await requests.schedule_followup(Staff(owner), request_id, at=tomorrow)
        tally["followups"] += 1
    ctx.shared["requests"] = tally


def summarize(ctx: Any) -> dict[str, Any]:
    return {"requests": ctx.shared.get("requests", {})}


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
