"""CTI HTTP API (mounted by hotline's FastAPI app).

  POST /api/auth/login                       {"agent_id", "pin"} -> {"token", ...}  (429 while locked out)
  POST /api/auth/logout                      revokes the Bearer token it is called with
  GET  /api/calls | /api/calls/{linkedid}    live calls (agents see only their own)
  GET  /api/calls/{linkedid}/data            call-attached data;  PUT merges keys (supervisor/admin)
  GET  /api/agents | /api/agents/{id}        agent states;  GET /api/agents/{id}/history
  POST /api/agents/{id}/{command}            agent and supervisor commands (JSON body = arguments)
  GET  /api/agents/{id}/announcements        unread announcements
  POST /api/supervisor/announcements         {"text", "audience": {...}, "priority"}
  GET  /api/supervisor/overview              agents, queues, calls
  GET  /api/customers/{number}               customer record + history: supervisors, QA and admins always;
                                             an agent only while that number is on their current call
Every request is authenticated (Bearer token or Basic agent-id:PIN); errors are {"error": "..."} with
404 (unknown agent/call), 401, 403 (wrong role, logged), 409 (illegal state), 413 (call data too big),
422 (a value that fails validation, with the reason), 429 (locked out after failed logins).
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from cti.agents import CtiError
from cti.auth import READ_ALL, SUPERVISE, AuthError, Principal, TooManyAttempts, require, require_read
from cti.core import Cti
from cti.inputs import (AGENT_ID, LINKEDID_MAX, NUMBER_MAX, AnnouncementBody, InvalidInput, LoginBody, parse_json,
                        validate)

AgentId = Path(pattern=AGENT_ID, description="staff number")
LinkedId = Path(max_length=LINKEDID_MAX)


def _error(exc: CtiError) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=exc.status)


def router(cti: Cti) -> APIRouter:
    api = APIRouter()

    def source(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    async def principal(request: Request) -> Principal:
        return await cti.auth.from_authorization(request.headers.get("authorization"), source=source(request))

    async def guarded(request: Request, fn):
        try:
            who = await principal(request)       # credentials first: a body is read only after this
            return await fn(who)
        except CtiError as exc:
            return _error(exc)

    async def body_of(request: Request, model=None, *, required: bool = True):
        raw = await request.body()
        if not raw.strip():
            if required:
                raise InvalidInput("a JSON request body is required")
            return None
        value = parse_json(raw)
        return validate(model, value) if model is not None else value

    def involved(who: Principal, view: dict[str, Any]) -> bool:
        agent = cti.agents.agents.get(who.agent_id)
        if agent is None:
            return False
        return any(c["endpoint"] == agent.endpoint for c in view["channels"]) or agent.linkedid == view["linkedid"]

    @api.post("/api/auth/login")
    async def login(request: Request):
        try:
            body = await body_of(request, LoginBody)
            return await cti.auth.login(body.agent_id, body.pin, source=source(request))
        except TooManyAttempts as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status,
                                headers={"Retry-After": str(int(exc.retry_after) + 1)})
        except CtiError as exc:
            return _error(exc)

    @api.post("/api/auth/logout")
    async def logout(request: Request):
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        try:
            if scheme.lower() != "bearer" or not token.strip():
                raise AuthError("logout takes the token to revoke: Authorization: Bearer <token>")
            who = cti.auth.logout(token.strip())
            return {"v": 1, "agent_id": who.agent_id, "revoked": True}
        except CtiError as exc:
            return _error(exc)

    @api.get("/api/calls")
    async def calls(request: Request):
        async def run(who):
            views = cti.model.calls_view()
            if not who.reads_all:
                views = [v for v in views if involved(who, v)]
            return {"v": 1, "calls": views}
        return await guarded(request, run)

    @api.get("/api/calls/{linkedid}")
    async def call(request: Request, linkedid: str = LinkedId):
        async def run(who):
            view = cti.model.call_view(linkedid)
            if view is None:
                return JSONResponse({"error": f"no call with linkedid {linkedid!r}"}, status_code=404)
            if not who.reads_all and not involved(who, view):
                require(who, f"see call {linkedid}", roles=SUPERVISE | {"qa"})
            return dict(view, data=cti.calldata.get(linkedid))
        return await guarded(request, run)

    @api.get("/api/calls/{linkedid}/data")
    async def call_data(request: Request, linkedid: str = LinkedId):
        async def run(who):
            view = cti.model.call_view(linkedid)
            if view is None or (not who.reads_all and not involved(who, view)):
                require_read(who, f"see the data of call {linkedid}")
            return {"v": 1, "linkedid": linkedid, "data": cti.calldata.get(linkedid),
                    "bytes": cti.calldata.size(linkedid)}
        return await guarded(request, run)

    @api.put("/api/calls/{linkedid}/data")
    async def put_call_data(request: Request, linkedid: str = LinkedId):
        async def run(who):
            view = cti.model.call_view(linkedid)
            if view is None or not involved(who, view):
                require(who, f"change the data of call {linkedid}", roles=SUPERVISE)
            values = await body_of(request)
            if not isinstance(values, dict):
                raise InvalidInput("call data must be a JSON object of keys to merge")
            return {"v": 1, "linkedid": linkedid, "data": cti.calldata.update(linkedid, values)}
        return await guarded(request, run)

    @api.get("/api/agents")
    async def agents(request: Request):
        async def run(who):
            if who.reads_all:
                return {"v": 1, "agents": cti.agents.views()}
            return {"v": 1, "agents": [cti.agents.get(who.agent_id).view()]}
        return await guarded(request, run)

    @api.get("/api/agents/{agent_id}")
    async def agent(request: Request, agent_id: str = AgentId):
        async def run(who):
            view = cti.agents.get(agent_id).view()
            require_read(who, "see another agent", agent_id)
            return view
        return await guarded(request, run)

    @api.get("/api/agents/{agent_id}/history")
    async def agent_history(request: Request, agent_id: str = AgentId,
                            limit: int = Query(100, ge=1, le=1000, description="newest entries, 1-1000")):
        async def run(who):
            cti.agents.get(agent_id)
            require_read(who, "see another agent's history", agent_id)
            return {"v": 1, "agent_id": agent_id, "history": await cti.agents.history(agent_id, limit)}
        return await guarded(request, run)

    @api.get("/api/agents/{agent_id}/announcements")
    async def announcements(request: Request, agent_id: str = AgentId):
        async def run(who):
            cti.agents.get(agent_id)
            require(who, "read announcements", agent_id=agent_id)
            return {"v": 1, "announcements": await cti.announcements.unread(agent_id)}
        return await guarded(request, run)

    @api.post("/api/agents/{agent_id}/{command}")
    async def command(request: Request, agent_id: str = AgentId,
                      command: str = Path(max_length=40, pattern=r"^[a-z-]+$")):
        async def run(who):
            args = await body_of(request, required=False)
            if args is None:
                args = {}
            if not isinstance(args, dict):
                raise InvalidInput("the request body must be a JSON object of arguments")
            return await cti.dispatch(who, agent_id, command, args)
        return await guarded(request, run)

    @api.post("/api/supervisor/announcements")
    async def announce(request: Request):
        async def run(who):
            require(who, "send announcements", roles=SUPERVISE)
            body = await body_of(request, AnnouncementBody)
            return await cti.supervisor.announce(who, body.text, body.audience, body.priority)
        return await guarded(request, run)

    @api.get("/api/supervisor/overview")
    async def overview(request: Request):
        return await guarded(request, lambda who: _value(cti.supervisor.overview(who)))

    @api.get("/api/customers/{number}")
    async def customer(request: Request, number: str = Path(max_length=NUMBER_MAX)):
        async def run(who):
            if not who.reads_all and not cti.on_current_call(who.agent_id, number):
                require(who, f"see customer {number} (not on their current call)", roles=READ_ALL)
            record = await cti.customers.by_number(number)
            history = await cti.customers.history(number, agent_names={a.id: a.name for a in
                                                                        cti.agents.agents.values()})
            if record is None and not history:
                return JSONResponse({"error": f"no customer with number {number!r}"}, status_code=404)
            return {"v": 1, "customer": record, "history": history}
        return await guarded(request, run)

    return api


async def _value(value):
    return value
