"""`hotline kb import FILE.json | export [-o FILE] | search QUERY`: the knowledge base from the command line.

The file is a JSON list of articles: {"title", "body", "category": "售后/退换货", "keywords": [...],
"queues": [...], "ivr_nodes": [...], "status": "published"}; an import is all or nothing, each problem
reported as `FILE: article N: reason`. Imports are made on behalf of an editor (`--as`, a supervisor or
admin of agents.yaml)."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.clitools import subcommand
from hotline.config import load_settings
from hotline.clitools import require_database
from hotline.db import make_engine, session_factory
from kb.service import KbError, KnowledgeBase
from migrations.runner import upgrade as upgrade_schema

MAX_IMPORT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Editor:
    agent_id: str
    role: str

    @property
    def supervises(self) -> bool:
        return self.role in ("supervisor", "admin")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("kb", help="knowledge base: import, export, search",
                                   description=__doc__.split("\n\n", 1)[1])
    sub = parser.add_subparsers(dest="kb_command", metavar="ACTION", required=True)

    imp = subcommand(sub, "import", "import articles from a JSON file (all or nothing)", cmd_import)
    imp.add_argument("file", type=Path)
    imp.add_argument("--as", dest="actor", required=True, help="a supervisor or admin of agents.yaml")
    exp = subcommand(sub, "export", "write every article as JSON", cmd_export)
    exp.add_argument("-o", "--output", type=Path, help="file (default: standard output)")
    find = subcommand(sub, "search", "search the published articles", cmd_search)
    find.add_argument("query")
    find.add_argument("--limit", type=int, default=10)


async def _kb(args: argparse.Namespace, work: Callable[[KnowledgeBase, Any], Any]) -> int:
    settings = load_settings(getattr(args, "config_dir", None))
    if args.kb_command in ("search", "export"):
        require_database(settings)          # reading never creates an empty database
    actor: Any = Editor("cli", "admin")
    if getattr(args, "actor", None) is not None:
        agent = settings.agent(args.actor)
        if agent is None:
            print(f"hotline: error: no agent {args.actor!r} in agents.yaml", file=sys.stderr)
            return 1
        actor = Editor(agent.id, agent.role)
    settings.service.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database.url)
    try:
        await upgrade_schema(engine)
        result = await work(KnowledgeBase(session_factory(engine)), actor)
    except KbError as exc:
        for line in str(exc).splitlines():
            print(f"hotline: error: {line}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    if result:
        print(result)
    return 0


async def cmd_import(args: argparse.Namespace) -> int:
    async def work(kb: KnowledgeBase, actor: Any) -> str:
        try:
            if args.file.stat().st_size > MAX_IMPORT_BYTES:
                raise KbError(f"{args.file}: larger than {MAX_IMPORT_BYTES} bytes")
            items = json.loads(args.file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KbError(f"{args.file}: no such file") from None
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise KbError(f"{args.file}: not a UTF-8 JSON list of articles ({str(exc).splitlines()[0][:200]})") from None
        count = await kb.import_all(actor, items, source=str(args.file))
        return f"{args.file}: {count} article(s) imported"
    return await _kb(args, work)


async def cmd_export(args: argparse.Namespace) -> int:
    async def work(kb: KnowledgeBase, actor: Any) -> str | None:
        text = json.dumps(await kb.export_all(), ensure_ascii=False, indent=2)
        if args.output is None:
            return text
        args.output.write_text(text + "\n", encoding="utf-8")
        return None
    return await _kb(args, work)


async def cmd_search(args: argparse.Namespace) -> int:
    async def work(kb: KnowledgeBase, actor: Any) -> str:
        hits = await kb.search(actor, args.query, limit=args.limit, log_search=False)
        return "\n".join(f"#{h['id']:<5} {h['title']}  — {h['snippet'][:60]}" for h in hits) or "no article found"
    return await _kb(args, work)
