"""HTTP of the reports: the /reports page, its static files and the report API.

    GET /reports                                the page (static; it logs in through POST /api/auth/login)
    GET /reports/static/{path}                  its script, style and the vendored Apache ECharts
    GET /api/reports                            the reports (names, headings, charts) and the filter choices
    GET /api/reports/staffing?from=&to=&queue=&interval=
                                                per interval: offered, AHT, agents logged in, agents needed
                                                (Erlang C) - the wallboard's day view reads this
    GET /api/reports/{name}?from=&to=&queue=&agent=&team=&interval=&format=json|csv|xlsx

Credentials are cti.auth's (Bearer token or Basic agent-id:PIN); supervisors, QA and admins only (403
otherwise). Bad input (to before from, unknown queue or agent, a year of 15-minute intervals, nothing
stored yet): 422 with the reason.
"""

from pathlib import Path
from typing import Annotated, Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from cti.auth import AuthError, Authenticator, Forbidden, Principal, require
from hotline.config import Settings
from reports.catalogue import REPORTS
from reports.export import CONTENT_TYPES, describe, to_csv, to_json, to_xlsx
from reports.filters import INTERVALS, ReportError
from reports.run import context_for, filters_from, report_named, run_report

STATIC = Path(__file__).parent / "static"
ROLES = {"supervisor", "qa", "admin"}
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8"}
Text = Annotated[str | None, Query(max_length=64)]
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _principal(auth: Authenticator):
    async def current(request: Request) -> Principal:
        try:
            user = await auth.from_authorization(request.headers.get("authorization"),
                                           source=request.client.host if request.client else "unknown")
        except AuthError as exc:          # 401, or 429 while locked out by the login throttle
            raise HTTPException(exc.status, str(exc), headers=CHALLENGE if exc.status == 401 else None) from None
        try:
            require(user, "read reports", roles=ROLES)
        except Forbidden as exc:
            raise HTTPException(403, str(exc)) from None
        return user
    return current


def router(settings: Settings, sessions: async_sessionmaker[AsyncSession], auth: Authenticator) -> APIRouter:
    """The reports over ``sessions`` (queues, agents and time zone from ``settings``); ``auth`` is the CTI's
    authenticator (its ``POST /api/auth/login`` gives the token the page uses)."""
    ctx = context_for(settings, sessions)
    api = APIRouter(tags=["reports"])
    User = Annotated[Principal, Depends(_principal(auth))]

    @api.get("/reports", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type=TYPES[".html"])

    @api.get("/reports/static/{path:path}", include_in_schema=False)
    async def static(path: str) -> FileResponse:
        target = (STATIC / path).resolve()
        if STATIC.resolve() not in target.parents or not target.is_file():
            raise HTTPException(404, "no such file")
        return FileResponse(target, media_type=TYPES.get(target.suffix))

    @api.get("/api/reports")
    async def catalogue(user: User) -> dict[str, Any]:
        return {
            "user": {"id": user.agent_id, "name": user.name, "role": user.role},
            "reports": [{"name": r.name, "zh": r.zh, "en": r.en, "uses_interval": r.uses_interval}
                        for r in REPORTS.values()],
            "queues": [q.name for q in settings.queues], "agents": [a.id for a in settings.agents],
            "teams": sorted({a.team for a in settings.agents}), "intervals": list(INTERVALS),
            "time_zone": settings.service.time_zone,
        }

    async def run(name: str, since: str | None, until: str | None, **options: Any):
        try:
            report = report_named(name)
            filters = filters_from(settings, since=since, until=until, **options)
            return report, filters, await run_report(ctx, report, filters)
        except ReportError as exc:
            raise HTTPException(422, str(exc)) from None

    @api.get("/api/reports/staffing")
    async def staffing(user: User, from_: Annotated[Text, Query(alias="from")] = None, to: Text = None,
                       queue: Text = None, interval: Text = "1h") -> dict[str, Any]:
        report, filters, result = await run("interval", from_, to, queue=queue, interval=interval)
        keys = ("interval", "offered", "aht_s", "service_level", "agents_logged_in", "agents_needed")
        return {**describe(report, filters), "report": "staffing",
                "rows": [{k: row[k] for k in keys} for row in result.rows]}

    @api.get("/api/reports/{name}")
    async def one_report(name: str, user: User, from_: Annotated[Text, Query(alias="from")] = None,
                         to: Text = None, queue: Text = None, agent: Text = None, team: Text = None,
                         interval: Text = "1h", format: Literal["json", "csv", "xlsx"] = "json") -> Response:
        report, filters, result = await run(name, from_, to, queue=queue, agent=agent, team=team,
                                            interval=interval)
        if format == "json":
            return JSONResponse(to_json(report, result, filters))
        body = to_csv(report, result, filters) if format == "csv" else to_xlsx(report, result, filters)
        stamp = f"{filters.local(filters.since):%Y%m%d}-{filters.local(filters.until):%Y%m%d}"
        return Response(body, media_type=CONTENT_TYPES[format], headers={
            "Content-Disposition": f'attachment; filename="{report.name}-{stamp}.{format}"'})

    return api
