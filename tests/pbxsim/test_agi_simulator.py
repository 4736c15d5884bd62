"""The path of one call through the whole simulator: a scripted caller comes in on the trunk,
the site dialplan (asterisk-conf/) runs AGI() against a FastAGI server in the test, and an AMI
client logged in with the site's manager.conf user watches it all over TCP."""
from __future__ import annotations

import asyncio
from pathlib import Path

from panoramisk import Manager

from pbxsim.clock import run_virtual
from pbxsim.participants import CallerScript
from pbxsim.simulator import Simulator

ROOT = Path(__file__).resolve().parents[2]


def test_scripted_call_through_site_dialplan_fastagi_and_ami(tmp_path):
    async def main():
        loop = asyncio.get_running_loop()
        replies: list[bytes] = []
        header: dict[str, str] = {}
        finished = asyncio.Event()

        async def fastagi(reader, writer):
            while (line := await reader.readline()) not in (b"\n", b""):
                key, _, value = line.decode().rstrip("\n").partition(": ")
                header[key] = value
            for command in (b"ANSWER\n", b"STREAM FILE beep \"\"\n", b"GET DATA beep 5000 4\n",
                            b"SET VARIABLE HOTLINE_CHOICE 12\n", b"HANGUP\n"):
                writer.write(command)
                await writer.drain()
                replies.append(await reader.readline())
            replies.append(await reader.readline())                  # the unsolicited HANGUP
            writer.close()
            finished.set()

        agi = await asyncio.start_server(fastagi, "127.0.0.1", 0)
        async with Simulator(ROOT / "asterisk-conf", monitor_dir=tmp_path,
                             agi_override=("127.0.0.1", agi.sockets[0].getsockname()[1])) as sim:
            manager = Manager(loop=loop, host="127.0.0.1", port=sim.ami_port, username="hotline",
                              secret="hotline-secret", ping_delay=3600)
            events: list = []
            manager.register_event("*", lambda mgr, e: events.append(e))
            await manager.connect()
            for _ in range(100):
                if manager.authenticated:
                    break
                await asyncio.sleep(0.05)
            caller = await sim.place_call(CallerScript("13800138000", caller_name="王芳", dnid="4008001234",
                                                       steps=["wait 1.5", "press 12#", "wait 30"]))
            await asyncio.wait_for(finished.wait(), 60)
            await asyncio.sleep(1)
            manager.close()
        agi.close()
        return header, replies, events

    header, replies, events = run_virtual(main())
    assert header["agi_type"] == "PJSIP" and header["agi_callerid"] == "13800138000"
    assert header["agi_calleridname"] == "王芳" and header["agi_dnid"] == "4008001234"
    assert header["agi_network_script"] == "hotline"
    assert replies == [b"200 result=0\n", b"200 result=0 endpos=3404\n", b"200 result=12\n", b"200 result=1\n",
                       b"200 result=1\n", b"HANGUP\n"]
    names = [e.event for e in events]
    starts = [e.Command for e in events if e.event == "AGIExecStart"]
    assert starts == ["ANSWER", 'STREAM FILE beep ""', "GET DATA beep 5000 4", "SET VARIABLE HOTLINE_CHOICE 12",
                      "HANGUP"]
    assert names.index("Newchannel") < names.index("AGIExecStart") < names.index("Hangup")
    chan = header["agi_channel"]
    assert all(e.Channel == chan for e in events if e.event.startswith("AGIExec"))
    assert any(e.event == "VarSet" and e.Variable == "AGISTATUS" and e.Value == "HANGUP" for e in events)
