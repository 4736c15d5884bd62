"""The simulator against the real Asterisk 22 captures: for each scenario, every channel
sees the same events (names and header keys, in order) as on the real PBX, and the
FastAGI replies that depend on timing and media (endpos, digits, timeouts) are the same."""
from __future__ import annotations

import asyncio

import pytest

from pbxsim.clock import run_virtual
from pbxsim.dialplan import Dialplan
from pbxsim.pbx import Pbx
from pbxsim_capture import CONF, IGNORED_EVENTS, ScriptedFastAgi, capture_events, event_rows, per_channel

SCENARIOS = {
    # capture: (caller exten in callerctx, ivrctx exten, AGI commands, expected replies by command)
    "ami_s1": ("s", "s", [
        b"ANSWER", b"EXEC MixMonitor {mon}/test.wav", b'STREAM FILE hello-world ""', b"GET DATA beep 3000 1",
        b"GET VARIABLE CALLERID(num)", b'SET VARIABLE IVR_CHOICE "1 two"',
        b"GET FULL VARIABLE ${IVR_CHOICE}-${CHANNEL(name)}", b"CHANNEL STATUS", b'VERBOSE "hello from fastagi" 1',
        b"WAIT FOR DIGIT 500", b'STREAM FILE beep "#"', b"DATABASE PUT ivr lastcall ok", b"BOGUS COMMAND",
        b"GET DATA", b"SET VARIABLE"],
        {b'STREAM FILE hello-world ""': b"200 result=0 endpos=11234\n", b"GET DATA beep 3000 1": b"200 result=1\n",
         b"GET VARIABLE CALLERID(num)": b"200 result=1 (5551234)\n",
         b"GET FULL VARIABLE ${IVR_CHOICE}-${CHANNEL(name)}": b"200 result=1 (1 two-Local/s@callerctx-00000000;1)\n",
         b"CHANNEL STATUS": b"200 result=6\n", b"WAIT FOR DIGIT 500": b"200 result=0\n",
         b'STREAM FILE beep "#"': b"200 result=0 endpos=3404\n"}),
    "ami_digits": ("digits", "s", [b'STREAM FILE demo-congrats "123"', b"WAIT FOR DIGIT 5000", b"GET DATA beep 5000 3"],
                   {b'STREAM FILE demo-congrats "123"': b"200 result=49 endpos=10400\n",
                    b"WAIT FOR DIGIT 5000": b"200 result=50\n", b"GET DATA beep 5000 3": b"200 result=34\n"}),
    "ami_early": ("early", "s", [b"ANSWER", b"GET DATA beep 10000 1", b'STREAM FILE hello-world ""',
                                 b"GET VARIABLE CHANNEL", b"NOOP still there?", b"EXEC Wait 1"],
                  {b"GET DATA beep 10000 1": b"200 result=-1\n", b"GET VARIABLE CHANNEL":
                   b"200 result=1 (Local/early@callerctx-00000000;1)\n", b"EXEC Wait 1": b"200 result=0\n"}),
    "ami_timeout": ("timeout", "s", [
        b"ANSWER", b"GET DATA beep 2000 4", b"WAIT FOR DIGIT 1000", b'STREAM FILE nonexistent-file ""',
        b"GET DATA nonexistent-file 500 1", b'SAY DIGITS 12 ""', b'SAY NUMBER 42 ""',
        b'RECORD FILE {mon}/agirec wav "#" 1500', b"EXEC NoSuchApp foo", b"GET VARIABLE NOSUCHVAR",
        b"SET MUSIC ON default", b"SET MUSIC OFF"],
        {b"GET DATA beep 2000 4": b"200 result= (timeout)\n", b'STREAM FILE nonexistent-file ""': b"200 result=-1 endpos=0\n",
         b'RECORD FILE {mon}/agirec wav "#" 1500': b"200 result=0 (timeout) endpos=0\n",
         b"EXEC NoSuchApp foo": b"200 result=-2\n", b"GET VARIABLE NOSUCHVAR": b"200 result=0\n"}),
    "ami_hupcmd": ("hupcmd", "s", [b"ANSWER", b"HANGUP", b"NOOP after hangup", b"HANGUP"], {}),
    "ami_dialagi": ("dialagi", "s", [b"ANSWER", b"EXEC Dial Local/s@agentctx,20", b"GET VARIABLE DIALSTATUS"],
                    {b"EXEC Dial Local/s@agentctx,20": b"200 result=-1\n",
                     b"GET VARIABLE DIALSTATUS": b"200 result=1 (ANSWER)\n"}),
    "ami_dialtest": ("long", "dialtest", [], {}),
}


def run_scenario(exten: str, ivr_exten: str, commands: list[bytes], tmp_path):
    async def main():
        agi = ScriptedFastAgi(commands)
        port = await agi.start()
        pbx = Pbx(Dialplan.load(CONF / "extensions.conf"), monitor_dir=tmp_path, agi_override=("127.0.0.1", port))
        events = []
        pbx.subscribe(lambda e: events.append(event_rows(e)))
        result = await pbx.originate(channel=f"Local/{exten}@callerctx", context="ivrctx", exten=ivr_exten,
                                     priority=1, callerid='"Test Caller" <5551234>', timeout_ms=30000,
                                     variables={"FOO": "bar"})
        assert result.success and result.reason == 4
        while pbx.channels():
            await asyncio.sleep(0.5)
        await agi.close()
        await pbx.close()
        return events, agi

    return run_virtual(main())


@pytest.mark.parametrize("capture", sorted(SCENARIOS))
def test_every_channel_sees_the_events_asterisk_sent(capture, tmp_path):
    exten, ivr_exten, commands, expected = SCENARIOS[capture]
    commands = [c.replace(b"{mon}", str(tmp_path).encode()) for c in commands]
    events, agi = run_scenario(exten, ivr_exten, commands, tmp_path)
    ours = per_channel(events, IGNORED_EVENTS)
    theirs = per_channel(capture_events(capture), IGNORED_EVENTS)
    assert sorted(ours) == sorted(theirs)
    for role in theirs:
        assert ours[role] == theirs[role], f"{capture}: events of {role} differ"
    replies = {cmd: lines[-1] for cmd, lines in agi.replies}
    for cmd, reply in expected.items():
        cmd = cmd.replace(b"{mon}", str(tmp_path).encode())
        assert replies[cmd] == reply.replace(b"{mon}", str(tmp_path).encode()), cmd


def test_linkedid_of_the_first_channel_spreads_to_every_channel_of_the_call(tmp_path):
    events, _ = run_scenario("long", "dialtest", [], tmp_path)
    newchannels = [dict(e) for e in events if e[0][1] == "Newchannel"]
    assert len(newchannels) == 4   # the originated Local pair and the dialled Local pair
    first = newchannels[0]["Uniqueid"]
    assert {c["Linkedid"] for c in newchannels} == {first}
    assert len({c["Uniqueid"] for c in newchannels}) == 4
    assert all(dict(e).get("Linkedid", first) == first for e in events)


def test_dial_timing_and_variables_match_the_capture(tmp_path):
    events, _ = run_scenario("long", "dialtest", [], tmp_path)
    varsets = [(dict(e)["Variable"], dict(e)["Value"]) for e in events
               if e[0][1] == "VarSet" and dict(e)["Channel"].startswith("Local/long@callerctx") and dict(e)["Channel"].endswith(";1")]
    final = dict(varsets)
    assert final["DIALSTATUS"] == "ANSWER"
    assert final["DIALEDPEERNUMBER"] == "s@agentctx"
    assert final["DIALEDPEERNAME"] == "Local/s@agentctx-00000001;1"
    # capture: ANSWEREDTIME_MS 2927 = 0.5 s answer + beep (3404 samples) + Wait(2)
    assert 2900 <= int(final["ANSWEREDTIME_MS"]) <= 2960
    assert final["ANSWEREDTIME"] == "2"
