"""Who may do what. Every HTTP request and MQTT command carries credentials: a token from
``POST /api/auth/login`` (agent ID + PIN), or HTTP Basic with agent ID and PIN.

Roles (config/agents.yaml ``role``):
  agent       own state, own calls, own announcements
  qa          read every agent and call, listen (quietly) to calls
  supervisor  everything agents do, for every agent, plus the supervisor tools
  admin       everything
A refused request gets 403 and a log line naming who tried what.

Every HTTP router of the product (CTI, ACD queues, IVR reports, recordings) authenticates with the same
``Authenticator``, the CTI's own (``cti.auth``), which hotline/service.py hands to each router.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any, Iterable

from cti.agents import CtiError

log = logging.getLogger("hotline.cti.auth")

ROLES = ("agent", "qa", "supervisor", "admin")
READ_ALL = {"qa", "supervisor", "admin"}
SUPERVISE = {"supervisor", "admin"}


class AuthError(CtiError):
    status = 401


class Forbidden(CtiError):
    status = 403


@dataclass(frozen=True)
class Principal:
    agent_id: str
    role: str
    name: str = ""

    @property
    def supervises(self) -> bool:
        return self.role in SUPERVISE

    @property
    def reads_all(self) -> bool:
        return self.role in READ_ALL


class Authenticator:
    def __init__(self, agents: Iterable[Any], *, secret: bytes | None = None, token_ttl: float = 12 * 3600):
        self._pins = {a.id: str(a.pin) for a in agents}
        self._principals = {a.id: Principal(a.id, a.role, a.name) for a in agents}
        self._secret = secret or secrets.token_bytes(32)
        self.ttl = token_ttl

    def _check_pin(self, agent_id: str, pin: str) -> Principal:
        expected = self._pins.get(str(agent_id))
        if expected is None or not hmac.compare_digest(expected.encode(), str(pin).encode()):
            log.warning("authentication failed for agent ID %r", agent_id)
            raise AuthError("wrong agent ID or PIN")
        return self._principals[str(agent_id)]

    def login(self, agent_id: str, pin: str) -> dict[str, Any]:
        principal = self._check_pin(agent_id, pin)
        expires = int(time.time() + self.ttl)
        body = f"{principal.agent_id}:{expires}"
        sig = hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()[:32]
        token = base64.urlsafe_b64encode(f"{body}:{sig}".encode()).decode().rstrip("=")
        return {"token": token, "agent_id": principal.agent_id, "role": principal.role, "expires": expires}

    def verify_token(self, token: str) -> Principal:
        try:
            padded = token + "=" * (-len(token) % 4)
            agent_id, expires, sig = base64.urlsafe_b64decode(padded.encode()).decode().rsplit(":", 2)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise AuthError("malformed token") from None
        good = hmac.new(self._secret, f"{agent_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(good, sig) or agent_id not in self._principals:
            raise AuthError("invalid token")
        if int(expires) < time.time():
            raise AuthError("token expired; log in again")
        return self._principals[agent_id]

    def from_authorization(self, header: str | None) -> Principal:
        """``Authorization: Bearer <token>`` or ``Authorization: Basic base64(agent_id:pin)``."""
        if not header:
            raise AuthError("credentials required: Authorization: Bearer <token> or Basic <agent id:PIN>")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return self.verify_token(value.strip())
        if scheme.lower() == "basic":
            try:
                agent_id, _, pin = base64.b64decode(value.strip()).decode().partition(":")
            except (ValueError, binascii.Error, UnicodeDecodeError):
                raise AuthError("malformed Basic credentials") from None
            return self._check_pin(agent_id, pin)
        raise AuthError(f"unsupported authorization scheme {scheme!r}")

    def from_payload(self, payload: dict[str, Any]) -> Principal:
        """MQTT commands: ``{"token": ...}`` or ``{"auth": {"agent_id": ..., "pin": ...}}``."""
        if payload.get("token"):
            return self.verify_token(str(payload["token"]))
        auth = payload.get("auth")
        if isinstance(auth, dict) and "agent_id" in auth and "pin" in auth:
            return self._check_pin(str(auth["agent_id"]), str(auth["pin"]))
        raise AuthError("credentials required: a 'token' or 'auth': {agent_id, pin} in the command")


def require(principal: Principal, what: str, *, agent_id: str | None = None, roles: set[str] | None = None) -> None:
    """Raise Forbidden (and log it) unless ``principal`` may do ``what`` (on ``agent_id``)."""
    allowed = True
    if roles is not None and principal.role not in roles:
        allowed = False
    elif roles is None and agent_id is not None and principal.agent_id != agent_id and not principal.supervises:
        allowed = False
    if not allowed:
        target = f" for agent {agent_id}" if agent_id else ""
        log.warning("forbidden: %s (role %s) tried %s%s", principal.agent_id, principal.role, what, target)
        raise Forbidden(f"agent {principal.agent_id} (role {principal.role}) may not {what}{target}")


def require_read(principal: Principal, what: str, agent_id: str | None = None) -> None:
    if principal.reads_all or (agent_id is not None and agent_id == principal.agent_id):
        return
    require(principal, what, roles=READ_ALL)


def authorize(auth: Authenticator, authorization: str | None, what: str, *,
              roles: set[str] | None = None) -> Principal:
    """Who sent this ``Authorization`` header (AuthError, 401, without valid credentials); with ``roles``,
    Forbidden (403, logged) unless their role is one of them."""
    principal = auth.from_authorization(authorization)
    if roles is not None:
        require(principal, what, roles=roles)
    return principal
