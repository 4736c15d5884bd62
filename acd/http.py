"""HTTP: GET /api/queues and GET /api/queues/{name}/stats.

Authenticated like every hotline endpoint (cti.auth: Bearer token from POST /api/auth/login, or Basic
agent-id:PIN); 401 without valid credentials. Supervisors, QA staff and admins read every queue. An agent
reads the queues they are a member of — what an agent desktop shows (calls waiting, service level of the
queues the agent answers) — and gets 403 (logged) for any other queue.
"""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Path

from acd.service import AcdService
from cti.auth import READ_ALL, AuthError, Authenticator, Forbidden, Principal, authorize, require

CHALLENGE = {"WWW-Authenticate": "Bearer"}


def router(service: AcdService, auth: Authenticator) -> APIRouter:
    api = APIRouter(prefix="/api/queues", tags=["queues"])

    async def caller(request: Request) -> Principal:
        try:
            return await authorize(auth, request.headers.get("authorization"), "read queues",
                             source=request.client.host if request.client else None)
        except AuthError as exc:                   # 401, or 429 while locked out
            raise HTTPException(exc.status, str(exc), headers=CHALLENGE) from None

    @api.get("")
    async def list_queues(request: Request) -> list[dict]:
        who = await caller(request)
        queues = service.overview()
        if who.role in READ_ALL:
            return queues
        return [q for q in queues if who.agent_id in q.get("members", ())]

    @api.get("/{name}/stats")
    async def queue_stats(request: Request, name: str = Path(max_length=64)) -> dict:
        who = await caller(request)
        if who.role not in READ_ALL:
            members = {q["name"]: q.get("members", ()) for q in service.overview()}
            if who.agent_id not in members.get(name, ()):
                try:
                    require(who, f"read the stats of queue {name!r} (not a member)", roles=READ_ALL)
                except Forbidden as exc:
                    raise HTTPException(403, str(exc)) from None
        if name not in service.queue_names():
            raise HTTPException(status_code=404, detail=f"unknown queue {name!r}")
        return service.queue_stats(name)

    return api
