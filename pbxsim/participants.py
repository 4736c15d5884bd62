"""Simulated people: scripted callers on the trunk and agents' softphones.

Caller script steps (a list; each item a dict, a tuple or a short string):

- ``{"wait": 3}`` / ``"wait 3"``      wait 3 s (silent)
- ``{"press": "34#"}`` / ``"press 34#"`` key presses, arriving as DTMF on the caller's channel
- ``{"talk": 5}`` / ``"talk 5"``      speak for 5 s (what Record()/RECORD FILE hears)
- ``{"hangup": True}`` / ``"hangup"``  hang up now

``patience_s``: hang up if not connected to an agent after that long (an abandoned call).
``talk_time_s``: once bridged to an agent, hang up after that long (the agent may hang up first).
After the script ends the caller stays on the line until the PBX or the agent hangs up.
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Coroutine, Protocol

from .channel import Channel

if TYPE_CHECKING:
    from .endpoints import EndpointState


class PhoneHost(Protocol):
    """What callers and phones use of the PBX they call through (pbx.Pbx)."""

    endpoint_states: dict[str, EndpointState]

    def loop_time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    def spawn(self, coro: Coroutine, name: str | None = None) -> asyncio.Task: ...

    def inbound_call(self, endpoint: str, *, caller_num: str, caller_name: str = ..., dnid: str = ...,
                     context: str | None = None, participant: Any = None,
                     variables: dict[str, str] | None = None) -> Channel: ...

    def answer(self, chan: Channel) -> None: ...

    def hold(self, chan: Channel, on: bool, music_class: str = ...) -> None: ...

    def remote_hangup(self, chan: Channel, cause: int = ...) -> None: ...

    def set_registered(self, endpoint: str, registered: bool, contact: str | None = None) -> None: ...

    def update_device_state(self, endpoint: str) -> None: ...


# -- callers --------------------------------------------------------------------------
@dataclass
class CallerScript:
    caller_num: str
    caller_name: str = ""
    dnid: str = "s"
    trunk: str = "trunk"
    context: str | None = None
    steps: list[Any] = field(default_factory=list)
    patience_s: float | None = None
    talk_time_s: float | None = None
    language: str | None = None
    variables: dict[str, str] = field(default_factory=dict)


@dataclass
class CallOutcome:
    channel: str
    uniqueid: str
    linkedid: str
    started: float
    ended: float | None = None
    answered: float | None = None           # the PBX answered (IVR)
    bridged: float | None = None            # connected to someone (an agent)
    bridged_with: str | None = None
    hung_up_by: str = ""                     # "caller" | "pbx"
    cause: int = 0
    reason: str = ""                         # "patience" | "talk_time" | "script" | ""
    digits_sent: str = ""

    @property
    def abandoned(self) -> bool:
        return self.bridged is None and self.hung_up_by == "caller"


def parse_steps(steps: list[Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for i, step in enumerate(steps):
        if isinstance(step, str):
            for part in [p.strip() for p in step.split(";") if p.strip()]:
                m = re.fullmatch(r"(wait|silence|press|talk|hangup)\s*(.*)", part, re.I)
                if not m:
                    raise ValueError(f"caller step {i}: cannot read {part!r}")
                out.append(_step(m.group(1).lower(), m.group(2).strip(), i))
        elif isinstance(step, dict) and len(step) == 1:
            (k, v), = step.items()
            out.append(_step(str(k).lower(), v, i))
        elif isinstance(step, (tuple, list)) and step:
            out.append(_step(str(step[0]).lower(), step[1] if len(step) > 1 else None, i))
        else:
            raise ValueError(f"caller step {i}: cannot read {step!r}")
    return out


def _step(kind: str, value: Any, i: int) -> tuple[str, Any]:
    if kind in ("wait", "silence", "talk"):
        try:
            return ("talk" if kind == "talk" else "wait", float(value))
        except (TypeError, ValueError):
            raise ValueError(f"caller step {i}: {kind} needs seconds, got {value!r}") from None
    if kind == "press":
        digits = str(value or "")
        if not digits or not re.fullmatch(r"[0-9*#A-Da-d]+", digits):
            raise ValueError(f"caller step {i}: press needs digits 0-9 * # A-D, got {value!r}")
        return ("press", digits.upper())
    if kind == "hangup":
        return ("hangup", None)
    raise ValueError(f"caller step {i}: unknown step {kind!r}")


class Caller:
    """A person calling in through the trunk; drives one PJSIP channel."""

    def __init__(self, pbx: PhoneHost, script: CallerScript) -> None:
        self.pbx = pbx
        self.script = script
        self.steps = parse_steps(script.steps)
        self.channel: Channel | None = None
        self.outcome: CallOutcome | None = None
        self._bridged = asyncio.Event()
        self._done = asyncio.Event()
        self._talk_s = sum(v for k, v in self.steps if k == "talk")
        self._hanging_up = False

    # hooks called by the PBX
    def on_bridged(self, chan: Channel, other: Channel) -> None:
        if self.outcome and self.outcome.bridged is None:
            self.outcome.bridged = self.pbx.loop_time()
            self.outcome.bridged_with = other.name
        self._bridged.set()

    def on_hangup(self, chan: Channel) -> None:
        if self.outcome:
            self.outcome.ended = self.pbx.loop_time()
            self.outcome.cause = chan.hangup_cause
            if not self.outcome.hung_up_by:
                self.outcome.hung_up_by = "pbx"
            self.outcome.answered = chan.answered_at
        self._done.set()

    def talk_samples_for_record(self) -> int:
        return int(self._talk_s * 8000)

    def start(self) -> Channel:
        s = self.script
        chan = self.pbx.inbound_call(s.trunk, caller_num=s.caller_num, caller_name=s.caller_name, dnid=s.dnid,
                                     context=s.context, participant=self, variables=s.variables)
        if s.language:
            chan.language = s.language
        self.channel = chan
        self.outcome = CallOutcome(chan.name, chan.uniqueid, chan.linkedid, self.pbx.loop_time())
        self.pbx.spawn(self._drive(chan), name=f"caller {chan.name}")
        return chan

    def hang_up(self, reason: str = "script") -> None:
        chan = self.channel
        if chan is None or chan.hungup or chan.destroyed:
            return
        if self.outcome and not self.outcome.hung_up_by:
            self.outcome.hung_up_by = "caller"
            self.outcome.reason = reason
        self.pbx.remote_hangup(chan, 16)

    async def _drive(self, chan: Channel) -> None:
        watchers = []
        if self.script.patience_s is not None:
            watchers.append(self.pbx.spawn(self._patience(chan, self.script.patience_s)))
        if self.script.talk_time_s is not None:
            watchers.append(self.pbx.spawn(self._talk_time(chan, self.script.talk_time_s)))
        try:
            for kind, value in self.steps:
                if chan.hungup:
                    break
                if kind in ("wait", "talk"):
                    await chan.sleep(value)
                elif kind == "press":
                    for i, digit in enumerate(value):
                        if chan.hungup:
                            break
                        await chan.receive_dtmf(digit)
                        if self.outcome:
                            self.outcome.digits_sent += digit
                        if i < len(value) - 1:
                            await chan.sleep(0.25)
                elif kind == "hangup":
                    self.hang_up("script")
                    break
            await self._done.wait()
        finally:
            for w in watchers:
                w.cancel()

    async def _patience(self, chan: Channel, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._bridged.wait(), seconds)
        except asyncio.TimeoutError:
            self.hang_up("patience")

    async def _talk_time(self, chan: Channel, seconds: float) -> None:
        await self._bridged.wait()
        if await chan.sleep(seconds):
            self.hang_up("talk_time")

    async def wait(self) -> CallOutcome:
        await self._done.wait()
        assert self.outcome is not None
        return self.outcome


# -- softphones --------------------------------------------------------------------------------
@dataclass
class PhoneBehaviour:
    registered: bool = True
    mode: str = "answer"            # answer | no-answer | busy | reject
    answer_after_s: float = 2.0
    talk_time_s: float | None = None  # hang up after this long once connected (None: wait for the caller)
    call_waiting: bool = False        # ring while already on a call (else busy)

    MODES = ("answer", "no-answer", "busy", "reject")

    def __post_init__(self) -> None:
        if self.mode not in self.MODES:
            raise ValueError(f"softphone mode {self.mode!r}: expected one of {', '.join(self.MODES)}")


class Softphone:
    """An agent's softphone registered on a PJSIP endpoint."""

    def __init__(self, pbx: PhoneHost, endpoint: str, behaviour: PhoneBehaviour | None = None) -> None:
        self.pbx = pbx
        self.endpoint = endpoint
        self.behaviour = behaviour or PhoneBehaviour()
        self.calls: list[dict] = []
        self.active: list[Channel] = []
        st = pbx.endpoint_states[endpoint]
        st.phone = self

    def start(self) -> None:
        if self.behaviour.registered:
            self.pbx.set_registered(self.endpoint, True)
        else:
            self.pbx.update_device_state(self.endpoint)

    def set_behaviour(self, **changes: Any) -> None:
        """Change behaviour at run time (e.g. ``mode="busy"``, ``registered=False``)."""
        for k, v in changes.items():
            if not hasattr(self.behaviour, k):
                raise ValueError(f"unknown softphone setting {k!r}")
            setattr(self.behaviour, k, v)
        self.behaviour.__post_init__()
        if "registered" in changes:
            self.pbx.set_registered(self.endpoint, bool(changes["registered"]))

    def register(self) -> None:
        self.set_behaviour(registered=True)

    def unregister(self) -> None:
        self.set_behaviour(registered=False)

    # hooks called by the PBX
    def on_incoming(self, chan: Channel) -> None:
        chan.participant = self
        record = {"channel": chan.name, "linkedid": chan.linkedid, "offered": self.pbx.loop_time(),
                  "answered": None, "ended": None, "result": None}
        self.calls.append(record)
        self.pbx.spawn(self._ring(chan, record), name=f"phone {chan.name}")

    async def _ring(self, chan: Channel, record: dict) -> None:
        b = self.behaviour
        busy = b.mode == "busy" or (self.active and not b.call_waiting)
        if busy:
            await self.pbx.sleep(0.02)
            record["result"] = "busy"
            if not chan.hungup:
                chan.request_hangup(17, event=None)
            return
        chan.set_state(5)
        if b.mode == "no-answer":
            record["result"] = "no-answer"
            return
        if not await chan.sleep(b.answer_after_s):
            record["result"] = record["result"] or "missed"
            return
        if b.mode == "reject":
            record["result"] = "rejected"
            chan.request_hangup(21, event=None)
            return
        record["answered"] = self.pbx.loop_time()
        record["result"] = "answered"
        self.active.append(chan)
        self.pbx.answer(chan)

    def on_bridged(self, chan: Channel, other: Channel) -> None:
        if self.behaviour.talk_time_s is not None:
            self.pbx.spawn(self._hang_up_after(chan, self.behaviour.talk_time_s))

    async def _hang_up_after(self, chan: Channel, seconds: float) -> None:
        if await chan.sleep(seconds):
            self.hang_up(chan)

    def hang_up(self, chan: Channel | None = None) -> None:
        """The agent presses hang-up (on one call, or on every call)."""
        for c in [chan] if chan else list(self.active):
            if c is not None and not c.hungup:
                self.pbx.remote_hangup(c, 16)

    def hold(self, on: bool = True) -> None:
        for c in self.active:
            self.pbx.hold(c, on)

    async def send_dtmf(self, digits: str) -> None:
        for c in list(self.active):
            await c.send_dtmf(digits)

    def on_hangup(self, chan: Channel) -> None:
        if chan in self.active:
            self.active.remove(chan)
        for rec in self.calls:
            if rec["channel"] == chan.name and rec["ended"] is None:
                rec["ended"] = self.pbx.loop_time()


class ExternalParty(Softphone):
    """Someone reached through the trunk (a callback, an outbound call): rings, answers or not,
    like a softphone but without registration. ``pbx.external_parties[number]`` or defaults."""

    def __init__(self, pbx: PhoneHost, number: str, behaviour: PhoneBehaviour | None = None) -> None:
        self.pbx = pbx
        self.endpoint = ""
        self.number = number
        self.behaviour = PhoneBehaviour(**vars(behaviour)) if behaviour else PhoneBehaviour(answer_after_s=1.0)
        self.calls = []
        self.active = []

    def start(self) -> None:
        pass

    def set_behaviour(self, **changes: Any) -> None:
        for k, v in changes.items():
            if not hasattr(self.behaviour, k):
                raise ValueError(f"unknown setting {k!r}")
            setattr(self.behaviour, k, v)
        self.behaviour.__post_init__()
