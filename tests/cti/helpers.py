"""Shared test helpers for the CTI tests: agents from config, a database with the schema."""
from __future__ import annotations

from contextlib import asynccontextmanager
from types import MappingProxyType

from hotline.config import AgentConfig
from hotline.db import create_schema, make_engine, session_factory

AGENTS = [
    AgentConfig(id="1001", name="张伟", endpoint="PJSIP/1001", skills={"presales": 8}, languages=("zh-CN", "en"),
                team="A", role="agent", pin="1234"),
    AgentConfig(id="1002", name="王芳", endpoint="PJSIP/1002", skills={"presales": 6}, languages=("zh-CN",),
                team="A", role="agent", pin="2345", extra=MappingProxyType({"wrapup_seconds": 0.2})),
    AgentConfig(id="1004", name="刘洋", endpoint="PJSIP/1004", skills={"logistics": 8}, languages=("zh-CN",),
                team="B", role="agent", pin="4567"),
    AgentConfig(id="9001", name="赵敏", endpoint="PJSIP/9001", skills={}, languages=("zh-CN",),
                team="A", role="supervisor", pin="9001"),
    AgentConfig(id="9101", name="周琳", endpoint="PJSIP/9101", skills={}, languages=("zh-CN",),
                team="QA", role="qa", pin="9101"),
]


@asynccontextmanager
async def database(url: str):
    engine = make_engine(url)
    try:
        await create_schema(engine)
        yield session_factory(engine)
    finally:
        await engine.dispose()
