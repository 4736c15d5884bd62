"""The foundation's FastAGI handler (hotline.demo_agi) behind the real service, called by the simulator over TCP."""
from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.pool import NullPool

from hotline.config import Settings
from hotline.demo import ensure_prompts
from hotline.demo_agi import greeting_sound, make_greeting_handler
from hotline.service import Service
from pbxsim.clock import run_virtual
from pbxsim.participants import CallerScript
from pbxsim.simulator import Simulator


def test_greeting_handler_answers_plays_and_hangs_up(service_settings: Settings, tmp_path: Path):
    settings = service_settings
    ensure_prompts(settings, progress=False)
    greeting_file = settings.paths.sounds_dir / (greeting_sound("zh-CN") + ".wav")
    assert greeting_file.is_file()
    commands: list[str] = []

    async def scenario():
        async with Simulator(settings.paths.asterisk_conf_dir, sounds_dirs=[settings.paths.sounds_dir],
                             monitor_dir=tmp_path / "monitor", ami_port=0) as sim:
            sim.pbx.subscribe(lambda event: commands.append(dict(event.headers).get("Command", ""))
                              if event.name == "AGIExecStart" else None)
            live = settings.replace(ami={"port": sim.ami_port})
            routes = {"hotline": make_greeting_handler("zh-CN")}
            async with Service(live, agi_routes=routes, http=False, bus_keepalive=0,
                               engine_options={"poolclass": NullPool}) as service:
                sim.pbx.agi_override = ("127.0.0.1", service.fastagi_port)
                assert await service.ami.wait_connected(timeout=10)
                caller = await sim.place_call(CallerScript("13800138000", dnid="4008001234"))
                outcome = await asyncio.wait_for(caller.wait(), 60)
                return outcome, caller.channel.variables.get("AGISTATUS")

    outcome, agi_status = run_virtual(scenario())
    assert commands[:3] == ["ANSWER", 'STREAM FILE hotline/zh-CN/welcome ""', "HANGUP"], commands
    assert outcome.answered is not None
    assert outcome.hung_up_by == "pbx"                      # the service hung up after the greeting
    assert outcome.ended - outcome.answered >= 1.0          # the greeting played for its length
    assert agi_status in ("SUCCESS", "HANGUP")
