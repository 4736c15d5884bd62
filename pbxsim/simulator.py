"""The simulator as one object (tests, demo) and as a standalone process (``hotline sim``).

    async with Simulator(conf_dir=Path("asterisk-conf"), sounds_dirs=[...], monitor_dir=tmp) as sim:
        sim.ami_port                      # AMI on 127.0.0.1:<port> (port 0 -> a free one)
        sim.phones["1001"].set_behaviour(mode="busy")
        call = await sim.place_call(CallerScript("13800138000", dnid="4008001234", steps=["wait 5", "press 1"]))
        outcome = await call.wait()

``serve_forever(...)`` runs the same thing until cancelled; ``main(argv)`` is the
command line (``python -m pbxsim --conf asterisk-conf --ami-port 5038``).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Any, Callable

from .ami import AmiServer
from .config import ConfigError, load_agents, load_manager_users, load_musiconhold, load_pjsip, load_queues
from .dialplan import Dialplan, DialplanError
from .endpoints import EndpointConfig
from .participants import Caller, CallerScript, PhoneBehaviour, Softphone
from .pbx import Pbx
from .sounds import SoundLibrary

log = logging.getLogger("pbxsim")


class Simulator:
    def __init__(self, conf_dir: Path | str, *, sounds_dirs: list[Path | str] | None = None,
                 monitor_dir: Path | str | None = None, agents_file: Path | str | None = None,
                 ami_port: int = 0, host: str = "127.0.0.1", agi_override: tuple[str, int] | None = None,
                 seed: int = 0, epoch: int | None = None, phone_defaults: PhoneBehaviour | dict | None = None,
                 newexten_events: bool = True, start_ami: bool = True) -> None:
        self.conf_dir = Path(conf_dir)
        self.sounds_dirs = [Path(d) for d in (sounds_dirs or [])]
        self.monitor_dir = Path(monitor_dir) if monitor_dir else self.conf_dir.parent / "data" / "monitor"
        self.agents_file = Path(agents_file) if agents_file else None
        self.host = host
        self._ami_port = ami_port
        self.agi_override = agi_override
        self.seed = seed
        self.epoch = epoch
        if isinstance(phone_defaults, dict):
            phone_defaults = PhoneBehaviour(**phone_defaults)
        self.phone_defaults = phone_defaults or PhoneBehaviour()
        self.newexten_events = newexten_events
        self.start_ami = start_ami
        self.pbx: Pbx | None = None
        self.ami = None
        self.users: dict = {}
        self.phones: dict[str, Softphone] = {}
        self.callers: list[Caller] = []

    # -- building ------------------------------------------------------------------
    def build(self) -> Pbx:
        conf = self.conf_dir
        dialplan = Dialplan.load(conf / "extensions.conf")
        endpoints = load_pjsip(conf / "pjsip.conf") if (conf / "pjsip.conf").exists() else []
        agents = load_agents(self.agents_file) if self.agents_file else []
        known = {e.name for e in endpoints}
        for a in agents:
            if a.endpoint not in known:
                endpoints.append(EndpointConfig(name=a.endpoint, context="hotline-agents", kind="phone"))
                known.add(a.endpoint)
        self.users = load_manager_users(conf / "manager.conf") if (conf / "manager.conf").exists() else {}
        pbx = Pbx(dialplan, endpoints=endpoints, sounds=SoundLibrary(self.sounds_dirs),
                  monitor_dir=self.monitor_dir, seed=self.seed, epoch=self.epoch, agi_override=self.agi_override,
                  newexten_events=self.newexten_events, queues=load_queues(conf / "queues.conf"),
                  moh_classes=load_musiconhold(conf / "musiconhold.conf"))
        per_agent = {a.endpoint: a.softphone for a in agents}
        for ep in endpoints:
            if ep.kind != "phone":
                continue
            settings = dict(vars(self.phone_defaults))
            settings.update(per_agent.get(ep.name, {}))
            self.phones[ep.name] = Softphone(pbx, ep.name, PhoneBehaviour(**settings))
        self.pbx = pbx
        return pbx

    async def __aenter__(self) -> "Simulator":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def start(self) -> None:
        pbx = self.build()
        pbx.loop_time()
        pbx.fully_booted_at = pbx.last_reload_at = pbx.loop_time()
        for phone in self.phones.values():
            phone.start()
        if self.start_ami:
            self.ami = AmiServer(pbx, self.users, host=self.host, port=self._ami_port)
            await self.ami.start()

    async def close(self) -> None:
        if self.ami is not None:
            await self.ami.close()
            self.ami = None
        if self.pbx is not None:
            await self.pbx.close()

    @property
    def ami_port(self) -> int:
        return self.ami.port if self.ami is not None else self._ami_port

    def external(self, number: str, **behaviour: Any):
        """The party reached at ``number`` through the trunk (answer_after_s, mode, talk_time_s...)."""
        assert self.pbx is not None, "Simulator not started"
        party = self.pbx.external_party(number)
        if behaviour:
            party.set_behaviour(**behaviour)
        return party

    # -- traffic ---------------------------------------------------------------------
    async def place_call(self, caller: CallerScript | Caller) -> Caller:
        """Start a scripted call through the trunk; returns the Caller (``await caller.wait()``)."""
        assert self.pbx is not None, "Simulator not started"
        if isinstance(caller, CallerScript):
            caller = Caller(self.pbx, caller)
        caller.start()
        self.callers.append(caller)
        return caller


async def serve_forever(conf_dir: Path | str, *, ami_host: str = "127.0.0.1", ami_port: int = 5038,
                        sounds_dirs: list[Path | str] | None = None, monitor_dir: Path | str | None = None,
                        agents_file: Path | str | None = None, agi_override: tuple[str, int] | None = None,
                        seed: int = 0, newexten_events: bool = True,
                        ready: Callable[[Simulator], Any] | None = None) -> None:
    """Run the simulator (real time) until cancelled."""
    async with Simulator(conf_dir, sounds_dirs=sounds_dirs, monitor_dir=monitor_dir, agents_file=agents_file,
                         ami_port=ami_port, host=ami_host, agi_override=agi_override, seed=seed,
                         newexten_events=newexten_events) as sim:
        if ready is not None:
            ready(sim)
        await asyncio.Event().wait()


def build_parser(prog: str = "pbxsim") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Asterisk-compatible PBX simulator (AMI + FastAGI client).")
    add_arguments(p)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--conf", default="asterisk-conf", help="directory with extensions.conf, pjsip.conf, manager.conf")
    p.add_argument("--ami-host", default="127.0.0.1")
    p.add_argument("--ami-port", type=int, default=5038, help="0 picks a free port")
    p.add_argument("--sounds", action="append", default=[], help="sounds directory (repeatable)")
    p.add_argument("--monitor-dir", default=None, help="where MixMonitor/Record write WAV files")
    p.add_argument("--agents", default=None, help="hotline config/agents.yaml (adds softphones)")
    p.add_argument("--agi", default=None, metavar="HOST:PORT", help="send every AGI(agi://...) to this address")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-newexten", action="store_true", help="do not emit Newexten events (less AMI noise)")


async def run_from_args(args: argparse.Namespace) -> int:
    agi = None
    if args.agi:
        host, _, port = args.agi.rpartition(":")
        agi = (host or "127.0.0.1", int(port))

    def ready(sim: Simulator) -> None:
        print(f"pbxsim: AMI on {args.ami_host}:{sim.ami_port}, {len(sim.phones)} softphones, "
              f"{len(sim.pbx.dialplan.contexts)} contexts", flush=True)

    task = asyncio.ensure_future(serve_forever(args.conf, ami_host=args.ami_host, ami_port=args.ami_port,
                                               sounds_dirs=args.sounds, monitor_dir=args.monitor_dir,
                                               agents_file=args.agents, agi_override=agi, seed=args.seed,
                                               newexten_events=not args.no_newexten, ready=ready))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, task.cancel)
        except (NotImplementedError, RuntimeError):  # no signal handlers here (not the main thread, Windows)
            pass
    try:
        await task
    except asyncio.CancelledError:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(run_from_args(args))
    except (ConfigError, DialplanError) as exc:
        print(f"pbxsim: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"pbxsim: cannot listen on {args.ami_host}:{args.ami_port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
