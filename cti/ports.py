"""What the CTI needs from the rest of hotline, as Protocols it owns (hotline/service.py passes the
implementations; mypy checks them there).

- ``QueueDesk``: the ACD as the CTI sees it (acd.handoff.AcdHandoff): every queue's live figures for the
  supervisor desk, and "this agent answered the ACD's offer for that call" the moment the agent's leg answers.
- ``Publisher`` (cti.notifier): where agent states, screen pops and call views go (hotline.bus.EventBus).
- ``CommandBus`` (cti.mqtt): where agents' commands arrive (hotline.bus.EventBus).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol


class QueueDesk(Protocol):
    def queue_stats(self) -> dict[str, dict[str, Any]]: ...
    def offer_answered(self, linkedid: str, agent_id: str) -> bool: ...


CommandHandler = Callable[[str, dict[str, Any]], Awaitable[None]]


class CommandBus(Protocol):
    def subscribe(self, pattern: str, handler: CommandHandler) -> None: ...
