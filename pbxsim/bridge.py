"""Bridges: two (or more) channels exchanging audio, with Asterisk's events."""
from __future__ import annotations

import asyncio
from typing import Any, Generic, Protocol, TypeVar


class BridgeMember(Protocol):
    """What a bridge uses of the channels in it (channel.Channel)."""

    name: str
    bridge: Bridge[Any] | None
    bridge_id: str
    hungup: bool
    hangup_event: asyncio.Event

    def snapshot(self, prefix: str = ...) -> list[tuple[str, str]]: ...

    def set_variable(self, name: str, value: str) -> None: ...


M = TypeVar("M", bound=BridgeMember)


class BridgeHost(Protocol):
    """What a bridge uses of its PBX (pbx.Pbx)."""

    bridges: dict[str, Bridge[Any]]

    def loop_time(self) -> float: ...

    def emit_event(self, name: str, headers: list[tuple[str, str]], privilege: str = ...) -> None: ...


class Bridge(Generic[M]):
    """Channels exchanging audio; the PBX makes ``Bridge[Channel]``s."""

    def __init__(self, pbx: BridgeHost, uniqueid: str, *, bridge_type: str = "basic",
                 technology: str = "simple_bridge", creator: str = "<unknown>", name: str = "<unknown>") -> None:
        self.pbx = pbx
        self.uniqueid = uniqueid
        self.type = bridge_type
        self.technology = technology
        self.creator = creator
        self.name = name
        self.channels: list[M] = []
        self.spies: list[M] = []
        self.created = pbx.loop_time()
        self.destroyed = False
        self._changed = asyncio.Event()

    def headers(self) -> list[tuple[str, str]]:
        return [
            ("BridgeUniqueid", self.uniqueid),
            ("BridgeType", self.type),
            ("BridgeTechnology", self.technology),
            ("BridgeCreator", self.creator),
            ("BridgeName", self.name),
            ("BridgeNumChannels", str(len(self.channels))),
            ("BridgeVideoSourceMode", "none"),
        ]

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def enter(self, chan: M) -> None:
        if chan.bridge is not None and chan.bridge is not self:
            chan.bridge.leave(chan)
        self.channels.append(chan)
        chan.bridge = self
        chan.bridge_id = self.uniqueid
        self.pbx.emit_event("BridgeEnter", self.headers() + chan.snapshot())
        self._notify()

    def set_peers(self) -> None:
        """BRIDGEPEER on every member (two-party bridges name the other one)."""
        for chan in self.channels:
            others = [c.name for c in self.channels if c is not chan]
            chan.set_variable("BRIDGEPEER", ",".join(others))

    def clear_peers(self) -> None:
        for chan in self.channels:
            chan.set_variable("BRIDGEPEER", "")

    def leave(self, chan: M) -> None:
        if chan not in self.channels:
            return
        self.channels.remove(chan)
        chan.bridge = None
        chan.bridge_id = ""
        self.pbx.emit_event("BridgeLeave", self.headers() + chan.snapshot())
        self._notify()

    def destroy(self) -> None:
        if self.destroyed:
            return
        for chan in list(self.channels):
            self.leave(chan)
        self.destroyed = True
        self.pbx.emit_event("BridgeDestroy", self.headers())
        self.pbx.bridges.pop(self.uniqueid, None)
        self._notify()

    def broken(self) -> bool:
        """A two-party call is over when someone hung up or left."""
        live = [c for c in self.channels if not c.hungup]
        return self.destroyed or len(live) < 2

    async def wait_broken(self) -> None:
        while not self.broken():
            waiters = [asyncio.ensure_future(self._changed.wait())]
            waiters += [asyncio.ensure_future(c.hangup_event.wait()) for c in self.channels if not c.hungup]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()

    def __repr__(self) -> str:
        return f"<Bridge {self.uniqueid} {[c.name for c in self.channels]}>"

