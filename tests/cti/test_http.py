"""The CTI's HTTP API over real TCP (uvicorn on port 0) with a simulator behind it: authentication,
roles (403 logged), unknown agent 404, illegal transition 409, call data limit 413, calls and agents."""
from __future__ import annotations

import asyncio
import base64
import logging
from types import SimpleNamespace

import httpx
from fastapi import FastAPI

from cti.http import router
from hotline.http import HttpServer
from tests.cti.rig import rig


def _basic(agent_id, pin):
    return {"Authorization": "Basic " + base64.b64encode(f"{agent_id}:{pin}".encode()).decode()}


async def test_http_api_end_to_end(tmp_path, caplog):
    async with rig(tmp_path, acd=True) as r:
        app = FastAPI()
        app.include_router(router(r.cti))
        async with asyncio.TaskGroup() as tg:
            server = HttpServer(app, "127.0.0.1", 0)
            await server.start(tg)
            try:
                async with httpx.AsyncClient(base_url=server.url) as http:
                    assert (await http.get("/api/agents")).status_code == 401
                    bad = await http.post("/api/auth/login", json={"agent_id": "1001", "pin": "9999"})
                    assert bad.status_code == 401 and bad.json()["error"] == "wrong agent ID or PIN"
                    login = await http.post("/api/auth/login", json={"agent_id": "1001", "pin": "1234"})
                    agent = {"Authorization": f"Bearer {login.json()['token']}"}
                    sup = _basic("9001", "9001")
                    qa = _basic("9101", "9101")

                    assert (await http.post("/api/agents/1001/login", headers=agent)).json()["agent"]["state"] \
                        == "not-ready"
                    resp = await http.post("/api/agents/1001/ready", headers=agent)
                    assert resp.status_code == 200 and resp.json()["agent"]["state_zh"] == "准备就绪"
                    again = await http.post("/api/agents/1001/ready", headers=agent)
                    assert again.status_code == 409 and "agent 1001 is ready" in again.json()["error"]
                    nope = await http.post("/api/agents/4242/login", headers=sup)
                    assert nope.status_code == 404 and "unknown agent ID '4242'" in nope.json()["error"]
                    assert (await http.get("/api/agents/4242", headers=sup)).status_code == 404
                    bad_reason = await http.post("/api/agents/1001/not-ready", headers=agent,
                                                 json={"reason": "nap"})
                    assert bad_reason.status_code == 400 and "break" in bad_reason.json()["error"]
                    with caplog.at_level(logging.WARNING, "hotline.cti.auth"):
                        other = await http.post("/api/agents/1002/login", headers=agent)
                    assert other.status_code == 403
                    assert any("forbidden: 1001 (role agent) tried login for agent 1002" in m.getMessage()
                               for m in caplog.records)
                    assert (await http.get("/api/agents/1002", headers=agent)).status_code == 403
                    mine = await http.get("/api/agents", headers=agent)
                    assert [a["agent_id"] for a in mine.json()["agents"]] == ["1001"]
                    everyone = await http.get("/api/agents", headers=qa)
                    assert len(everyone.json()["agents"]) == 5
                    assert (await http.post("/api/agents/1001/force-state", headers=qa,
                                            json={"state": "logged-out"})).status_code == 403

                    caller = await r.call_in("1001")
                    await r.wait_state("1001", "talking")
                    await r.settle()
                    calls = (await http.get("/api/calls", headers=agent)).json()["calls"]
                    assert len(calls) == 1 and calls[0]["state"] == "talking"
                    linkedid = calls[0]["linkedid"]
                    assert (await http.get("/api/calls", headers=_basic("1002", "2345"))).json()["calls"] == []
                    one = (await http.get(f"/api/calls/{linkedid}", headers=sup)).json()
                    assert one["data"]["queue"] == "presales"
                    assert (await http.get(f"/api/calls/{linkedid}", headers=_basic("1002", "2345"))
                            ).status_code == 403
                    assert (await http.get("/api/calls/0000.1", headers=sup)).status_code == 404
                    put = await http.put(f"/api/calls/{linkedid}/data", headers=agent, json={"ticket": "T-1"})
                    assert put.status_code == 200 and put.json()["data"]["ticket"] == "T-1"
                    huge = await http.put(f"/api/calls/{linkedid}/data", headers=agent,
                                          json={"blob": "x" * (1 << 20)})
                    assert huge.status_code == 413 and "over the limit of 1048576 bytes" in huge.json()["error"]
                    data = (await http.get(f"/api/calls/{linkedid}/data", headers=agent)).json()
                    assert "blob" not in data["data"] and data["data"]["ticket"] == "T-1"

                    overview = (await http.get("/api/supervisor/overview", headers=sup)).json()
                    # the ACD's figures (their one owner): 1001 is on a call the ACD did not place
                    assert overview["queues"]["presales"]["agents"]["busy"] == 1
                    assert overview["queues"]["presales"] == {**r.acd.queue_stats("presales"),
                                                              "time": overview["queues"]["presales"]["time"]}
                    assert (await http.get("/api/supervisor/overview", headers=agent)).status_code == 403
                    ann = await http.post("/api/supervisor/announcements", headers=sup,
                                          json={"text": "午餐时间调整", "audience": {"agents": ["1001"]}})
                    assert ann.status_code == 200
                    unread = (await http.get("/api/agents/1001/announcements", headers=agent)).json()
                    assert [a["text"] for a in unread["announcements"]] == ["午餐时间调整"]

                    hang = await http.post("/api/agents/1001/force-hangup", headers=sup)
                    assert hang.status_code == 200
                    await r.wait_state("1001", "wrap-up")
                    disp = await http.post("/api/agents/1001/disposition", headers=agent,
                                           json={"code": "complaint", "notes": "物流慢"})
                    assert disp.status_code == 200 and disp.json()["disposition"]["disposition_zh"] == "投诉"
                    bad_disp = await http.post("/api/agents/1001/disposition", headers=agent,
                                               json={"code": "angry"})
                    assert bad_disp.status_code == 400
                    garbage = await http.post("/api/agents/1001/end-wrap-up", headers=agent, content=b"[1,2]")
                    assert garbage.status_code == 422
                    assert (await http.post("/api/agents/1001/end-wrap-up", headers=agent)).status_code == 200
                    history = (await http.get("/api/agents/1001/history", headers=agent)).json()["history"]
                    assert [h["to"] for h in history][-3:] == ["talking", "wrap-up", "ready"]
                    # the call is over: the agent no longer sees this customer; the supervisor does
                    assert (await http.get("/api/customers/13800138000", headers=agent)).status_code == 403
                    customer = await http.get("/api/customers/13800138000", headers=sup)
                    assert customer.json()["history"][0]["disposition"] == "complaint"
                    await caller.wait()
            finally:
                await server.stop()
