"""Failed QA logins by phone: state every call of the service shares, so it lives in RuntimeDeps rather than in
the qa_login node."""
from __future__ import annotations

from hotline.security.throttle import LoginThrottle


class QaLockouts:
    """Phone QA logins count against the service's one login-throttling policy (hotline.security.throttle):
    hand in the ``LoginThrottle`` the HTTP login, Basic auth and the MQTT broker use (``cti.auth.throttle``)
    and a staff ID locked on one entry point is locked on all of them. Without one, a private throttle with
    the same policy is used."""

    def __init__(self, throttle: LoginThrottle | None = None) -> None:
        self.throttle = throttle or LoginThrottle()
