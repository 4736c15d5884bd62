"""`hotline flows validate|graph` and `hotline prompts build|list`."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from hotline.config import load_settings
from ivr.flowdef.calendars import load_calendars
from ivr.flowdef.graph import GraphError, render_png, to_dot, to_mermaid
from ivr.flowdef.loader import load_flow
from ivr.flowdef.model import FlowError
from ivr.flowdef.source import NON_FLOW_FILES, flow_files
from ivr.flowdef.validator import validate_files
from ivr.prompts.build import PromptError, build_prompts, plan, read_manifest
from ivr.prompts.catalogue import PromptCatalogue


def register(subparsers: argparse._SubParsersAction) -> None:
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--catalogue", type=Path, default=None,
                       help="prompt catalogue (default: [paths] prompts_catalogue, prompts/catalogue.yaml)")

    flows = subparsers.add_parser("flows", help="check and draw IVR flow files (flows/*.yaml)",
                                  description="Check and draw IVR flow files.")
    flows_sub = flows.add_subparsers(dest="flows_command", metavar="ACTION", required=True)
    validate = flows_sub.add_parser(
        "validate", help="check flow files; errors as file:line:column: reason",
        description="Check flow files (and calendars.yaml) against the node schema, the graph rules and the prompt "
                    "catalogue. Prints `file:line:column: reason` per problem and `OK file` per good file; "
                    "exits 1 if anything is wrong.")
    validate.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="flow files or directories of them")
    common(validate)
    validate.add_argument("--calendars", type=Path, default=None,
                          help="calendars file (default: calendars.yaml beside the flows, else [paths] flows_dir)")
    validate.set_defaults(func=cmd_flows_validate)

    graph = flows_sub.add_parser("graph", help="draw a flow as Mermaid, DOT or PNG",
                                 description="Draw a flow: Mermaid or Graphviz DOT text, or a PNG through Graphviz.")
    graph.add_argument("flow", metavar="FLOW", help="flow file, or the name of a flow in [paths] flows_dir")
    graph.add_argument("--format", choices=("mermaid", "dot", "png"), default="mermaid")
    graph.add_argument("--output", "-o", type=Path, default=None,
                       help="write here (default: stdout; for png: <flow>.png)")
    common(graph)
    graph.set_defaults(func=cmd_flows_graph)

    prompts = subparsers.add_parser("prompts", help="the prompt catalogue and its audio files",
                                    description="List prompts and build their 8 kHz WAV files.")
    prompts_sub = prompts.add_subparsers(dest="prompts_command", metavar="ACTION", required=True)
    build = prompts_sub.add_parser(
        "build", help="make <sounds_dir>/hotline/<lang>/<id>.wav for every prompt",
        description="Synthesize (espeak-ng) or convert studio recordings into 8 kHz mono 16-bit WAV files; "
                    "prompts whose text did not change are skipped.")
    common(build)
    build.add_argument("--sounds-dir", type=Path, default=None, help="default: [paths] sounds_dir")
    build.add_argument("--studio-dir", type=Path, default=None, help="default: [paths] studio_dir (prompts/studio)")
    build.add_argument("--lang", action="append", default=None, metavar="LANG",
                       help="only this language (repeatable), e.g. zh-CN")
    build.add_argument("--force", action="store_true", help="rebuild even unchanged prompts")
    build.add_argument("--jobs", "-j", type=int, default=None, help="parallel workers (default and cap: CPU count)")
    build.add_argument("--no-progress", action="store_true", help="no progress bar")
    build.set_defaults(func=cmd_prompts_build)

    listing = prompts_sub.add_parser("list", help="list prompt IDs, languages, build state and text")
    common(listing)
    listing.add_argument("--sounds-dir", type=Path, default=None, help="default: [paths] sounds_dir")
    listing.add_argument("--studio-dir", type=Path, default=None, help="default: [paths] studio_dir")
    listing.add_argument("--lang", action="append", default=None, metavar="LANG")
    listing.set_defaults(func=cmd_prompts_list)


# --- settings ------------------------------------------------------------------------------------------

def _settings(args: argparse.Namespace) -> Any:
    return load_settings(getattr(args, "config_dir", None))


def _catalogue(args: argparse.Namespace, settings: Any):
    return PromptCatalogue.load(args.catalogue or settings.paths.prompts_catalogue)


def _print_problems(problems) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)


# --- flows ---------------------------------------------------------------------------------------------

def cmd_flows_validate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    failed = False
    try:
        catalogue = _catalogue(args, settings)
    except FlowError as exc:
        _print_problems(exc.errors)
        return 1

    flow_paths: list[Path] = []
    calendar_paths: list[Path] = []
    for path in args.paths:
        if path.is_dir():
            flow_paths.extend(flow_files(path))
            calendar_paths.extend(p for p in (path / "calendars.yaml",) if p.is_file())
        elif path.name in NON_FLOW_FILES:
            calendar_paths.append(path)
        else:
            flow_paths.append(path)
    if args.calendars is not None:
        calendar_paths.insert(0, args.calendars)
    elif not calendar_paths:
        beside = [p.parent / "calendars.yaml" for p in flow_paths if (p.parent / "calendars.yaml").is_file()]
        default = Path(settings.paths.flows_dir) / "calendars.yaml"
        calendar_paths.append(beside[0] if beside else default)

    calendars = None
    time_zone = str(getattr(settings.service, "time_zone", "Asia/Shanghai"))
    for index, path in enumerate(dict.fromkeys(calendar_paths)):
        try:
            loaded = load_calendars(path, time_zone)
        except FlowError as exc:
            _print_problems(exc.errors)
            failed = True
            continue
        if calendars is None:
            calendars = loaded
        if path.is_file() and (path in args.paths or any(path.parent == p for p in args.paths if p.is_dir())):
            print(f"OK {path}")

    queues = [q.name for q in getattr(settings, "queues", [])] or None
    flows, problems = validate_files(flow_paths, catalogue, calendars=calendars, queues=queues)
    _print_problems(problems)
    bad = {p.path for p in problems}
    for path in flow_paths:
        if path not in bad:
            print(f"OK {path}")
    return 1 if failed or problems else 0


def _resolve_flow(args: argparse.Namespace, settings: Any) -> Path:
    candidate = Path(args.flow)
    if candidate.suffix in (".yaml", ".yml") or candidate.is_file():
        return candidate
    return Path(settings.paths.flows_dir) / f"{args.flow}.yaml"


def cmd_flows_graph(args: argparse.Namespace) -> int:
    settings = _settings(args)
    path = _resolve_flow(args, settings)
    try:
        flow = load_flow(path, _catalogue(args, settings))
    except FlowError as exc:
        _print_problems(exc.errors)
        return 1
    if args.format == "png":
        output = args.output or Path(f"{flow.name}.png")
        try:
            render_png(flow, output)
        except GraphError as exc:
            print(f"hotline: error: {exc}", file=sys.stderr)
            return 1
        print(f"wrote {output}")
        return 0
    text = to_mermaid(flow) if args.format == "mermaid" else to_dot(flow)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


# --- prompts -------------------------------------------------------------------------------------------

def cmd_prompts_build(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        catalogue = _catalogue(args, settings)
    except FlowError as exc:
        _print_problems(exc.errors)
        return 1
    sounds_dir = args.sounds_dir or settings.paths.sounds_dir
    studio_dir = args.studio_dir or settings.paths.studio_dir
    if args.jobs is not None and args.jobs < 1:
        print("hotline: error: --jobs must be at least 1", file=sys.stderr)
        return 2
    try:
        report = build_prompts(catalogue, sounds_dir, studio_dir, langs=args.lang, force=args.force,
                               workers=args.jobs, progress=not args.no_progress)
    except PromptError as exc:
        print(f"hotline: error: {exc}", file=sys.stderr)
        return 1
    for key, reason in sorted(report.failed):
        print(f"failed {key}: {reason}", file=sys.stderr)
    print(f"prompts: {report.summary()} → {Path(sounds_dir) / 'hotline'}")
    return 0 if report.ok else 1


def cmd_prompts_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        catalogue = _catalogue(args, settings)
    except FlowError as exc:
        _print_problems(exc.errors)
        return 1
    sounds_dir = args.sounds_dir or settings.paths.sounds_dir
    manifest = read_manifest(sounds_dir)
    try:
        _list_prompts(catalogue, manifest, sounds_dir, args.studio_dir or settings.paths.studio_dir, args.lang)
    except BrokenPipeError:  # `hotline prompts list | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _list_prompts(catalogue, manifest, sounds_dir, studio_dir, langs) -> None:
    for job in plan(catalogue, sounds_dir, studio_dir, langs):
        entry = manifest.get(job.key)
        if not job.output.is_file():
            state = "missing"
        elif entry is None or entry.get("hash") != job.digest:
            state = "changed"
        else:
            state = "built"
        source = "studio" if job.studio else "tts"
        print(f"{job.prompt_id}\t{job.lang}\t{state}\t{source}\t{job.text}")
