"""Run the IVR against the PBX simulator (pbxsim) in virtual time: real TCP FastAGI, real dialplan,
scripted callers and agent softphones, SQLite for what the IVR stores."""
from __future__ import annotations

import wave
from pathlib import Path

from sqlalchemy.pool import NullPool

from hotline.config import load_settings
from hotline.db import create_schema, make_engine, session_factory
from ivr.prompts.catalogue import PromptCatalogue
from ivr.say import SAY_PROMPTS
from ivr.service import IvrDeps, start_ivr
from pbxsim.clock import run_virtual
from pbxsim.simulator import Simulator
from .dial_handoff import DialQueueHandoff

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "asterisk-conf"
CONFIG = ROOT / "config"


def make_sounds(directory: Path, seconds: float = 1.0, say_seconds: float = 0.3) -> Path:
    """A silent 8 kHz WAV per prompt and language, so the simulator knows how long each plays."""
    catalogue = PromptCatalogue.load(ROOT / "prompts" / "catalogue.yaml")
    ids = {pid: seconds for pid in catalogue.ids()}
    ids.update({pid: say_seconds for pid in SAY_PROMPTS})
    for lang in ("zh-CN", "en"):
        target = directory / "hotline" / lang
        target.mkdir(parents=True, exist_ok=True)
        for pid, length in ids.items():
            silent_wav(target / f"{pid}.wav", length)
    return directory


def settings_for(tmp_path: Path):
    return load_settings(CONFIG, env={
        "HOTLINE_FASTAGI_PORT": "0", "HOTLINE_SERVICE_DATA_DIR": str(tmp_path / "data"),
        "HOTLINE_PATHS_RECORDINGS_DIR": str(tmp_path / "recordings"),
    })


def silent_wav(path: Path, seconds: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * int(8000 * seconds))
    return path


def run_with_simulator(tmp_path: Path, body, *, queues=None, published=None, phone_defaults=None, seed=0,
                       recordings=None, flows=None, customers=None, calendars=None, now=None):
    """``await body(sim, ivr, sessions)`` inside a virtual-time loop with the IVR serving flows/."""
    sounds = make_sounds(tmp_path / "sounds")
    settings = settings_for(tmp_path)

    async def main():
        # NullPool: a fresh connection per session, nothing shared between the IVR's sessions and the test's
        # (an idle pooled aiosqlite worker would not hold pbxsim's clock either: only queries handed to it do)
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'ivr.db'}", poolclass=NullPool)
        await create_schema(engine)
        sessions = session_factory(engine)
        handoff = queues if queues is not None else DialQueueHandoff(settings.agents, settings.queues)
        ivr = await start_ivr(settings, IvrDeps(sessions=sessions, queues=handoff, publish=published,
                                                recordings=recordings, flows=flows, customers=customers,
                                                calendars=calendars, now=now))
        try:
            async with Simulator(CONF, sounds_dirs=[sounds], monitor_dir=tmp_path / "monitor",
                                 agents_file=CONFIG / "agents.yaml", agi_override=("127.0.0.1", ivr.port),
                                 start_ami=False, seed=seed, phone_defaults=phone_defaults) as sim:
                return await body(sim, ivr, sessions)
        finally:
            await ivr.close(timeout=5)
            assert ivr.agi.active_sessions == 0
            await engine.dispose()

    return run_virtual(main())
