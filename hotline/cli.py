"""`hotline` command line: serve, sim, demo, plus the domain packages' subcommands.

Domain packages add subcommands with `<pkg>/cli.py: register(subparsers)`; a subcommand sets
`func=handler` (parser.set_defaults) where `handler(args)` is sync or async and returns an exit code or None.
`args.config_dir` is the --config directory (None: the default lookup of hotline.config.default_config_dir).
Exit codes: 0 ok, 2 usage, 1 runtime or configuration error (one line on stderr, no traceback).
"""
from __future__ import annotations

import argparse
import asyncio
import inspect
import logging
import os
import signal
import sys
from pathlib import Path

import crm.cli
import cti.cli
import hotline
import kb.cli
import ivr.cli
import migrations.cli
import recordings.cli
import reports.cli
from hotline.clitools import CliError
from hotline import gcpolicy, logsafe
from hotline.config import ConfigError, load_settings

DOMAIN_CLIS = (ivr.cli, cti.cli, recordings.cli, crm.cli, kb.cli, reports.cli, migrations.cli)
QUIET_LOGGERS = ("transitions", "amqtt", "aiosqlite", "asyncio", "httpx", "uvicorn", "multipart", "alembic")


# ------------------------------------------------------------------ parser

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotline", description="IVR + CTI server for Asterisk call centres (江南云商客服中心).")
    parser.add_argument("--config", dest="config_dir", type=Path, default=None, metavar="DIR",
                        help="configuration directory holding hotline.toml, agents.yaml, queues.yaml "
                             "(default: $HOTLINE_CONFIG_DIR, else ./config)")
    parser.add_argument("--log-level", default=None, choices=["debug", "info", "warning", "error"],
                        help="log verbosity (default: info for serve/sim, warning otherwise)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = subparsers.add_parser("serve", help="run the service: FastAGI + AMI client + HTTP API + MQTT",
                                  description="Run the production service against Asterisk (or `hotline sim`).")
    serve.set_defaults(func=cmd_serve, default_log="info")

    sim = subparsers.add_parser("sim", help="run the PBX simulator standalone (a stand-in Asterisk)",
                                description="Run pbxsim: AMI on --ami-port, dialplan AGI() calls to the service's "
                                            "FastAGI address from the configuration.")
    sim.add_argument("--host", default="127.0.0.1", help="address the simulator's AMI listens on")
    sim.add_argument("--ami-port", type=int, default=5038, help="AMI port (default 5038; 0 = any free port)")
    sim.add_argument("--agi-host", default=None, help="send AGI() calls here (default: [fastagi] host)")
    sim.add_argument("--agi-port", type=int, default=None, help="send AGI() calls here (default: [fastagi] port)")
    sim.add_argument("--conf-dir", type=Path, default=None, help="Asterisk configuration (default: asterisk-conf/)")
    sim.set_defaults(func=cmd_sim, default_log="info")

    demo = subparsers.add_parser("demo", help="simulator + service in one process; place scripted calls",
                                 description="Run the simulator, the service, SQLite and an embedded MQTT broker in "
                                             "one process on a virtual clock, place N scripted calls and print "
                                             "a summary.")
    demo.add_argument("--calls", type=_positive_int, default=20, help="number of calls (default 20)")
    demo.add_argument("--seed", type=int, default=1, help="random seed (same seed, same summary)")
    demo.add_argument("--json", action="store_true", help="print the summary as one JSON line (the last line)")
    demo.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                      help="keep the day's database (hotline.db), recordings and voicemail messages here; it must "
                           "not hold a day already (default: a new folder under the system's temporary directory, "
                           "kept after the run). The prompt sounds stay in the configured [paths] sounds_dir. The "
                           "summary prints where the day is and the commands that search and replay it")
    demo.set_defaults(func=cmd_demo, default_log="warning")

    live = subparsers.add_parser(
        "live-day", help="watch a simulated day live: simulator, service and callers in real time, HTTP on",
        description="Run the simulator, the service (HTTP on) and scripted callers and agents in real time (or "
                    "faster), so /wallboard and /agent show calls arriving, ringing, connecting and ending. Log "
                    "in on /agent as an agent (e.g. 1001 / 1234) to take that agent over from the script.")
    live.add_argument("--http-port", type=int, default=8080, help="HTTP port of the pages (default 8080)")
    live.add_argument("--speed", type=float, default=1.0, help="play the day N times faster (default 1: real time)")
    live.add_argument("--calls-per-hour", type=float, default=120, help="callers per hour (default 120)")
    live.add_argument("--seed", type=int, default=1, help="random seed of the callers and agents")
    live.add_argument("--data-dir", type=Path, default=None,
                      help="where the day's database and recordings go (default: a new temporary folder)")
    live.set_defaults(func=cmd_live_day, default_log="info")

    for module in DOMAIN_CLIS:
        module.register(subparsers)

    _add_version_everywhere(parser)
    _add_config_everywhere(parser)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value



def _add_config_everywhere(parser: argparse.ArgumentParser) -> None:
    """`--config DIR` before or after the subcommand, at every level (`hotline recordings search --config X`,
    `hotline flows --config X validate …`). The deepest one given wins."""
    if "--config" not in parser._option_string_actions:
        parser.add_argument("--config", dest="config_dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                            help="configuration directory (same as the global --config)")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _add_config_everywhere(sub)


def _add_version_everywhere(parser: argparse.ArgumentParser) -> None:
    if "--version" not in parser._option_string_actions:
        parser.add_argument("--version", action="version", version=f"hotline {hotline.__version__}")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _add_version_everywhere(sub)


# ------------------------------------------------------------------ running

def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    _configure_logging(args.log_level or getattr(args, "default_log", "warning"))
    try:
        result = func(args)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        sys.stdout.flush()                    # a closed pipe surfaces here, not in the interpreter's shutdown
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_went_away()
    except ConfigError as exc:
        for line in exc.lines:
            print(f"hotline: error: {line}", file=sys.stderr)
        return 1
    except CliError as exc:
        print(f"hotline: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        if _is_expected(exc):
            print(f"hotline: error: {exc}", file=sys.stderr)
            return 1
        raise
    return int(result or 0)


def _reader_went_away() -> int:
    """`hotline recordings search … | head`: the reader has what it wanted. Quietly exit 0, like a completed
    command, and point stdout at /dev/null so that the interpreter's final flush does not complain."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 0


def _is_expected(exc: BaseException) -> bool:
    from hotline.service import StartupError

    return isinstance(exc, (StartupError, OSError)) or type(exc).__name__ in ("FlowError", "PromptError")


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logsafe.install()                   # bounded lines, secrets masked, at every level
    if level != "debug":
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)


def settings_from_args(args: argparse.Namespace):
    return load_settings(getattr(args, "config_dir", None))


def checked_settings_from_args(args: argparse.Namespace):
    """Every file of the config folder checked as a whole (serve, sim, demo): raises ConfigError, one line each."""
    from hotline.configcheck import checked_settings

    return checked_settings(getattr(args, "config_dir", None))


async def _until_signal(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def cmd_serve(args: argparse.Namespace):
    settings = checked_settings_from_args(args)      # a bad configuration stops here, before anything starts

    async def run() -> int:
        from hotline.service import Service

        stop = asyncio.Event()
        async with Service(settings) as service:
            gcpolicy.settle()          # what start-up built stays for the process: out of every later collection
            print(f"hotline serve: FastAGI {settings.fastagi.host}:{service.fastagi_port}, "
                  f"HTTP {service.http_url}, AMI {settings.ami.host}:{settings.ami.port}, "
                  f"MQTT {logsafe.redact(service.mqtt_url)}", flush=True)
            waiter = asyncio.ensure_future(_until_signal(stop))
            stopped = asyncio.ensure_future(service.wait_stopped())
            await asyncio.wait({waiter, stopped}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            stopped.cancel()
        return 0
    return run()


def cmd_sim(args: argparse.Namespace):
    settings = settings_from_args(args)
    from pbxsim import simulator
    conf_dir = args.conf_dir or settings.paths.asterisk_conf_dir
    if not conf_dir.is_dir():
        raise CliError(f"{conf_dir}: Asterisk configuration directory not found")
    agi_target = (args.agi_host or settings.fastagi.host, args.agi_port or settings.fastagi.port)

    async def run() -> int:
        stop = asyncio.Event()
        settings.paths.recordings_dir.mkdir(parents=True, exist_ok=True)
        agents_file = settings.config_dir / "agents.yaml"
        async with simulator.Simulator(conf_dir=conf_dir, sounds_dirs=[settings.paths.sounds_dir],
                                       monitor_dir=settings.paths.recordings_dir, agents_file=agents_file,
                                       ami_port=args.ami_port, host=args.host, agi_override=agi_target) as sim:
            print(f"hotline sim: AMI {args.host}:{sim.ami_port}, AGI() -> {agi_target[0]}:{agi_target[1]}",
                  flush=True)
            await _until_signal(stop)
        return 0
    return run()


def cmd_live_day(args: argparse.Namespace):
    from hotline.liveday import run_live_day

    return run_live_day(args)


def cmd_demo(args: argparse.Namespace):
    from hotline.demo import run_demo_cli

    return run_demo_cli(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
