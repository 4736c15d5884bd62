"""`hotline requests …`: service requests (工单) from the command line.

  hotline requests list [--status S] [--owner ID] [--customer N] [--due near|overdue] [--json]
  hotline requests show ID [--json]
  hotline requests create --as ID --type complaint --summary TEXT (--customer N | --linkedid L) [--queue Q] …
  hotline requests update ID --as ID [--status S] [--note TEXT] …
  hotline requests followup ID --as ID [--at ISO] [--number N] [--kind reply|satisfaction]
  hotline requests sweep                     escalate near-due and mark overdue requests now (as the service does)
  hotline requests kpis [--from ISO] [--to ISO] [--json]
`--as` names the agent (agents.yaml) on whose behalf the change is made; it is recorded in the history."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from crm.calls import StoredCalls
from crm.config import RequestConfigError, load_request_rules, queues_of_agents
from crm.kpi import request_kpis
from crm.models import FOLLOWUP_KINDS, PRIORITIES, STATUSES
from crm.requests import SYSTEM, Actor, RequestError, RequestService, Staff
from hotline.clitools import subcommand
from hotline.config import Settings, load_settings
from hotline.clitools import require_database
from hotline.db import make_engine, session_factory
from migrations.runner import upgrade as upgrade_schema


READ_ONLY = ("list", "show", "kpis")


class NullPublisher:
    """The CLI runs beside the service: it announces nothing (the service's watch announces what it finds)."""

    def publish(self, suffix: str, payload: dict[str, Any], retain: bool = False) -> bool:
        return False


def _iso_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time (YYYY-MM-DDTHH:MM[:SS][+08:00]): {text!r}") from None
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("requests", help="service requests (工单): list, show, create, update, KPIs",
                                   description=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="requests_command", metavar="ACTION", required=True)

    listing = subcommand(sub, "list", "requests, earliest due first", cmd_list)
    listing.add_argument("--status", choices=STATUSES + ("open-any",))
    listing.add_argument("--owner", help="agent id")
    listing.add_argument("--customer", help="phone number")
    listing.add_argument("--due", choices=("near", "overdue"))
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="one JSON object")

    show = subcommand(sub, "show", "one request with its history and follow-ups", cmd_show)
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")

    create = subcommand(sub, "create", "open a request", cmd_create)
    create.add_argument("--as", dest="actor", required=True, help="agent id of agents.yaml (becomes the owner)")
    create.add_argument("--type", required=True, choices=("enquiry", "complaint", "suggestion", "praise", "business"))
    create.add_argument("--summary", required=True)
    create.add_argument("--details", default="")
    create.add_argument("--category", default="")
    create.add_argument("--priority", choices=PRIORITIES, default="normal")
    create.add_argument("--customer", help="the customer's phone number")
    create.add_argument("--linkedid", help="the call it came from")
    create.add_argument("--queue")

    update = subcommand(sub, "update", "change a request's status or fields, or add a note", cmd_update)
    update.add_argument("id", type=int)
    update.add_argument("--as", dest="actor", required=True)
    update.add_argument("--status", choices=STATUSES)
    update.add_argument("--priority", choices=PRIORITIES)
    update.add_argument("--note")

    followup = subcommand(sub, "followup", "schedule a follow-up call (回访)", cmd_followup)
    followup.add_argument("id", type=int)
    followup.add_argument("--as", dest="actor", required=True)
    followup.add_argument("--at", type=_iso_time, help="when (default now)")
    followup.add_argument("--number", help="default: the customer's number")
    followup.add_argument("--kind", choices=FOLLOWUP_KINDS, default="reply")

    subcommand(sub, "sweep", "escalate near-due and mark overdue requests now", cmd_sweep)

    kpis = subcommand(sub, "kpis", "the request figures of kpis.md for a period (default: the last 30 days)", cmd_kpis)
    kpis.add_argument("--from", dest="start", type=_iso_time)
    kpis.add_argument("--to", dest="end", type=_iso_time)
    kpis.add_argument("--json", action="store_true")


@asynccontextmanager
async def _service(args: argparse.Namespace) -> AsyncIterator[tuple[RequestService, Settings]]:
    settings = load_settings(getattr(args, "config_dir", None))
    if args.requests_command in READ_ONLY:
        require_database(settings)          # reading never creates an empty database
    try:
        rules = load_request_rules(settings.config_dir / "requests.yaml", tuple(q.name for q in settings.queues),
                                   file="config/requests.yaml")
    except RequestConfigError as exc:
        raise RequestError(str(exc)) from None
    settings.service.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database.url)
    try:
        await upgrade_schema(engine)
        sessions = session_factory(engine)
        yield RequestService(sessions, rules, calls=StoredCalls(sessions), publisher=NullPublisher(),
                             agent_queues=queues_of_agents(settings)), settings
    finally:
        await engine.dispose()


def _actor(settings: Settings, agent_id: str | None) -> Actor:
    if agent_id is None:
        return SYSTEM
    agent = settings.agent(agent_id)
    if agent is None:
        raise RequestError(f"no agent {agent_id!r} in agents.yaml")
    return Staff(agent.id, agent.role)


async def _run(args: argparse.Namespace, work: Callable[[RequestService, Actor], Any]) -> int:
    try:
        async with _service(args) as (service, settings):
            zone = ZoneInfo(settings.service.time_zone)     # times without a zone are local times
            for name in ("at", "start", "end"):
                value = getattr(args, name, None)
                if isinstance(value, datetime) and value.tzinfo is None:
                    setattr(args, name, value.replace(tzinfo=zone))
            result = await work(service, _actor(settings, getattr(args, "actor", None)))
    except RequestError as exc:
        for line in str(exc).splitlines():
            print(f"hotline: error: {line}", file=sys.stderr)
        return 1
    if result is not None:
        print(result)
    return 0


def _line(r: dict[str, Any]) -> str:
    return (f"#{r['id']:<5} {r['type_label']:<4} {r['status']:<16} due {r['due_at'][:16]} "
            f"{r['due_state']:<7} owner {r['owner_id']:<6} {r['customer_number']:<14} {r['summary']}")


async def cmd_list(args: argparse.Namespace) -> int:
    async def work(service: RequestService, actor: Actor) -> str:
        rows = await service.search(actor, status=args.status, owner=args.owner, customer=args.customer,
                                    due=args.due, limit=args.limit)
        if args.json:
            return json.dumps({"requests": rows}, ensure_ascii=False)
        return "\n".join(_line(r) for r in rows) if rows else "no requests"
    return await _run(args, work)


async def cmd_show(args: argparse.Namespace) -> int:
    async def work(service: RequestService, actor: Actor) -> str:
        r = await service.get(actor, args.id)
        if args.json:
            return json.dumps(r, ensure_ascii=False)
        lines = [_line(r), f"  details: {r['details']}" if r["details"] else "", "  history:"]
        lines += [f"    {h['at'][:19]} {h['by']:<7} {h['action']} {json.dumps(h['detail'], ensure_ascii=False)}"
                  for h in r["history"]]
        lines += [f"  follow-up #{f['id']} {f['kind']} {f['number']} at {f['scheduled_at'][:16]}: {f['status']}"
                  f" {f['result'] or ''} (attempts {f['attempts']})" for f in r["followups"]]
        return "\n".join(line for line in lines if line)
    return await _run(args, work)


async def cmd_create(args: argparse.Namespace) -> int:
    async def work(service: RequestService, actor: Actor) -> str:
        r = await service.create(actor, type=args.type, summary=args.summary, details=args.details,
                                 category=args.category, priority=args.priority, customer=args.customer,
                                 linkedid=args.linkedid, queue=args.queue)
        return f"request #{r['id']} ({r['type_label']}) opened for {r['customer_number']}, due {r['due_at']}"
    return await _run(args, work)


async def cmd_update(args: argparse.Namespace) -> int:
    async def work(service: RequestService, actor: Actor) -> str:
        r = await service.update(actor, args.id, status=args.status, priority=args.priority, note=args.note)
        return _line(r)
    return await _run(args, work)


async def cmd_followup(args: argparse.Namespace) -> int:
    async def work(service: RequestService, actor: Actor) -> str:
        f = await service.schedule_followup(actor, args.id, at=args.at, number=args.number, kind=args.kind)
        return f"follow-up #{f['id']} on request #{args.id}: {f['number']} at {f['scheduled_at']}"
    return await _run(args, work)


async def cmd_sweep(args: argparse.Namespace) -> int:
    async def work(service: RequestService, actor: Actor) -> str:
        changed = await service.sweep_deadlines()
        return "\n".join(f"#{c['id']} {c['event']}" for c in changed) or "nothing near or past due"
    return await _run(args, work)


async def cmd_kpis(args: argparse.Namespace) -> int:
    async def work(service: RequestService, actor: Actor) -> str:
        end = args.end or datetime.now(timezone.utc)
        start = args.start or end - timedelta(days=30)
        if end <= start:
            raise RequestError("--to must be later than --from")
        figures = await request_kpis(service.sessions, start, end)
        if args.json:
            return json.dumps({"from": start.isoformat(), "to": end.isoformat(), "figures": figures}, ensure_ascii=False)
        rows = []
        for f in figures:
            value = "—" if f["value"] is None else f"{f['value'] * 100:.1f} %"
            verdict = {True: "met", False: "NOT met", None: "no data"}[f["met"]]
            rows.append(f"{f['label']:<24} {value:>8}  ({f['numerator']}/{f['denominator']})  "
                        f"target {f['target_rule']} {f['target'] * 100:.0f} %  {verdict}")
        return "\n".join(rows)
    return await _run(args, work)
