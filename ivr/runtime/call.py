"""The state of one call going through flows, and the dependencies every node executor may use."""
from __future__ import annotations

import asyncio

import inspect
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ivr.agi.channel import AgiChannel
from ivr.flowdef.expr import evaluate_value, runtime_functions
from ivr.flowdef.model import Flow, Node
from ivr.stats import NodeStats

from .interfaces import (CallerPreferences, CustomerDirectory, OrderDirectory, Publisher, QueueHandoff,
                         RecordingsSearch, StaffMember, SurveyRatings)
from .qa_lockouts import QaLockouts

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from ivr.prompts.catalogue import PromptCatalogue
    from ivr.runtime.waiting import QueueWaiting

log = logging.getLogger(__name__)

ALL_KEYS = "0123456789*#"


@dataclass
class RuntimeDeps:
    """Everything the flow runtime is given (nothing is looked up globally)."""

    flows: Mapping[str, Flow]
    sessions: async_sessionmaker[AsyncSession] | None = None    # None: no persistence
    publish: Publisher | None = None                      # MQTT publish(topic_suffix, payload)
    customers: CustomerDirectory | None = None
    orders: OrderDirectory | None = None
    queues: QueueHandoff | None = None
    preferences: CallerPreferences | None = None
    recordings: RecordingsSearch | None = None           # phone QA replay (recordings_search node)
    ratings: SurveyRatings | None = None                 # survey ratings copied onto the recordings (survey node)
    staff: Mapping[str, StaffMember] = field(default_factory=dict)  # agent id (工号) -> AgentConfig
    qa_lockouts: QaLockouts = field(default_factory=QaLockouts)
    functions: Mapping[str, Callable] = field(default_factory=runtime_functions)
    catalogue: PromptCatalogue | None = None
    sound_prefix: str = "hotline"                         # sound name: <prefix>/<lang>/<prompt_id>
    voicemail_dir: str = "/var/spool/asterisk/voicemail/hotline"
    time_zone: str = "Asia/Shanghai"
    now: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
    max_steps: int = 10_000                               # guard against a flow looping forever

    async def announce(self, topic: str, payload: dict) -> None:
        """Publish on the bus if there is one; a broken bus never breaks a call."""
        if self.publish is None:
            return
        try:
            result = self.publish(topic, payload)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("could not publish %s", topic)


class FlowRuntimeError(Exception):
    """A flow asked for something impossible at run time (unknown node or flow, bad value)."""


@dataclass
class Call:
    channel: AgiChannel
    deps: RuntimeDeps
    flow: Flow
    lang: str
    stats: NodeStats
    node: Node | None = None
    vars: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)     # call-attached data (随路数据)
    customer: Mapping[str, Any] | None = None
    pending_digit: str | None = None                        # a barge-in key the next input node receives
    # a complete fixed-length entry: its terminator, if it is the next key and comes before the deadline
    # (loop time), still belongs to that entry and is not the next prompt's answer
    late_terminator: tuple[str, float] | None = None
    path: list[str] = field(default_factory=list)           # "flow:node" visited, in order
    choices: list[str] = field(default_factory=list)        # "menu node:key" the caller chose, in order
    collected: list[str] = field(default_factory=list)      # names of vars a collect node filled (order_no …)
    queue: str = ""
    agent_id: str = ""
    remembered_language: str | None = None
    waiting: QueueWaiting | None = None                     # while in a queue node
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    # ---- identity --------------------------------------------------------------------------

    @property
    def request(self):
        return self.channel.request

    @property
    def caller(self) -> str:
        return self.request.caller

    @property
    def uniqueid(self) -> str:
        return self.request.uniqueid

    @property
    def linkedid(self) -> str:
        return str(self.vars.get("linkedid") or self.request.uniqueid)

    # ---- expressions -----------------------------------------------------------------------

    def env(self) -> dict[str, Any]:
        env: dict[str, Any] = dict(self.vars)
        env.update({
            "caller": self.caller,
            "caller_name": self.request.caller_name,
            "dnid": self.request.dnid,
            "lang": self.lang,
            "channel": self.request.channel,
            "uniqueid": self.uniqueid,
            "linkedid": self.linkedid,
            "customer": dict(self.customer) if self.customer is not None else None,
            "last_digits": self.vars.get("last_digits"),
            "data": self.data,
            "query": dict(self.request.query),
            "args": list(self.request.args),
            "agent_id": self.agent_id or self.vars.get("agent_id"),
            "queue": self.queue or self.vars.get("queue"),
        })
        return env

    def evaluate(self, value: Any) -> Any:
        return evaluate_value(value, self.env(), self.deps.functions)

    def text(self, value: Any) -> str:
        """A param that is usually literal text (queue name, number, dial string) but may hold ``${…}``."""
        if value is None:
            return ""
        if isinstance(value, str) and "${" in value:
            return str(self.evaluate(value))
        return str(value)

    # ---- statistics ------------------------------------------------------------------------

    def count(self, counter: str, node: Node | None = None) -> None:
        node = node or self.node
        if node is not None:
            self.stats.count(self.flow.name, node.id, counter)

    # ---- audio -----------------------------------------------------------------------------

    def sound(self, prompt_id: str) -> str:
        return f"{self.deps.sound_prefix}/{self.lang}/{prompt_id}"

    async def play(self, prompt_id: str, escape: str = "") -> str | None:
        """Play one prompt; returns the key that interrupted it (only keys in ``escape`` do)."""
        digit, _ = await self.channel.stream_file(self.sound(prompt_id), escape)
        return digit

    async def play_all(self, prompt_ids: list[str], escape: str = "") -> str | None:
        for pid in prompt_ids:
            digit = await self.play(pid, escape)
            if digit:
                return digit
        return None

    async def ask(self, prompt_id: str | None, timeout_s: float, keys: str = ALL_KEYS) -> str | None:
        """Play a prompt that any key interrupts, then wait ``timeout_s`` for a key. A key pressed during
        an earlier prompt (``pending_digit``) answers at once.

        The `#` a caller adds right after a complete fixed-length entry (``late_terminator``) belongs to that
        entry: when it is the next key, comes within the entry's grace time and before this prompt was heard
        in full (it cut the prompt short, or there is no prompt), it is dropped and the prompt asked again."""
        while True:
            late, self.late_terminator = self.late_terminator, None
            digit, before_prompt_ended = await self._ask_once(prompt_id, timeout_s, keys)
            if digit is None or late is None:
                return digit
            terminator, deadline = late
            in_time = asyncio.get_running_loop().time() <= deadline
            if digit not in terminator or not in_time or not (before_prompt_ended or not prompt_id):
                return digit

    async def _ask_once(self, prompt_id: str | None, timeout_s: float, keys: str) -> tuple[str | None, bool]:
        """(key or None, whether the key came before the prompt had played to its end)."""
        if self.pending_digit:
            pending, self.pending_digit = self.pending_digit, None
            return pending, True
        if prompt_id:
            digit = await self.play(prompt_id, keys)
            if digit:
                return digit, True
        return await self.channel.wait_for_digit(int(timeout_s * 1000)), False

    # ---- helpers for executors -------------------------------------------------------------

    def param(self, name: str, default: Any = None) -> Any:
        assert self.node is not None
        return self.node.params.get(name, default)

    def target(self, name: str) -> str | None:
        value = self.param(name)
        return str(value) if value is not None else None

    @property
    def voicemail_base(self) -> Path:
        return Path(self.deps.voicemail_dir)
