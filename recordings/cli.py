"""`hotline recordings …`: search, export, archive, purge, verify, recover, migrate.

Times on the command line are local to settings.service.time_zone (an explicit offset is honoured);
the database holds UTC. `--from` is inclusive, `--to` exclusive.
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from contextlib import asynccontextmanager
from pathlib import Path

from recordings.search import SORT_FIELDS, RecordingFilters, parse_local_time, search_recordings


def register(subparsers: argparse._SubParsersAction) -> None:
    rec = subparsers.add_parser("recordings", help="search, export, archive, purge and verify call recordings",
                                description="Call recordings (录音): search and export, and maintenance (录音维护).")
    sub = rec.add_subparsers(dest="recordings_command", metavar="ACTION", required=True)

    s = sub.add_parser(
        "search", help="find recordings by agent, time range, caller, queue, customer",
        description="Find recordings; every filter narrows the result. Times are local to [service] time_zone "
                    "unless they carry an offset; --from is inclusive, --to exclusive. Prints a table (or "
                    "--json) and the total; replay one with `hotline recordings export ID -o FILE`.")
    s.add_argument("--agent", metavar="ID", help="agent ID (工号), e.g. 1001")
    s.add_argument("--from", dest="start_from", metavar="TIME",
                   help="calls started at or after TIME, local time, e.g. 2026-11-01T08:00 or 2026-11-01")
    s.add_argument("--to", dest="start_to", metavar="TIME",
                   help="calls started before TIME (exclusive); must be later than --from")
    s.add_argument("--caller", metavar="NUMBER", help="the caller's number, exactly")
    s.add_argument("--called", metavar="NUMBER", help="the dialled number, exactly")
    s.add_argument("--queue", metavar="NAME", help="queue / business line, e.g. presales")
    s.add_argument("--customer", metavar="ID", help="customer ID from the screen pop")
    s.add_argument("--call", dest="linkedid", metavar="LINKEDID", help="one call's segments")
    s.add_argument("--min-duration", type=float, metavar="SECONDS", help="at least this long")
    s.add_argument("--page", type=int, default=1, help="page number, from 1 (default 1)")
    s.add_argument("--page-size", type=int, default=100, metavar="N", help="rows per page, 1-500 (default 100)")
    s.add_argument("--sort", choices=sorted(SORT_FIELDS), default="started_at", help="sort key (default started_at)")
    s.add_argument("--desc", action="store_true", help="newest / longest first")
    s.add_argument("--json", action="store_true", help="one JSON object: items, total, page, page_size")
    s.set_defaults(func=cmd_search)

    e = sub.add_parser(
        "export", help="copy a recording's audio file out (audit-logged)",
        description="Copy one recording's audio file (found with `hotline recordings search`) to FILE for "
                    "replay; an audit row records who exported it.")
    e.add_argument("id", type=int, metavar="ID", help="the recording's id (first column of `search`)")
    e.add_argument("--output", "-o", type=Path, required=True, metavar="FILE", help="where to write the audio")
    e.add_argument("--actor", default=None, help="who is exporting, for the audit log (default: the login name)")
    e.set_defaults(func=cmd_export)

    a = sub.add_parser("archive", help="move recordings older than N days to archive storage (verified)")
    a.add_argument("--older-than", type=int, required=True, metavar="DAYS")
    a.add_argument("--no-progress", action="store_true")
    a.set_defaults(func=cmd_archive)

    p = sub.add_parser("purge", help="delete files past the retention of recording.yaml (rows stay, audit-logged)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_purge)

    v = sub.add_parser("verify", help="files without rows, rows without files, checksum mismatches (exit 1 if any)")
    v.add_argument("--json", action="store_true")
    v.add_argument("--no-progress", action="store_true")
    v.set_defaults(func=cmd_verify)

    r = sub.add_parser("recover", help="finish rows left recording/processing by a stopped service")
    r.add_argument("--older-than-hours", type=float, default=12.0, metavar="HOURS",
                   help="only rows started this long ago (younger calls may still be running; default 12)")
    r.add_argument("--no-progress", action="store_true")
    r.set_defaults(func=cmd_recover)

    m = sub.add_parser("migrate", help="apply the database migrations (same as `hotline db upgrade`)")
    m.set_defaults(func=cmd_migrate)


def _fail(message: str):
    from hotline.clitools import CliError

    raise CliError(message)


@asynccontextmanager
async def _context(args, *, read_only: bool = False):
    from hotline.clitools import require_database
    from hotline.config import load_settings
    from hotline.db import create_schema, make_engine, session_factory

    from recordings.context import context_from_settings

    from recordings.config import RecordingConfigError

    settings = load_settings(getattr(args, "config_dir", None))
    engine = make_engine(settings.database.url)
    try:
        try:
            ctx = context_from_settings(settings, session_factory(engine), engine)
        except RecordingConfigError as exc:
            _fail(str(exc))
        if read_only:
            require_database(settings)
        await create_schema(engine)
        yield ctx
    finally:
        await engine.dispose()


def _actor(args) -> str:
    return "cli:" + (getattr(args, "actor", None) or getpass.getuser())


async def cmd_search(args) -> int:
    async with _context(args, read_only=True) as ctx:
        try:
            filters = RecordingFilters(
                agent_id=args.agent,
                start_from=parse_local_time(args.start_from, ctx.time_zone) if args.start_from else None,
                start_to=parse_local_time(args.start_to, ctx.time_zone) if args.start_to else None,
                caller=args.caller,
                called=args.called,
                queue=args.queue,
                customer_id=args.customer,
                linkedid=args.linkedid,
                min_duration_s=args.min_duration,
                page=args.page,
                page_size=args.page_size,
                sort=args.sort,
                descending=args.desc,
            )
        except ValueError as exc:
            _fail(str(exc))
        if filters.start_from and filters.start_to and filters.start_from >= filters.start_to:
            _fail(f"--from {args.start_from} is not earlier than --to {args.start_to}: nothing could match")
        async with ctx.sessions() as session:
            page = await search_recordings(session, filters)
        if args.json:
            print(json.dumps(page.to_dict(), ensure_ascii=False))
            return 0
        print(f"{'id':>8}  {'start (' + str(ctx.time_zone) + ')':<22} {'agent':<6} {'caller':<14} {'queue':<12} "
              f"{'dur s':>7} {'seg':>3} {'rating':>6}  status")
        for rec in page.items:
            local = rec.started_at.astimezone(ctx.time_zone).strftime("%Y-%m-%d %H:%M:%S")
            duration = f"{rec.duration_s:.1f}" if rec.duration_s is not None else "-"
            rating = "-" if rec.satisfaction is None else str(rec.satisfaction)
            print(f"{rec.id:>8}  {local:<22} {rec.agent_id:<6} {rec.caller:<14} {rec.queue:<12} {duration:>7} "
                  f"{rec.segment:>3} {rating:>6}  {rec.status}")
        print(f"{page.total} recording(s); page {page.page}, {len(page.items)} shown")
        return 0


async def cmd_export(args) -> int:
    from recordings.maintenance import export

    async with _context(args, read_only=True) as ctx:
        try:
            rec = await export(ctx, args.id, args.output, _actor(args))
        except LookupError as exc:
            _fail(str(exc))
        print(f"recording {rec.id} ({rec.format}, {args.output.stat().st_size} bytes) -> {args.output}")
        return 0


async def cmd_archive(args) -> int:
    from recordings.maintenance import archive

    async with _context(args) as ctx:
        try:
            report = await archive(ctx, args.older_than, actor=_actor(args), progress=not args.no_progress)
        except ValueError as exc:
            _fail(str(exc))
        print(f"archived {len(report.archived)} recording(s) to {ctx.archive!r}")
        for rec_id, reason in report.failed.items():
            print(f"not archived: recording {rec_id}: {reason}", file=sys.stderr)
        return 1 if report.failed else 0


async def cmd_purge(args) -> int:
    from recordings.maintenance import purge

    async with _context(args) as ctx:
        try:
            report = await purge(ctx, actor=_actor(args), progress=not args.no_progress)
        except ValueError as exc:
            _fail(str(exc))
        print(f"purged {len(report.purged)} recording file(s); tiers without retention: "
              f"{', '.join(report.skipped_tiers) or 'none'}")
        return 0


async def cmd_verify(args) -> int:
    from recordings.maintenance import verify

    async with _context(args, read_only=True) as ctx:
        report = await verify(ctx, progress=not args.no_progress)
        if args.json:
            print(json.dumps(report.to_dict()))
        else:
            print(f"checked {report.checked} file(s)")
            for item in report.files_without_rows:
                print(f"file without row: {item}")
            for rec_id in report.rows_without_files:
                print(f"row without file: recording {rec_id}")
            for rec_id in report.checksum_mismatches:
                print(f"checksum mismatch: recording {rec_id}")
            print("ok" if report.ok else "PROBLEMS FOUND")
        return 0 if report.ok else 1


async def cmd_recover(args) -> int:
    from recordings.maintenance import recover

    async with _context(args) as ctx:
        try:
            report = await recover(ctx, args.older_than_hours, progress=not args.no_progress)
        except ValueError as exc:
            _fail(str(exc))
        print(f"completed {len(report.completed)} recording(s), flagged {len(report.flagged)}")
        for rec_id, reason in report.flagged.items():
            print(f"flagged: recording {rec_id}: {reason}")
        return 0


def cmd_migrate(args) -> int:
    from hotline.config import load_settings

    from recordings.migrate import upgrade

    settings = load_settings(getattr(args, "config_dir", None))
    upgrade(settings.database.url)
    print("database at the latest schema revision (same as `hotline db upgrade`)")
    return 0
