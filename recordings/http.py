"""HTTP API of the recordings and the QA page.

    POST /api/recordings/session                    Bearer token -> the same token as the audio cookie; who am I
    DELETE /api/recordings/session                  forget the cookie (log out of the QA page)
    GET  /api/recordings                            search (filters, page, page_size, sort, order)
    GET  /api/recordings/scorecard                  the scorecard items and weights (recording.yaml)
    GET  /api/recordings/audit                      the audit log (QA, supervisors, admins)
    GET  /api/recordings/{id}                       metadata
    GET  /api/recordings/{id}/audio                 the file, with HTTP Range (206) so players can seek
    GET  /api/recordings/{id}/evaluations           evaluations of a recording
    POST /api/recordings/{id}/evaluations           save an evaluation (QA, supervisors, admins)
    POST /api/recordings/live/{linkedid}/pause      agent desktop: silence a running recording (MixMonitorMute)
    POST /api/recordings/live/{linkedid}/resume     … and record again
    GET  /qa                                        the QA page (recordings/web/)

Credentials and roles are cti.auth's (see recordings/auth.py): Bearer token or Basic agent-id:PIN.
qa, supervisor and admin see every call; an agent sees only calls they answered (searching for another
agent's calls is 403, not an empty list; every refusal is logged and written to the audit log). Pausing a
live recording: the agent on the call, supervisors and admins. Every replay is written to the audit log: a
request for the start of the file (no Range, or a range from byte 0) counts as one replay; the seek requests
a player makes afterwards do not.
The router's paths are absolute: include it without a prefix (the page calls /api/recordings).
"""

import logging
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi import Path as FastApiPath
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from cti.auth import Authenticator
from recordings.auth import COOKIE, READ_ALL, Principal, bearer_token, check, credentials, require, require_read
from recordings.maintenance import HAS_FILE
from recordings.models import AuditLog, Evaluation, Recording
from recordings.postprocess import CONTENT_TYPES
from recordings.search import SORT_FIELDS, RecordingFilters, parse_local_time, search_recordings
from recordings.service import RecordingsService
from recordings.storage import StorageError

log = logging.getLogger("hotline.recordings.http")

WEB_DIR = Path(__file__).parent / "web"
WEB_FILES = {"index.html": "text/html; charset=utf-8", "qa.js": "text/javascript; charset=utf-8", "qa.css": "text/css; charset=utf-8"}
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


RecId = Annotated[int, FastApiPath(ge=1, le=2 ** 31 - 1, description="recording id (an INTEGER column)")]
LinkedId = Annotated[str, FastApiPath(max_length=64)]


class EvaluationBody(BaseModel):
    scores: dict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(
        description="scorecard item id -> points (0..scale)", max_length=100)
    comments: str = Field("", max_length=4000)


def router(service: RecordingsService, auth: Authenticator) -> APIRouter:
    """The recordings API and the QA page over ``service``; ``auth`` is the CTI's authenticator (its
    ``POST /api/auth/login`` gives the token these endpoints take)."""
    ctx = service.context
    recorder = service.recorder
    api = APIRouter(tags=["recordings"])
    CurrentUser = Annotated[Principal, Depends(credentials(auth))]
    ListeningUser = Annotated[Principal, Depends(credentials(auth, cookie=True))]  # the <audio> element

    def local_time(value: str | None, name: str) -> datetime | None:
        if not value:
            return None
        try:
            return parse_local_time(value, ctx.time_zone)
        except ValueError as exc:
            raise HTTPException(422, f"{name}: {exc}") from None

    async def refused(user: Principal, rule, what: str, recording_id: int | None = None, **kwargs) -> None:
        """cti.auth decides and logs; a refusal is also kept in the recordings audit log."""
        try:
            check(rule, user, what, **kwargs)
        except HTTPException:
            async with ctx.sessions() as session:
                session.add(AuditLog(actor=user.agent_id, action="forbidden", recording_id=recording_id,
                                     detail=f"{what} (role {user.role})"[:500]))
                await session.commit()
            raise

    async def visible_recording(rec_id: int, user: Principal, what: str = "open") -> Recording:
        async with ctx.sessions() as session:
            rec = await session.get(Recording, rec_id)
        if rec is None:
            raise HTTPException(404, f"no recording {rec_id}")
        await refused(user, require_read, f"{what} recording {rec.id} of agent {rec.agent_id}", rec.id,
                      agent_id=rec.agent_id)
        return rec

    @api.post("/api/recordings/session")
    async def open_session(request: Request, response: Response, user: CurrentUser) -> dict:
        """Put the Bearer token into the HttpOnly cookie the QA page's audio player sends; who is logged in."""
        token = bearer_token(request)
        if token is None:
            raise HTTPException(400, "send the token from POST /api/auth/login as Authorization: Bearer <token>")
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/api/recordings")
        return {"user": {"id": user.agent_id, "name": user.name, "role": user.role}}

    @api.delete("/api/recordings/session", status_code=204)
    async def close_session() -> Response:
        response = Response(status_code=204)
        response.delete_cookie(COOKIE, path="/api/recordings")
        return response

    @api.get("/api/recordings")
    async def search(
        user: CurrentUser,
        agent: Annotated[str | None, Query(description="agent ID (工号)")] = None,
        from_: Annotated[str | None, Query(alias="from", description="inclusive, local time (e.g. 2026-11-01T08:00)")] = None,
        to: Annotated[str | None, Query(description="exclusive, local time")] = None,
        caller: str | None = None,
        called: str | None = None,
        queue: str | None = None,
        customer: str | None = None,
        linkedid: str | None = None,
        min_duration: Annotated[float | None, Query(ge=0)] = None,
        page: Annotated[int, Query(ge=1)] = 1,
        page_size: Annotated[int, Query(ge=1, le=500)] = 50,
        sort: Literal[tuple(SORT_FIELDS)] = "started_at",  # type: ignore[valid-type]
        order: Literal["asc", "desc"] = "desc",
    ) -> dict:
        if not user.reads_all:
            if agent and agent != user.agent_id:
                await refused(user, require_read, f"search the calls of agent {agent}", agent_id=agent)
            agent = user.agent_id
        filters = RecordingFilters(
            agent_id=agent,
            start_from=local_time(from_, "from"),
            start_to=local_time(to, "to"),
            caller=caller,
            called=called,
            queue=queue,
            customer_id=customer,
            linkedid=linkedid,
            min_duration_s=min_duration,
            page=page,
            page_size=page_size,
            sort=sort,
            descending=order == "desc",
        )
        async with ctx.sessions() as session:
            result = await search_recordings(session, filters)
        body = result.to_dict()
        for item, rec in zip(body["items"], result.items):
            item["started_local"] = rec.started_at.astimezone(ctx.time_zone).strftime("%Y-%m-%d %H:%M:%S")
        return body

    @api.get("/api/recordings/scorecard")
    async def scorecard(user: CurrentUser) -> dict:
        return ctx.config.scorecard.to_dict()

    @api.get("/api/recordings/audit")
    async def audit_log(
        user: CurrentUser,
        recording_id: int | None = None,
        action: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict]:
        await refused(user, require, "read the recordings audit log", roles=READ_ALL)
        stmt = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
        if recording_id is not None:
            stmt = stmt.where(AuditLog.recording_id == recording_id)
        if action:
            stmt = stmt.where(AuditLog.action == action)
        async with ctx.sessions() as session:
            return [row.to_dict() for row in (await session.scalars(stmt)).all()]

    @api.get("/api/recordings/{rec_id}")
    async def metadata(rec_id: RecId, user: CurrentUser) -> dict:
        rec = await visible_recording(rec_id, user)
        body = rec.to_dict()
        body["started_local"] = rec.started_at.astimezone(ctx.time_zone).strftime("%Y-%m-%d %H:%M:%S")
        body["audio_url"] = f"/api/recordings/{rec.id}/audio"
        return body

    @api.get("/api/recordings/{rec_id}/audio", response_class=StreamingResponse,
             responses={200: {"content": {t: {} for t in CONTENT_TYPES.values()}}, 206: {"description": "partial content"}, 416: {}})
    async def audio(rec_id: RecId, request: Request, user: ListeningUser):
        rec = await visible_recording(rec_id, user, "replay")
        if rec.status not in HAS_FILE:
            raise HTTPException(404, f"recording {rec_id} has no file (status {rec.status})")
        storage = ctx.storage_for(rec.storage_tier)
        try:
            stat = storage.stat(rec.path)
        except StorageError as exc:              # a symlink or a path out of the store: refused, never followed
            log.warning("recording %s: file refused: %s", rec_id, exc)
            raise HTTPException(409, f"the file of recording {rec_id} is refused: it is not a plain file "
                                     f"inside the recordings store") from None
        if stat is None:
            raise HTTPException(404, f"the file of recording {rec_id} is missing ({rec.storage_tier}:{rec.path})")
        size = stat.size
        content_type = CONTENT_TYPES.get(rec.format, "application/octet-stream")
        headers = {"Accept-Ranges": "bytes", "Content-Type": content_type, "Cache-Control": "private, no-store"}
        start, end = 0, size - 1
        status = 200
        header = request.headers.get("range")
        if header:
            match = RANGE_RE.match(header.strip())
            if not match or (not match.group(1) and not match.group(2)):
                return Response(status_code=416, headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"})
            first, last = match.group(1), match.group(2)
            if first:
                start = int(first)
                end = min(int(last), size - 1) if last else size - 1
            else:  # suffix range: the last N bytes
                start = max(0, size - int(last))
            if start >= size or start > end:
                return Response(status_code=416, headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"})
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        headers["Content-Length"] = str(end - start + 1)
        if start == 0:
            async with ctx.sessions() as session:
                session.add(AuditLog(actor=user.agent_id, action="replay", recording_id=rec.id,
                                     detail=f"http {request.client.host if request.client else '?'} role={user.role}"))
                await session.commit()
        try:
            fh = storage.open(rec.path)
        except StorageError as exc:
            log.warning("recording %s: file refused: %s", rec_id, exc)
            raise HTTPException(409, f"the file of recording {rec_id} cannot be opened safely") from None
        fh.seek(start)

        def body():
            remaining = end - start + 1
            try:
                while remaining > 0:
                    chunk = fh.read(min(CHUNK, remaining))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                    yield chunk
            finally:
                fh.close()

        return StreamingResponse(body(), status_code=status, headers=headers, media_type=content_type)

    @api.get("/api/recordings/{rec_id}/evaluations")
    async def list_evaluations(rec_id: RecId, user: CurrentUser) -> list[dict]:
        await visible_recording(rec_id, user)
        async with ctx.sessions() as session:
            rows = (await session.scalars(
                select(Evaluation).where(Evaluation.recording_id == rec_id).order_by(Evaluation.id)
            )).all()
        return [row.to_dict() for row in rows]

    @api.post("/api/recordings/{rec_id}/evaluations", status_code=201)
    async def add_evaluation(rec_id: RecId, body: EvaluationBody, user: CurrentUser) -> dict:
        await refused(user, require, f"evaluate recording {rec_id}", rec_id, roles=READ_ALL)
        rec = await visible_recording(rec_id, user)
        try:
            total = ctx.config.scorecard.total(body.scores)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        async with ctx.sessions() as session:
            row = Evaluation(recording_id=rec.id, reviewer_id=user.agent_id, agent_id=rec.agent_id,
                             scores=dict(body.scores), total=total, comments=body.comments)
            session.add(row)
            await session.commit()
            return row.to_dict()

    async def live_mute(linkedid: str, user: Principal, pause: bool) -> dict:
        call = recorder.active(linkedid)
        if call is None or call.current is None:
            raise HTTPException(404, f"no recording running for call {linkedid}")
        check(require, user, f"{'pause' if pause else 'resume'} the recording of call {linkedid}",
              agent_id=call.current.agent_id)
        try:
            await (recorder.pause(linkedid) if pause else recorder.resume(linkedid))
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from None
        except Exception as exc:
            raise HTTPException(502, f"the PBX refused: {exc}") from None
        return {"linkedid": linkedid, "paused": pause, "recording_id": call.current.recording_id}

    @api.post("/api/recordings/live/{linkedid}/pause")
    async def pause(linkedid: LinkedId, user: CurrentUser) -> dict:
        """Silence the running recording (card numbers, passwords): MixMonitorMute both directions."""
        return await live_mute(linkedid, user, True)

    @api.post("/api/recordings/live/{linkedid}/resume")
    async def resume(linkedid: LinkedId, user: CurrentUser) -> dict:
        return await live_mute(linkedid, user, False)

    @api.get("/qa", include_in_schema=False)
    async def qa_page() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", media_type=WEB_FILES["index.html"])

    @api.get("/qa/{name}", include_in_schema=False)
    async def qa_asset(name: str) -> FileResponse:
        if name not in WEB_FILES:
            raise HTTPException(404, "no such file")
        return FileResponse(WEB_DIR / name, media_type=WEB_FILES[name])

    return api
