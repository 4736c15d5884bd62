"""`hotline db upgrade` (bring the database to the code's schema) and `hotline db current`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="database schema: upgrade to this version's schema, show the revision")
    sub = parser.add_subparsers(dest="db_command", metavar="COMMAND")
    for name, func, text in (("upgrade", cmd_upgrade, "apply every pending migration (keeps the data)"),
                             ("current", cmd_current, "print the database's schema revision and the code's")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--config", dest="config_dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                       help="configuration directory (same as the global --config)")
        p.set_defaults(func=func, default_log="warning")
    parser.set_defaults(func=lambda args: (parser.print_help(sys.stderr), 2)[1])


async def cmd_upgrade(args: argparse.Namespace) -> int:
    from hotline.config import load_settings
    from hotline.db import make_engine
    from migrations.runner import current, upgrade

    settings = load_settings(getattr(args, "config_dir", None))
    settings.service.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database.url)
    try:
        before = await current(engine)
        await upgrade(engine)
        after = await current(engine)
    finally:
        await engine.dispose()
    print(f"hotline db upgrade: {before or 'empty'} -> {after}")
    return 0


async def cmd_current(args: argparse.Namespace) -> int:
    from hotline.config import load_settings
    from hotline.db import make_engine
    from migrations.runner import current, head

    engine = make_engine(load_settings(getattr(args, "config_dir", None)).database.url)
    try:
        revision = await current(engine)
    finally:
        await engine.dispose()
    print(f"database {revision or 'none'}, code {head()}")
    return 0
