"""The login_throttle table on SQLite and PostgreSQL: a lockout written by one LoginThrottle is read back by
the next (a restart), expired entries are not."""
from __future__ import annotations

from hotline.db import create_schema, make_engine, session_factory
from hotline.security.throttle import LoginThrottle, ThrottlePolicy


async def test_lockouts_survive_a_new_throttle_on_both_databases(db_url):
    engine = make_engine(db_url)
    try:
        await create_schema(engine)
        sessions = session_factory(engine)
        now = [1000.0]
        policy = ThrottlePolicy(account_failures=3, source_failures=5, window=60, lockout=300)
        first = LoginThrottle(policy, sessions=sessions, clock=lambda: now[0])
        for _ in range(2):
            assert first.failed("1001", "10.0.0.1") == 0
        assert first.failed("1001", "10.0.0.1") == 300              # the third locks the account
        first.failed("1002", "10.0.0.1")
        await first.close()
        now[0] += 100
        second = LoginThrottle(policy, sessions=sessions, clock=lambda: now[0])
        await second.load()
        assert 199 <= second.locked_for("1001", None) <= 200
        assert second.locked_for("1002", None) == 0
        assert second.failed("1002", "10.0.0.2") == 0                  # 1002's first failure was outside the window
        assert second.failed("1002", "10.0.0.2") == 0
        assert second.failed("1002", "10.0.0.2") == 300
        second.succeeded("1001")
        await second.close()
        now[0] += 400                                                # every lockout over
        third = LoginThrottle(policy, sessions=sessions, clock=lambda: now[0])
        await third.load()
        assert third.locked_for("1001", "10.0.0.1") == 0 and third.locked_for("1002", "10.0.0.2") == 0
    finally:
        await engine.dispose()
