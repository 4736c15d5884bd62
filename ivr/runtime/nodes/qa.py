"""Phone replay of recordings for QA staff: qa_login, recordings_search, recordings_play (FLOWS_SPEC_ADDENDUM)."""
from __future__ import annotations

import hmac
import logging
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hotline.security.pins import is_pin_hash, verify_pin_off_loop
from ivr import say as speech

from ..call import Call
from ..steps import HANGUP
from .input import _read_digits

log = logging.getLogger(__name__)

DEFAULT_ROLES = ("qa", "supervisor", "admin")
DEFAULT_KEYS = {"next": "3", "previous": "1", "repeat": "2", "menu": "0"}


async def _pin_matches(stored: str, pin: str) -> bool:
    if is_pin_hash(stored):
        return await verify_pin_off_loop(pin, stored)      # every other caller's prompts go on meanwhile
    return hmac.compare_digest(stored.encode(), pin.encode())


async def qa_login(call: Call) -> object:
    """Staff ID and PIN by DTMF; ``max_attempts`` tries per call. Lockouts follow the service policy
    (failures per staff ID and per calling number), not a per-flow count."""
    staff_prompt, pin_prompt = str(call.param("staff_prompt")), str(call.param("pin_prompt"))
    invalid_prompt, locked_prompt = call.param("invalid_prompt"), call.param("locked_prompt")
    max_attempts = int(call.param("max_attempts", 3))
    roles = tuple(call.param("roles") or DEFAULT_ROLES)
    var = str(call.param("var", "qa_staff"))
    throttle = call.deps.qa_lockouts.throttle
    source = f"phone:{call.caller or 'unknown'}"
    fallback = call.target("fallback") or HANGUP

    async def locked_out() -> object:
        call.count("locked")
        if locked_prompt:
            await call.play(str(locked_prompt))
        return fallback

    for _attempt in range(max_attempts):
        staff_id, _ = await _read_digits(call, staff_prompt, 8, 16, "#")
        staff = call.deps.staff.get(staff_id) if staff_id else None
        if throttle.locked_for(staff_id if staff is not None else None, source) > 0:
            log.warning("QA phone login refused while locked out: staff ID %r from %s", staff_id[:16], source[:40])
            return await locked_out()
        pin, _ = await _read_digits(call, pin_prompt, 8, 16, "#")
        if staff is not None and staff.role in roles and await _pin_matches(staff.pin, pin):
            throttle.succeeded(staff_id)
            call.vars[var] = {"id": staff.id, "name": staff.name, "role": staff.role}
            call.count("login_ok")
            return call.target("next")
        call.count("login_failed")
        log.warning("QA phone login failed for staff ID %r from %s", staff_id[:16], source[:40])
        if throttle.failed(staff_id if staff is not None else None, source) > 0:
            return await locked_out()
        if invalid_prompt:
            await call.play(str(invalid_prompt))
    return await locked_out()


def _parse_day(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    return datetime.strptime(text, "%Y%m%d").date() if text.isdigit() else date.fromisoformat(text)


def _minutes(value, default: int) -> int:
    if value in (None, ""):
        return default
    text = f"{int(value):04d}" if isinstance(value, int) else str(value).strip()
    return int(text[:-2]) * 60 + int(text[-2:])


async def recordings_search(call: Call) -> object:
    var = str(call.param("var", "recordings"))
    agent = str(call.evaluate(call.param("agent")) or "")
    day = _parse_day(call.evaluate(call.param("date")))
    from_min = _minutes(call.evaluate(call.param("from_time")) if call.param("from_time") else None, 0)
    to_min = _minutes(call.evaluate(call.param("to_time")) if call.param("to_time") else None, 24 * 60)
    zone = ZoneInfo(call.deps.time_zone)
    midnight = datetime.combine(day, time(0, 0), tzinfo=zone)
    start = (midnight + timedelta(minutes=from_min)).astimezone(timezone.utc)
    end = (midnight + timedelta(minutes=to_min)).astimezone(timezone.utc)
    items = []
    if call.deps.recordings is not None:
        items = list(await call.deps.recordings.find(agent, start, end))
    else:
        log.warning("recordings_search without a recordings interface: nothing found")
    call.vars[var] = items
    call.vars[f"{var}_count"] = len(items)
    call.count("found" if items else "empty")
    return call.target("next") if items else call.target("empty")


async def _audit_replay(call: Call, staff_id: str, rec) -> bool:
    """Write the replay's audit row before the first byte plays; no audit row, no replay (fail closed)."""
    recordings = call.deps.recordings
    if recordings is None or not staff_id:
        log.error("recording %s not played: %s", rec.get("id"),
                  "no QA staff logged in" if not staff_id else "no recordings interface to audit-log replays")
        call.count("audit_failed")
        return False
    try:
        await recordings.audit_replay(staff_id, rec.get("id"))
    except Exception:
        log.exception("recording %s not played: its replay by %s could not be audit-logged", rec.get("id"), staff_id)
        call.count("audit_failed")
        return False
    return True


async def recordings_play(call: Call) -> object:
    items = list(call.vars.get(str(call.param("list", "recordings"))) or [])
    keys = {**DEFAULT_KEYS, **{str(k): str(v) for k, v in (call.param("keys") or {}).items()}}
    action_of = {v: k for k, v in keys.items()}
    escape = "".join(sorted(action_of))
    intro = call.param("intro_prompts")
    help_prompt = call.param("prompt")
    timeout = float(call.param("timeout", 10))
    max_timeouts = int(call.param("max_timeouts", 3))
    zone = ZoneInfo(call.deps.time_zone)
    staff = call.vars.get(str(call.param("staff_var", "qa_staff"))) or {}
    staff_id = str(staff.get("id", "")) if isinstance(staff, dict) else ""
    if not items:
        return call.target("next")
    index, timeouts, play_current = 0, 0, True
    while True:
        key = None
        if play_current:
            rec = items[index]
            call.count("played")
            ids: list[str] = []
            if intro:
                ids += [str(intro[0]), *speech.number(index + 1, call.lang), str(intro[1])]
            started = rec.get("start")
            if isinstance(started, datetime):
                local = started.astimezone(zone) if started.tzinfo else started.replace(tzinfo=timezone.utc).astimezone(zone)
                ids += speech.date(local, call.lang) + speech.time(local, call.lang)
            key = await call.play_all(ids, escape)
            if key is None and await _audit_replay(call, staff_id, rec):
                key, _ = await call.channel.stream_file(str(rec["sound"]), escape)
            play_current = False
        if key is None:
            key = await call.ask(str(help_prompt) if help_prompt else None, timeout, escape)
        action = action_of.get(key) if key else None
        if action is None:
            if key is None:
                timeouts += 1
                call.count("timeout")
                if timeouts >= max_timeouts:
                    return call.target("next")
            continue
        timeouts = 0
        call.count(f"key:{action}")
        if action == "menu":
            return call.target("menu")
        if action == "repeat":
            play_current = True
        elif action == "next":
            if index + 1 >= len(items):
                if call.param("last_prompt"):
                    await call.play(str(call.param("last_prompt")))
            else:
                index += 1
                play_current = True
        elif action == "previous":
            if index == 0:
                if call.param("first_prompt"):
                    await call.play(str(call.param("first_prompt")))
            else:
                index -= 1
                play_current = True
