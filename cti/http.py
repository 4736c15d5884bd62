"""CTI HTTP API (mounted by hotline's FastAPI app).

  POST /api/auth/login                       {"agent_id", "pin"} -> {"token", ...}
  GET  /api/calls | /api/calls/{linkedid}    live calls (agents see only their own)
  GET  /api/calls/{linkedid}/data            call-attached data;  PUT merges keys (supervisor/admin)
  GET  /api/agents | /api/agents/{id}        agent states;  GET /api/agents/{id}/history
  POST /api/agents/{id}/{command}            agent and supervisor commands (JSON body = arguments)
  GET  /api/agents/{id}/announcements        unread announcements
  POST /api/supervisor/announcements         {"text", "audience": {...}, "priority"}
  GET  /api/supervisor/overview              agents, queues, calls
  GET  /api/customers/{number}               customer record + history
Every request is authenticated (Bearer token or Basic agent-id:PIN); errors are {"error": "..."} with
404 (unknown agent/call), 401, 403 (wrong role, logged), 409 (illegal state), 413 (call data too big).
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from cti.agents import CtiError
from cti.auth import Principal, require, require_read, SUPERVISE
from cti.core import Cti


def _error(exc: CtiError) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=exc.status)


def router(cti: Cti) -> APIRouter:
    api = APIRouter()

    async def principal(request: Request) -> Principal:
        return cti.auth.from_authorization(request.headers.get("authorization"))

    async def guarded(request: Request, fn):
        try:
            who = await principal(request)
            return await fn(who)
        except CtiError as exc:
            return _error(exc)

    def involved(who: Principal, view: dict[str, Any]) -> bool:
        agent = cti.agents.agents.get(who.agent_id)
        if agent is None:
            return False
        return any(c["endpoint"] == agent.endpoint for c in view["channels"]) or agent.linkedid == view["linkedid"]

    @api.post("/api/auth/login")
    async def login(body: dict = Body(...)):
        try:
            return cti.auth.login(str(body.get("agent_id", "")), str(body.get("pin", "")))
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
    async def call(linkedid: str, request: Request):
        async def run(who):
            view = cti.model.call_view(linkedid)
            if view is None:
                return JSONResponse({"error": f"no call with linkedid {linkedid!r}"}, status_code=404)
            if not who.reads_all and not involved(who, view):
                require(who, f"see call {linkedid}", roles=SUPERVISE | {"qa"})
            return dict(view, data=cti.calldata.get(linkedid))
        return await guarded(request, run)

    @api.get("/api/calls/{linkedid}/data")
    async def call_data(linkedid: str, request: Request):
        async def run(who):
            view = cti.model.call_view(linkedid)
            if view is None or (not who.reads_all and not involved(who, view)):
                require_read(who, f"see the data of call {linkedid}")
            return {"v": 1, "linkedid": linkedid, "data": cti.calldata.get(linkedid),
                    "bytes": cti.calldata.size(linkedid)}
        return await guarded(request, run)

    @api.put("/api/calls/{linkedid}/data")
    async def put_call_data(linkedid: str, request: Request, body: Any = Body(...)):
        async def run(who):
            view = cti.model.call_view(linkedid)
            if view is None or not involved(who, view):
                require(who, f"change the data of call {linkedid}", roles=SUPERVISE)
            return {"v": 1, "linkedid": linkedid, "data": cti.calldata.update(linkedid, body)}
        return await guarded(request, run)

    @api.get("/api/agents")
    async def agents(request: Request):
        async def run(who):
            if who.reads_all:
                return {"v": 1, "agents": cti.agents.views()}
            return {"v": 1, "agents": [cti.agents.get(who.agent_id).view()]}
        return await guarded(request, run)

    @api.get("/api/agents/{agent_id}")
    async def agent(agent_id: str, request: Request):
        async def run(who):
            view = cti.agents.get(agent_id).view()
            require_read(who, "see another agent", agent_id)
            return view
        return await guarded(request, run)

    @api.get("/api/agents/{agent_id}/history")
    async def agent_history(agent_id: str, request: Request, limit: int = 100):
        async def run(who):
            cti.agents.get(agent_id)
            require_read(who, "see another agent's history", agent_id)
            return {"v": 1, "agent_id": agent_id, "history": await cti.agents.history(agent_id, limit)}
        return await guarded(request, run)

    @api.get("/api/agents/{agent_id}/announcements")
    async def announcements(agent_id: str, request: Request):
        async def run(who):
            cti.agents.get(agent_id)
            require(who, "read announcements", agent_id=agent_id)
            return {"v": 1, "announcements": await cti.announcements.unread(agent_id)}
        return await guarded(request, run)

    @api.post("/api/agents/{agent_id}/{command}")
    async def command(agent_id: str, command: str, request: Request):
        async def run(who):
            raw = await request.body()
            args = {}
            if raw.strip():
                try:
                    args = await request.json()
                except ValueError:
                    raise CtiError("the request body must be a JSON object of arguments") from None
                if not isinstance(args, dict):
                    raise CtiError("the request body must be a JSON object of arguments")
            return await cti.dispatch(who, agent_id, command, args)
        return await guarded(request, run)

    @api.post("/api/supervisor/announcements")
    async def announce(request: Request, body: dict = Body(...)):
        async def run(who):
            return await cti.supervisor.announce(who, body.get("text", ""), body.get("audience") or {},
                                                 body.get("priority", "normal"))
        return await guarded(request, run)

    @api.get("/api/supervisor/overview")
    async def overview(request: Request):
        return await guarded(request, lambda who: _value(cti.supervisor.overview(who)))

    @api.get("/api/customers/{number}")
    async def customer(number: str, request: Request):
        async def run(who):
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
