"""Who may use the embedded MQTT broker and which topics each may touch (the same rules as
contrib/mosquitto/acl for a site running Mosquitto).

- the service account (``hotline-service``, a random password made at each start) may do everything;
- an agent connects with username = agent ID and password = a token from ``POST /api/auth/login`` (or the
  PIN, checked under the login-throttling policy); it may publish only ``{prefix}/agents/{id}/cmd`` and
  subscribe to / receive only ``{prefix}/agents/{id}/#`` and ``{prefix}/service/status``;
- supervisors and admins may also command every agent (``{prefix}/agents/+/cmd``) and read ``{prefix}/#``;
  QA staff read ``{prefix}/#`` and publish only their own ``cmd``;
- anyone else is refused at CONNECT.
"""
from __future__ import annotations

import logging
import secrets
from typing import Protocol

log = logging.getLogger("hotline.bus.access")

SERVICE_USER = "hotline-service"
READ_ALL_ROLES = {"qa", "supervisor", "admin"}
COMMAND_ALL_ROLES = {"supervisor", "admin"}


class AgentCredentials(Protocol):
    """What the broker asks the authenticator (cti.auth.Authenticator.broker_login)."""

    async def broker_login(self, username: str, password: str, source: str) -> str | None:
        """The role of ``username`` when ``password`` is theirs (a token or the PIN), else None."""


class BrokerAccess:
    def __init__(self, topic_prefix: str = "hotline", *, agents: AgentCredentials | None = None,
                 service_password: str | None = None) -> None:
        self.prefix = topic_prefix.rstrip("/")
        self.agents = agents                   # set when the authenticator exists; until then agents are refused
        self.service_password = service_password or secrets.token_urlsafe(24)
        self._roles: dict[str, str] = {}       # connected username -> role

    async def authenticate(self, username: str | None, password: str | None, source: str) -> bool:
        if not username:
            log.warning("MQTT: anonymous connection from %s refused", source[:80])
            return False
        if username == SERVICE_USER:
            ok = secrets.compare_digest((password or "").encode(), self.service_password.encode())
            if not ok:
                log.warning("MQTT: wrong password for the service account from %s", source[:80])
            return ok
        role = None
        if self.agents is not None and password:
            role = await self.agents.broker_login(username, password, source)
        if role is None:
            log.warning("MQTT: connection as %r from %s refused", username[:64], source[:80])
            return False
        self._roles[username] = role
        return True

    def allowed(self, username: str | None, topic: str, action: str) -> bool:
        """``action``: "publish", "subscribe" (topic is a filter) or "receive"."""
        if username == SERVICE_USER:
            return True
        role = self._roles.get(username or "")
        if role is None:
            return False
        p = self.prefix
        if action == "publish":
            if role in COMMAND_ALL_ROLES:
                return _within(topic, f"{p}/agents/+/cmd")
            return topic == f"{p}/agents/{username}/cmd"
        if role in READ_ALL_ROLES:
            return _within(topic, f"{p}/#")
        return _within(topic, f"{p}/agents/{username}/#") or topic == f"{p}/service/status"

    def forget(self, username: str | None) -> None:
        self._roles.pop(username or "", None)


def _within(topic: str, allowed: str) -> bool:
    """``topic`` (a name or a filter) is covered by ``allowed``; a wildcard in ``topic`` must be matched by a
    wildcard of ``allowed`` (so ``hotline/#`` is not within ``hotline/agents/1001/#``)."""
    wanted, granted = topic.split("/"), allowed.split("/")
    for i, level in enumerate(granted):
        if level == "#":
            return len(wanted) >= i
        if i >= len(wanted):
            return False
        if level == "+":
            if wanted[i] == "#":
                return False
            continue
        if wanted[i] != level:
            return False
    return len(wanted) == len(granted)
