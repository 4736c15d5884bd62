"""Items 6 and 9 on the CTI API behind hotline's HTTP edge (create_app): every bad input is a 4xx with the
reason, never a 500; an agent sees a customer's history only while that customer is on their call."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import httpx

from cti.http import router
from hotline.http import HttpServer, create_app
from tests.cti.rig import rig

AGENT, OTHER, SUP = ("1001", "1234"), ("1002", "2345"), ("9001", "9001")


async def test_bad_inputs_are_422_with_the_reason_and_customer_history_rule(tmp_path):
    async with rig(tmp_path) as r:
        app = create_app(SimpleNamespace(health=lambda: {}), [router(r.cti)], authenticate=r.cti.auth.from_authorization)
        async with asyncio.TaskGroup() as tg:
            server = HttpServer(app, "127.0.0.1", 0)
            await server.start(tg)
            try:
                async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                    limit = await http.get("/api/agents/1001/history", params={"limit": -1}, auth=AGENT)
                    assert limit.status_code == 422 and "greater than or equal to 1" in limit.text
                    assert (await http.get("/api/agents/1001/history", params={"limit": "x"}, auth=AGENT)
                            ).status_code == 422
                    assert (await http.get("/api/agents/" + "9" * 100, auth=SUP)).status_code == 422
                    for value in ("abc", 2 ** 64, 1.5, None):
                        ack = await http.post("/api/agents/1001/ack-announcement", auth=AGENT,
                                              json={"announcement_id": value})
                        assert ack.status_code == 422 and "announcement_id" in ack.json()["error"], (value, ack.text)
                    extra = await http.post("/api/agents/1001/login", auth=AGENT, json={"ready": True, "x": 1})
                    assert extra.status_code == 422 and "x: Extra inputs are not permitted" in extra.json()["error"]
                    deep = await http.post("/api/agents/1001/login", auth=AGENT, content=b"[" * 40 + b"]" * 40,
                                           headers={"Content-Type": "application/json"})
                    assert deep.status_code == 422
                    nested = "{" + '"a":{' * 31 + "}" * 32
                    mid = await http.put("/api/calls/x/data", auth=SUP, content=nested.encode(),
                                         headers={"Content-Type": "application/json"})
                    assert mid.status_code < 500
                    login = await http.post("/api/auth/login", json={"agent_id": "1" * 60_000, "pin": "1"})
                    assert login.status_code == 422                          # over 64 characters: never logged
                    login = await http.post("/api/auth/login", json={"agent_id": 1001})
                    assert login.status_code == 422
                    ann = await http.post("/api/supervisor/announcements", auth=SUP, json={"text": ["x"]})
                    assert ann.status_code == 422 and "text" in ann.json()["error"]

                    # item 9: the customer on 1001's call is visible to 1001, not to 1002; the supervisor sees all
                    assert (await http.get("/api/customers/13800138000", auth=AGENT)).status_code == 403
                    await r.ready_agents("1001")
                    caller = await r.call_in("1001", "13800138000")
                    await r.wait_state("1001", "talking")
                    await r.settle()
                    mine = await http.get("/api/customers/13800138000", auth=AGENT)
                    assert mine.status_code in (200, 404), mine.text          # allowed (404: nothing on file yet)
                    assert (await http.get("/api/customers/+8613800138000", auth=AGENT)).status_code in (200, 404)
                    assert (await http.get("/api/customers/13900000000", auth=AGENT)).status_code == 403
                    assert (await http.get("/api/customers/13800138000", auth=OTHER)).status_code == 403
                    assert (await http.get("/api/customers/13800138000", auth=SUP)).status_code in (200, 404)
                    await r.cmd("1001", "hangup")
                    await asyncio.wait_for(caller.wait(), 10)
            finally:
                await server.stop()


def test_a_token_with_a_non_ascii_signature_is_malformed_not_a_crash():
    import base64

    import pytest

    from cti.auth import AuthError, Authenticator
    from tests.cti.helpers import AGENTS

    forged = base64.urlsafe_b64encode("1001:9999999999:ab:é".encode()).decode().rstrip("=")
    with pytest.raises(AuthError):
        Authenticator(AGENTS).verify_token(forged)
