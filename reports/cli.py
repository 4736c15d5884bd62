"""`hotline reports`: the reports on the command line, and `rebuild` of the call-detail records.

    hotline reports interval --from 2026-11-24 --to 2026-11-25 --queue presales --interval 30m
    hotline reports kpi --from 2026-11-01 --to 2026-12-01 --format xlsx -o kpi.xlsx
    hotline reports rebuild --from 2026-11-24 --to 2026-11-25
Times are local times in the configured time zone; --from is inclusive, --to exclusive (a date alone
as --to on the same day as --from means that whole day). Mistakes: one line, exit code 1.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from reports.catalogue import REPORTS
from reports.export import FORMATS, to_csv, to_json, to_table, to_xlsx
from reports.filters import INTERVALS, ReportError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("reports", help="traffic, agent, KPI and IVR reports; rebuild call details",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", dest="config_dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                        help="configuration directory (same as the global --config)")
    names = parser.add_subparsers(dest="report", metavar="REPORT")
    for report in REPORTS.values():
        p = names.add_parser(report.name, help=f"{report.zh} / {report.en}")
        _range_options(p)
        p.add_argument("--queue", default=None)
        p.add_argument("--agent", default=None, help="工号")
        p.add_argument("--team", default=None)
        p.add_argument("--interval", default="1h", choices=list(INTERVALS))
        p.add_argument("--format", default="table", choices=FORMATS)
        p.add_argument("-o", "--output", type=Path, default=None,
                       help="write here (xlsx needs it; default: standard output)")
        p.set_defaults(func=cmd_report, default_log="warning")
    rebuild = names.add_parser("rebuild", help="rebuild the call-detail records of a range from the stored facts")
    _range_options(rebuild)
    rebuild.set_defaults(func=cmd_rebuild, default_log="warning")
    parser.set_defaults(func=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _range_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="since", required=True, metavar="WHEN", help="local date or date-time")
    p.add_argument("--to", dest="until", required=True, metavar="WHEN", help="local date or date-time (exclusive)")
    p.add_argument("--config", dest="config_dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                   help="configuration directory (same as the global --config)")


def _fail(message: str) -> int:
    print(f"hotline reports: error: {message}", file=sys.stderr)
    return 1


async def _database(args: argparse.Namespace) -> tuple[Any, Any]:
    from hotline.config import load_settings
    from hotline.db import make_engine
    from migrations.runner import check_current

    settings = load_settings(getattr(args, "config_dir", None))
    engine = make_engine(settings.database.url)
    try:
        await check_current(engine)
    except Exception:
        await engine.dispose()
        raise
    return settings, engine


async def cmd_report(args: argparse.Namespace) -> int:
    from hotline.db import session_factory
    from migrations.runner import SchemaError
    from reports.run import context_for, filters_from, report_named, run_report

    if args.format == "xlsx" and args.output is None:
        return _fail("--format xlsx writes a file: give -o FILE")
    try:
        settings, engine = await _database(args)
    except SchemaError as exc:
        return _fail(str(exc))
    try:
        report = report_named(args.report)
        filters = filters_from(settings, since=args.since, until=args.until, interval=args.interval,
                               queue=args.queue, agent=args.agent, team=args.team)
        with tqdm(total=2, desc=report.name, unit="step", disable=args.output is None, leave=False,
                  file=sys.stderr) as bar:
            result = await run_report(context_for(settings, session_factory(engine)), report, filters)
            bar.update(1)
            data = _render(args.format, report, result, filters)
            bar.update(1)
    except ReportError as exc:
        return _fail(str(exc))
    finally:
        await engine.dispose()
    if args.output is not None:
        args.output.write_bytes(data)
        print(f"hotline reports: {report.name}: {len(result.rows)} rows written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def _render(fmt: str, report: Any, result: Any, filters: Any) -> bytes:
    if fmt == "json":
        return (json.dumps(to_json(report, result, filters), ensure_ascii=False) + "\n").encode()
    if fmt == "csv":
        return to_csv(report, result, filters)
    if fmt == "xlsx":
        return to_xlsx(report, result, filters)
    return to_table(report, result, filters).encode()


async def cmd_rebuild(args: argparse.Namespace) -> int:
    from hotline.db import session_factory
    from migrations.runner import SchemaError
    from reports.filters import parse_filters
    from reports.service import builder_for

    try:
        settings, engine = await _database(args)
    except SchemaError as exc:
        return _fail(str(exc))
    try:
        filters = parse_filters(since=args.since, until=args.until, time_zone=settings.service.time_zone)
        builder = builder_for(settings, session_factory(engine))
        with tqdm(desc="call details", unit="call", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:
            written = await builder.rebuild(filters.since, filters.until, progress=bar)
    except ReportError as exc:
        return _fail(str(exc))
    finally:
        await engine.dispose()
    print(f"hotline reports rebuild: {written} call-detail records written", file=sys.stderr)
    return 0
