"""hotline/service.py, the composition root: each component gets the others through its constructor, and
there is one of each (the CTI's queue desk, the IVR's queue handoff and the FastAGI callback route are the
same ACD; the IVR's QA replay searches the recordings the tracker writes)."""
from __future__ import annotations

import shutil

import pytest

from hotline.service import Service, StartupError

from .conftest import PROJECT_ROOT


async def test_the_root_hands_each_component_the_others(service_settings):
    async with Service(service_settings, http=False) as service:
        assert service.cti.acd is service.queue_handoff
        assert service.queue_handoff.service is service.acd
        assert service.ivr.deps.queues is service.queue_handoff
        assert service.ivr.deps.recordings is service.recordings
        assert service.ami.session is service.cti.ami
        assert set(service.agi.routes) == {"hotline", "qa_replay", "after_agent", "verify_id", "acd-callback"}
        assert service.acd.callback_dialer is not None and service.acd.engine.keep_callbacks
        assert set(await service.deps.health()) == {"db", "mqtt", "ami", "cti", "acd", "fastagi"}


async def test_without_a_hotline_flow_the_service_does_not_start(service_settings, tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    shutil.copy(PROJECT_ROOT / "flows" / "qa_replay.yaml", flows / "qa_replay.yaml")
    shutil.copy(PROJECT_ROOT / "flows" / "calendars.yaml", flows / "calendars.yaml")
    settings = service_settings.replace(paths={"flows_dir": flows})
    with pytest.raises(StartupError, match="no flow named 'hotline'"):
        async with Service(settings, http=False):
            pass
