"""The HTTP API: a FastAPI app per service, served by uvicorn inside the service's TaskGroup."""
from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterable

import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

import hotline
from hotline.deps import Deps
from hotline.http_limits import CheckCredentials, RequestLimits

log = logging.getLogger(__name__)


def create_app(deps: Deps, routers: Iterable[APIRouter] = (), *,
               authenticate: CheckCredentials | None = None) -> FastAPI:
    """``authenticate(authorization_header)`` (raising on wrong credentials) lets the edge refuse a request
    with a body before reading it; without it the edge only insists that credentials are present."""
    app = FastAPI(title="hotline", version=hotline.__version__, docs_url="/api/docs", openapi_url="/api/openapi.json")
    app.state.deps = deps
    app.add_middleware(RequestLimits, authenticate=authenticate)
    app.add_exception_handler(RequestValidationError, _validation_error)

    @app.get("/api/health")
    async def health() -> JSONResponse:
        checks = await deps.health()
        ok = all(check.get("ok") for check in checks.values())
        return JSONResponse({"status": "ok" if ok else "degraded", "checks": checks},
                            status_code=200 if ok else 503)

    @app.get("/api/version")
    async def version() -> dict:
        return {"name": "hotline", "version": hotline.__version__}

    for router in routers:
        app.include_router(router)
    return app


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 with the reason; unlike FastAPI's default it never echoes the input back (which may be huge, or
    hold values JSON cannot encode, e.g. Infinity)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [{"loc": [str(p)[:64] for p in e.get("loc", ())], "msg": str(e.get("msg", ""))[:300],
               "type": str(e.get("type", ""))} for e in errors[:20]]
    reason = "; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in detail) or "invalid request"
    return JSONResponse({"error": reason, "detail": detail}, status_code=422)


class HttpServer:
    """uvicorn without uvicorn.run: we bind the socket ourselves (port 0 works) and own the task."""

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app, self.host, self._requested_port = app, host, port
        self._sock: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1] if self._sock is not None else self._requested_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def listening(self) -> bool:
        return bool(self._server and self._server.started and not self._server.should_exit)

    async def start(self, tasks: asyncio.TaskGroup) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError as exc:
            sock.close()
            raise OSError(exc.errno, f"HTTP cannot listen on {self.host}:{self._requested_port}: {exc.strerror}") from None
        sock.listen(128)
        sock.setblocking(False)
        self._sock = sock
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        # Server._serve is serve() without its process-wide signal capture: the CLI owns the signals.
        self._task = tasks.create_task(self._server._serve(sockets=[sock]), name="http")
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("HTTP server stopped during start-up")
            await asyncio.sleep(0.01)
        log.info("HTTP listening on %s", self.url)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=10)
            if not self._task.done():
                self._task.cancel()
        if self._sock is not None:
            self._sock.close()
