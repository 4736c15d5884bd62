"""What the domain packages' subcommands share with the `hotline` command line (which sits above them)."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hotline.config import Settings


class CliError(Exception):
    """An expected failure: printed as `hotline: error: <message>` and exit code 1."""


def require_database(settings: Settings) -> None:
    """Read-only commands (search, export, verify, show) never create an empty SQLite database: say where
    they looked instead."""
    url = settings.database.url
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and url[len(prefix):] not in ("", ":memory:"):
        path = Path(url[len(prefix):])
        if not path.is_file():
            raise CliError(f"no database at {path} (config {settings.config_dir}); a demo's day is searched with "
                           f"the command its summary prints, e.g. `hotline demo --data-dir DIR` then "
                           f"`HOTLINE_SERVICE_DATA_DIR=DIR hotline recordings search`")


def subcommand(actions: argparse._SubParsersAction, name: str, help: str,
               func: Callable[[argparse.Namespace], Any]) -> argparse.ArgumentParser:
    """One ACTION of a domain's subcommand (`hotline requests list`…), taking ``--config`` like every level."""
    parser = actions.add_parser(name, help=help, description=help)
    parser.add_argument("--config", dest="config_dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                        help="configuration directory (default: config/ or $HOTLINE_CONFIG_DIR)")
    parser.set_defaults(func=func)
    return parser
