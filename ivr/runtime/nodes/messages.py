"""voicemail, callback and survey nodes: what the caller leaves for us, stored with the call."""
from __future__ import annotations

import logging
import wave
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from ivr import say as speech
from ivr.agi.errors import AgiConnectionLost, AgiHangup
from ivr.models import CallbackRequest, SurveyResult, Voicemail

from ..call import ALL_KEYS, Call
from ..persist import write_through
from .input import _read_digits

log = logging.getLogger(__name__)

SAMPLE_RATE = 8000
CALLBACK_TIME_PROMPT = "callback-time"


async def voicemail(call: Call) -> object:
    prompt = call.param("prompt")
    max_length = int(call.param("max_length", 120))
    silence = int(call.param("silence", 5))
    beep = bool(call.param("beep", True))
    if prompt:
        await call.play(str(prompt))
    node = call.node
    assert node is not None                      # the engine sets it before it runs the node
    now = call.deps.now()
    seq = sum(1 for p in call.path if p.endswith(":" + node.id))
    path = call.voicemail_base / now.strftime("%Y%m%d") / f"{call.uniqueid}-{node.id}-{seq}"
    try:
        digit, endpos, how = await call.channel.record_file(
            str(path), "wav", "#", max_length * 1000, beep=beep, silence_s=silence or None)
    except AgiConnectionLost:
        # The PBX goes on recording to `path` (Asterisk only notices the dead socket when it replies), so
        # the message is kept findable rather than orphaned; its length is known only if it is already here.
        await _store_voicemail(call, node.id, path, _recorded_samples(path.with_suffix(".wav")), "connection-lost", now)
        raise
    call.count(f"ended:{how}")
    if endpos > 0:
        await _store_voicemail(call, node.id, path, endpos, how, now)
    else:
        call.count("empty")
    if how == "hangup":
        raise AgiHangup("caller hung up after leaving a message")
    return call.target("next")


def _recorded_samples(wav_path) -> int:
    """Samples in a WAV the PBX wrote on this host (0 when it is not here or unreadable)."""
    try:
        with wave.open(str(wav_path), "rb") as w:
            return w.getnframes() * SAMPLE_RATE // max(w.getframerate(), 1)
    except (OSError, EOFError, wave.Error):
        return 0


async def _store_voicemail(call: Call, node_id: str, path, endpos: int, how: str, now: datetime) -> None:
    row = await write_through(call.deps.sessions, lambda: Voicemail(
        uniqueid=call.uniqueid, linkedid=call.linkedid, caller=call.caller,
        caller_name=call.request.caller_name, flow=call.flow.name, node=node_id, queue=call.queue,
        language=call.lang, path=str(path), format="wav", duration_s=endpos / SAMPLE_RATE, ended_by=how,
        data=dict(call.data), created_at=now))
    call.vars["voicemail_id"] = row.id if row is not None else None
    call.count("stored")
    await call.deps.announce("voicemail/new", {
        "id": row.id if row is not None else None, "uniqueid": call.uniqueid, "linkedid": call.linkedid,
        "caller": call.caller, "queue": call.queue, "language": call.lang, "path": str(path),
        "format": "wav", "duration_s": endpos / SAMPLE_RATE, "ended_by": how,
    })


def _preferred_time(digits: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """HHMM keyed by the caller → the next such moment (today or tomorrow), in the hotline's time zone."""
    if len(digits) not in (3, 4):
        return None
    hour, minute = int(digits[:-2]), int(digits[-2:])
    if hour > 23 or minute > 59:
        return None
    local_now = now.astimezone(zone)
    at = datetime.combine(local_now.date(), time(hour, minute), tzinfo=zone)
    if at <= local_now:
        at += timedelta(days=1)
    return at


async def callback(call: Call) -> object:
    """The number to call back (the caller's own: ``confirm_prompt`` + the number read out, 1 = yes; else keyed
    in after ``prompt``, 5-20 digits ended by #) and a preferred time (``time_prompt``, HHMM; # alone = as soon
    as possible). Sets ``callback_number`` (None when no usable number was given) and ``callback_time``.
    """
    entry_prompt = call.param("prompt")
    confirm_prompt = call.param("confirm_prompt")
    time_prompt = call.param("time_prompt", CALLBACK_TIME_PROMPT)
    call.vars["callback_number"] = None
    call.vars["callback_time"] = None
    number = None
    if call.caller and confirm_prompt:
        key = await call.play(str(confirm_prompt), ALL_KEYS)
        if key is None:
            key = await call.play_all(speech.digits(call.caller, call.lang), ALL_KEYS)
        if key is None:
            key = await call.channel.wait_for_digit(5000)
        if key in (None, "1"):
            number = call.caller
            call.count("number_confirmed")
    for _ in range(3):
        if number:
            break
        digits, _timed_out = await _read_digits(call, str(entry_prompt) if entry_prompt else None, 5, 20, "#")
        if len(digits) >= 5:
            number = digits
            call.count("number_entered")
        else:
            call.count("invalid")
    if not number:
        call.count("failed")
        return call.target("next")
    zone = ZoneInfo(call.deps.time_zone)
    digits, _ = await _read_digits(call, str(time_prompt) if time_prompt else None, 5, 4, "#")
    preferred = _preferred_time(digits, call.deps.now(), zone) if digits else None
    row = await write_through(call.deps.sessions, lambda: CallbackRequest(
        uniqueid=call.uniqueid, linkedid=call.linkedid, caller=call.caller, number=number,
        preferred_at=preferred.astimezone(timezone.utc) if preferred else None,  # UTC: SQLite keeps no zone
        queue=call.queue, language=call.lang, flow=call.flow.name, data=dict(call.data), created_at=call.deps.now()))
    call.vars["callback_number"] = number
    call.vars["callback_time"] = digits if preferred else None
    call.vars["callback_at"] = preferred.isoformat() if preferred else None
    call.count("stored")
    await call.deps.announce("callback/new", {
        "id": row.id if row is not None else None, "uniqueid": call.uniqueid, "linkedid": call.linkedid,
        "caller": call.caller, "number": number, "preferred_at": preferred.isoformat() if preferred else None,
        "queue": call.queue, "language": call.lang,
    })
    return call.target("next")


async def survey(call: Call) -> object:
    prompt = call.param("prompt")
    thanks_prompt = call.param("thanks_prompt")
    invalid_prompt = call.param("invalid_prompt")
    agent_id = call.agent_id or call.vars.get("agent_id") or ""
    if not agent_id:
        agent_id = (await call.channel.get_variable("HOTLINE_AGENT_ID")) or ""
    rating = None
    for attempt in range(3):
        key = await call.ask(str(prompt) if prompt else None, 5)
        if key is not None and key in "12345":
            rating = int(key)
            break
        call.count("timeout" if key is None else "invalid")
        if key is not None and invalid_prompt and attempt < 2:
            await call.play(str(invalid_prompt))
    if rating is None:
        call.count("no_rating")
        return call.target("next")
    await write_through(call.deps.sessions, lambda: SurveyResult(
        uniqueid=call.uniqueid, linkedid=call.linkedid, caller=call.caller, agent_id=str(agent_id),
        queue=call.queue, flow=call.flow.name, rating=rating, created_at=call.deps.now()))
    call.vars["survey_rating"] = rating
    call.count(f"rating:{rating}")
    await _rate_recordings(call, rating)
    await call.deps.announce("survey/result", {
        "uniqueid": call.uniqueid, "linkedid": call.linkedid, "agent_id": str(agent_id), "queue": call.queue,
        "rating": rating,
    })
    if thanks_prompt:
        await call.play(str(thanks_prompt))
    return call.target("next")


async def _rate_recordings(call: Call, rating: int) -> None:
    """Copy the rating onto the call's recordings so QA search shows it: deps.ratings is the recordings
    service (recordings.service.RecordingsService.set_satisfaction); without it (unit tests) nothing is rated.
    The rating is already stored in ivr_surveys, so a failure here is logged and the call goes on."""
    ratings = call.deps.ratings
    if ratings is None:
        return
    try:
        await ratings.set_satisfaction(call.linkedid, rating)
    except Exception:
        log.exception("survey rating %s of call %s not copied to its recordings", rating, call.linkedid)
