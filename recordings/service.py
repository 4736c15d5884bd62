"""The recordings component of `hotline serve`: a Recorder on the service's AMI link, for CTI to drive.

It puts into deps.extras:
  "recordings"          RecordingsService (recorder, policy, context, search)
  "recordings_context"  the RecordingsContext (storage, config, sessions) the HTTP router uses
Who drives the Recorder: a CallTracker on the AMI session's observers (BridgeEnter/BridgeLeave/Hangup),
unless deps.extras["cti"].drives_recordings is true — then CTI calls recorder.on_agent_answered(CallFacts(...)),
on_segment_ended and on_call_ended itself. The IVR plays policy.announcement_prompt() before connecting,
uses search() for the phone replay (audit_replay() for each recording played) and set_satisfaction() for the survey's rating.
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from recordings.config import RecordingConfigError
from recordings.context import RecordingsContext, context_from_deps
from recordings.maintenance import audit
from recordings.models import utcnow
from recordings.policy import RecordingPolicy
from recordings.postprocess import Postprocessor
from recordings.recorder import Recorder
from recordings.recovery import RecordingRecovery
from recordings.search import RecordingFilters, RecordingPage, search_recordings
from recordings.tracking import CallTracker


class LinkAmi:
    """Resolve the AMI client at send time: the service's link may reconnect with a new session."""

    def __init__(self, link: Any):
        self._link = link

    async def send_action(self, action: dict) -> Any:
        session = getattr(self._link, "session", None) or self._link
        if session is None or not hasattr(session, "send_action"):
            raise ConnectionError("AMI is not connected")
        return await session.send_action(action)


@dataclass
class RecordingsService:
    context: RecordingsContext
    policy: RecordingPolicy
    recorder: Recorder
    tracker: CallTracker | None = None

    async def search(self, filters: RecordingFilters) -> RecordingPage:
        async with self.context.sessions() as session:
            return await search_recordings(session, filters)

    async def audit_replay(self, staff_id: str, recording_id: int, channel: str = "phone", detail: str = "") -> None:
        """One audit row per replay (the HTTP audio endpoint writes its own for the browser): actor = staff ID."""
        await audit(self.context, str(staff_id), "replay", int(recording_id),
                    f"{channel} {detail}".strip())

    async def set_satisfaction(self, linkedid: str, rating: int) -> int:
        """The IVR's post-call survey rating (1-5) onto every recording segment of the call; returns how many."""
        return await self.recorder.set_satisfaction(linkedid, rating)


@asynccontextmanager
async def component(deps: Any):
    try:
        ctx = context_from_deps(deps)
    except RecordingConfigError as exc:
        from hotline.service import StartupError

        raise StartupError(str(exc)) from None
    policy = RecordingPolicy(ctx.config)
    postprocessor = Postprocessor(ctx.sessions, ctx.primary, ctx.config.postprocess)
    timeout = float(getattr(getattr(deps.settings, "ami", None), "action_timeout", 10) or 10)
    # the service's clock when it has one (a simulated day in `hotline demo`): row times on the calls' time line
    clock = deps.extras.get("clock") or utcnow
    recorder = Recorder(LinkAmi(deps.ami), ctx.sessions, policy, ctx.primary, postprocessor, clock=clock,
                        action_timeout=timeout)
    service = RecordingsService(ctx, policy, recorder)
    session = getattr(deps.ami, "session", None)
    cti = deps.extras.get("cti")
    if session is not None and hasattr(session, "add_observer") and not getattr(cti, "drives_recordings", False):
        service.tracker = CallTracker(recorder, deps.settings.agents, call_info=_cti_call_info(cti))
        session.add_observer(service.tracker.on_event)
    # every row final after a PBX restart, an AMI drop or a restart of this service (recordings.recovery)
    recovery = RecordingRecovery(recorder, clock)
    if session is not None and hasattr(session, "add_connect_hook"):
        session.add_connect_hook(recovery.on_connect)
        if session.connected.is_set():
            await recovery.on_connect(session)
    deps.extras["recordings"] = service
    try:
        yield service
    finally:
        if service.tracker is not None:
            await service.tracker.drain()
        await recovery.drain()
        await recorder.drain()


def _cti_call_info(cti: Any):
    """Queue and customer of a call from CTI's call-attached data (deps.extras["cti"].calldata), if present."""
    calldata = getattr(cti, "calldata", None)
    if calldata is None or not hasattr(calldata, "get"):
        return None

    def info(linkedid: str) -> dict:
        data = calldata.get(linkedid) or {}
        customer = data.get("customer") if isinstance(data.get("customer"), dict) else {}
        return {
            "queue": data.get("queue") or "",
            "customer_id": data.get("customer_id") or (customer or {}).get("id"),
            "called": data.get("dnid") or data.get("called") or "",
        }

    return info
