"""ivr.service: what hotline/service.py builds the IVR with (build_engine(settings, IvrDeps), flow_routes(engine))
and start_ivr(settings, deps)."""
from __future__ import annotations

import shutil

from hotline.config import load_settings
from ivr.service import IvrDeps, build_engine, flow_routes, start_ivr

from .dial_handoff import DialQueueHandoff
from .fakepbx import ScriptedCall
from .sim_env import CONFIG, ROOT


def _settings(tmp_path, flows_dir=None):
    env = {"HOTLINE_FASTAGI_PORT": "0", "HOTLINE_SERVICE_DATA_DIR": str(tmp_path / "data")}
    if flows_dir is not None:
        env["HOTLINE_PATHS_FLOWS_DIR"] = str(flows_dir)
    return load_settings(CONFIG, env=env)


class Acd:
    async def enqueue(self, call, queue, skill, priority): ...


def test_flow_routes_serve_every_shipped_flow_with_the_given_collaborators(tmp_path):
    published = []
    acd = Acd()
    engine = build_engine(_settings(tmp_path), IvrDeps(queues=acd, publish=lambda topic, payload: published.append(topic)))
    routes = flow_routes(engine)
    assert set(routes) == {"hotline", "qa_replay", "after_agent", "verify_id"}
    assert engine.deps.queues is acd                    # the handoff given is the one the queue node calls
    assert set(engine.deps.staff) >= {"1001", "9101"} and engine.deps.time_zone == "Asia/Shanghai"
    assert engine.deps.voicemail_dir.endswith("voicemail")


async def test_start_ivr_listens_and_runs_the_hotline_flow(tmp_path):
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    settings = _settings(tmp_path, flows)
    ivr = await start_ivr(settings, IvrDeps(queues=DialQueueHandoff(settings.agents, settings.queues)))
    try:
        assert ivr.port > 0
        call = await ScriptedCall(["hangup"], path="hotline").run(ivr.port)
    finally:
        await ivr.close()
    assert call.played == ["hotline/zh-CN/welcome"]
    assert ivr.engine.results[-1].outcome == "hangup" and ivr.agi.active_sessions == 0
