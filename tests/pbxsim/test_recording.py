"""MixMonitor and Record write real WAV files whose length is the time audio flowed."""
from __future__ import annotations

import asyncio
import math
import wave
from array import array

import pytest

from pbxsim.dialplan import Dialplan
from pbxsim.participants import CallerScript
from pbxsim_capture import run_site

REC_PLAN = """
[rec]
exten => s,1,Answer()
 same => n,Wait(3)
 same => n,Dial(PJSIP/1002,20)
 same => n,Hangup()
exten => vm,1,Answer()
 same => n,Record(${MONITOR}/vm-test.wav,2,60)
 same => n,Hangup()
exten => mm,1,Answer()
 same => n,MixMonitor(whole-call.wav)
 same => n,Wait(12)
 same => n,Hangup()
"""


def rms(data: bytes, channels: int = 1, which: int = 0) -> float:
    samples = array("h", data)[which::channels]
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def wav_info(path):
    with wave.open(str(path), "rb") as w:
        frames = w.readframes(w.getnframes())
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes(), frames


def run_recorded_call(tmp_path, options: str, *, stop_after: float | None = None, mute: tuple | None = None):
    async def body(sim, events):
        sim.pbx.dialplan.contexts.update(Dialplan.from_text(REC_PLAN).contexts)
        sim.phones["1002"].set_behaviour(answer_after_s=4, talk_time_s=25)
        started = {}

        def on_event(e):   # what the recordings service does over AMI: record when the agent answers
            if e.name == "DialEnd" and e.get("DialStatus") == "ANSWER":
                chan = sim.pbx.channel(e.get("Channel"))
                started["id"] = sim.pbx.mixmonitor(chan, "agent-call.wav", options)
                started["chan"] = chan
        sim.pbx.subscribe(on_event)
        caller = await sim.place_call(CallerScript("13800138000", dnid="s", context="rec"))
        if stop_after is not None or mute is not None:
            await asyncio.sleep(7 + (mute[0] if mute else stop_after))
            if mute:
                assert sim.pbx.mixmonitor_mute(started["chan"], "both", True)
                await asyncio.sleep(mute[1])
                assert sim.pbx.mixmonitor_mute(started["chan"], "both", False)
            else:
                assert sim.pbx.stop_mixmonitor(started["chan"])
        outcome = await caller.wait()
        return outcome, events
    return run_site(body, tmp_path)


def test_mixmonitor_wav_lasts_the_bridged_time(tmp_path):
    outcome, events = run_recorded_call(tmp_path, "")
    path = tmp_path / "monitor" / "agent-call.wav"
    channels, width, rate, frames, data = wav_info(path)
    assert (channels, width, rate) == (1, 2, 8000)
    assert frames == 25 * 8000                       # answered at 7 s, agent hung up 25 s later
    assert outcome.ended - outcome.bridged == pytest.approx(25.0)
    assert rms(data) > 500                 # speech-like audio, not silence
    names = [e.name for e in events]
    assert "MixMonitorStart" in names and "MixMonitorStop" not in names   # never at hangup
    fname = [e.get("Value") for e in events if e.name == "VarSet" and e.get("Variable") == "MIXMONITOR_FILENAME"]
    assert fname == [str(path)]
    start = next(e for e in events if e.name == "MixMonitorStart")
    assert "File" not in start.keys()


def test_stereo_option_and_explicit_stop(tmp_path):
    outcome, events = run_recorded_call(tmp_path, "D", stop_after=10)
    channels, width, rate, frames, data = wav_info(tmp_path / "monitor" / "agent-call.wav")
    assert (channels, width, rate) == (2, 2, 8000)
    assert frames == 10 * 8000
    assert rms(data, 2, 0) > 300 and rms(data, 2, 1) > 300
    assert [e.name for e in events].count("MixMonitorStop") == 1


def test_muted_stretch_is_silent(tmp_path):
    run_recorded_call(tmp_path, "", mute=(5, 6))
    _, _, _, frames, data = wav_info(tmp_path / "monitor" / "agent-call.wav")
    second = lambda i: data[i * 16000:(i + 1) * 16000]
    assert frames == 25 * 8000
    assert all(rms(second(i)) == 0 for i in range(6, 10))
    assert rms(b"".join(second(i) for i in range(12, 25))) > 300


def test_mixmonitor_from_dialplan_covers_up_time(tmp_path):
    async def body(sim, events):
        sim.pbx.dialplan.contexts.update(Dialplan.from_text(REC_PLAN).contexts)
        caller = await sim.place_call(CallerScript("13800138000", dnid="mm", context="rec"))
        return await caller.wait()
    run_site(body, tmp_path)
    _, _, _, frames, _ = wav_info(tmp_path / "monitor" / "whole-call.wav")
    assert frames == 12 * 8000


def test_record_app_stops_on_silence_after_the_caller_talks(tmp_path):
    async def body(sim, events):
        sim.pbx.globals["MONITOR"] = str(tmp_path / "monitor")
        sim.pbx.dialplan.contexts.update(Dialplan.from_text(REC_PLAN).contexts)
        caller = await sim.place_call(CallerScript("13800138000", dnid="vm", context="rec", steps=["talk 6"]))
        await caller.wait()
        return events
    events = run_site(body, tmp_path)
    channels, _, rate, frames, data = wav_info(tmp_path / "monitor" / "vm-test.wav")
    assert (channels, rate) == (1, 8000)
    # beep (0.43 s), then 6 s of talk + 2 s of silence ends the recording
    assert frames == pytest.approx(8 * 8000, abs=8000)
    status = [e.get("Value") for e in events if e.name == "VarSet" and e.get("Variable") == "RECORD_STATUS"]
    assert status == ["TIMEOUT"]


def test_unwritable_recording_loses_the_file_not_the_call(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be")

    async def body(sim, events):
        sim.pbx.globals["MONITOR"] = str(blocker)
        sim.pbx.dialplan.contexts.update(Dialplan.from_text(REC_PLAN).contexts)
        sim.phones["1002"].set_behaviour(answer_after_s=1, talk_time_s=5)

        def on_event(e):
            if e.name == "DialEnd" and e.get("DialStatus") == "ANSWER":
                sim.pbx.mixmonitor(sim.pbx.channel(e.get("Channel")), str(blocker / "x.wav"))
        sim.pbx.subscribe(on_event)
        a = await sim.place_call(CallerScript("13800138000", dnid="s", context="rec"))
        b = await sim.place_call(CallerScript("13800138001", dnid="vm", context="rec", steps=["talk 2"]))
        return await a.wait(), await b.wait(), sim.pbx.media.finished, events
    a, b, finished, events = run_site(body, tmp_path)
    assert a.ended == pytest.approx(3 + 1 + 5) and b.ended is not None
    assert finished[0].error and "not-a-dir" in finished[0].error
    assert [e.get("Value") for e in events if e.get("Variable") == "RECORD_STATUS"] == ["ERROR"]
    assert sum(1 for e in events if e.name == "Hangup") == 3
