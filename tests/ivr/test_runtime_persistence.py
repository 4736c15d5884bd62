"""What the IVR writes to the database (SQLite and PostgreSQL): node statistics, voicemails, callbacks,
survey ratings, remembered languages; and what it reads: customers and orders."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from cti.models import Customer
from hotline.db import create_schema, make_engine, session_factory
from ivr.customers_sql import SqlCustomerDirectory, SqlOrderDirectory
from ivr.models import CallbackRequest, CustomerAccount, ShopOrder, SurveyResult, Voicemail
from ivr.runtime import QueueOutcome
from ivr.runtime.preferences import SqlCallerPreferences
from ivr.stats import NodeStats, read_stats

from .fakepbx import ScriptedCall
from .runtime_env import Published, ivr_server


@pytest.fixture
async def sessions(db_url):
    engine = make_engine(db_url)
    await create_schema(engine)
    yield session_factory(engine)
    await engine.dispose()


FLOW = """
flow: p
languages: [zh-CN, en]
default_language: zh-CN
start: who
nodes:
  who: {type: lookup, next: known}
  known:
    type: branch
    conditions:
      - {if: "customer.blocked", next: blocked}
      - {if: "remembered_language == 'en'", next: menu}
    else: lang
  blocked: {type: hangup, prompt: malicious_call}
  lang:
    type: menu
    prompt: choose_language
    options: {"1": zh, "2": en}
    fallback: zh
  zh: {type: set, language: "'zh-CN'", next: menu}
  en: {type: set, language: "'en'", next: menu}
  menu:
    type: menu
    prompt: main_menu
    options: {"1": q, "4": order, "5": balance}
    retries: 3
    invalid_prompt: sorry
    fallback: q
  order: {type: collect, prompt: enter_order_number, var: order_no, max_digits: 12, next: find, fallback: bye}
  find: {type: lookup, by: order, key: order_no, next: amount, not_found: missing}
  missing: {type: play, prompt: order_not_found, next: bye}
  amount: {type: say, kind: money, value: order.amount, next: created}
  created: {type: say, kind: date, value: order.created, next: bye}
  balance: {type: say, kind: money, value: "customer.balance or 0", next: points}
  points: {type: say, kind: number, value: "customer.points or 0", next: bye}
  q: {type: queue, queue: presales, next: rate, fallback: vm}
  rate: {type: survey, prompt: survey_prompt, thanks_prompt: survey_thanks, next: bye}
  vm: {type: voicemail, prompt: voicemail_prompt, next: cb}
  cb: {type: callback, prompt: callback_intro, confirm_prompt: callback_confirm, next: bye}
  bye: {type: hangup, prompt: closing}
"""


class Answering:
    """A QueueHandoff whose agent 1005 answers (the ACD seam)."""

    async def enqueue(self, call, queue, skill, priority):
        return QueueOutcome("answered", agent_id="1005", wait_s=3.0)


class Busy:
    async def enqueue(self, call, queue, skill, priority):
        return QueueOutcome("overflow")


def _deps(sessions, **extra):
    return dict(sessions=sessions, customers=SqlCustomerDirectory(sessions), orders=SqlOrderDirectory(sessions),
                preferences=SqlCallerPreferences(sessions), **extra)


async def test_node_statistics_are_written_at_the_end_of_each_call(tmp_path, sessions):
    async with ivr_server(tmp_path, {"p": FLOW}, **_deps(sessions, queues=Answering())) as (server, engine):
        await ScriptedCall(["1", "9", ".", ".", "8", ".", ".", "1", "5"], path="p").run(server.port)  # 2 wrong keys
        await ScriptedCall(["hangup"], path="p").run(server.port)                 # hangs up at the language menu
        await ScriptedCall(["2", "-", "drop"], path="p").run(server.port)        # socket dropped in the main menu
        for _ in range(100):
            if len(engine.results) == 3:
                break
            await asyncio.sleep(0.01)
    stats = await read_stats(sessions, "p")
    assert stats[("p", "lang", "entries")] == 3
    assert stats[("p", "lang", "option:1")] == 1 and stats[("p", "lang", "option:2")] == 1
    assert stats[("p", "lang", "hangup")] == 1
    assert stats[("p", "menu", "invalid")] == 2 and stats[("p", "menu", "option:1")] == 1
    assert stats[("p", "menu", "timeout")] == 1 and stats[("p", "menu", "hangup")] == 1
    assert stats[("p", "rate", "rating:5")] == 1 and stats[("p", "q", "answered")] == 1
    rows = (await _all(sessions, SurveyResult))
    assert [(r.rating, r.agent_id, r.queue, r.caller) for r in rows] == [(5, "1005", "presales", "13800138000")]


async def test_concurrent_flushes_add_up(sessions):
    batches = []
    for _ in range(8):
        s = NodeStats(today=lambda: date(2026, 11, 23))
        s.count("hotline", "main_menu", "entries", 2)
        s.count("hotline", "main_menu", "option:1")
        batches.append(s)
    await asyncio.gather(*(b.flush(sessions) for b in batches))
    stats = await read_stats(sessions)
    assert stats[("hotline", "main_menu", "entries")] == 16 and stats[("hotline", "main_menu", "option:1")] == 8
    assert all(not b.counts for b in batches)


async def test_language_is_remembered_for_the_next_call(tmp_path, sessions):
    async with ivr_server(tmp_path, {"p": FLOW}, **_deps(sessions, queues=Answering())) as (server, engine):
        first = await ScriptedCall(["2", "1", "3"], path="p").run(server.port)
        second = await ScriptedCall(["1", "4"], path="p").run(server.port)
    assert "hotline/zh-CN/choose_language" in first.played and "hotline/en/main_menu" in first.played
    assert engine.results[-1].path[:3] == ["p:who", "p:known", "p:menu"]
    assert second.played[0] == "hotline/en/main_menu"
    assert await SqlCallerPreferences(sessions).language("13800138000") == "en"


async def test_blocked_caller_hears_the_phrase_and_is_hung_up(tmp_path, sessions):
    async with sessions() as db, db.begin():
        db.add(Customer(number="13800138000", name="骚扰", blocked=True))
    async with ivr_server(tmp_path, {"p": FLOW}, **_deps(sessions)) as (server, engine):
        call = await ScriptedCall([], path="p").run(server.port)
    assert call.played == ["hotline/zh-CN/malicious_call"] and call.commands[-1] == "HANGUP"


async def test_order_and_account_readout_from_the_database(tmp_path, sessions):
    async with sessions() as db, db.begin():
        db.add(Customer(number="13800138000", name="张三", vip_level=1))
        db.add(CustomerAccount(number="13800138000", balance=Decimal("1234.50"), points=10086))
        db.add(ShopOrder(number="202611230001", customer_number="13800138000", status="shipped",
                         amount=Decimal("2.05"), created=date(2026, 11, 20)))
    async with ivr_server(tmp_path, {"p": FLOW}, **_deps(sessions)) as (server, engine):
        order = await ScriptedCall(["1", "4", "202611230001"], path="p").run(server.port)
        balance = await ScriptedCall(["1", "5"], path="p").run(server.port)
        missing = await ScriptedCall(["1", "4", "999#"], path="p").run(server.port)
    spoken = lambda call: "".join(__import__("ivr.say", fromlist=["x"]).SAY_PROMPTS[p.rsplit("/", 1)[1]]["zh-CN"]  # noqa: E731
                                  for p in call.played if p.rsplit("/", 1)[1].startswith(("num-", "word-", "month-", "ord-")))
    assert spoken(order) == "两元零五分二零二六年十一月二十日"
    assert spoken(balance) == "一千二百三十四元五角一万零八十六"
    assert "hotline/zh-CN/order_not_found" in missing.played


async def test_voicemail_and_callback_rows_with_metadata(tmp_path, sessions):
    published = Published()
    async with ivr_server(tmp_path, {"p": FLOW}, **_deps(sessions, queues=Busy(), publish=published),
                          voicemail_dir=str(tmp_path / "voicemail")) as (server, engine):
        await ScriptedCall(["1", "1", "rec:12", "1", "1830#"], path="p").run(server.port)
        await ScriptedCall(["1", "1", "rec:4!"], path="p").run(server.port)  # hangs up while recording
    vms = await _all(sessions, Voicemail)
    assert [(v.duration_s, v.ended_by, v.caller, v.queue, v.language) for v in vms] == [
        (12.0, "timeout", "13800138000", "presales", "zh-CN"), (4.0, "hangup", "13800138000", "presales", "zh-CN")]
    assert vms[0].path.startswith(str(tmp_path / "voicemail" / "20261123"))
    cbs = await _all(sessions, CallbackRequest)
    assert len(cbs) == 1 and cbs[0].number == "13800138000"
    stored = cbs[0].preferred_at  # 18:30 Shanghai = 10:30 UTC (stored in UTC; SQLite returns it naive)
    assert stored.replace(tzinfo=None) == datetime(2026, 11, 23, 10, 30) and stored.utcoffset() in (None, timedelta(0))
    assert [t for t in published.topics() if t != "ivr/queue"] == [
        "voicemail/new", "callback/new", "ivr/call_end", "voicemail/new", "ivr/call_end"]
    assert published[1][1]["id"] == vms[0].id


async def _all(sessions, model):
    async with sessions() as db:
        return list((await db.execute(select(model).order_by(model.id))).scalars())
