"""Service requests, the customer card and the knowledge base over HTTP (uvicorn on real TCP, the CTI's
authenticator): roles, 4xx with the reason for bad input, nothing written on a refusal."""
from __future__ import annotations

import asyncio
import base64

import httpx
from fastapi import FastAPI

from crm.calls import StoredCalls
from crm.card import CustomerCards
from crm.config import DEFAULT_RULES
from crm.http import router as crm_router
from crm.requests import RequestService
from cti.agents import CtiError
from cti.auth import Authenticator
from hotline.http import HttpServer
from kb.http import router as kb_router
from kb.service import KnowledgeBase
from tests.crm.helpers import Published
from tests.crm.test_card import OnCall, seed
from tests.cti.helpers import AGENTS, database


def basic(agent_id: str, pin: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{agent_id}:{pin}".encode()).decode()}


async def test_requests_cards_and_articles_over_http(db_url):
    async with database(db_url) as sessions:
        await seed(sessions)
        auth = Authenticator(AGENTS)
        queues = {a.id: frozenset({"aftersales"}) for a in AGENTS}
        requests = RequestService(sessions, DEFAULT_RULES, calls=StoredCalls(sessions), publisher=Published(),
                                  agent_queues=queues)
        on_call = OnCall()
        app = FastAPI()
        app.include_router(crm_router(requests, CustomerCards(sessions, on_call), auth, (CtiError,)))
        app.include_router(kb_router(KnowledgeBase(sessions), auth, (CtiError,)))
        async with asyncio.TaskGroup() as tg:
            server = HttpServer(app, "127.0.0.1", 0)
            await server.start(tg)
            try:
                async with httpx.AsyncClient(base_url=server.url) as http:
                    agent, sup = basic("1001", "1234"), basic("9001", "9001")
                    assert (await http.get("/api/requests")).status_code == 401
                    made = await http.post("/api/requests", headers=agent, json={
                        "type": "complaint", "summary": "包裹破损", "linkedid": "c.1", "queue": "aftersales"})
                    assert made.status_code == 201, made.text
                    rid = made.json()["id"]
                    assert made.json()["owner_id"] == "1001"
                    for body, status, text in [
                        ({"type": "complaint", "summary": "x", "customer": "13800138000"}, 403, "from a call they took"),
                        ({"type": "complaint", "summary": "x", "linkedid": "zz"}, 404, "no call"),
                        ({"type": "complaint", "summary": "x", "linkedid": "c.1", "due_at": "2020-01-01T00:00:00Z"},
                         422, "in the past"),
                        ({"type": "rant", "summary": "x"}, 422, ""),
                        ({"type": "enquiry", "summary": "x", "extra": 1}, 422, ""),
                    ]:
                        reply = await http.post("/api/requests", headers=agent, json=body)
                        assert reply.status_code == status and text in reply.text, (body, reply.text)
                    for body, status, text in [({"type": "complaint", "summary": "x", "customer": "139"}, 404, "no customer")]:
                        reply = await http.post("/api/requests", headers=sup, json=body)
                        assert reply.status_code == status and text in reply.text, (body, reply.text)
                    assert len((await http.get("/api/requests", headers=sup)).json()["requests"]) == 1
                    assert (await http.get("/api/requests/99999999999999999999", headers=sup)).status_code == 422
                    assert (await http.get("/api/requests?limit=-1", headers=sup)).status_code == 422
                    moved = await http.patch(f"/api/requests/{rid}", headers=agent, json={"status": "closed"})
                    assert moved.json()["status"] == "closed"
                    again = await http.patch(f"/api/requests/{rid}", headers=agent, json={"status": "open"})
                    assert again.status_code == 409 and "cannot become open" in again.json()["error"]
                    empty = await http.post(f"/api/requests/{rid}/followups", headers=agent, json={"number": ""})
                    assert empty.status_code == 422 and "number is empty" in empty.json()["error"]
                    later = await http.post(f"/api/requests/{rid}/followups", headers=agent, json={})
                    assert later.status_code == 201 and later.json()["number"] == "13800138000"
                    kpis = await http.get("/api/requests/kpis", headers=sup)
                    assert {f["name"] for f in kpis.json()["figures"]} >= {"complaint_answered_48h", "repeat_complaint_rate"}
                    assert (await http.get("/api/requests/kpis", headers=agent)).status_code == 403
                    assert (await http.get("/api/requests/summary", headers=sup)).json()["open"] == 0

                    # the customer card: the agent owns no open request any more and has no call
                    assert (await http.get("/api/crm/customers/13800138000", headers=agent)).status_code == 403
                    on_call.callers["1001"] = "13800138000"
                    card = await http.get("/api/crm/customers/13800138000", headers=agent)
                    assert card.status_code == 200 and card.json()["requests"][0]["id"] == rid
                    edit = await http.patch("/api/crm/customers/13800138000", headers=agent, json={"name": "李明"})
                    assert edit.json()["audit"][0]["new"] == "李明"
                    found = await http.get("/api/crm/customers", headers=sup, params={"q": "李"})
                    assert [c["number"] for c in found.json()["customers"]] == ["13800138000"]
                    export = await http.get("/api/crm/customers.csv", headers=sup)
                    assert export.content.startswith("\ufeff".encode()) and "李明" in export.text

                    # the knowledge base: a draft is not an answer until an editor publishes it
                    article = await http.post("/api/kb/articles", headers=agent, json={
                        "title": "破损包裹怎么赔", "body": "拍照上传后48小时内补发。", "keywords": ["破损", "赔偿"]})
                    aid = article.json()["id"]
                    assert (await http.get("/api/kb/search", headers=agent, params={"q": "破损"})).json()["articles"] == []
                    assert (await http.post(f"/api/kb/articles/{aid}/submit", headers=agent)).status_code == 200
                    assert (await http.post(f"/api/kb/articles/{aid}/approve", headers=agent)).status_code == 403
                    assert (await http.post(f"/api/kb/articles/{aid}/approve", headers=sup)).status_code == 200
                    assert (await http.post(f"/api/kb/articles/{aid}/publish", headers=sup)).status_code == 200
                    hits = (await http.get("/api/kb/search", headers=agent, params={"q": "破损"})).json()["articles"]
                    assert [h["id"] for h in hits] == [aid]
                    english = await http.post("/api/kb/articles", headers=sup, json={
                        "title": "Damaged parcels", "body": "Upload a photo; we resend within 48 hours.",
                        "queues": ["logistics"], "language": "en"})
                    assert english.json()["language"] == "en"
                    assert (await http.patch(f"/api/kb/articles/{aid}", headers=sup,
                                             json={"queues": ["logistics"]})).status_code == 200
                    for step in ("submit", "approve", "publish"):
                        await http.post(f"/api/kb/articles/{english.json()['id']}/{step}", headers=sup)
                    for language, first in (("en", english.json()["id"]), ("zh-CN", aid)):
                        found = (await http.get("/api/kb/suggest", headers=agent, params={
                            "queue": "logistics", "language": language})).json()["articles"]
                        assert [a["id"] for a in found][0] == first and len(found) == 2
                    bad = await http.post("/api/kb/articles", headers=sup, json={"title": "t", "body": "b",
                                                                               "language": "x" * 17})
                    assert bad.status_code == 422
                    big = await http.post("/api/kb/articles", headers=agent, json={"title": "大", "body": "x" * 70_000})
                    assert big.status_code in (413, 422)
                    assert (await http.get("/api/kb/stats", headers=sup)).json()["most_searched"][0]["query"] == "破损"
            finally:
                await server.stop()
