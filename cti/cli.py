"""`hotline customers import FILE.csv` (and `hotline customers show NUMBER`)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    customers = subparsers.add_parser("customers", help="customer records for screen pops and the IVR",
                                      description="Manage the customers table used by screen pops and the IVR.")
    sub = customers.add_subparsers(dest="customers_command", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="import (insert or update) customers from a CSV file",
                         description="CSV header: number,name,vip_level,key_account,blocked,notes,language "
                                     "(only number is required). A file with any bad row is refused whole.")
    imp.add_argument("file", type=Path, help="UTF-8 CSV file")
    imp.set_defaults(func=cmd_import)
    show = sub.add_parser("show", help="print one customer by phone number")
    show.add_argument("number")
    show.set_defaults(func=cmd_show)


async def _directory(args, *, read_only: bool = False):
    from hotline.clitools import require_database
    from hotline.config import load_settings
    from hotline.db import create_schema, make_engine, session_factory

    from cti.customers import CustomerDirectory

    settings = load_settings(getattr(args, "config_dir", None))
    if read_only:
        require_database(settings)
    settings.service.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database.url)
    await create_schema(engine)
    return engine, CustomerDirectory(session_factory(engine))


async def cmd_import(args) -> int:
    from cti.customers import CustomerImportError

    engine, directory = await _directory(args)
    try:
        report = await directory.import_csv(args.file)
    except CustomerImportError as exc:
        for problem in exc.problems:
            print(f"hotline: error: {problem}", file=sys.stderr)
        print(f"hotline: error: {args.file}: nothing imported ({len(exc.problems)} problem(s))", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(f"{args.file}: {report.rows} customer(s): {report.inserted} added, {report.updated} updated")
    return 0


async def cmd_show(args) -> int:
    import json

    engine, directory = await _directory(args, read_only=True)
    try:
        record = await directory.by_number(args.number)
    finally:
        await engine.dispose()
    if record is None:
        print(f"hotline: error: no customer with number {args.number}", file=sys.stderr)
        return 1
    print(json.dumps(record, ensure_ascii=False, indent=2))
    return 0
