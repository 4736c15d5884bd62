"""Channel media operations (what the FastAGI client drives), DTMF and variables, on virtual time."""
from __future__ import annotations

import asyncio
import wave

import pytest

from pbxsim.clock import run_virtual
from pbxsim.dialplan import Dialplan
from pbxsim.participants import Caller, CallerScript
from pbxsim.pbx import EndpointConfig, Pbx
from pbxsim.sounds import SoundLibrary

PLAN = "[t]\nexten => s,1,Answer()\n same => n,Wait(1000)\n same => n,Hangup()\n"


def with_caller(steps, body, *, sounds=None, **script):
    """Run ``await body(pbx, chan, t0)`` on a trunk caller's channel (answered, waiting in the dialplan)."""
    async def main():
        pbx = Pbx(Dialplan.from_text(PLAN), endpoints=[EndpointConfig("trunk", context="t", kind="trunk")],
                  sounds=SoundLibrary(sounds or []), epoch=1795434832)
        events = []
        pbx.subscribe(events.append)
        caller = Caller(pbx, CallerScript("13800138000", "Li Lei", dnid="s", trunk="trunk", steps=steps, **script))
        chan = caller.start()
        t0 = pbx.loop_time()
        result = await body(pbx, chan, t0)
        await pbx.close()
        return result, events
    return run_virtual(main())


def test_stream_file_plays_the_whole_sound_or_stops_on_an_escape_digit():
    async def body(pbx, chan, t0):
        full = await chan.stream_file("hello-world")
        t_full = pbx.loop_time() - t0
        missing = await chan.stream_file("no-such-sound")
        cut = await chan.stream_file("demo-congrats", "123")
        return full, t_full, missing, cut, pbx.loop_time() - t0
    (full, t_full, missing, cut, t_cut), events = with_caller(["wait 2.5", "press 5", "wait 0.3", "press 2"], body)
    assert (full.found, full.digit, full.endpos, full.hungup) == (True, None, 11234, False)
    assert t_full == pytest.approx(1.40425)
    assert (missing.found, missing.endpos) == (False, 0)
    # 5 is not an escape digit; 2 ends at 2.5 + 0.1 + 0.3 + 0.1 = 3.0 s, 1.59575 s into demo-congrats
    assert (cut.digit, cut.endpos) == ("2", 12800)
    assert t_cut == pytest.approx(3.0)
    assert [e.get("Value") for e in events if e.name == "VarSet" and e.get("Variable") == "PLAYBACKSTATUS"] == ["SUCCESS", "FAILED"]


def test_dtmf_events_are_received_on_the_callers_channel():
    async def body(pbx, chan, t0):
        await asyncio.sleep(3)
        return chan.name
    name, events = with_caller(["wait 1", "press 4#"], body)
    dtmf = [e for e in events if e.name.startswith("DTMF")]
    assert [(e.name, e.get("Digit")) for e in dtmf] == [("DTMFBegin", "4"), ("DTMFEnd", "4"), ("DTMFBegin", "#"), ("DTMFEnd", "#")]
    assert all(e.get("Channel") == name and e.get("Direction") == "Received" and e.privilege == "dtmf,all" for e in dtmf)
    assert dtmf[1].keys()[-3:] == ["Digit", "DurationMs", "Direction"] and dtmf[1].get("DurationMs") == "100"
    assert dtmf[0].keys()[-2:] == ["Digit", "Direction"]


@pytest.mark.parametrize("steps,timeout,maxd,expected,elapsed", [
    (["wait 1", "press 12#"], 3000, 10, ("12", False), 1.0 + 0.1 + 0.35 + 0.35),
    (["wait 1", "press 123"], 3000, 2, ("12", False), 1.45),
    ([], 2000, 4, ("", True), 0.4255 + 2.0),
    (["wait 1", "press 7"], 2000, 4, ("7", True), 1.1 + 2.0),
    (["wait 0.2", "press 9"], 5000, 1, ("9", False), 0.3),      # a digit during the prompt interrupts it
])
def test_get_data(steps, timeout, maxd, expected, elapsed):
    async def body(pbx, chan, t0):
        res = await chan.get_data("beep", timeout, maxd)
        return res, pbx.loop_time() - t0
    (res, took), _ = with_caller(steps, body)
    assert (res.digits, res.timed_out) == expected
    assert took == pytest.approx(elapsed, abs=0.01)


def test_wait_for_digit_and_hangup_mid_prompt():
    async def body(pbx, chan, t0):
        none = await chan.wait_for_digit(500)
        got = await chan.wait_for_digit(-1)
        t_got = pbx.loop_time() - t0
        cut = await chan.stream_file("tt-monkeys")
        after = await chan.wait_for_digit(1000)
        return none, got, t_got, cut, after, chan.hungup
    (none, got, t_got, cut, after, hungup), events = with_caller(["wait 5", "press 3", "wait 2", "hangup"], body)
    assert none.digit is None and not none.hungup
    assert got.digit == "3" and t_got == pytest.approx(5.1)
    assert cut.hungup and cut.endpos == 16000
    assert after.hungup and hungup
    assert [e.name for e in events if e.name in ("HangupRequest", "SoftHangupRequest", "Hangup")] == ["HangupRequest", "SoftHangupRequest", "Hangup"]


def test_say_plays_the_asterisk_sound_sequence():
    async def body(pbx, chan, t0):
        await chan.say("digits", "12")
        t_digits = pbx.loop_time() - t0
        await chan.say("number", "42")
        return t_digits, pbx.loop_time() - t0 - t_digits
    (t_digits, t_number), _ = with_caller([], body)
    assert t_digits == pytest.approx(1.657, abs=0.01)       # capture: SAY DIGITS 12 took 1.657 s
    assert t_number == pytest.approx(1.692, abs=0.01)       # capture: SAY NUMBER 42 took 1.692 s


def test_sounds_come_from_the_sounds_dirs_by_language(tmp_path):
    def write(path, seconds, rate=8000):
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(b"\0\0" * int(seconds * rate))
    write(tmp_path / "hotline" / "zh-CN" / "welcome.wav", 2.5)
    write(tmp_path / "en" / "hotline" / "zh-CN" / "welcome.wav", 1.0)
    write(tmp_path / "wide.wav", 1.0, rate=16000)
    lib = SoundLibrary([tmp_path])
    assert lib.length("hotline/zh-CN/welcome", "fr") == 20000
    assert lib.length("hotline/zh-CN/welcome", "en") == 8000
    assert lib.length("wide") == 8000
    assert lib.length(str(tmp_path / "wide")) == 8000
    assert lib.length("hello-world") == 11234 and lib.length("nothing-here") is None

    async def body(pbx, chan, t0):
        res = await chan.stream_file("hotline/zh-CN/welcome")
        return res.endpos, pbx.loop_time() - t0
    (endpos, took), _ = with_caller([], body, sounds=[tmp_path])
    assert endpos == 8000 and took == pytest.approx(1.0)


def test_variables_functions_and_expressions():
    async def body(pbx, chan, t0):
        await asyncio.sleep(0.1)   # the dialplan answers
        chan.set_variable("IVR_CHOICE", "1 two")
        chan.set_variable("CALLERID(name)", "Han Meimei")
        chan.set_variable("CHANNEL(language)", "zh-CN")
        return {
            "choice": chan.get_variable("IVR_CHOICE"), "num": chan.get_variable("CALLERID(num)"),
            "name": chan.get_variable("CALLERID(name)"), "lang": chan.get_variable("CHANNEL(language)"),
            "chan": chan.get_variable("CHANNEL"), "missing": chan.get_variable("NOSUCHVAR"),
            "full": chan.eval_expression("${IVR_CHOICE}-${CHANNEL(name)}-${LEN(${CALLERID(num)})}"),
            "status": chan.agi_status_code(), "dnid": chan.get_variable("CALLERID(dnid)"),
        }
    values, events = with_caller([], body)
    assert values == {"choice": "1 two", "num": "13800138000", "name": "Han Meimei", "lang": "zh-CN",
                      "chan": "PJSIP/trunk-00000000", "missing": None, "status": 6, "dnid": "s",
                      "full": "1 two-PJSIP/trunk-00000000-11"}
    assert [(e.get("Variable"), e.get("Value")) for e in events if e.name == "VarSet"] == [("IVR_CHOICE", "1 two")]
    assert [e.get("CallerIDName") for e in events if e.name == "NewCallerid"] == ["Han Meimei"]


def test_record_file_times_out_with_endpos_zero_for_a_silent_caller(tmp_path):
    async def body(pbx, chan, t0):
        res = await chan.record_file(str(tmp_path / "agirec"), "wav", "#", 1500)
        return res, pbx.loop_time() - t0
    (res, took), _ = with_caller([], body)
    assert (res.digit, res.endpos, res.timed_out, res.hungup) == (None, 0, True, False)
    assert took == pytest.approx(1.5)
    with wave.open(str(tmp_path / "agirec.wav")) as w:
        assert w.getnframes() == 12000 and w.getframerate() == 8000
