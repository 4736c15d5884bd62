"""One login-throttling policy for every entry point that checks a PIN (HTTP login, HTTP Basic, the MQTT
broker's CONNECT, the phone QA login).

Per account: ``account_failures`` wrong PINs within ``window`` seconds lock the account for ``lockout``
seconds. Per source (an IP address, ``phone:<caller>``...): ``source_failures`` within the window lock every
login from it. A success clears the account's count. While locked, the PIN is not even checked.
The state is kept in memory and written behind to the ``login_throttle`` table, read back at start-up:
a restart does not reset a lockout.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select

from hotline.security.models import LoginThrottleRow

log = logging.getLogger("hotline.security")

MAX_SOURCES = 10_000            # remembered sources; the oldest unlocked ones are forgotten first


@dataclass(frozen=True)
class ThrottlePolicy:
    account_failures: int = 5
    source_failures: int = 20
    window: float = 600.0
    lockout: float = 900.0


@dataclass
class _Entry:
    failures: int = 0
    window_start: float = 0.0
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(self, policy: ThrottlePolicy = ThrottlePolicy(), *, sessions=None,
                 clock: Callable[[], float] = time.time) -> None:
        self.policy = policy
        self.sessions = sessions
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._dirty: set[str] = set()
        self._writer: asyncio.Task | None = None

    # ---------------------------------------------------------------- checks

    def locked_for(self, account: str | None, source: str | None) -> float:
        """Seconds until ``account`` and ``source`` may try again (0: now)."""
        now = self.clock()
        waits = [entry.locked_until - now for key in _keys(account, source)
                 if (entry := self._entries.get(key)) is not None]
        return max([0.0, *waits])

    def failed(self, account: str | None, source: str | None) -> float:
        """Count a wrong PIN; returns the lockout in seconds when this failure starts one (else 0)."""
        now = self.clock()
        locked = 0.0
        for key in _keys(account, source):
            limit = self.policy.account_failures if key.startswith("account:") else self.policy.source_failures
            entry = self._entries.setdefault(key, _Entry())
            if now - entry.window_start > self.policy.window:
                entry.failures, entry.window_start = 0, now
            entry.failures += 1
            if entry.failures >= limit:
                entry.failures, entry.locked_until = 0, now + self.policy.lockout
                locked = self.policy.lockout
                log.warning("login lockout: %s locked for %.0f s after %d failed logins", key[:80],
                            self.policy.lockout, limit)
            self._dirty.add(key)
        self._forget_old_sources()
        self._persist_soon()
        return locked

    def succeeded(self, account: str) -> None:
        key = f"account:{account}"
        entry = self._entries.get(key)
        if entry is not None and entry.failures:
            entry.failures = 0
            self._dirty.add(key)
            self._persist_soon()

    # ---------------------------------------------------------------- persistence

    async def load(self) -> None:
        if self.sessions is None:
            return
        now = self.clock()
        async with self.sessions() as session:
            rows = (await session.execute(select(LoginThrottleRow))).scalars().all()
        for row in rows:
            if row.locked_until > now or now - row.window_start <= self.policy.window:
                self._entries[row.key] = _Entry(row.failures, row.window_start, row.locked_until)
        if self._entries:
            log.info("login throttling: %d account(s)/source(s) restored, %d locked", len(self._entries),
                     sum(1 for e in self._entries.values() if e.locked_until > now))

    async def flush(self) -> None:
        while self._writer is not None and not self._writer.done():
            await asyncio.gather(self._writer, return_exceptions=True)
        if self._dirty and self.sessions is not None:
            await self._write()

    async def close(self) -> None:
        await self.flush()

    def _persist_soon(self) -> None:
        if self.sessions is None or (self._writer is not None and not self._writer.done()):
            return
        try:
            self._writer = asyncio.get_running_loop().create_task(self._write(), name="login-throttle-writer")
        except RuntimeError:            # no loop (a synchronous caller): written by the next flush
            pass

    async def _write(self) -> None:
        try:
            while self._dirty:
                keys, self._dirty = self._dirty, set()
                async with self.sessions() as session, session.begin():
                    await session.execute(delete(LoginThrottleRow).where(LoginThrottleRow.key.in_(keys)))
                    for key in keys:
                        entry = self._entries.get(key)
                        if entry is not None and (entry.failures or entry.locked_until > self.clock()):
                            session.add(LoginThrottleRow(key=key, failures=entry.failures,
                                                         window_start=entry.window_start,
                                                         locked_until=entry.locked_until))
        except Exception:
            log.exception("login throttling: could not store the failed-login counts")

    def _forget_old_sources(self) -> None:
        if len(self._entries) <= MAX_SOURCES:
            return
        now = self.clock()
        for key in [k for k, e in self._entries.items() if e.locked_until <= now][: len(self._entries) - MAX_SOURCES]:
            del self._entries[key]


def _keys(account: str | None, source: str | None) -> list[str]:
    keys = []
    if account:
        keys.append(f"account:{account[:64]}")
    if source:
        keys.append(f"source:{source[:80]}")
    return keys
