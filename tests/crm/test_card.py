"""The customer card gathers calls, requests, recordings and ratings; edits are audited; agents see a card
only while the customer is on their call or they own an open request; voicemails become requests once."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from crm.calls import IvrIntake, StoredCalls
from crm.card import CustomerCards
from crm.requests import RequestError
from cti.customers import normalise_number
from cti.models import CallRecord, Customer
from ivr.models import SurveyResult, Voicemail
from recordings.models import Recording
from tests.crm.helpers import AGENT, OTHER, SUPERVISOR, Clock
from tests.crm.test_requests import service
from tests.cti.helpers import database

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)


class OnCall:
    def __init__(self) -> None:
        self.callers: dict[str, str] = {}

    def on_current_call(self, agent_id: str, number: str) -> bool:
        return normalise_number(self.callers.get(agent_id, "")) == number


async def seed(sessions) -> None:
    async with sessions() as session:
        async with session.begin():
            session.add(Customer(number="13800138000", name="李先生", vip_level=2))
            session.add(CallRecord(linkedid="c.1", agent_id="1001", caller_number="13800138000", queue="aftersales",
                                   started_at=T0, answered_at=T0, ended_at=T0, disposition="complaint", notes="包裹破损"))
            session.add(Recording(linkedid="c.1", caller="13800138000", agent_id="1001", started_at=T0, duration_s=95.0,
                                  status="complete"))
            session.add(SurveyResult(uniqueid="c.1", linkedid="c.1", caller="13800138000", agent_id="1001", rating=2))
            session.add(Voicemail(uniqueid="v.1", linkedid="v.1", caller="13900000000", queue="aftersales",
                                  path="/tmp/vm", duration_s=12.0))
            session.add(Voicemail(uniqueid="v.2", linkedid="v.2", caller="", queue="aftersales", path="/tmp/vm2"))


async def test_the_card_gathers_everything_and_edits_are_audited(db_url):
    async with database(db_url) as sessions:
        await seed(sessions)
        on_call = OnCall()
        cards = CustomerCards(sessions, on_call, clock=Clock())
        requests = service(sessions, calls=StoredCalls(sessions))
        made = await requests.create(AGENT, type="complaint", summary="包裹破损", linkedid="c.1", category="物流")
        card = await cards.card(SUPERVISOR, "+86 138 0013 8000")
        assert card["customer"]["name"] == "李先生"
        assert [(c["linkedid"], c["disposition"], c["notes"]) for c in card["calls"]] == [("c.1", "complaint", "包裹破损")]
        assert [r["id"] for r in card["requests"]] == [made["id"]]
        assert [r["duration_s"] for r in card["recordings"]] == [95.0]
        assert [s["rating"] for s in card["surveys"]] == [2]

        # agent 1004 neither owns a request nor has the customer on the line
        with pytest.raises(RequestError) as err:
            await cards.card(OTHER, "13800138000")
        assert err.value.status == 403
        on_call.callers["1004"] = "+8613800138000"
        assert (await cards.card(OTHER, "13800138000"))["customer"]["number"] == "13800138000"
        del on_call.callers["1004"]
        # agent 1001 owns the open complaint
        edited = await cards.edit(AGENT, "13800138000", {"name": "李明", "birthday": "1980-05-01",
                                                          "phones": ["021-5555-1234"], "notes": "偏好下午联系"})
        assert edited["customer"]["name"] == "李明" and edited["customer"]["phones"] == ["02155551234"]
        assert sorted((a["field"], a["old"], a["new"]) for a in edited["audit"]) == [
            ("birthday", "", "1980-05-01"), ("name", "李先生", "李明"), ("notes", "", "偏好下午联系"),
            ("phones", "", "02155551234")]
        assert all(a["by"] == "1001" for a in edited["audit"])
        assert (await cards.card(SUPERVISOR, "02155551234"))["customer"]["name"] == "李明"   # by a further number
        with pytest.raises(RequestError):
            await cards.edit(AGENT, "13800138000", {"birthday": "1800-01-01"})
        with pytest.raises(RequestError):
            await cards.edit(AGENT, "13800138000", {"vip_level": 3})
        assert len((await cards.card(SUPERVISOR, "13800138000"))["audit"]) == 4     # the refusals wrote nothing

        assert [c["name"] for c in await cards.search(SUPERVISOR, "李")] == ["李明"]
        assert [c["number"] for c in await cards.search(SUPERVISOR, "0013")] == ["13800138000"]
        assert [c["number"] for c in await cards.search(SUPERVISOR, f"#{made['id']}")] == ["13800138000"]
        with pytest.raises(RequestError):
            await cards.search(AGENT, "李")
        exported = await cards.export_csv()
        assert exported.startswith("\ufeff")
        rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
        assert rows[0]["number"] == "13800138000" and rows[0]["name"] == "李明" and rows[0]["phones"] == "02155551234"


async def test_voicemails_become_requests_once(db_url):
    async with database(db_url) as sessions:
        await seed(sessions)
        requests = service(sessions, calls=StoredCalls(sessions))
        intake = IvrIntake(sessions, requests)
        made = await intake.sweep()
        assert len(made) == 1                               # the anonymous voicemail cannot become a request
        request = await requests.get(SUPERVISOR, made[0])
        assert (request["source"], request["owner_id"], request["queue"], request["customer_number"]) == \
            ("voicemail", "ivr", "aftersales", "13900000000")
        assert {"kind": "voicemail", "ref": "1"} in request["links"]
        assert await intake.sweep() == []
        assert await IvrIntake(sessions, requests).sweep() == []     # after a restart: still once
        with pytest.raises(RequestError) as err:                      # 1004 does not serve aftersales
            await requests.take(OTHER, made[0])
        assert err.value.status == 404
        taken = await requests.take(SUPERVISOR, made[0])
        assert taken["owner_id"] == "9001" and [h["action"] for h in taken["history"]] == ["created", "taken"]
        with pytest.raises(RequestError) as err:
            await requests.take(SUPERVISOR, made[0])
        assert err.value.status == 409
