"""Service requests on SQLite and PostgreSQL: opened from a call, due by the type's rule, owned by the agent
who took it, every change in the history; refusals write nothing; deadlines escalate once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.config import DEFAULT_RULES
from crm.models import RequestEvent, ServiceRequest
from crm.requests import RequestError, RequestService
from cti.models import Customer
from tests.crm.helpers import AGENT, OTHER, SUPERVISOR, Calls, Clock, Published
from tests.cti.helpers import database

QUEUES = {"1001": frozenset({"complaints", "presales"}), "1004": frozenset({"logistics"}),
          "9001": frozenset()}


def service(sessions, clock=None, published=None, calls=None):
    return RequestService(sessions, DEFAULT_RULES, calls=calls or Calls({"1700000000.1": "+86 138 0013 8000"}),
                          publisher=published or Published(), agent_queues=QUEUES, clock=clock or Clock())


async def count(sessions, model) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_a_complaint_from_a_call_is_due_in_48_hours_and_owned_by_its_agent(db_url):
    async with database(db_url) as sessions:
        clock, published = Clock(), Published()
        requests = service(sessions, clock, published)
        made = await requests.create(AGENT, type="complaint", summary="快递三天未到", details="客户很不满意",
                                     category="物流", linkedid="1700000000.1", queue="complaints",
                                     recording_ids=(7,))
        assert made["owner_id"] == "1001" and made["status"] == "open" and made["customer_number"] == "13800138000"
        assert made["due_at"] == (clock.now + timedelta(hours=48)).isoformat()
        assert {"kind": "call", "ref": "1700000000.1"} in made["links"]
        assert {"kind": "recording", "ref": "7"} in made["links"]
        assert [h["action"] for h in made["history"]] == ["created"]
        assert published.events(made["id"]) == ["created"]
        async with sessions() as session:   # the caller became a customer
            assert (await session.execute(select(Customer.number))).scalars().all() == ["13800138000"]

        # the owner works on it; another agent (other queue) neither sees nor changes it
        with pytest.raises(RequestError) as err:
            await requests.get(OTHER, made["id"])
        assert err.value.status == 404
        assert await requests.search(OTHER) == []
        clock.advance(hours=3)
        updated = await requests.update(AGENT, made["id"], status="in_progress", note="已联系物流")
        assert updated["status"] == "in_progress"
        with pytest.raises(RequestError) as err:
            await requests.update(AGENT, made["id"], status="open")
        assert err.value.status == 409 and "cannot become open" in str(err.value)

        handed = await requests.hand_over(AGENT, made["id"], "1004", note="物流组跟进")
        assert handed["owner_id"] == "1004"
        with pytest.raises(RequestError) as err:       # the old owner may read (created it) but not change it
            await requests.update(AGENT, made["id"], status="answered")
        assert err.value.status == 403
        answered = await requests.update(OTHER, made["id"], status="answered")
        assert answered["answered_at"] == clock.now.isoformat()
        closed = await requests.update(SUPERVISOR, made["id"], status="closed")
        actions = [h["action"] for h in closed["history"]]
        assert actions == ["created", "updated", "handed-over", "updated", "updated", "followup-scheduled"]
        assert [h["by"] for h in closed["history"]][:4] == ["1001", "1001", "1001", "1004"]
        # a closed complaint gets its satisfaction follow-up
        assert [(f["kind"], f["status"], f["number"]) for f in closed["followups"]] == \
            [("satisfaction", "scheduled", "13800138000")]


async def test_bad_requests_are_refused_and_write_nothing(db_url):
    async with database(db_url) as sessions:
        clock = Clock()
        requests = service(sessions, clock)
        cases = [
            (dict(type="complaint", summary="x", customer="13900000000"), 403, "from a call they took"),
            (dict(type="complaint", summary="x", linkedid="1700000000.1", customer="13900000000"), 422,
             "for that call's caller"),
            (dict(type="complaint", summary="x", linkedid="nope.1"), 404, "no call with linkedid"),
            (dict(type="complaint", summary="x", linkedid="1700000000.1", due_at=clock.now - timedelta(hours=1)),
             422, "in the past"),
            (dict(type="rant", summary="x", linkedid="1700000000.1"), 422, "type 'rant'"),
            (dict(type="enquiry", summary="  ", linkedid="1700000000.1"), 422, "summary is required"),
            (dict(type="enquiry", summary="x" * 201, linkedid="1700000000.1"), 422, "at most 200"),
        ]
        for kwargs, status, text in cases:
            with pytest.raises(RequestError) as err:
                await requests.create(AGENT, **kwargs)
            assert err.value.status == status and text in str(err.value), kwargs
        with pytest.raises(RequestError) as err:             # a supervisor: any customer, but a known one
            await requests.create(SUPERVISOR, type="complaint", summary="x", customer="13900000000")
        assert err.value.status == 404 and "no customer" in str(err.value)
        with pytest.raises(RequestError) as err:             # an agent who did not take the call
            await requests.create(OTHER, type="complaint", summary="x", linkedid="1700000000.1")
        assert err.value.status == 403
        assert await count(sessions, ServiceRequest) == 0
        assert await count(sessions, Customer) == 0
        assert await count(sessions, RequestEvent) == 0

        made = await requests.create(AGENT, type="enquiry", summary="发票怎么开", linkedid="1700000000.1")
        with pytest.raises(RequestError) as err:
            await requests.schedule_followup(AGENT, made["id"], number="  ")
        assert "number is empty" in str(err.value)
        with pytest.raises(RequestError) as err:     # neither the request nor the config name a queue
            await requests.schedule_followup(AGENT, made["id"])
        assert "no queue" in str(err.value)
        assert (await requests.get(AGENT, made["id"]))["followups"] == []


async def test_deadlines_escalate_once_and_are_announced(db_url):
    async with database(db_url) as sessions:
        clock, published = Clock(), Published()
        requests = service(sessions, clock, published)
        complaint = await requests.create(AGENT, type="complaint", summary="退款未到账", linkedid="1700000000.1")
        enquiry = await requests.create(AGENT, type="enquiry", summary="营业时间", linkedid="1700000000.1")
        assert await requests.sweep_deadlines() == []
        clock.advance(hours=20, minutes=1)      # the enquiry (24 h) is within 4 h of its due time
        assert await requests.sweep_deadlines() == [{"id": enquiry["id"], "event": "escalated"}]
        assert (await requests.get(SUPERVISOR, enquiry["id"]))["due_state"] == "near"
        assert await requests.sweep_deadlines() == []
        clock.advance(hours=4)
        assert await requests.sweep_deadlines() == [{"id": enquiry["id"], "event": "overdue"}]
        assert [r["id"] for r in await requests.search(SUPERVISOR, due="overdue")] == [enquiry["id"]]
        clock.advance(hours=24)                 # 48 h 1 min: the complaint is escalated and overdue at once
        assert await requests.sweep_deadlines() == [{"id": complaint["id"], "event": "escalated"},
                                                    {"id": complaint["id"], "event": "overdue"}]
        assert published.events(complaint["id"]) == ["created", "escalated", "overdue"]
        assert await requests.count_open() == {"open": 2, "near_due": 0, "overdue": 2}
        await requests.update(AGENT, complaint["id"], status="answered")
        assert (await requests.get(AGENT, complaint["id"]))["due_state"] == "done"
        assert await requests.count_open() == {"open": 1, "near_due": 0, "overdue": 1}


async def test_the_complaint_figures_of_kpis_md_by_hand(db_url):
    """Five complaints and two enquiries, checked by hand:
    - customer A complains twice on 物流, once on 质量; customer B once on 物流 -> 1 repeat; rate 1 / (4 - 1)
    - complaint answered after 30 h, one after 50 h, one never (past due), one answered at 47 h 59 min
    - enquiries: one answered on time, one still open and not yet due -> reply 1/2, on time 1/1 decided."""
    from crm.kpi import request_kpis

    async with database(db_url) as sessions:
        clock = Clock()
        start = clock.now
        calls = Calls({"a.1": "13800000001", "b.1": "13800000002"})
        requests = service(sessions, clock, calls=calls)
        c1 = await requests.create(AGENT, type="complaint", summary="1", category="物流", linkedid="a.1")
        c2 = await requests.create(AGENT, type="complaint", summary="2", category="物流", linkedid="a.1")
        c3 = await requests.create(AGENT, type="complaint", summary="3", category="质量", linkedid="a.1")
        c4 = await requests.create(AGENT, type="complaint", summary="4", category="物流", linkedid="b.1")
        e1 = await requests.create(AGENT, type="enquiry", summary="5", linkedid="b.1")
        clock.advance(hours=2)
        await requests.update(AGENT, e1["id"], status="answered")
        clock.advance(hours=28)                                  # 30 h after intake
        await requests.update(AGENT, c1["id"], status="answered")
        clock.advance(hours=17, minutes=59)                     # 47 h 59 min
        await requests.update(AGENT, c4["id"], status="closed")  # closing answers it too
        clock.advance(hours=2, minutes=1)                       # 50 h
        await requests.update(AGENT, c2["id"], status="answered")
        await requests.create(AGENT, type="enquiry", summary="6", linkedid="b.1")   # open, due in 24 h
        # the satisfaction follow-up of the closed complaint: the customer said 5
        followup = (await requests.get(AGENT, c4["id"]))["followups"][0]
        await requests.record_followup(AGENT, followup["id"], result="reached", satisfaction=5)

        figures = {f["name"]: f for f in await request_kpis(sessions, start, clock.now + timedelta(days=1), clock.now)}
        assert (figures["reply_rate"]["numerator"], figures["reply_rate"]["denominator"]) == (4, 6)
        assert figures["consultation_reply_rate"]["value"] == 0.5
        assert (figures["on_time_rate"]["numerator"], figures["on_time_rate"]["denominator"]) == (1, 1)
        # complaints: c1 (30 h) and c4 (47 h 59) on time, c2 (50 h) late, c3 unanswered and past due
        assert (figures["complaint_on_time_rate"]["numerator"], figures["complaint_on_time_rate"]["denominator"]) == (2, 4)
        assert figures["complaint_answered_48h"]["value"] == 0.5 and figures["complaint_answered_48h"]["met"] is False
        assert figures["repeat_complaint_rate"]["value"] == round(1 / 3, 4)
        assert figures["repeat_complaint_rate"]["met"] is False
        assert figures["complaint_satisfaction"]["value"] == 1.0 and figures["complaint_satisfaction"]["met"] is True
        assert c3["id"] > 0
