"""IVR reports over HTTP: per-node statistics, voicemails, callback requests, survey ratings.

Readable by QA staff, supervisors and admins only, with hotline's credentials (cti.auth: Bearer token or
Basic 工号:PIN, the CTI's authenticator): 401 without valid credentials, 403 (logged) for agents. Mounted by
hotline/service.py as ``ivr.http.router(sessions, cti.auth)``.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cti.auth import READ_ALL, AuthError, Authenticator, Forbidden, authorize

from .models import CallbackRequest, NodeStat, SurveyResult, Voicemail

MAX_LIMIT = 500


def _row(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    out = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def router(sessions: async_sessionmaker[AsyncSession], auth: Authenticator) -> APIRouter:
    api = APIRouter(tags=["ivr"])

    async def denied(request: Request) -> JSONResponse | None:
        try:
            await authorize(auth, request.headers.get("authorization"), f"read IVR reports ({request.url.path})",
                      roles=READ_ALL, source=request.client.host if request.client else None)
        except (AuthError, Forbidden) as exc:      # 401; 403 is logged by cti.auth.require
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=headers)
        return None

    @api.get("/api/ivr/stats")
    async def stats(request: Request, flow: str | None = Query(None, max_length=64), day_from: date | None = None,
                    day_to: date | None = None):
        if (refused := await denied(request)) is not None:
            return refused
        stmt = select(NodeStat.flow, NodeStat.node, NodeStat.counter, func.sum(NodeStat.count)).group_by(
            NodeStat.flow, NodeStat.node, NodeStat.counter)
        if flow:
            stmt = stmt.where(NodeStat.flow == flow)
        if day_from:
            stmt = stmt.where(NodeStat.day >= day_from)
        if day_to:
            stmt = stmt.where(NodeStat.day <= day_to)
        flows: dict[str, dict[str, dict[str, int]]] = {}
        async with sessions() as db:
            for f, node, counter, total in (await db.execute(stmt)).all():
                flows.setdefault(f, {}).setdefault(node, {})[counter] = int(total)
        return {"flows": flows}

    async def _list(model, filters, limit: int, fields: tuple[str, ...]):
        stmt = select(model).order_by(model.id.desc()).limit(min(limit, MAX_LIMIT))
        for column, value in filters:
            if value is not None:
                stmt = stmt.where(column == value)
        async with sessions() as db:
            return [_row(r, fields) for r in (await db.execute(stmt)).scalars()]

    @api.get("/api/ivr/voicemails")
    async def voicemails(request: Request, status: str | None = Query(None, max_length=20),
                         queue: str | None = Query(None, max_length=64),
                         limit: int = Query(50, ge=1, le=1000)):
        if (refused := await denied(request)) is not None:
            return refused
        return {"items": await _list(Voicemail, [(Voicemail.status, status), (Voicemail.queue, queue)], limit, (
            "id", "created_at", "uniqueid", "linkedid", "caller", "caller_name", "queue", "language", "path",
            "format", "duration_s", "ended_by", "status"))}

    @api.get("/api/ivr/callbacks")
    async def callbacks(request: Request, status: str | None = Query(None, max_length=20), limit: int = Query(50, ge=1, le=1000)):
        if (refused := await denied(request)) is not None:
            return refused
        return {"items": await _list(CallbackRequest, [(CallbackRequest.status, status)], limit, (
            "id", "created_at", "uniqueid", "linkedid", "caller", "number", "preferred_at", "queue", "language",
            "status"))}

    @api.get("/api/ivr/surveys")
    async def surveys(request: Request, agent_id: str | None = Query(None, max_length=32), limit: int = Query(50, ge=1, le=1000)):
        if (refused := await denied(request)) is not None:
            return refused
        return {"items": await _list(SurveyResult, [(SurveyResult.agent_id, agent_id)], limit, (
            "id", "created_at", "uniqueid", "linkedid", "caller", "agent_id", "queue", "rating"))}

    return api
