"""What a caller hears while waiting in a queue, offered to the queue handoff (ACD) as ``call.waiting``.

The handoff decides *when* (it knows positions and agents); this object knows *what* (the queue node's
prompts in the caller's language): ``hold()`` once on entry, ``announce(position, wait_s)`` periodically.
Both return an option key the caller pressed (see ``options``) or None. ``outcome_for(key)`` gives the
QueueOutcome status matching the node that key leads to (voicemail / callback / overflow).
"""
from __future__ import annotations

import math
from typing import Mapping, Protocol

from ivr import say as speech
from ivr.flowdef.model import Flow


class WaitingCaller(Protocol):
    """What the waiting messages need of the call (ivr.runtime.call.Call)."""

    @property
    def lang(self) -> str: ...

    @property
    def flow(self) -> Flow: ...

    async def play(self, prompt_id: str, escape: str = "") -> str | None: ...

    async def play_all(self, prompt_ids: list[str], escape: str = "") -> str | None: ...


class QueueWaiting:
    def __init__(self, call: WaitingCaller, *, hold_prompt: str | None = None, wait_prompt: str | None = None,
                 announce_interval_s: float = 30.0, position_prompts: tuple[str, str] | None = None,
                 wait_time_prompts: tuple[str, str] | None = None, options_prompt: str | None = None,
                 options: Mapping[str, str] | None = None, max_wait_s: float | None = None) -> None:
        self.call = call
        self.hold_prompt = hold_prompt
        self.wait_prompt = wait_prompt
        self.announce_interval_s = float(announce_interval_s)
        self.position_prompts = position_prompts
        self.wait_time_prompts = wait_time_prompts
        self.options_prompt = options_prompt
        self.options = {str(k): str(v) for k, v in (options or {}).items()}
        self.max_wait_s = max_wait_s
        self.announcements = 0

    @property
    def option_keys(self) -> str:
        return "".join(sorted(self.options))

    async def hold(self) -> str | None:
        if not self.hold_prompt:
            return None
        return await self.call.play(self.hold_prompt, self.option_keys)

    async def announce(self, position: int | None = None, wait_s: float | None = None) -> str | None:
        self.announcements += 1
        call, keys = self.call, self.option_keys
        ids: list[str] = []
        if self.wait_prompt:
            ids.append(self.wait_prompt)
        if position is not None and self.position_prompts:
            before, after = self.position_prompts
            ids += [before, *speech.number(position, call.lang), after]
        if wait_s is not None and self.wait_time_prompts:
            before, after = self.wait_time_prompts
            ids += [before, *speech.number(max(1, math.ceil(wait_s / 60)), call.lang), after]
        if self.options_prompt:
            ids.append(self.options_prompt)
        return await call.play_all(ids, keys)

    def outcome_for(self, key: str) -> str:
        target = self.options.get(key)
        node = self.call.flow.nodes.get(target) if target else None
        if node is not None and node.type in ("voicemail", "callback"):
            return node.type
        return "overflow"
