"""The agent desktop (/agent), the supervisor wallboard (/wallboard) and their live feed (/api/live).

  GET  /agent, /wallboard                    the pages (static HTML/JS/CSS from web/static, no build step)
  GET  /web/{file}                           their scripts and styles
  GET  /api/desktop/config                   dispositions, not-ready reasons, queues, teams, agents, IVR flows
  GET  /api/live/snapshot                    everything the caller may see now (pages resynchronise with it)
  POST /api/wallboard/tv-token               a read-only token for a wall TV (supervisors)
  WS   /api/live                             live events; authenticate with the first message
                                             {"type": "auth", "token": "..."} (or ?token=); closes 4401 on a bad
                                             or expired token, 4403 when the token may not watch, 1009 on a frame
                                             over 4 KiB
Commands go to the CTI's own endpoints (POST /api/agents/{id}/{command}, /api/supervisor/announcements).
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse

from cti.agents import AGENT_REASONS, CtiError
from cti.records import DISPOSITIONS
from hotline.bus.payload import decode_object
from web.live import LiveClient, LiveHub, for_wall
from web.ports import AgentRoster, AnnouncementBox, Authenticator, CallViews, LocalFeed, Principal, QueueFigures
from web.tv import TvTokenError, TvTokens

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
AUTH_ERRORS = (CtiError, TvTokenError)           # bad, expired or missing credentials (they carry .status)
_FILE = re.compile(r"^[a-z0-9_-]{1,64}\.(js|css|html|wav)$")
MEDIA = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
         "html": "text/html; charset=utf-8", "wav": "audio/wav"}
MAX_FRAME = 4096
AUTH_TIMEOUT_S = 5.0
HEARTBEAT_S = 15.0


@dataclass
class DesktopOptions:
    """What the desktop offers in its menus (the CTI's own lists)."""
    dispositions: dict[str, str]             # code -> label (cti.records.DISPOSITIONS)
    not_ready_reasons: list[str]             # cti.agents.AGENT_REASONS
    queues: list[dict[str, Any]]             # [{"name", "caller_id"}]
    ivr_flows: list[str]                     # flows a caller may be sent to and come back from
    time_zone: str = "Asia/Shanghai"


class WebDesk:
    """Everything the pages' endpoints need, typed; built by the composition root (see ``router``)."""

    def __init__(self, *, auth: Authenticator, roster: AgentRoster, calls: CallViews,
                 announcements: AnnouncementBox, queues: QueueFigures | None, feed: LocalFeed | None,
                 options: DesktopOptions, hub: LiveHub | None = None, tv: TvTokens | None = None):
        self.auth = auth
        self.roster = roster
        self.calls = calls
        self.announcements = announcements
        self.queues = queues
        self.options = options
        self.hub = hub or LiveHub(roster=roster, queues=queues, time_zone=options.time_zone)
        self.tv = tv or TvTokens()
        self.unlisten = feed.add_local_listener(self.hub.publish) if feed is not None else None

    async def close(self) -> None:
        """Stop listening to the bus and stop the hub's queue refresher (the service's shutdown)."""
        if self.unlisten is not None:
            self.unlisten()
            self.unlisten = None
        await self.hub.close()

    # -- who is asking ---------------------------------------------------------------------------
    def principal(self, token: str) -> tuple[Principal | None, bool]:
        """(principal, read_only) for a token: an agent's login token or a wallboard TV token."""
        if self.tv.is_tv_token(token):
            self.tv.verify(token)
            return None, True
        return self.auth.verify_token(token), False

    async def from_request(self, request: Request) -> tuple[Principal | None, bool]:
        header = request.headers.get("authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and self.tv.is_tv_token(value.strip()):
            return self.principal(value.strip())
        return await self.auth.from_authorization(header or None), False

    # -- the snapshot a page starts from ---------------------------------------------------------
    async def snapshot(self, principal: Principal | None, read_only: bool) -> dict[str, Any]:
        sees_all = read_only or bool(principal and principal.reads_all)
        now = time.time()
        if sees_all:
            figures = self.hub.queue_figures()
            members = {q["name"]: q.get("members", []) for q in self.queues.overview()} if self.queues else {}
            calls = self.calls.calls_view()
            if principal is None:               # a wall TV: see web.live.for_wall
                calls = [for_wall(call) for call in calls]
            return {"v": 1, "server_time": now, "me": _me(principal, read_only), "agents": self.roster.views(),
                    "calls": calls, "queues": figures, "queue_members": members,
                    "devices": dict(self.calls.devices),
                    "kpis": self.hub.kpi_tiles(figures)}
        assert principal is not None
        me = principal.agent_id
        agent = self.roster.agents[me]
        view = next(v for v in self.roster.views() if v["agent_id"] == me)
        calls = [c for c in self.calls.calls_view() if self.hub.involved(me, c)]
        pop = self.hub.screenpops.get(me)
        if pop is not None and pop.get("linkedid") != agent.linkedid:
            pop = None
        return {"v": 1, "server_time": now, "me": _me(principal, False), "agent": view, "calls": calls,
                "device": self.calls.devices.get(agent.endpoint, ""),
                "screenpop": pop, "announcements": await self.announcements.unread(me)}


def _me(principal: Principal | None, read_only: bool) -> dict[str, Any]:
    if principal is None:
        return {"agent_id": None, "role": "wallboard", "name": "大屏", "read_only": True}
    return {"agent_id": principal.agent_id, "role": principal.role, "name": principal.name,
            "read_only": read_only or not principal.supervises}


def _error(exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=int(getattr(exc, "status", 400)))


def build_router(desk: WebDesk) -> APIRouter:
    api = APIRouter(tags=["web"])

    @api.get("/agent", include_in_schema=False)
    async def agent_page() -> FileResponse:
        return _file("agent.html")

    @api.get("/wallboard", include_in_schema=False)
    async def wallboard_page() -> FileResponse:
        return _file("wallboard.html")

    @api.get("/web/{name}", include_in_schema=False)
    async def asset(name: str):
        if not _FILE.match(name) or not (STATIC / name).is_file():
            return JSONResponse({"error": f"no such file {name!r}"}, status_code=404)
        return _file(name)

    @api.get("/api/desktop/config")
    async def desktop_config(request: Request):
        try:
            await desk.from_request(request)
        except AUTH_ERRORS as exc:
            return _error(exc)
        o = desk.options
        agents = [{"agent_id": a["agent_id"], "name": a["name"], "team": a["team"], "role": a["role"]}
                  for a in desk.roster.views()]
        return {"v": 1, "dispositions": o.dispositions, "not_ready_reasons": o.not_ready_reasons,
                "queues": o.queues, "ivr_flows": o.ivr_flows, "agents": agents,
                "teams": sorted({a["team"] for a in agents if a["team"]})}

    @api.get("/api/live/snapshot")
    async def snapshot(request: Request):
        try:
            principal, read_only = await desk.from_request(request)
        except AUTH_ERRORS as exc:
            return _error(exc)
        return await desk.snapshot(principal, read_only)

    @api.post("/api/wallboard/tv-token")
    async def tv_token(request: Request):
        try:
            principal, _ = await desk.from_request(request)
            if principal is None or not principal.supervises:
                return JSONResponse({"error": "only supervisors may issue a wallboard TV token"}, status_code=403)
        except AUTH_ERRORS as exc:
            return _error(exc)
        return desk.tv.issue(by=principal.agent_id)

    @api.websocket("/api/live")
    async def live(ws: WebSocket):
        await ws.accept()
        token = ws.query_params.get("token") or ""
        try:
            if not token:
                token = await _first_token(ws)
            principal, read_only = desk.principal(token)
        except _FrameTooLarge:
            await ws.close(code=1009, reason="frame over 4 KiB")
            return
        except (asyncio.TimeoutError, ValueError, WebSocketDisconnect):
            await _close(ws, 4401, "authenticate first: {\"type\": \"auth\", \"token\": ...}")
            return
        except AUTH_ERRORS as exc:
            await _close(ws, 4403 if getattr(exc, "status", 401) == 403 else 4401, str(exc)[:120])
            return
        client = desk.hub.connect(principal, read_only=read_only)
        try:
            await ws.send_json({"type": "hello", "me": _me(principal, read_only), "server_time": time.time()})
            await _serve(ws, client, lambda: desk.principal(token))
        finally:
            desk.hub.disconnect(client)

    return api


class _FrameTooLarge(Exception):
    pass


async def _receive_text(ws: WebSocket) -> str:
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if text is None:
        text = (message.get("bytes") or b"").decode("utf-8", "replace")
    if len(text) > MAX_FRAME:
        raise _FrameTooLarge()
    return text


async def _first_token(ws: WebSocket) -> str:
    async with asyncio.timeout(AUTH_TIMEOUT_S):
        text = await _receive_text(ws)
    body = decode_object(text, max_depth=4)      # bounded before parsing (PayloadError is a ValueError)
    if body.get("type") != "auth" or not isinstance(body.get("token"), str):
        raise ValueError("the first message must be {\"type\": \"auth\", \"token\": ...}")
    return body["token"]


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    try:
        await ws.close(code=code, reason=reason)
    except RuntimeError:
        pass


class _TokenLapsed(Exception):
    pass


async def _serve(ws: WebSocket, client: LiveClient, check_token: Any) -> None:
    """Send the client's frames (and a heartbeat) while reading what it says (pings; bounded). The token is
    checked again at least every heartbeat interval, busy or quiet: once it expires or is revoked (logout) the
    socket closes with 4401 and the page logs in again."""

    async def sender() -> None:
        checked = time.monotonic()
        while True:
            try:
                async with asyncio.timeout(HEARTBEAT_S):
                    frame = await client.next_frame()
            except TimeoutError:
                frame = {"type": "ping", "server_time": time.time()}
            if time.monotonic() - checked >= HEARTBEAT_S or frame["type"] == "ping":
                try:
                    check_token()
                except AUTH_ERRORS as exc:
                    raise _TokenLapsed(str(exc)) from None
                checked = time.monotonic()
            await ws.send_json(frame)
            await asyncio.sleep(client.interval)

    async def receiver() -> None:
        while True:
            text = await _receive_text(ws)
            if text.strip() == '{"type":"ping"}':
                await ws.send_json({"type": "pong", "server_time": time.time()})

    tasks = [asyncio.create_task(sender()), asyncio.create_task(receiver())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            exc = task.exception()
            if isinstance(exc, _FrameTooLarge):
                await _close(ws, 1009, "frame over 4 KiB")
            elif isinstance(exc, _TokenLapsed):
                await _close(ws, 4401, str(exc)[:120])
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _file(name: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type=MEDIA[name.rsplit(".", 1)[1]],
                        headers={"Cache-Control": "no-cache"})


def desktop_options(settings: Any) -> DesktopOptions:
    flows_dir = Path(settings.paths.flows_dir)
    # flows an agent sends a caller to and gets back from (not the entry flow, the after-agent survey, QA replay)
    flows = sorted(p.stem for p in flows_dir.glob("*.yaml")
                   if p.stem not in ("calendars", "hotline", "after_agent", "qa_replay"))
    queues = [{"name": q.name, "caller_id": str((q.raw or {}).get("caller_id") or "")} for q in settings.queues]
    return DesktopOptions(dispositions=dict(DISPOSITIONS), not_ready_reasons=sorted(AGENT_REASONS), queues=queues,
                          ivr_flows=flows, time_zone=settings.service.time_zone)
