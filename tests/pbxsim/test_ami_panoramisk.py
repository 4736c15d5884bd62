"""panoramisk's Manager (a real AMI client) against the simulator over TCP."""
from __future__ import annotations

import asyncio

from panoramisk import Manager

from pbxsim.ami import AmiServer, AmiUser
from pbxsim.clock import run_virtual
from pbxsim.dialplan import Dialplan
from pbxsim.pbx import Pbx

from tests.captures import CAPTURES


def test_panoramisk_logs_in_originates_lists_redirects_and_hangs_up(tmp_path):
    async def main():
        loop = asyncio.get_running_loop()
        pbx = Pbx(Dialplan.load(CAPTURES / "conf" / "extensions.conf"), monitor_dir=tmp_path)
        server = AmiServer(pbx, {"ivr": AmiUser("ivr", "ivrsecret", {"all"}, {"all"})})
        await server.start()
        manager = Manager(loop=loop, host="127.0.0.1", port=server.port, username="ivr", secret="ivrsecret",
                          ping_delay=3600)
        events: list = []
        manager.register_event("*", lambda mgr, event: events.append(event))
        await manager.connect()
        for _ in range(100):
            if manager.authenticated:
                break
            await asyncio.sleep(0.05)
        try:
            pong = await manager.send_action({"Action": "Ping"})
            queued = await manager.send_action({
                "Action": "Originate", "Channel": "Local/long@callerctx", "Context": "ivrctx", "Exten": "hold",
                "Priority": "1", "CallerID": '"Bob" <200>', "Async": "true", "ActionID": "orig-1"})
            for _ in range(100):
                if any(e.event == "MusicOnHoldStart" for e in events):
                    break
                await asyncio.sleep(0.05)
            listing = await manager.send_action({"Action": "CoreShowChannels"})
            names = [m.Channel for m in listing if m.get("Event") == "CoreShowChannel"]
            redirect = await manager.send_action({"Action": "Redirect", "Channel": names[0], "Context": "ivrctx",
                                                  "Exten": "redirected", "Priority": "1"})
            await asyncio.sleep(0.5)
            hangup = await manager.send_action({"Action": "Hangup", "Channel": names[0]})
            missing = await manager.send_action({"Action": "Hangup", "Channel": "Nope/none"})
            await asyncio.sleep(0.5)
            version = await manager.send_command("core show version")
        finally:
            manager.close()
            await server.close()
            await pbx.close()
        return pong, queued, listing, names, redirect, hangup, missing, version, events

    pong, queued, listing, names, redirect, hangup, missing, version, events = run_virtual(main())
    assert pong.Response == "Success" and pong.Ping == "Pong"
    # panoramisk collects an async Originate until its OriginateResponse (same ActionID)
    assert queued[0].Message == "Originate successfully queued"
    assert queued[-1].Event == "OriginateResponse" and queued[-1].Response == "Success"
    assert names == [n for n in names if n.startswith("Local/long@callerctx-")] and len(names) == 2
    assert listing[-1].Event == "CoreShowChannelsComplete" and listing[-1].ListItems == "2"
    assert redirect.Message == "Redirect successful"
    assert hangup.Message == "Channel Hungup"
    assert missing.Response == "Error" and missing.Message == "No such channel"
    assert "Asterisk 22.10.1" in version.Output
    kinds = [e.event for e in events]
    assert kinds[0] == "FullyBooted"
    response = queued[-1]
    assert response.ActionID == "orig-1" and response.Response == "Success" and response.Reason == "4"
    for name in ("Newchannel", "DialBegin", "DialEnd", "Newexten", "Hangup"):
        assert name in kinds, name
    first = next(e for e in events if e.event == "Newchannel")
    assert all(e.Linkedid == first.Uniqueid for e in events if e.get("Linkedid"))
