"""The live simulated day: scripted agents and callers; an agent whose desktop is open is left to the human."""
from __future__ import annotations

import asyncio
import json

import websockets

from tests.web.conftest import command, token, until
from hotline.cli import main
from hotline.liveday import ScriptedDay


async def test_the_scripted_day_takes_calls_and_lets_go_of_an_agent_taken_over_from_the_browser(center, http):
    cti = center.service.cti
    acd = center.service.acd
    day = asyncio.create_task(ScriptedDay(center, speed=20, calls_per_hour=1200).run())
    try:
        await until(lambda: all(cti.agents.get(a).state.value != "logged-out" for a in ("1001", "1002", "1003")),
                    10, "scripted agents logged in")
        await until(lambda: sum(acd.queue_stats(q)["answered"] for q in acd.queue_names()) >= 2, 40,
                    "scripted calls answered")
        tok = await token(http, "1001")
        async with websockets.connect(center.http_url.replace("http", "ws") + "/api/live") as ws:
            await ws.send(json.dumps({"type": "auth", "token": tok}))
            await ws.recv()
            await until(lambda: "1001" in center.taken_over, 5, "1001 taken over")
            for _ in range(10):             # a new offer may ring 1001 between two steps: wait it out
                await until(lambda: cti.agents.get("1001").state.value in ("ready", "not-ready", "wrap-up"), 30,
                            "1001 free")
                if cti.agents.get("1001").state.value == "wrap-up":
                    await command(http, tok, "1001", "end-wrap-up")
                await command(http, tok, "1001", "not-ready", reason="meeting")
                await asyncio.sleep(0.5)    # an offer already on its way may still ring the phone once
                if cti.agents.get("1001").state.value == "not-ready":
                    break
            assert cti.agents.get("1001").state.value == "not-ready"
            asked = len(await cti.agents.history("1001", limit=1000))
            await asyncio.sleep(2.5)              # the script would have made a scripted agent ready by now
            later = (await cti.agents.history("1001", limit=1000))[asked:]
            assert [row for row in later if row["request"] in ("ready", "login")] == []
            assert center.sim.phones["1001"].behaviour.talk_time_s is None     # the human hangs up
        await until(lambda: "1001" not in center.taken_over, 5, "1001 handed back to the script")
    finally:
        day.cancel()
        await asyncio.gather(day, return_exceptions=True)


def test_the_command_line_explains_itself(capsys):
    try:
        main(["live-day", "--help"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    assert "--speed" in out and "--http-port" in out
