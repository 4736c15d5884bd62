"""Knowledge-base tables: categories (a tree), articles with their review state, the search index (one
row per article and term), the search log, and the guided question tree (问题推测)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime, utcnow

# draft -> submitted -> approved -> published -> retired; a reviewer may send a submission back to draft
ARTICLE_STATES = ("draft", "submitted", "approved", "published", "retired")


class KbCategory(Base):
    __tablename__ = "kb_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("kb_categories.id"), nullable=True)


class KbArticle(Base):
    __tablename__ = "kb_articles"
    __table_args__ = (Index("ix_kb_articles_status", "status", "reads"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("kb_categories.id"), nullable=True)
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    related: Mapped[list] = mapped_column(JSON, default=list)        # article ids
    queues: Mapped[list] = mapped_column(JSON, default=list)         # suggested during calls of these queues
    ivr_nodes: Mapped[list] = mapped_column(JSON, default=list)      # ... or of callers who passed these nodes
    language: Mapped[str] = mapped_column(String(16), default="zh-CN", server_default="zh-CN")   # of its answer
    status: Mapped[str] = mapped_column(String(16), default="draft")
    author_id: Mapped[str] = mapped_column(String(32))
    reviewer_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reads: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class KbTerm(Base):
    """The search index: which article holds which term, weighted by where (title and keywords count more)."""

    __tablename__ = "kb_terms"
    __table_args__ = (Index("ix_kb_terms_term", "term", "article_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True)
    term: Mapped[str] = mapped_column(String(32))
    weight: Mapped[int] = mapped_column(Integer)


class KbSearch(Base):
    __tablename__ = "kb_searches"
    __table_args__ = (Index("ix_kb_searches_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by: Mapped[str] = mapped_column(String(32))
    query: Mapped[str] = mapped_column(String(200))
    hits: Mapped[int] = mapped_column(Integer)


class KbGuideNode(Base):
    """One step of a guided question tree: the question asked, and the answers that lead on (children)
    or to an article (leaf)."""

    __tablename__ = "kb_guide_nodes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("kb_guide_nodes.id"), nullable=True, index=True)
    label: Mapped[str] = mapped_column(String(200), default="")      # the answer that leads here from the parent
    question: Mapped[str] = mapped_column(String(500), default="")   # what to ask next (empty at a leaf)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("kb_articles.id"), nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
