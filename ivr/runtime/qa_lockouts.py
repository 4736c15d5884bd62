"""Failed QA logins by phone and the lockouts they earn: state every call of the service shares, so it lives in
RuntimeDeps rather than in the qa_login node."""
from __future__ import annotations

from datetime import datetime, timedelta


class QaLockouts:
    """Failed QA logins per staff ID, shared by every call of the service (a lock outlives the call)."""

    def __init__(self) -> None:
        self.failures: dict[str, int] = {}
        self.locked_until: dict[str, datetime] = {}

    def is_locked(self, staff_id: str, now: datetime) -> bool:
        until = self.locked_until.get(staff_id)
        if until is None:
            return False
        if now >= until:
            del self.locked_until[staff_id]
            return False
        return True

    def fail(self, staff_id: str, now: datetime, max_attempts: int, lockout: timedelta) -> bool:
        """Count a failure; True when it locks the ID."""
        self.failures[staff_id] = self.failures.get(staff_id, 0) + 1
        if self.failures[staff_id] >= max_attempts:
            self.failures[staff_id] = 0
            self.locked_until[staff_id] = now + lockout
            return True
        return False

    def succeed(self, staff_id: str) -> None:
        self.failures.pop(staff_id, None)
