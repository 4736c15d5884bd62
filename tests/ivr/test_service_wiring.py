"""ivr.service: the seams hotline/service.py plugs in (agi_routes(deps), start_ivr(settings, deps))."""
from __future__ import annotations

import shutil
from types import SimpleNamespace

from hotline.config import load_settings
from ivr.runtime.queue_dial import DialQueueHandoff
from ivr.service import IvrDeps, agi_routes, build_engine, start_ivr

from .fakepbx import ScriptedCall
from .sim_env import CONFIG, ROOT


def _settings(tmp_path, flows_dir=None):
    env = {"HOTLINE_FASTAGI_PORT": "0", "HOTLINE_SERVICE_DATA_DIR": str(tmp_path / "data")}
    if flows_dir is not None:
        env["HOTLINE_PATHS_FLOWS_DIR"] = str(flows_dir)
    return load_settings(CONFIG, env=env)


def test_agi_routes_serve_every_shipped_flow_with_the_service_deps(tmp_path):
    published = []
    bus = SimpleNamespace(publish=lambda topic, payload: published.append(topic))
    deps = SimpleNamespace(settings=_settings(tmp_path), sessions=None, bus=bus, extras={})
    routes = agi_routes(deps)
    assert set(routes) == {"hotline", "qa_replay", "after_agent"}
    engine = deps.extras["ivr_engine"]
    assert isinstance(engine.deps.queues, DialQueueHandoff)   # no ACD in extras: ringall Dial
    assert set(engine.deps.staff) >= {"1001", "9101"} and engine.deps.time_zone == "Asia/Shanghai"
    assert engine.deps.voicemail_dir.endswith("voicemail")


def test_the_acd_from_extras_is_used_when_present(tmp_path):
    class Acd:
        async def enqueue(self, call, queue, skill, priority): ...

    acd = Acd()
    deps = SimpleNamespace(settings=_settings(tmp_path), sessions=None, bus=None, extras={"acd": acd})
    assert build_engine(deps.settings, deps).deps.queues is acd


def test_without_a_hotline_flow_the_foundation_greeting_answers(tmp_path):
    (tmp_path / "flows").mkdir()
    deps = SimpleNamespace(settings=_settings(tmp_path, tmp_path / "flows"), sessions=None, bus=None, extras={})
    routes = agi_routes(deps)
    assert list(routes) == ["hotline"]


async def test_start_ivr_listens_and_runs_the_hotline_flow(tmp_path):
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    ivr = await start_ivr(_settings(tmp_path, flows), IvrDeps())
    try:
        assert ivr.port > 0
        call = await ScriptedCall(["hangup"], path="hotline").run(ivr.port)
    finally:
        await ivr.close()
    assert call.played == ["hotline/zh-CN/welcome"]
    assert ivr.engine.results[-1].outcome == "hangup" and ivr.agi.active_sessions == 0
