"""The live feed (/api/live) against the real service and the simulator: authentication, bounds, who sees what;
and the hub's coalescing on its own."""
from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest
import websockets

from pbxsim.participants import CallerScript
from tests.web.conftest import command, token, until
import web.http as web_http
from web.kpis import kpis
from web.live import MAX_BACKLOG, LiveHub

PRESALES = ["wait 0.5", "press 1", "wait 1.2", "press 1"]


def ws_url(center) -> str:
    return center.http_url.replace("http://", "ws://") + "/api/live"


class Feed:
    """One WebSocket client collecting every item it is sent."""

    def __init__(self, ws):
        self.ws, self.items, self.frames = ws, [], []
        self.task = asyncio.create_task(self._read())

    async def _read(self):
        async for raw in self.ws:
            frame = json.loads(raw)
            self.frames.append(frame)
            self.items.extend(frame.get("items", []))

    def topics(self) -> set[str]:
        return {i["topic"] for i in self.items}

    async def close(self):
        await self.ws.close()
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def open_feed(center, tok: str) -> Feed:
    ws = await websockets.connect(ws_url(center))
    await ws.send(json.dumps({"type": "auth", "token": tok}))
    hello = json.loads(await ws.recv())
    assert hello["type"] == "hello"
    return Feed(ws)


async def test_bad_token_missing_auth_and_oversized_frames_are_refused(center):
    async with websockets.connect(ws_url(center)) as ws:
        await ws.send(json.dumps({"type": "auth", "token": "bm90LWEtdG9rZW4"}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 4401 and "token" in closed.value.rcvd.reason
    async with websockets.connect(ws_url(center)) as ws:
        await ws.send(json.dumps({"type": "subscribe"}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 4401
    async with websockets.connect(ws_url(center)) as ws:
        await ws.send("x" * 5000)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 1009
    async with websockets.connect(ws_url(center)) as ws:      # nesting under the frame limit: refused, not a crash
        await ws.send("[" * 2000 + "]" * 2000)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 4401
    async with websockets.connect(ws_url(center)) as ws:      # and the endpoint still serves
        await ws.send(json.dumps({"type": "auth", "token": "bm90LWEtdG9rZW4"}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 4401


async def test_an_agent_gets_only_its_own_events_and_a_supervisor_everything(center, http):
    cti = center.service.cti
    tokens = {a: await token(http, a) for a in ("1001", "1002", "9001")}
    feeds = {a: await open_feed(center, t) for a, t in tokens.items()}
    try:
        (await command(http, tokens["1001"], "1001", "login", ready=True)).raise_for_status()
        (await command(http, tokens["1002"], "1002", "login")).raise_for_status()
        await center.sim.place_call(CallerScript("13900000001", dnid="4008001234", steps=PRESALES, talk_time_s=3))
        await until(lambda: cti.agents.get("1001").state.value == "talking", 20, "1001 talking")
        first = cti.agents.get("1001").linkedid
        (await command(http, tokens["1002"], "1002", "ready")).raise_for_status()
        await center.sim.place_call(CallerScript("13900000002", dnid="4008001234", steps=PRESALES, talk_time_s=3))
        await until(lambda: cti.agents.get("1002").state.value == "talking", 20, "1002 talking")
        second = cti.agents.get("1002").linkedid
        await until(lambda: cti.agents.get("1002").state.value == "wrap-up", 20, "1002's call ends")
        await until(lambda: any(i["type"] == "screenpop" for i in feeds["1002"].items), 5, "1002's screen pop")
        await asyncio.sleep(0.6)                       # the last coalesced frames

        for me, other, mine, theirs in (("1001", "1002", first, second), ("1002", "1001", second, first)):
            items = feeds[me].items
            assert items, f"agent {me} got nothing"
            for item in items:
                assert not item["topic"].startswith(f"agents/{other}/"), f"{me} got {item['topic']}"
                assert item["type"] in ("agent", "screenpop", "call", "announcement", "reply"), item["type"]
                if item["type"] == "call":
                    assert item["data"]["linkedid"] != theirs, f"{me} got the other agent's call"
            assert f"agents/{me}/state" in feeds[me].topics()
            assert f"calls/{mine}" in feeds[me].topics()
            pop = next(i["data"] for i in items if i["type"] == "screenpop")
            assert pop["ivr"]["choices"] == ["choose_language:1", "main_menu:1"]
            assert pop["ivr"]["language"] == "zh-CN" and pop["ivr"]["flow"] == "hotline"
        everything = feeds["9001"].topics()
        assert {"agents/1001/state", "agents/1002/state", f"calls/{first}", f"calls/{second}",
                "agents/1001/screenpop", "agents/1002/screenpop"} <= everything
        assert any(t.startswith("queues/presales") for t in everything) and "kpis" in everything
    finally:
        for feed in feeds.values():
            await feed.close()


def _hub():
    agents = {"1001": SimpleNamespace(id="1001", endpoint="PJSIP/1001", team="A", linkedid=None),
              "1002": SimpleNamespace(id="1002", endpoint="PJSIP/1002", team="A", linkedid="9.1")}
    roster = SimpleNamespace(agents=agents, views=lambda: [])
    return LiveHub(roster=roster, queues=None)


async def test_updates_of_one_object_are_coalesced_and_events_are_not():
    hub = _hub()
    agent = hub.connect(SimpleNamespace(agent_id="1001", role="agent", name="", reads_all=False, supervises=False))
    for n in range(100):
        hub.publish("agents/1001/state", {"agent_id": "1001", "n": n})
        hub.publish("agents/1002/state", {"agent_id": "1002", "n": n})
    hub.publish("agents/1001/screenpop", {"linkedid": "1.1"})
    hub.publish("agents/1001/screenpop", {"linkedid": "1.2"})
    hub.publish("calls/9.1", {"linkedid": "9.1", "channels": [{"endpoint": "PJSIP/1002"}]})
    hub.publish("calls/1.1", {"linkedid": "1.1", "channels": [{"endpoint": "PJSIP/1001"}]})
    frame = await agent.next_frame()
    assert frame["type"] == "batch"
    assert [(i["topic"], i["data"].get("n")) for i in frame["items"]] == [
        ("agents/1001/state", 99), ("agents/1001/screenpop", None), ("agents/1001/screenpop", None),
        ("calls/1.1", None)]


async def test_a_client_too_far_behind_is_told_to_resync():
    hub = _hub()
    board = hub.connect(SimpleNamespace(agent_id="9001", role="supervisor", name="", reads_all=True, supervises=True))
    for n in range(MAX_BACKLOG + 1):
        hub.publish(f"calls/{n}", {"linkedid": str(n), "channels": []})
    assert (await board.next_frame())["type"] == "resync"
    hub.publish("agents/1001/state", {"agent_id": "1001"})
    assert [i["topic"] for i in (await board.next_frame())["items"]] == ["agents/1001/state"]
    hub.disconnect(board)
    await hub.close()


def test_kpi_tiles_grade_against_their_targets_and_show_no_data_as_none():
    queues = [{"offered": 12, "waiting": 2, "answered": 9, "service_level": 0.75},
              {"offered": 0, "waiting": 0, "answered": 0, "service_level": None}]
    tiles = kpis(queues, {"inbound": 20, "connected": 16, "surveys": 0, "satisfied": 0})
    assert (tiles["live_answer_rate"]["value"], tiles["live_answer_rate"]["grade"]) == (0.9, "green")
    assert (tiles["service_level"]["value"], tiles["service_level"]["grade"]) == (0.75, "amber")
    assert (tiles["connection_rate"]["value"], tiles["connection_rate"]["grade"]) == (0.8, "amber")
    assert (tiles["satisfaction"]["value"], tiles["satisfaction"]["grade"]) == (None, "none")
    assert kpis([], {"inbound": 10, "connected": 7, "surveys": 4, "satisfied": 4})["connection_rate"]["grade"] == "red"


async def test_the_socket_closes_with_4401_when_its_token_expires(center, monkeypatch):
    monkeypatch.setattr(web_http, "HEARTBEAT_S", 0.3)
    auth = center.service.cti.auth
    ttl, auth.ttl = auth.ttl, 1.5
    try:
        short = (await auth.login("1001", "1234"))["token"]
    finally:
        auth.ttl = ttl
    async with websockets.connect(ws_url(center)) as ws:
        await ws.send(json.dumps({"type": "auth", "token": short}))
        assert json.loads(await ws.recv())["type"] == "hello"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd.code == 4401 and "expired" in closed.value.rcvd.reason


async def test_a_wall_tv_gets_masked_callers_and_no_screen_pops(center, http):
    """A wall TV hangs where visitors pass: its token's feed and snapshot carry calls with the caller's number
    masked and the name cut to one character, and no screen pop, announcement or 工单 at all."""
    cti = center.service.cti
    sup = await token(http, "9001")
    tv = (await http.post("/api/wallboard/tv-token", headers={"Authorization": f"Bearer {sup}"})).json()["token"]
    agent = await token(http, "1001")
    wall, board = await open_feed(center, tv), await open_feed(center, sup)
    try:
        (await command(http, agent, "1001", "login", ready=True)).raise_for_status()
        await center.sim.place_call(CallerScript("13912345678", caller_name="王小明", dnid="4008001234", steps=PRESALES,
                                                 talk_time_s=3))
        await until(lambda: cti.agents.get("1001").state.value == "talking", 20, "1001 talking")
        snapshot = (await http.get("/api/live/snapshot", headers={"Authorization": f"Bearer {tv}"})).json()
        await until(lambda: any(i["type"] == "screenpop" for i in board.items), 5, "the supervisor's copy of the pop")
        await http.post("/api/supervisor/announcements", headers={"Authorization": f"Bearer {sup}"},
                        json={"text": "十分钟后例会", "audience": {"agents": ["1001"]}})
        await asyncio.sleep(0.6)
        wall_text = json.dumps(wall.items, ensure_ascii=False) + json.dumps(snapshot["calls"], ensure_ascii=False)
        assert "13912345678" not in wall_text and "小明" not in wall_text
        assert "139****5678" in wall_text and '"name": "王*"' in wall_text
        assert {i["type"] for i in wall.items} <= {"agent", "call", "queue", "kpis"}
        assert any(i["type"] == "call" for i in wall.items)
        assert "13912345678" in json.dumps(board.items)        # a supervisor still sees the number
    finally:
        await wall.close()
        await board.close()
