"""What the recordings need from the rest of hotline, as Protocols they own (hotline/service.py passes the
implementations; mypy checks them there).

- ``AmiEvents``: where the AMI events arrive (cti.ami.AmiSession): the tracker follows bridges and hangups.
- ``CallData``: the CTI's call-attached data (cti.calldata.CallDataStore): queue, customer, called number.
- ``recordings.recorder.AmiClient``: the AMI actions the recorder sends (MixMonitor …; cti.ami.AmiSession).
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol


class LiveChannels(Protocol):
    async def send_list(self, action: dict, item_event: str) -> Iterable[Any]: ...


class AmiEvents(LiveChannels, Protocol):
    def add_observer(self, observer: Callable[[Mapping[str, str]], None]) -> None: ...

    def add_connect_hook(self, hook: Callable[[LiveChannels], Awaitable[None]]) -> None: ...

    @property
    def connected(self) -> asyncio.Event: ...


class CallData(Protocol):
    def get(self, linkedid: str) -> dict[str, Any]: ...


class Agent(Protocol):
    """An agent as config/agents.yaml describes it (hotline.config.AgentConfig)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def endpoint(self) -> str: ...
