"""Build a FastAGI server running flows written inline in a test (loaded by the real flow loader)."""
from __future__ import annotations

import textwrap
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path

from ivr.agi.server import FastAgiServer
from ivr.flowdef.expr import runtime_functions
from ivr.flowdef.loader import load_flows
from ivr.runtime import FlowEngine, RuntimeDeps

FIXED_NOW = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)  # a Monday, 14:00 in Shanghai


def write_flows(directory: Path, flows: dict[str, str]) -> dict:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in flows.items():
        (directory / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return load_flows(directory)


@asynccontextmanager
async def ivr_server(directory: Path, flows: dict[str, str], **deps):
    loaded = write_flows(directory, flows)
    deps.setdefault("functions", runtime_functions({}, now=lambda: FIXED_NOW))
    deps.setdefault("now", lambda: FIXED_NOW)
    engine = FlowEngine(RuntimeDeps(flows=loaded, **deps))
    server = FastAgiServer({name: engine.handler(name) for name in loaded}, port=0)
    await server.start()
    try:
        yield server, engine
    finally:
        await server.close(timeout=2)
        assert server.active_sessions == 0


class Published(list):
    """A publish callback recording (topic, payload) — the bus seam, as EventBus.publish is called."""

    def __call__(self, topic: str, payload: dict) -> None:
        self.append((topic, payload))

    def topics(self) -> list[str]:
        return [t for t, _ in self]
