"""Starts, pauses and finishes call recordings through AMI; the CTI layer calls it on call events.

The seam: `ami` is anything with `async send_action(dict) -> response` (panoramisk's Manager does this;
the response is a message with `Response: Success|Error` and `Message`). The CTI helper calls
  on_agent_answered(facts)      when the agent's channel enters the bridge with the caller (BridgeEnter)
  on_segment_ended(linkedid)    when that agent leaves the bridge but the caller stays (transfer: BridgeLeave)
  on_call_ended(linkedid)       on Hangup of the recorded (caller's) channel
Asterisk sends no MixMonitorStop at hangup (see shared/asterisk README), so the end of a recording is the
end of the call or segment, never a MixMonitor event.

Rows: written with status `recording` before MixMonitor is asked for (so no file ever exists without a row),
completed when the segment ends (`processing`), then post-processed (`complete` or `flagged`). A MixMonitor
that cannot start leaves the row `failed` with the PBX's message. No row is deleted.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import Any, Callable, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from recordings.models import (
    STATUS_FAILED,
    STATUS_FLAGGED,
    STATUS_PROCESSING,
    STATUS_RECORDING,
    Recording,
    utcnow,
)
from recordings.policy import CallFacts, RecordingPolicy
from recordings.storage import LocalStorage

log = logging.getLogger(__name__)


class AmiClient(Protocol):
    async def send_action(self, action: dict) -> Any: ...


class Postprocessing(Protocol):
    async def process(self, recording_id: int) -> Recording: ...


def recording_key(linkedid: str, segment: int, when: datetime, fmt: str = "wav") -> str:
    """`<yyyy>/<mm>/<dd>/<linkedid>-<segment>.wav`, dated by the recording's start (UTC)."""
    safe = "".join(ch if ch.isalnum() or ch in ".-_" else "_" for ch in linkedid)
    return str(PurePosixPath(f"{when:%Y}", f"{when:%m}", f"{when:%d}", f"{safe}-{segment}.{fmt}"))


def response_ok(response: Any) -> tuple[bool, str]:
    """(success, message) from a panoramisk response (a Message, or a list of them for list actions)."""
    if isinstance(response, list):
        response = response[0] if response else {}
    if response is None:
        return False, "no response from the PBX"
    status = str(response.get("Response", "")).lower()
    return status == "success", str(response.get("Message", "") or "")


@dataclass
class ActiveSegment:
    recording_id: int
    segment: int
    channel: str
    agent_id: str = ""
    paused: bool = False


@dataclass
class ActiveCall:
    linkedid: str
    segments: list[ActiveSegment] = field(default_factory=list)

    @property
    def current(self) -> ActiveSegment | None:
        return self.segments[-1] if self.segments else None


class Recorder:
    def __init__(
        self,
        ami: AmiClient,
        sessions: async_sessionmaker,
        policy: RecordingPolicy,
        storage: LocalStorage,
        postprocessor: Postprocessing | None = None,
        clock: Callable[[], datetime] = utcnow,
        action_timeout: float = 10.0,
    ):
        self._ami = ami
        self._sessions = sessions
        self._policy = policy
        self._storage = storage
        self._postprocessor = postprocessor
        self._clock = clock
        self._action_timeout = action_timeout
        self._calls: dict[str, ActiveCall] = {}
        self._lock = asyncio.Lock()
        self._background: set[asyncio.Task] = set()
        self.written = 0               # segments whose MixMonitor ran and stopped (read by /metrics)
        self.failed = 0                # segments MixMonitor could not start
        self._postprocessing: set[int] = set()      # rows a background task is finishing right now

    def active(self, linkedid: str) -> ActiveCall | None:
        return self._calls.get(linkedid)

    async def on_agent_answered(self, facts: CallFacts) -> Recording | None:
        """Start a new segment for this call if the policy says so; returns the row (status recording/failed)."""
        if not self._policy.should_record(facts):
            return None
        async with self._lock:
            call = self._calls.get(facts.linkedid)
            if call and call.current and call.current.agent_id == facts.agent_id and call.current.channel == facts.channel:
                # The same agent answering again (a repeated BridgeEnter, back from hold) is the same segment.
                async with self._sessions() as session:
                    return await session.get(Recording, call.current.recording_id)
            if call and call.current:
                await self._finish_segment(call, stop_monitor=True, disposition="transferred")
            segment = await self._next_segment(facts.linkedid)
            if segment > 1:
                await self._mark_transferred(facts.linkedid, segment - 1)
            started = self._clock()
            key = recording_key(facts.linkedid, segment, started)
            rec = Recording(
                linkedid=facts.linkedid,
                segment=segment,
                channel=facts.channel,
                caller=facts.caller,
                called=facts.called,
                agent_id=facts.agent_id,
                agent_name=facts.agent_name,
                queue=facts.queue,
                customer_id=facts.customer_id,
                direction=facts.direction,
                started_at=started,
                answered_at=facts.answered_at or started,
                path=key,
                format="wav",
                tags=list(facts.tags),
                stereo="D" in self._policy.mixmonitor_options(),
                status=STATUS_RECORDING,
            )
            path = self._storage.local_path(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            action = {"Action": "MixMonitor", "Channel": facts.channel, "File": str(path)}
            options = self._policy.mixmonitor_options()
            if options:
                action["Options"] = options
            # The row and MixMonitor go out together: every database round trip before MixMonitor would
            # be conversation missing from the file. The row is committed as the first audio arrives.
            _, (ok, message) = await asyncio.gather(self._insert(rec), self._start_monitor(action))
            if not ok:
                async with self._sessions() as session:
                    row = await session.get(Recording, rec.id)
                    row.status = STATUS_FAILED
                    self.failed += 1
                    row.ended_at = self._clock()
                    row.error = f"MixMonitor failed on {facts.channel}: {message or 'no reason given'}"
                    await session.commit()
                    log.warning("recording %s-%s: %s", facts.linkedid, segment, row.error)
                    return row
            call = self._calls.setdefault(facts.linkedid, ActiveCall(facts.linkedid))
            call.segments.append(ActiveSegment(rec.id, segment, facts.channel, facts.agent_id))
            return rec

    async def pause(self, linkedid: str) -> bool:
        return await self._mute(linkedid, True)

    async def resume(self, linkedid: str) -> bool:
        return await self._mute(linkedid, False)

    async def _mute(self, linkedid: str, state: bool) -> bool:
        """MixMonitorMute both directions: silence replaces audio (card numbers), the file keeps its timing."""
        call = self._calls.get(linkedid)
        if call is None or call.current is None:
            raise LookupError(f"no recording running for call {linkedid}")
        seg = call.current
        response = await self._send(
            {"Action": "MixMonitorMute", "Channel": seg.channel, "Direction": "both", "State": "1" if state else "0"}
        )
        ok, message = response_ok(response)
        if not ok:
            raise RuntimeError(f"MixMonitorMute failed on {seg.channel}: {message}")
        seg.paused = state
        return True

    async def on_segment_ended(self, linkedid: str, disposition: str | None = "answered") -> Recording | None:
        """The agent left the bridge (hung up, or transferred the caller) while the caller's channel lives on
        (survey, transfer target): stop this segment's MixMonitor and complete it. When another agent
        answers the same call later, this segment's disposition becomes `transferred`."""
        async with self._lock:
            call = self._calls.get(linkedid)
            if call is None or call.current is None:
                return None
            return await self._finish_segment(call, stop_monitor=True, disposition=disposition)

    async def on_call_ended(
        self, linkedid: str, disposition: str | None = "answered", satisfaction: int | None = None
    ) -> Recording | None:
        """The recorded channel hung up: Asterisk has closed the file; complete the last segment."""
        async with self._lock:
            call = self._calls.pop(linkedid, None)
            last = None
            if call is not None and call.current is not None:
                last = await self._finish_segment(call, stop_monitor=False, disposition=disposition)
            if satisfaction is not None:
                await self.set_satisfaction(linkedid, satisfaction)
            return last

    async def set_wrapup(self, linkedid: str, agent_id: str, disposition: str, notes: str = "") -> int:
        """The agent's wrap-up (disposition code and notes) on that agent's segments of the call, as tags
        ``wrapup:<code>`` and ``notes:<text>`` (replacing earlier ones); returns how many segments."""
        async with self._sessions() as session:
            rows = (await session.scalars(select(Recording).where(Recording.linkedid == linkedid,
                                                                  Recording.agent_id == agent_id))).all()
            for row in rows:
                kept = [t for t in (row.tags or []) if not str(t).startswith(("wrapup:", "notes:"))]
                row.tags = kept + [f"wrapup:{disposition}"] + ([f"notes:{notes}"] if notes else [])
            await session.commit()
            return len(rows)

    async def set_satisfaction(self, linkedid: str, score: int) -> int:
        """The post-call survey's rating (1-5) belongs to every segment of the call; returns how many."""
        async with self._sessions() as session:
            rows = (await session.scalars(select(Recording).where(Recording.linkedid == linkedid))).all()
            for row in rows:
                row.satisfaction = int(score)
            await session.commit()
            return len(rows)

    async def _send(self, action: dict) -> Any:
        """One action with a deadline: panoramisk 1.4 would otherwise wait for a reconnect forever."""
        return await asyncio.wait_for(self._ami.send_action(dict(action)), self._action_timeout)

    async def drain(self) -> None:
        """Wait for post-processing started by finished segments (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def _mark_transferred(self, linkedid: str, segment: int) -> None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(Recording).where(Recording.linkedid == linkedid, Recording.segment == segment)
            )
            if row is not None and row.disposition in (None, "answered"):
                row.disposition = "transferred"
                await session.commit()

    async def _insert(self, rec: Recording) -> None:
        async with self._sessions() as session:
            session.add(rec)
            await session.commit()

    async def _start_monitor(self, action: dict) -> tuple[bool, str]:
        try:
            return response_ok(await self._send(action))
        except Exception as exc:  # the connection dropped or the PBX is silent: the row says so
            return False, f"AMI error: {type(exc).__name__}: {exc}".rstrip(": ")

    async def _next_segment(self, linkedid: str) -> int:
        async with self._sessions() as session:
            highest = await session.scalar(select(func.max(Recording.segment)).where(Recording.linkedid == linkedid))
        return (highest or 0) + 1

    async def _finish_segment(self, call: ActiveCall, *, stop_monitor: bool, disposition: str | None) -> Recording:
        seg = call.segments.pop()
        if stop_monitor:
            try:
                ok, message = response_ok(
                    await self._send({"Action": "StopMixMonitor", "Channel": seg.channel})
                )
                if not ok:  # the channel may already be gone; the file is closed either way
                    log.info("StopMixMonitor on %s: %s", seg.channel, message)
            except Exception as exc:
                log.warning("StopMixMonitor on %s failed: %r", seg.channel, exc)
        ended = self._clock()
        async with self._sessions() as session:
            row = await session.get(Recording, seg.recording_id)
            row.ended_at = ended
            row.duration_s = round((ended - (row.answered_at or row.started_at)).total_seconds(), 3)
            row.disposition = disposition
            row.status = STATUS_PROCESSING
            await session.commit()
        self.written += 1
        if self._postprocessor is not None:
            self._postprocessing.add(seg.recording_id)
            task = asyncio.create_task(self._postprocess(self._postprocessor, seg.recording_id))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return row

    async def _postprocess(self, postprocessor: Postprocessing, recording_id: int) -> None:
        try:
            await postprocessor.process(recording_id)
        except Exception:
            log.exception("post-processing recording %s", recording_id)
        finally:
            self._postprocessing.discard(recording_id)

    async def reconcile(self, live_linkedids: set[str], started_before: datetime) -> list[int]:
        """Finish every row still ``recording``/``processing`` whose call the PBX no longer has (checked after
        each AMI (re)connect: a PBX restart, an AMI drop longer than the call, a restart of this service).

        Rows started after ``started_before`` (the live list's moment) and rows a post-processing task owns
        are left alone. The end time is the file's last write (else now); the row is post-processed to its
        final state (``complete``, or ``flagged`` when the file is bad) and ``error`` says
        ``partial: <why>`` — the hangup was never seen, so the end of the call may be missing.
        Returns the ids finished."""
        async with self._lock:
            async with self._sessions() as session:
                rows = (await session.scalars(
                    select(Recording).where(Recording.status.in_((STATUS_RECORDING, STATUS_PROCESSING)))
                    .where(Recording.started_at < started_before).order_by(Recording.id))).all()
            orphans = [r for r in rows if r.linkedid not in live_linkedids and r.id not in self._postprocessing]
            reasons: dict[int, str] = {}
            for row in orphans:
                lost_here = self._calls.pop(row.linkedid, None) is not None
                reasons[row.id] = ("the call ended while the PBX connection was down (PBX restart or AMI drop)"
                                   if lost_here else "the service was not running when the call ended")
                now = _aware(self._clock())
                ended = min(self._file_end(row) or now, now)
                async with self._sessions() as session:
                    current = await session.get(Recording, row.id)
                    if current.ended_at is None:
                        current.ended_at = max(ended, _aware(current.started_at))
                        begin = _aware(current.answered_at or current.started_at)
                        current.duration_s = round(max(0.0, (current.ended_at - begin).total_seconds()), 3)
                    current.disposition = current.disposition or "answered"
                    current.status = STATUS_PROCESSING
                    await session.commit()
        finished = []
        for row in orphans:
            if self._postprocessor is not None:
                try:
                    await self._postprocessor.process(row.id)
                except Exception:
                    log.exception("post-processing recording %s", row.id)
            async with self._sessions() as session:
                current = await session.get(Recording, row.id)
                if current.status == STATUS_PROCESSING:          # no post-processor, or it crashed
                    current.status = STATUS_FLAGGED
                current.error = f"partial: {reasons[row.id]}" + (f"; {current.error}" if current.error else "")
                await session.commit()
            log.warning("recording %s of call %s finished at resync (%s): %s", row.id, row.linkedid,
                        current.status, reasons[row.id])
            finished.append(row.id)
        return finished

    def _file_end(self, row: Recording) -> datetime | None:
        try:
            stat = self._storage.stat(row.path)
        except Exception:                  # a refused or unreadable path: post-processing flags it
            return None
        if stat is None:
            return None
        ended = datetime.fromtimestamp(stat.mtime, tz=timezone.utc)
        return ended if ended >= _aware(row.started_at) else None


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
