"""The Simulator end to end over real TCP: AMI login from manager.conf, the ami_dialtest scenario
replayed by a client and compared with the capture, and a hotline-style call through FastAGI."""
from __future__ import annotations

import asyncio
import wave

import pytest

from pbxsim.clock import run_virtual
from pbxsim.participants import CallerScript
from pbxsim.simulator import Simulator
from pbxsim_capture import (CONF, IGNORED_EVENTS, SITE_CONF, ScriptedFastAgi, capture_events, messages,
                            per_channel)


async def ami_client(port: int, username: str, secret: str, actions: list[bytes], until, timeout: float = 60):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    banner = await reader.readline()
    writer.write(f"Action: Login\r\nActionID: login-1\r\nUsername: {username}\r\nSecret: {secret}\r\n\r\n".encode())
    for a in actions:
        writer.write(a)
    await writer.drain()
    data = b""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not until(data) and loop.time() < deadline:
        chunk = await asyncio.wait_for(reader.read(65536), deadline - loop.time())
        if not chunk:
            break
        data += chunk
    writer.write(b"Action: Logoff\r\nActionID: logoff-1\r\n\r\n")
    await writer.drain()
    rest = await reader.read()
    writer.close()
    return banner, messages(data + rest)


def test_dialtest_over_tcp_matches_the_capture(tmp_path):
    originate = (b'Action: Originate\r\nActionID: orig-1\r\nChannel: Local/long@callerctx\r\nContext: ivrctx\r\n'
                 b'Exten: dialtest\r\nPriority: 1\r\nCallerID: "Test Caller" <5551234>\r\nTimeout: 30000\r\n'
                 b'Variable: FOO=bar\r\nAsync: true\r\n\r\n')

    async def main():
        async with Simulator(CONF, monitor_dir=tmp_path) as sim:
            done = b"Channel: Local/long@callerctx-00000000;2\r\nChannelState: 6\r\nChannelStateDesc: Up\r\n"
            return await ami_client(sim.ami_port, "ivr", "ivrsecret", [originate],
                                    lambda d: d.count(b"Event: Hangup\r\n") >= 4)

    banner, msgs = run_virtual(main())
    assert banner == b"Asterisk Call Manager/11.0.0\r\n"
    assert msgs[0] == [("Response", "Success"), ("ActionID", "login-1"), ("Message", "Authentication accepted")]
    assert [("Response", "Success"), ("ActionID", "orig-1"), ("Message", "Originate successfully queued")] in msgs
    events = [m for m in msgs if m[0][0] == "Event"]
    ours = per_channel(events, IGNORED_EVENTS)
    theirs = per_channel(capture_events("ami_dialtest"), IGNORED_EVENTS)
    assert ours == theirs
    response = next(dict(m) for m in events if dict(m)["Event"] == "OriginateResponse")
    assert (response["ActionID"], response["Response"], response["Reason"]) == ("orig-1", "Success", "4")
    assert msgs[-1] == [("Response", "Goodbye"), ("ActionID", "logoff-1"), ("Message", "Thanks for all the fish.")]


def test_hotline_call_through_fastagi_to_an_agent(tmp_path):
    """The path of one call: trunk -> [hotline-inbound] -> AGI -> greeting + menu -> EXEC Dial to an
    agent's softphone -> MixMonitor on answer (over AMI, like the recordings service) -> survey."""
    agi = ScriptedFastAgi([b"ANSWER", b'STREAM FILE hello-world ""', b"GET DATA beep 5000 1",
                           b"EXEC Dial PJSIP/1003,30", b"GET VARIABLE DIALSTATUS", b"GET DATA beep 3000 1"])

    async def main():
        port = await agi.start()
        async with Simulator(SITE_CONF, monitor_dir=tmp_path, agi_override=("127.0.0.1", port)) as sim:
            sim.phones["1003"].set_behaviour(answer_after_s=4, talk_time_s=60)
            mm = (b"Action: MixMonitor\r\nActionID: mm1\r\nChannel: {chan}\r\nFile: call-{uid}.wav\r\n\r\n")
            reader, writer = await asyncio.open_connection("127.0.0.1", sim.ami_port)
            await reader.readline()
            writer.write(b"Action: Login\r\nActionID: l\r\nUsername: hotline\r\nSecret: hotline-secret\r\nEvents: call\r\n\r\n")
            await writer.drain()
            caller = await sim.place_call(CallerScript("13800138000", "Li Lei", dnid="4008001234",
                                                       steps=["wait 3", "press 2", "wait 30", "press 9", "wait 34.9", "press 5"]))
            seen = b""
            while b"DialStatus: ANSWER" not in seen:
                seen += await reader.read(65536)
            writer.write(mm.replace(b"{chan}", caller.channel.name.encode()).replace(b"{uid}", caller.channel.uniqueid.encode()))
            await writer.drain()
            outcome = await caller.wait()
            await agi.done.wait()
            writer.close()
            await agi.close()
            return outcome, sim.phones["1003"].calls

    outcome, calls = run_virtual(main())
    replies = {cmd: lines[-1] for cmd, lines in agi.replies}
    assert replies[b"GET DATA beep 5000 1"] == b"200 result=2\n"
    assert replies[b"GET VARIABLE DIALSTATUS"] == b"200 result=1 (ANSWER)\n"
    # the survey digit after the agent left; the 9 pressed while talking to the agent went to the agent
    assert replies[b"GET DATA beep 3000 1"] == b"200 result=5\n"
    headers = dict(h.decode().rstrip("\n").split(": ", 1) for h in agi.headers)
    assert headers["agi_channel"] == outcome.channel and headers["agi_type"] == "PJSIP"
    assert headers["agi_request"].endswith("/hotline") and headers["agi_callerid"] == "13800138000"
    assert calls[0]["result"] == "answered" and outcome.bridged_with.startswith("PJSIP/1003-")
    wav = tmp_path / f"call-{outcome.uniqueid}.wav"
    with wave.open(str(wav)) as w:
        seconds = w.getnframes() / w.getframerate()
    # MixMonitor on the caller's channel records from the agent's answer until the caller leaves
    assert outcome.bridged == pytest.approx(7.1) and outcome.ended == pytest.approx(68.2)
    assert abs(seconds - (outcome.ended - outcome.bridged)) < 0.01
