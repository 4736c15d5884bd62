"""The knowledge base: write, review and publish articles; only published ones are the standard answer an
agent sees. Search by Chinese or English keywords or a phrase of the body; the most read articles and the
most searched terms; suggestions for a call from its queue and IVR path; the guided question tree.

Roles: any agent writes and submits; supervisors and admins review, publish and retire (editors)."""
from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from sqlalchemy import delete, desc, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kb.models import ARTICLE_STATES, KbArticle, KbCategory, KbGuideNode, KbSearch, KbTerm
from kb.text import index_terms, normalise, phrases, query_terms

log = logging.getLogger("hotline.kb")

MAX_TITLE = 200
MAX_BODY_BYTES = 64 * 1024
MAX_KEYWORDS = 50
MAX_QUERY = 200
FIELD_WEIGHTS = (("title", 3), ("keywords", 3), ("body", 1))
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Z][A-Za-z]{1,3})?")      # "zh-CN", "en": the flows' language names
DEFAULT_LANGUAGE = "zh-CN"


class KbError(Exception):
    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class Actor(Protocol):
    @property
    def agent_id(self) -> str: ...
    @property
    def supervises(self) -> bool: ...


def _text(value: Any, name: str, limit: int, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise KbError(f"{name} must be text")
    value = value.strip()
    if required and not value:
        raise KbError(f"{name} is required")
    if len(value) > limit:
        raise KbError(f"{name} is {len(value)} characters; at most {limit}", 413)
    if "\x00" in value:
        raise KbError(f"{name} contains a NUL character")
    return value


def _words(value: Any, name: str, *, limit: int = MAX_KEYWORDS, each: int = 64) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise KbError(f"{name} must be a list of texts")
    if len(value) > limit:
        raise KbError(f"{name}: at most {limit} entries", 413)
    return list(dict.fromkeys(_text(v, name, each, required=True) for v in value))


class KnowledgeBase:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.sessions = sessions
        self.clock = clock

    # ------------------------------------------------------------------ views
    @staticmethod
    def view(a: KbArticle, *, full: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"id": a.id, "title": a.title, "status": a.status, "category_id": a.category_id,
                               "keywords": list(a.keywords or []), "language": a.language, "reads": a.reads,
                               "author_id": a.author_id,
                               "published_at": a.published_at.isoformat() if a.published_at else None}
        if full:
            out.update(body=a.body, related=list(a.related or []), queues=list(a.queues or []),
                       ivr_nodes=list(a.ivr_nodes or []), reviewer_id=a.reviewer_id)
        else:
            out["snippet"] = a.body[:120]
        return out

    @staticmethod
    def _visible(actor: Actor, a: KbArticle) -> bool:
        return a.status == "published" or actor.supervises or a.author_id == actor.agent_id

    async def _load(self, session: AsyncSession, actor: Actor, article_id: int) -> KbArticle:
        article = await session.get(KbArticle, article_id)
        if article is None or not self._visible(actor, article):
            raise KbError(f"no article {article_id}", 404)
        return article

    # ------------------------------------------------------------------ categories
    async def _category(self, session: AsyncSession, path: str | None) -> int | None:
        """'售后/退换货' -> the id of that leaf, creating the missing levels."""
        if not path:
            return None
        parent: int | None = None
        for name in [p.strip() for p in path.split("/") if p.strip()]:
            if len(name) > 100:
                raise KbError("a category name is at most 100 characters")
            found = (await session.execute(select(KbCategory.id).where(
                KbCategory.name == name, KbCategory.parent_id.is_(None) if parent is None
                else KbCategory.parent_id == parent))).scalar_one_or_none()
            if found is None:
                category = KbCategory(name=name, parent_id=parent)
                session.add(category)
                await session.flush()
                found = category.id
            parent = found
        return parent

    async def categories(self) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            rows = (await session.execute(select(KbCategory).order_by(KbCategory.id))).scalars().all()
        return [{"id": c.id, "name": c.name, "parent_id": c.parent_id} for c in rows]

    # ------------------------------------------------------------------ writing
    def _fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        known = {"title", "body", "keywords", "category", "queues", "ivr_nodes", "related", "language"}
        unknown = set(fields) - known
        if unknown:
            raise KbError(f"unknown field(s): {', '.join(sorted(unknown))}")
        out: dict[str, Any] = {}
        if "title" in fields:
            out["title"] = _text(fields["title"], "title", MAX_TITLE, required=True)
        if "body" in fields:
            body = fields["body"]
            if isinstance(body, str) and len(body.encode("utf-8")) > MAX_BODY_BYTES:
                raise KbError(f"body is {len(body.encode('utf-8'))} bytes; an article holds at most "
                              f"{MAX_BODY_BYTES} bytes", 413)
            out["body"] = _text(body, "body", MAX_BODY_BYTES, required=True)
        for name in ("keywords", "queues", "ivr_nodes"):
            if name in fields:
                out[name] = _words(fields[name], name)
        if "related" in fields:
            related = fields["related"] or []
            if not isinstance(related, list) or not all(isinstance(r, int) and not isinstance(r, bool)
                                                          and 0 < r < 2**31 for r in related) or len(related) > 50:
                raise KbError("related must be a list of at most 50 article ids")
            out["related"] = list(dict.fromkeys(related))
        if "language" in fields:
            if not isinstance(fields["language"], str) or not LANGUAGE_TAG.fullmatch(fields["language"]):
                raise KbError("language must be a language tag like zh-CN or en (as the IVR flows name them)")
            out["language"] = fields["language"]
        if "category" in fields and fields["category"] is not None and not isinstance(fields["category"], str):
            raise KbError("category must be a path like '售后/退换货'")
        return out

    async def _index(self, session: AsyncSession, article: KbArticle) -> None:
        await session.execute(delete(KbTerm).where(KbTerm.article_id == article.id))
        weights: Counter[str] = Counter()
        texts = {"title": article.title, "keywords": " ".join(article.keywords or []), "body": article.body}
        for field, factor in FIELD_WEIGHTS:
            for term, count in index_terms(texts[field]).items():
                weights[term] += count * factor
        session.add_all([KbTerm(article_id=article.id, term=t, weight=w) for t, w in weights.items()])

    async def create(self, actor: Actor, **fields: Any) -> dict[str, Any]:
        clean = self._fields(fields)
        for required in ("title", "body"):
            if required not in clean:
                raise KbError(f"{required} is required")
        now = self.clock()
        async with self.sessions() as session:
            async with session.begin():
                category_id = await self._category(session, fields.get("category"))
                article = KbArticle(title=clean["title"], body=clean["body"], category_id=category_id,
                                    keywords=clean.get("keywords", []), queues=clean.get("queues", []),
                                    ivr_nodes=clean.get("ivr_nodes", []), related=clean.get("related", []),
                                    language=clean.get("language", DEFAULT_LANGUAGE),
                                    author_id=actor.agent_id, created_at=now, updated_at=now)
                session.add(article)
                await session.flush()
                await self._index(session, article)
        return self.view(article)

    async def update(self, actor: Actor, article_id: int, **fields: Any) -> dict[str, Any]:
        clean = self._fields(fields)
        async with self.sessions() as session:
            async with session.begin():
                article = await self._load(session, actor, article_id)
                if not actor.supervises and not (article.author_id == actor.agent_id and article.status == "draft"):
                    raise KbError(f"article {article_id} is {article.status}: only an editor may change it", 403)
                if "category" in fields:
                    article.category_id = await self._category(session, fields["category"])
                for name, value in clean.items():
                    setattr(article, name, value)
                article.updated_at = self.clock()
                await self._index(session, article)
        return self.view(article)

    async def _move(self, actor: Actor, article_id: int, allowed_from: tuple[str, ...], to: str, *,
                    editor: bool) -> dict[str, Any]:
        async with self.sessions() as session:
            async with session.begin():
                article = await self._load(session, actor, article_id)
                if editor and not actor.supervises:
                    log.warning("forbidden: %s tried to make article %s %s", actor.agent_id, article_id, to)
                    raise KbError(f"only a supervisor or admin may make an article {to}", 403)
                if not editor and article.author_id != actor.agent_id and not actor.supervises:
                    raise KbError(f"only the author may submit article {article_id}", 403)
                if article.status not in allowed_from:
                    raise KbError(f"article {article_id} is {article.status}; it cannot become {to}", 409)
                article.status = to
                if to in ("approved", "draft") and editor:
                    article.reviewer_id = actor.agent_id
                if to == "published":
                    article.published_at = self.clock()
                article.updated_at = self.clock()
        log.info("article %s is %s (by %s)", article_id, to, actor.agent_id)
        return self.view(article)

    async def submit(self, actor: Actor, article_id: int) -> dict[str, Any]:
        return await self._move(actor, article_id, ("draft",), "submitted", editor=False)

    async def review(self, actor: Actor, article_id: int, *, approve: bool) -> dict[str, Any]:
        return await self._move(actor, article_id, ("submitted",), "approved" if approve else "draft", editor=True)

    async def publish(self, actor: Actor, article_id: int) -> dict[str, Any]:
        return await self._move(actor, article_id, ("approved", "retired"), "published", editor=True)

    async def retire(self, actor: Actor, article_id: int) -> dict[str, Any]:
        return await self._move(actor, article_id, ("published",), "retired", editor=True)

    # ------------------------------------------------------------------ reading
    async def read(self, actor: Actor, article_id: int) -> dict[str, Any]:
        async with self.sessions() as session:
            async with session.begin():
                article = await self._load(session, actor, article_id)
                if article.status == "published":
                    article.reads += 1
                related = []
                if article.related:
                    rows = (await session.execute(select(KbArticle).where(
                        KbArticle.id.in_(article.related), KbArticle.status == "published"))).scalars().all()
                    related = [{"id": r.id, "title": r.title} for r in rows]
        return {**self.view(article), "related_articles": related}

    async def search(self, actor: Actor, query: str, *, limit: int = 10, include_unpublished: bool = False,
                     log_search: bool = True) -> list[dict[str, Any]]:
        query = _text(query, "query", MAX_QUERY, required=True)
        terms = query_terms(query)
        if not terms:
            raise KbError("the query has no searchable word")
        if include_unpublished and not actor.supervises:
            raise KbError("only editors search unpublished articles", 403)
        async with self.sessions() as session:
            async with session.begin():
                matching = (select(KbTerm.article_id, func.sum(KbTerm.weight).label("score"))
                            .where(KbTerm.term.in_(terms)).group_by(KbTerm.article_id)
                            .having(func.count(func.distinct(KbTerm.term)) == len(terms)).subquery())
                stmt = (select(KbArticle, matching.c.score).join(matching, matching.c.article_id == KbArticle.id)
                        .order_by(desc(matching.c.score), desc(KbArticle.reads), KbArticle.id).limit(200))
                if not include_unpublished:
                    stmt = stmt.where(KbArticle.status == "published")
                rows = (await session.execute(stmt)).all()
                wanted = phrases(query)
                hits = []
                for article, score in rows:
                    haystack = normalise(" ".join([article.title, " ".join(article.keywords or []), article.body]))
                    if all(p in haystack for p in wanted):
                        hits.append({**self.view(article, full=False), "score": int(score)})
                    if len(hits) >= limit:
                        break
                if log_search:
                    session.add(KbSearch(at=self.clock(), by=actor.agent_id, query=query, hits=len(hits)))
        return hits

    async def suggest(self, *, queue: str | None, ivr_path: Iterable[str] = (), language: str | None = None,
                      limit: int = 5) -> list[dict[str, Any]]:
        """Published articles for a call: those tagged with its queue or an IVR node the caller passed; among
        them, those in the caller's language first (an English caller's agent reads out an English answer)."""
        nodes = set(ivr_path)
        async with self.sessions() as session:
            rows = (await session.execute(select(KbArticle).where(KbArticle.status == "published")
                                          .order_by(desc(KbArticle.reads), KbArticle.id))).scalars().all()
        scored = []
        for article in rows:
            score = (2 if queue and queue in (article.queues or []) else 0) + len(nodes & set(article.ivr_nodes or []))
            if score:
                scored.append((bool(language) and article.language == language, score, article))
        scored.sort(key=lambda item: (not item[0], -item[1]))
        return [self.view(article, full=False) for _, _, article in scored[:limit]]

    async def stats(self, *, days: int = 30, limit: int = 10) -> dict[str, Any]:
        since = self.clock() - timedelta(days=days)
        async with self.sessions() as session:
            read = (await session.execute(select(KbArticle).where(KbArticle.status == "published", KbArticle.reads > 0)
                                          .order_by(desc(KbArticle.reads), KbArticle.id).limit(limit))).scalars().all()
            searched = (await session.execute(
                select(KbSearch.query, func.count().label("n"), func.sum(KbSearch.hits).label("hits"))
                .where(KbSearch.at >= since).group_by(KbSearch.query)
                .order_by(desc("n"), KbSearch.query).limit(limit))).all()
            unanswered = (await session.execute(
                select(KbSearch.query, func.count().label("n")).where(KbSearch.at >= since, KbSearch.hits == 0)
                .group_by(KbSearch.query).order_by(desc("n"), KbSearch.query).limit(limit))).all()
        return {"most_read": [{"id": a.id, "title": a.title, "reads": a.reads} for a in read],
                "most_searched": [{"query": q, "count": n, "hits": int(h or 0)} for q, n, h in searched],
                "searched_without_answer": [{"query": q, "count": n} for q, n in unanswered]}

    # ------------------------------------------------------------------ guided questions (问题推测)
    async def add_guide_node(self, actor: Actor, *, parent_id: int | None, label: str = "", question: str = "",
                             article_id: int | None = None) -> dict[str, Any]:
        if not actor.supervises:
            raise KbError("only a supervisor or admin may edit the question tree", 403)
        label = _text(label, "label", 200)
        question = _text(question, "question", 500)
        if not question and article_id is None:
            raise KbError("a step asks a question or leads to an article")
        async with self.sessions() as session:
            async with session.begin():
                if parent_id is not None and await session.get(KbGuideNode, parent_id) is None:
                    raise KbError(f"no question step {parent_id}", 404)
                if article_id is not None and await session.get(KbArticle, article_id) is None:
                    raise KbError(f"no article {article_id}", 404)
                count = (await session.execute(select(func.count()).select_from(KbGuideNode).where(
                    KbGuideNode.parent_id == parent_id if parent_id is not None
                    else KbGuideNode.parent_id.is_(None)))).scalar_one()
                node = KbGuideNode(parent_id=parent_id, label=label, question=question, article_id=article_id,
                                   position=count)
                session.add(node)
        return {"id": node.id, "parent_id": parent_id, "label": label, "question": question, "article_id": article_id}

    async def guide(self, actor: Actor, node_id: int | None = None) -> dict[str, Any]:
        """One step: its question, the answers to choose from, and the article at a leaf (if published)."""
        async with self.sessions() as session:
            node = None
            if node_id is not None:
                node = await session.get(KbGuideNode, node_id)
                if node is None:
                    raise KbError(f"no question step {node_id}", 404)
            children = (await session.execute(select(KbGuideNode).where(
                KbGuideNode.parent_id == node_id if node_id is not None else KbGuideNode.parent_id.is_(None))
                .order_by(KbGuideNode.position, KbGuideNode.id))).scalars().all()
            article = None
            if node is not None and node.article_id is not None:
                found = await session.get(KbArticle, node.article_id)
                if found is not None and self._visible(actor, found):
                    article = self.view(found)
        return {"id": node_id, "question": node.question if node else "", "label": node.label if node else "",
                "choices": [{"id": c.id, "label": c.label} for c in children], "article": article}

    # ------------------------------------------------------------------ import / export
    async def export_all(self) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            cats = {c.id: c for c in (await session.execute(select(KbCategory))).scalars().all()}
            rows = (await session.execute(select(KbArticle).order_by(KbArticle.id))).scalars().all()

        def path(category_id: int | None) -> str:
            names: list[str] = []
            while category_id is not None and category_id in cats:
                names.append(cats[category_id].name)
                category_id = cats[category_id].parent_id
            return "/".join(reversed(names))

        return [{"id": a.id, "title": a.title, "body": a.body, "category": path(a.category_id),
                 "keywords": list(a.keywords or []), "queues": list(a.queues or []),
                 "ivr_nodes": list(a.ivr_nodes or []), "related": list(a.related or []), "language": a.language,
                 "status": a.status}
                for a in rows]

    async def import_all(self, actor: Actor, items: list[Any], *, source: str = "import") -> int:
        """Articles from an export (or a hand-written file): all of them, or none with the reasons."""
        if not isinstance(items, list):
            raise KbError(f"{source}: expected a list of articles")
        problems: list[str] = []
        cleaned: list[tuple[dict[str, Any], str, str | None]] = []
        for i, item in enumerate(items, 1):
            try:
                if not isinstance(item, dict):
                    raise KbError("an article is a mapping with title and body")
                status = item.get("status", "published")
                if status not in ARTICLE_STATES:
                    raise KbError(f"status {status!r} is not one of: {', '.join(ARTICLE_STATES)}")
                fields = {k: v for k, v in item.items() if k not in ("id", "status", "category")}
                clean = self._fields(fields)
                if "title" not in clean or "body" not in clean:
                    raise KbError("title and body are required")
                category = item.get("category")
                if category is not None and not isinstance(category, str):
                    raise KbError("category must be a path like '售后/退换货'")
                cleaned.append((clean, status, category))
            except KbError as exc:
                problems.append(f"{source}: article {i}: {exc}")
        if problems:
            raise KbError("\n".join(problems))
        if not actor.supervises:
            raise KbError("only a supervisor or admin imports articles", 403)
        now = self.clock()
        async with self.sessions() as session:
            async with session.begin():
                for clean, status, category in cleaned:
                    article = KbArticle(title=clean["title"], body=clean["body"],
                                        category_id=await self._category(session, category),
                                        keywords=clean.get("keywords", []), queues=clean.get("queues", []),
                                        ivr_nodes=clean.get("ivr_nodes", []), related=clean.get("related", []),
                                        language=clean.get("language", DEFAULT_LANGUAGE), status=status, author_id=actor.agent_id, reviewer_id=actor.agent_id,
                                        created_at=now, updated_at=now,
                                        published_at=now if status == "published" else None)
                    session.add(article)
                    await session.flush()
                    await self._index(session, article)
        return len(cleaned)
