"""HTTP API of the knowledge base.

  GET   /api/kb/search?q=&limit=&all=1          published articles (all=1: every state, editors only)
  GET   /api/kb/suggest?queue=&path=a,b&language=  articles for a call: its queue, IVR path, language first
  GET   /api/kb/stats                           most read, most searched, searched without an answer
  GET   /api/kb/categories                      the category tree
  POST  /api/kb/articles                        write a draft {title, body, keywords, category, queues, ivr_nodes, related}
  GET   /api/kb/articles/{id}                   read (counts a read of a published article)
  PATCH /api/kb/articles/{id}                   change (the author while a draft; editors always)
  POST  /api/kb/articles/{id}/{action}          submit | approve | reject | publish | retire
  GET   /api/kb/guide[/{id}]                    the guided questions: a step, its choices, the article at a leaf
  POST  /api/kb/guide                           add a step {parent_id, label, question, article_id} (editors)
Errors are {"error": "..."}: 401, 403, 404, 409 (state), 413 (too big), 422 (input)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from kb.service import MAX_BODY_BYTES, Actor, KbError, KnowledgeBase

Id = Annotated[int, Path(gt=0, lt=2**31)]


class Authenticates(Protocol):
    async def from_authorization(self, header: str | None) -> Actor: ...


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Article(_Body):
    title: str | None = Field(None, max_length=200)
    body: str | None = Field(None, max_length=MAX_BODY_BYTES)
    keywords: list[Annotated[str, Field(max_length=64)]] | None = Field(None, max_length=50)
    category: str | None = Field(None, max_length=300)
    queues: list[Annotated[str, Field(max_length=64)]] | None = Field(None, max_length=50)
    ivr_nodes: list[Annotated[str, Field(max_length=64)]] | None = Field(None, max_length=50)
    related: list[int] | None = Field(None, max_length=50)
    language: str | None = Field(None, max_length=16)          # of the answer: zh-CN (default), en, …


class GuideStep(_Body):
    parent_id: int | None = Field(None, gt=0, lt=2**31)
    label: str = Field("", max_length=200)
    question: str = Field("", max_length=500)
    article_id: int | None = Field(None, gt=0, lt=2**31)


def router(kb: KnowledgeBase, auth: Authenticates, auth_errors: tuple[type[Exception], ...]) -> APIRouter:
    api = APIRouter(tags=["knowledge base"])

    async def guarded(request: Request, work: Callable[[Actor], Awaitable[Any]]) -> Any:
        try:
            who = await auth.from_authorization(request.headers.get("authorization"))
            return await work(who)
        except KbError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except auth_errors as exc:
            return JSONResponse({"error": str(exc)}, status_code=int(getattr(exc, "status", 401)))

    @api.get("/api/kb/search")
    async def search(request: Request, q: str = Query(min_length=1, max_length=200),
                     limit: int = Query(10, ge=1, le=50), all: bool = False) -> Any:
        async def run(who: Actor) -> Any:
            return {"v": 1, "articles": await kb.search(who, q, limit=limit, include_unpublished=all)}
        return await guarded(request, run)

    @api.get("/api/kb/suggest")
    async def suggest(request: Request, queue: str | None = Query(None, max_length=64),
                      path: str = Query("", max_length=2000),
                      language: str | None = Query(None, max_length=16)) -> Any:
        async def run(who: Actor) -> Any:
            nodes = [p for p in path.split(",") if p][:100]
            return {"v": 1, "articles": await kb.suggest(queue=queue, ivr_path=nodes, language=language)}
        return await guarded(request, run)

    @api.get("/api/kb/stats")
    async def stats(request: Request, days: int = Query(30, ge=1, le=366)) -> Any:
        async def run(who: Actor) -> Any:
            if not who.supervises:
                raise KbError("only supervisors and admins read the knowledge-base statistics", 403)
            return {"v": 1, **await kb.stats(days=days)}
        return await guarded(request, run)

    @api.get("/api/kb/categories")
    async def categories(request: Request) -> Any:
        async def run(who: Actor) -> Any:
            return {"v": 1, "categories": await kb.categories()}
        return await guarded(request, run)

    @api.post("/api/kb/articles", status_code=201)
    async def create(body: Article, request: Request) -> Any:
        return await guarded(request, lambda who: kb.create(who, **body.model_dump(exclude_none=True)))

    @api.get("/api/kb/articles/{article_id}")
    async def read(article_id: Id, request: Request) -> Any:
        return await guarded(request, lambda who: kb.read(who, article_id))

    @api.patch("/api/kb/articles/{article_id}")
    async def update(body: Article, article_id: Id, request: Request) -> Any:
        return await guarded(request, lambda who: kb.update(who, article_id, **body.model_dump(exclude_unset=True)))

    @api.post("/api/kb/articles/{article_id}/{action}")
    async def move(article_id: Id, action: Literal["submit", "approve", "reject", "publish", "retire"],
                   request: Request) -> Any:
        async def run(who: Actor) -> Any:
            if action == "submit":
                return await kb.submit(who, article_id)
            if action in ("approve", "reject"):
                return await kb.review(who, article_id, approve=action == "approve")
            if action == "publish":
                return await kb.publish(who, article_id)
            return await kb.retire(who, article_id)
        return await guarded(request, run)

    @api.get("/api/kb/guide")
    async def guide_start(request: Request) -> Any:
        return await guarded(request, lambda who: kb.guide(who))

    @api.get("/api/kb/guide/{node_id}")
    async def guide(node_id: Id, request: Request) -> Any:
        return await guarded(request, lambda who: kb.guide(who, node_id))

    @api.post("/api/kb/guide", status_code=201)
    async def add_step(body: GuideStep, request: Request) -> Any:
        return await guarded(request, lambda who: kb.add_guide_node(
            who, parent_id=body.parent_id, label=body.label, question=body.question, article_id=body.article_id))

    return api
