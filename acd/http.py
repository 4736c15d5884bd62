"""HTTP: GET /api/queues and GET /api/queues/{name}/stats."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException


def _service(deps):
    extras = getattr(deps, "extras", None)
    if isinstance(extras, dict) and "acd_service" in extras:
        return extras["acd_service"]
    return getattr(deps, "acd", None) or deps


def router(deps) -> APIRouter:
    api = APIRouter(prefix="/api/queues", tags=["queues"])

    @api.get("")
    async def list_queues() -> list[dict]:
        return _service(deps).overview()

    @api.get("/{name}/stats")
    async def queue_stats(name: str) -> dict:
        service = _service(deps)
        if name not in service.queue_names():
            raise HTTPException(status_code=404, detail=f"unknown queue {name!r}")
        return service.queue_stats(name)

    return api
