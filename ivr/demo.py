"""`hotline demo` hooks of the IVR: customers and orders for the day, callers who listen to the real
flows/hotline.yaml and react to what they hear, and the IVR's outcomes read back from its tables.

A demo caller is a pbxsim Caller that *hears* the prompts: the harness watches the simulator's AGIExecStart
events for the caller's channel (what a person on that line would hear: ``STREAM FILE hotline/<lang>/<id>``)
and answers each prompt like a person would - a key after a moment's thought, often before the prompt ends,
a wrong key now and then, silence, or hanging up. The IVR only ever sees DTMF over its FastAGI session.

Personas (weights in PERSONAS): presales, after-sales product / logistics, complaints, self-service order
status and account readout, 0 for an agent, * to repeat the menu, wrong keys (once, or three times and on to
an agent), silent callers, hang-ups mid-prompt; blocked and VIP/key-account numbers; repeat callers whose
language the IVR remembers. Waiting callers may lose patience (abandon), press 1 for voicemail or 2 for a
callback; after the agent hangs up most callers rate the call.

IVR summary keys (from ivr_node_stats, ivr_voicemails, ivr_callbacks, ivr_surveys and the queue log):
``ivr`` = {blocked, silent_hangup, self_service, ivr_hangup, reached_queue, other} - one outcome per call,
summing to ``calls``: blocked callers (hung up by the IVR), silent callers hung up by the silent-caller rule,
callers who ended the call in the self-service menus, callers who hung up in the other menus before a queue,
callers who reached a queue; ``other`` is whatever the stores do not explain (0 on a normal day).
Plus ``voicemail_messages``, ``callback_requests``, ``surveys``, ``survey_avg``, ``languages`` and
``remembered_language`` (calls that skipped the language menu).
"""
from __future__ import annotations

import asyncio
import csv
import datetime as dt
import math
import random
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pbxsim.participants import Caller, CallerScript

HOTLINE_NUMBER = "4008001234"
PROMPT = re.compile(r"^STREAM FILE hotline/(?P<lang>[A-Za-z-]+)/(?P<prompt>[\w-]+)", re.I)
QUEUE_PROMPTS = frozenset({"please_wait", "sorry_to_keep_waiting", "queue_position_before", "queue_options"})
# prompts after the caller left the queue (no more patience to lose there)
AFTER_QUEUE_PROMPTS = frozenset({"voicemail_prompt", "voicemail_saved", "callback_confirm_number", "callback_number",
                                 "callback_time", "agents_busy", "survey_prompt", "closing"})

# persona -> weight (per 1000 calls)
PERSONAS = {
    "presales": 230, "aftersales": 130, "logistics": 110, "complaints": 60, "order_status": 90,
    "account": 40, "agent": 60, "repeat_menu": 40, "wrong_key": 50, "wrong_keys_to_agent": 25,
    "silent": 30, "early_hangup": 50, "self_service_then_agent": 25,
}
# median talk time (s) of the conversation with the agent, by what the caller wants
TALK_MEDIAN_S = {"presales": 150, "aftersales": 240, "logistics": 110, "complaints": 300, "agent": 160,
                 "vip": 200, "english": 180}
SURVEY_WEIGHTS = {"5": 45, "4": 30, "3": 12, "2": 5, "1": 3, None: 15}      # None: hangs up instead


@dataclass
class Persona:
    kind: str
    language_key: str                       # "1" 普通话 / "2" English, answered at choose_language
    menu_keys: list[str]                    # keys for successive hearings of the main menu
    sub_keys: dict[str, list[str]]          # prompt -> keys for successive hearings of that prompt
    intent: str                             # what the conversation with the agent is about (talk time)
    silent: bool = False
    hangup_in: str | None = None            # hang up while this prompt plays
    patience_s: float | None = None         # in the queue: hang up if no agent after this long
    queue_key: str | None = None            # pressed when the waiting options are announced (1 / 2)
    voicemail_talk_s: float = 0.0
    callback_time: str = "#"                # "#" = as soon as possible, or HHMM
    talk_s: float = 120.0
    caller_hangs_up: bool = False           # the caller ends the conversation (no survey)
    survey_key: str | None = None
    order_number: str = ""
    heard: dict[str, int] = field(default_factory=dict)


class ListeningCaller(Caller):
    """A scripted caller who reacts to the prompts played on its channel (see the module docstring)."""

    def __init__(self, pbx: Any, script: CallerScript, persona: Persona, rng: random.Random) -> None:
        super().__init__(pbx, script)
        self.persona = persona
        self.rng = rng
        self.reaction: asyncio.Task | None = None
        self.queue_watch: asyncio.Task | None = None
        self.prompts: list[str] = []

    # what the agent's softphone reads (acd.demo): how long the agent talks before hanging up
    @property
    def agent_talk_s(self) -> float | None:
        return None if self.persona.caller_hangs_up else self.persona.talk_s

    def talk_samples_for_record(self) -> int:
        return int(self.persona.voicemail_talk_s * 8000)

    def on_bridged(self, chan: Any, other: Any) -> None:
        super().on_bridged(chan, other)
        self._cancel_reaction()
        if self.persona.caller_hangs_up and self.outcome is not None and self.outcome.bridged is not None:
            self.pbx.spawn(self._hang_up_after(chan, self.persona.talk_s))

    async def _hang_up_after(self, chan: Any, seconds: float) -> None:
        if await chan.sleep(seconds) and chan.bridge is not None:
            self.hang_up("talk_time")

    def on_hangup(self, chan: Any) -> None:
        self._cancel_reaction()
        if self.queue_watch is not None:
            self.queue_watch.cancel()
        super().on_hangup(chan)

    def _cancel_reaction(self) -> None:
        if self.reaction is not None and not self.reaction.done():
            self.reaction.cancel()
        self.reaction = None

    # ---- hearing
    def heard(self, prompt: str, language: str) -> None:
        """A prompt starts playing on the caller's line."""
        if self.channel is None or self.channel.hungup:
            return
        self.prompts.append(prompt)
        p = self.persona
        count = p.heard[prompt] = p.heard.get(prompt, 0) + 1
        length = (self.pbx.sounds.length(f"hotline/{language}/{prompt}", language) or 0) / 8000
        if prompt in QUEUE_PROMPTS and self.queue_watch is None and p.patience_s is not None:
            self.queue_watch = self.pbx.spawn(self._patience_in_queue(p.patience_s))
        elif prompt in AFTER_QUEUE_PROMPTS and self.queue_watch is not None:
            self.queue_watch.cancel()
        action = self._decide(prompt, count, length)
        if action is None:
            return
        self._cancel_reaction()
        delay, what = action
        self.reaction = self.pbx.spawn(self._act(delay, what))

    def _think(self, length: float, low: float = 0.4, late: float = 1.5) -> float:
        """When a person answers a menu: usually in its second half (barge-in), sometimes just after it."""
        return round(self.rng.uniform(max(0.8, low * length), length + late), 2)

    def _decide(self, prompt: str, count: int, length: float) -> tuple[float, str] | None:
        p, rng = self.persona, self.rng
        if p.hangup_in == prompt:
            return round(rng.uniform(0.5, max(0.6, length * 0.9)), 2), "hangup"
        if p.silent:
            return None
        if prompt == "choose_language":
            return self._think(length), p.language_key
        if prompt == "main_menu" or (prompt == "silent_prompt" and p.heard.get("main_menu")):
            if prompt == "main_menu" and count > len(p.menu_keys):
                return round(rng.uniform(1.0, 4.0), 2), "hangup"      # done with the hotline
            if prompt == "silent_prompt":
                return None
            return self._think(length), p.menu_keys[count - 1]
        keys = p.sub_keys.get(prompt)
        if keys is not None:
            if count > len(keys):
                return round(rng.uniform(1.0, 3.0), 2), "hangup"
            key = keys[count - 1]
            if key == "hangup":
                return round(rng.uniform(1.0, 3.0), 2), "hangup"
            return self._think(length), key
        if prompt == "enter_order_number":
            return self._think(length, 0.6, 1.0), p.order_number + "#"
        if prompt == "queue_options" and p.queue_key and count == 1:
            return round(rng.uniform(1.0, length + 2.0), 2), p.queue_key
        if prompt == "agents_busy":
            return self._think(length), rng.choice(["1", "2", "1"])
        if prompt == "callback_confirm_number":
            return round(rng.uniform(2.0, length + 3.0), 2), "1"
        if prompt == "callback_time":
            return self._think(length, 0.7, 1.0), p.callback_time
        if prompt == "survey_prompt":
            if p.survey_key is None:
                return round(rng.uniform(1.0, 5.0), 2), "hangup"
            return self._think(length, 0.3, 3.0), p.survey_key
        if prompt == "closing" and rng.random() < 0.5:
            return round(rng.uniform(0.5, max(0.6, length)), 2), "hangup"
        return None

    async def _act(self, delay: float, what: str) -> None:
        chan = self.channel
        if not await chan.sleep(delay):
            return
        if what == "hangup":
            self.hang_up("script")
            return
        for i, digit in enumerate(what):
            if chan.hungup:
                return
            await chan.receive_dtmf(digit)
            if self.outcome:
                self.outcome.digits_sent += digit
            if i < len(what) - 1 and not await chan.sleep(0.3):
                return

    async def _patience_in_queue(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._bridged.wait(), seconds)
        except asyncio.TimeoutError:
            self.hang_up("patience")


class Audience:
    """One subscriber to the simulator's events that tells each demo caller what it hears."""

    def __init__(self, pbx: Any) -> None:
        self.by_channel: dict[str, ListeningCaller] = {}
        self.unsubscribe = pbx.subscribe(self._on_event)

    def add(self, caller: ListeningCaller, channel_name: str) -> None:
        self.by_channel[channel_name] = caller

    def _on_event(self, event: Any) -> None:
        if event.name != "AGIExecStart":
            if event.name == "Hangup":
                headers = dict(event.headers)
                self.by_channel.pop(headers.get("Channel", ""), None)
            return
        headers = dict(event.headers)
        caller = self.by_channel.get(headers.get("Channel", ""))
        if caller is None:
            return
        match = PROMPT.match(headers.get("Command", ""))
        if match:
            caller.heard(match.group("prompt"), match.group("lang"))


class DemoCaller(ListeningCaller):
    def __init__(self, pbx: Any, script: CallerScript, persona: Persona, rng: random.Random,
                 audience: Audience) -> None:
        super().__init__(pbx, script, persona, rng)
        self.audience = audience

    def start(self):
        chan = super().start()
        self.audience.add(self, chan.name)
        return chan


# ---------------------------------------------------------------------------------------------- the day's data

def _mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3578") + rng.choice("0123456789") + f"{rng.randrange(10**8):08d}"


def make_customers(rng: random.Random) -> list[dict[str, Any]]:
    """The customer base the CTI imports: regular, VIP (1-3), key accounts, blocked, some English-speaking."""
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    given = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "霞"]
    customers = []
    kinds = ["regular"] * 36 + ["vip"] * 7 + ["key_account"] * 3 + ["blocked"] * 4 + ["english"] * 5
    for i, kind in enumerate(kinds):
        name = rng.choice(surnames) + rng.choice(given) + ("" if rng.random() < 0.6 else rng.choice(given))
        customers.append({
            "number": _mobile(rng) if kind != "key_account" else f"0571{rng.randrange(10**8):08d}",
            "name": name if kind != "english" else rng.choice(["John Smith", "Emma Brown", "Lucas Müller",
                                                                 "Sophie Martin", "Ken Tanaka"]),
            "vip_level": {"vip": rng.choice([1, 2, 2, 3])}.get(kind, 0),
            "key_account": kind == "key_account", "blocked": kind == "blocked",
            "notes": {"blocked": "骚扰电话", "key_account": "大客户"}.get(kind, ""),
            "language": "en" if kind == "english" else "", "kind": kind,
        })
    return customers


def make_orders(rng: random.Random, customers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    statuses = ["pending", "paid", "shipped", "shipped", "delivered", "delivered", "cancelled", "refunding"]
    orders = []
    for i in range(60):
        created = dt.date(2026, 11, 24) - dt.timedelta(days=rng.randrange(0, 30))
        status = rng.choice(statuses)
        orders.append({
            "number": f"2026{rng.randrange(10**8):08d}", "customer_number": rng.choice(customers)["number"],
            "status": status, "amount": Decimal(rng.randrange(990, 899900)) / 100, "created": created,
            "expected_delivery": created + dt.timedelta(days=rng.randint(2, 6)) if status in ("paid", "shipped")
            else None,
        })
    return orders


async def prepare(ctx: Any) -> None:
    """Customers through the CTI's CSV import, accounts and orders for self-service, the callers' audience."""
    from cti.customers import CustomerDirectory
    from ivr.models import CustomerAccount, ShopOrder

    rng = random.Random(f"{ctx.seed}:customers")
    customers = make_customers(rng)
    orders = make_orders(rng, customers)
    sessions = ctx.service.deps.sessions
    path = ctx.settings.service.data_dir / "demo-customers.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["number", "name", "vip_level", "key_account", "blocked", "notes", "language"])
        for c in customers:
            writer.writerow([c["number"], c["name"], c["vip_level"], int(c["key_account"]), int(c["blocked"]),
                             c["notes"], c["language"]])
    await CustomerDirectory(sessions).import_csv(path)
    async with sessions() as db, db.begin():
        for c in customers:
            if c["kind"] != "blocked":
                db.add(CustomerAccount(number=c["number"], balance=Decimal(rng.randrange(0, 500000)) / 100,
                                       points=rng.randrange(0, 20000)))
        for o in orders:
            db.add(ShopOrder(**o))
    ctx.shared["customers"] = customers
    ctx.shared["orders"] = orders
    ctx.shared["audience"] = Audience(ctx.sim.pbx)
    ctx.shared["numbers_called"] = []


def _talk_time(rng: random.Random, intent: str) -> float:
    median = TALK_MEDIAN_S.get(intent, 160)
    return round(min(1200.0, max(25.0, rng.lognormvariate(math.log(median), 0.5))), 1)


def make_persona(rng: random.Random, kind: str, customer: dict[str, Any] | None,
                 orders: list[dict[str, Any]]) -> Persona:
    english = (customer or {}).get("language") == "en" or rng.random() < 0.12
    language_key = "2" if english else "1"
    sub: dict[str, list[str]] = {}
    intent = kind
    order_number = ""
    wrong = lambda: rng.choice("6789#")      # noqa: E731  (keys the main menu does not offer)
    if kind == "presales":
        menu = ["1"]
    elif kind == "aftersales":
        menu, sub = ["2"], {"aftersales_menu": ["1"]}
    elif kind == "logistics":
        menu, sub = ["2"], {"aftersales_menu": ["2"]}
    elif kind == "complaints":
        menu = ["3"]
    elif kind in ("order_status", "self_service_then_agent"):
        menu = ["4"]
        sub = {"self_service_menu": ["1", "0" if kind == "self_service_then_agent" else "hangup"]}
        known = rng.random() < 0.85
        order_number = rng.choice(orders)["number"] if known else f"2025{rng.randrange(10**6):06d}"
        intent = "aftersales"
    elif kind == "account":
        menu, sub = ["4"], {"self_service_menu": ["2", "hangup"]}
    elif kind == "agent":
        menu = ["0"]
    elif kind == "repeat_menu":
        menu = ["*", rng.choice("123")]
        intent = {"1": "presales", "2": "aftersales", "3": "complaints"}[menu[1]]
        if menu[1] == "2":
            sub = {"aftersales_menu": [rng.choice("12")]}
    elif kind == "wrong_key":
        menu = [wrong(), rng.choice("13")]
        intent = "presales" if menu[1] == "1" else "complaints"
    elif kind == "wrong_keys_to_agent":
        menu = [wrong(), wrong(), wrong()]        # the third wrong key sends the caller to an agent
        intent = "agent"
    else:                                          # silent, early_hangup: never choose
        menu = []
    if english and intent in ("presales", "agent"):
        intent = "english"
    if customer is not None and (customer["vip_level"] >= 2 or customer["key_account"]):
        intent = "vip"
    persona = Persona(kind=kind, language_key=language_key, menu_keys=menu, sub_keys=sub, intent=intent,
                      order_number=order_number)
    persona.silent = kind == "silent"
    if kind == "early_hangup":
        persona.hangup_in = rng.choice(["welcome", "choose_language", "recording_notice", "main_menu",
                                        "main_menu"])
    roll = rng.random()
    persona.patience_s = (round(rng.uniform(15, 60), 1) if roll < 0.2 else
                          round(rng.uniform(90, 420), 1) if roll < 0.7 else None)
    roll = rng.random()
    persona.queue_key = "1" if roll < 0.08 else "2" if roll < 0.18 else None
    persona.voicemail_talk_s = round(rng.uniform(6, 40), 1)
    persona.callback_time = "#" if rng.random() < 0.7 else f"{rng.randint(14, 19)}{rng.choice(['00', '30'])}"
    persona.talk_s = _talk_time(rng, intent)
    persona.caller_hangs_up = rng.random() < 0.15
    persona.survey_key = rng.choices(list(SURVEY_WEIGHTS), weights=list(SURVEY_WEIGHTS.values()))[0]
    return persona


def caller_script(ctx: Any, index: int):
    """Call `index` of the day: who calls (new number, customer, VIP, blocked, a repeat caller) and why."""
    rng = random.Random(f"{ctx.seed}:caller:{index}")
    customers = ctx.shared["customers"]
    called = ctx.shared["numbers_called"]
    roll = rng.random()
    customer = None
    if roll < 0.03:
        customer = rng.choice([c for c in customers if c["blocked"]])
    elif roll < 0.11:
        customer = rng.choice([c for c in customers if c["vip_level"] or c["key_account"]])
    elif roll < 0.33:
        customer = rng.choice([c for c in customers if c["kind"] in ("regular", "english")])
    if customer is not None:
        number = customer["number"]
    elif roll < 0.43 and called:
        number = rng.choice(called)                 # called earlier today: the IVR remembers the language
    else:
        number = _mobile(rng)
    called.append(number)
    kind = rng.choices(list(PERSONAS), weights=list(PERSONAS.values()))[0]
    if kind == "account" and customer is None:
        kind = "order_status"
    persona = make_persona(rng, kind, customer, ctx.shared["orders"])
    script = CallerScript(caller_num=number, caller_name=(customer or {}).get("name", ""), dnid=HOTLINE_NUMBER)
    return DemoCaller(ctx.sim.pbx, script, persona, rng, ctx.shared["audience"])


# ---------------------------------------------------------------------------------------------- figures

def _section(flow: Any, start: str, stop: set[str]) -> set[str]:
    """Node ids reachable from `start` through node references in parameters, not entering `stop`."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id in stop or node_id not in flow.nodes:
            continue
        seen.add(node_id)
        node = flow.nodes[node_id]
        if node.type == "queue":
            continue
        stack: list[Any] = list(node.params.values())
        while stack:
            value = stack.pop()
            if isinstance(value, str) and value in flow.nodes:
                todo.append(value)
            elif isinstance(value, dict):
                stack.extend(value.values())
                stack.extend(v.get("next") for v in value.values() if isinstance(v, dict))
            elif isinstance(value, (list, tuple)):
                stack.extend(value)
    return seen


async def summarize(ctx: Any) -> dict[str, Any]:
    from sqlalchemy import func, select

    from ivr.models import CallbackRequest, SurveyResult, Voicemail
    from ivr.stats import read_stats

    sessions = ctx.service.deps.sessions
    stats = await read_stats(sessions, "hotline")
    flow = ctx.service.ivr.deps.flows["hotline"]

    def counter(node: str, name: str) -> int:
        return stats.get(("hotline", node, name), 0)

    # the ACD's stored queue log (its rows, not what the harness meant to do)
    entered = [entry.callid for entry in await ctx.service.acd.log_store.query(events=("ENTERQUEUE",))]
    reached = len({callid.split("#", 1)[0] for callid in entered})   # re-queued calls get a #n suffix
    async with sessions() as db:
        voicemails = (await db.execute(select(func.count()).select_from(Voicemail))).scalar_one()
        callbacks = (await db.execute(select(func.count()).select_from(CallbackRequest))).scalar_one()
        ratings = (await db.execute(select(func.count(), func.avg(SurveyResult.rating)))).one()
    hangups_at = {node: n for (f, node, name), n in stats.items() if name == "hangup"}
    self_service_nodes: set[str] = set()
    menu_nodes: set[str] = set()                   # before any queue, outside self-service
    if flow is not None:
        queues = {n for n, node in flow.nodes.items() if node.type == "queue"}
        after_queue: set[str] = set()
        for n in queues:
            params = flow.nodes[n].params
            for target in [params.get("next"), params.get("fallback"), *(params.get("options") or {}).values()]:
                if isinstance(target, str):
                    after_queue |= _section(flow, target, queues)
        ended_by_ivr = {"blocked", "silent_hangup"}      # counted by their entries
        self_service_nodes = (_section(flow, "self_service_menu", {"main_menu", "agent_queue"} | queues)
                              - ended_by_ivr)
        menu_nodes = _section(flow, flow.start, queues) - after_queue - self_service_nodes - ended_by_ivr
    blocked = counter("blocked", "entries")
    silent = counter("silent_hangup", "entries")
    self_service = sum(n for node, n in hangups_at.items() if node in self_service_nodes)
    ivr_hangup = sum(n for node, n in hangups_at.items() if node in menu_nodes)
    calls = len(ctx.callers)
    outcomes = {"blocked": blocked, "silent_hangup": silent, "self_service": self_service,
                "ivr_hangup": ivr_hangup, "reached_queue": reached}
    outcomes["other"] = calls - sum(outcomes.values())
    languages = {"zh-CN": counter("mandarin", "entries"), "en": counter("english", "entries")}
    return {
        "ivr": outcomes,
        "self_service": self_service, "blocked": blocked, "silent_hangup": silent, "ivr_hangup": ivr_hangup,
        "self_service_readouts": counter("say_order_amount", "entries") + counter("say_account_balance", "entries"),
        "remembered_language": counter("use_remembered_language", "entries") + counter("use_customer_language", "entries"),
        "menu_invalid": sum(n for (f, node, name), n in stats.items() if name == "invalid"),
        "menu_repeat": sum(n for (f, node, name), n in stats.items() if name == "repeat"),
        "voicemail_messages": voicemails, "callback_requests": callbacks,
        "surveys": ratings[0], "survey_avg": round(float(ratings[1]), 2) if ratings[1] is not None else None,
        "languages_chosen": languages,
    }
