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
from typing import Any, Callable, Iterable

from cti.agents import CtiError
from hotline.security.pins import LOAD_COST, ensure_hashed, hash_pin, verify_pin_off_loop
from hotline.security.throttle import LoginThrottle

log = logging.getLogger("hotline.cti.auth")

ROLES = ("agent", "qa", "supervisor", "admin")
READ_ALL = {"qa", "supervisor", "admin"}
SUPERVISE = {"supervisor", "admin"}


class AuthError(CtiError):
    status = 401


class Forbidden(CtiError):
    status = 403


class TooManyAttempts(AuthError):
    """Locked out by the login-throttling policy (hotline.security.throttle): 429 with the wait."""
    status = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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


MAX_CREDENTIAL_CHARS = 64          # agent IDs and PINs longer than this are refused unread (and unlogged)
_VERIFIED_TTL = 300.0              # a PIN checked good is not re-hashed for this long (HTTP Basic per request)
_DUMMY_HASH = hash_pin("0000", cost=LOAD_COST)


class Authenticator:
    """PINs are held as scrypt hashes (plain ``pin:`` entries are hashed here, ``pin_hash:`` used as is).
    Every PIN check goes through one ``LoginThrottle``; tokens carry an id and an expiry and can be revoked
    (``logout``). Tokens are signed with a per-process secret unless one is given: a restart revokes them all."""

    def __init__(self, agents: Iterable[Any], *, secret: bytes | None = None, token_ttl: float = 12 * 3600,
                 throttle: LoginThrottle | None = None, sessions: Any = None,
                 clock: Callable[[], float] = time.time):
        agents = list(agents)
        self._hashes = {a.id: ensure_hashed(str(a.pin)) for a in agents}
        self._principals = {a.id: Principal(a.id, a.role, a.name) for a in agents}
        self._secret = secret or secrets.token_bytes(32)
        self.ttl = token_ttl
        self.clock = clock
        self.throttle = throttle or LoginThrottle(sessions=sessions, clock=clock)
        self._revoked: dict[str, float] = {}          # token id -> its expiry
        self._verified: dict[bytes, float] = {}       # keyed HMAC of (agent id, PIN) -> until

    async def start(self) -> None:
        await self.throttle.load()

    async def close(self) -> None:
        await self.throttle.close()

    def principal(self, agent_id: str) -> Principal | None:
        return self._principals.get(agent_id)

    async def check_pin(self, agent_id: str, pin: str, *, source: str | None = None) -> Principal:
        """The one PIN check of every entry point: throttled, constant-time, off the event loop, never logs the PIN."""
        agent_id, pin = str(agent_id), str(pin)
        if len(agent_id) > MAX_CREDENTIAL_CHARS or len(pin) > MAX_CREDENTIAL_CHARS:
            log.warning("authentication refused: agent ID or PIN over %d characters (from %s)",
                        MAX_CREDENTIAL_CHARS, _short(source))
            raise AuthError("wrong agent ID or PIN")
        known = agent_id in self._principals
        wait = self.throttle.locked_for(agent_id if known else None, source)
        if wait > 0:
            log.warning("login refused while locked out: agent ID %r from %s (%.0f s left)", agent_id,
                        _short(source), wait)
            raise TooManyAttempts(f"too many failed logins; try again in {int(wait) + 1} s", wait)
        cache_key = hmac.new(self._secret, f"{agent_id}\0{pin}".encode(), hashlib.sha256).digest()
        now = self.clock()
        if self._verified.get(cache_key, 0.0) > now:
            self.throttle.succeeded(agent_id)
            return self._principals[agent_id]
        if not await verify_pin_off_loop(pin, self._hashes.get(agent_id, _DUMMY_HASH)) or not known:
            locked = self.throttle.failed(agent_id if known else None, source)
            log.warning("authentication failed for agent ID %r from %s", agent_id, _short(source))
            if locked:
                raise TooManyAttempts(f"too many failed logins; try again in {int(locked)} s", locked)
            raise AuthError("wrong agent ID or PIN")
        self.throttle.succeeded(agent_id)
        if len(self._verified) > 1000:
            self._verified = {k: t for k, t in self._verified.items() if t > now}
        self._verified[cache_key] = now + _VERIFIED_TTL
        return self._principals[agent_id]

    async def login(self, agent_id: str, pin: str, *, source: str | None = None) -> dict[str, Any]:
        principal = await self.check_pin(agent_id, pin, source=source)
        expires = int(self.clock() + self.ttl)
        body = f"{principal.agent_id}:{expires}:{secrets.token_hex(8)}"
        token = base64.urlsafe_b64encode(f"{body}:{self._sign(body)}".encode()).decode().rstrip("=")
        return {"token": token, "agent_id": principal.agent_id, "role": principal.role, "expires": expires}

    def logout(self, token: str) -> Principal:
        """Revoke ``token`` (it must be valid); later requests with it get 401."""
        principal, token_id, expires = self._decode(token)
        self._revoked[token_id] = expires
        now = self.clock()
        self._revoked = {t: e for t, e in self._revoked.items() if e >= now}
        log.info("agent %s logged out: token revoked", principal.agent_id)
        return principal

    def verify_token(self, token: str) -> Principal:
        return self._decode(token)[0]

    def _sign(self, body: str) -> str:
        return hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()[:32]

    def _decode(self, token: str) -> tuple[Principal, str, float]:
        if len(token) > 256:
            raise AuthError("malformed token")
        try:
            padded = token + "=" * (-len(token) % 4)
            agent_id, expires, token_id, sig = base64.urlsafe_b64decode(padded.encode()).decode().split(":")
            expires_at = float(int(expires))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise AuthError("malformed token") from None
        if not hmac.compare_digest(self._sign(f"{agent_id}:{expires}:{token_id}").encode(), sig.encode()) \
                or agent_id not in self._principals:
            raise AuthError("invalid token")
        if expires_at < self.clock():
            raise AuthError("token expired; log in again")
        if token_id in self._revoked:
            raise AuthError("token revoked (logged out); log in again")
        return self._principals[agent_id], token_id, expires_at

    async def from_authorization(self, header: str | None, *, source: str | None = None) -> Principal:
        """``Authorization: Bearer <token>`` or ``Authorization: Basic base64(agent_id:pin)``."""
        if not header:
            raise AuthError("credentials required: Authorization: Bearer <token> or Basic <agent id:PIN>")
        if len(header) > 512:
            raise AuthError("malformed Authorization header")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return self.verify_token(value.strip())
        if scheme.lower() == "basic":
            try:
                agent_id, _, pin = base64.b64decode(value.strip()).decode().partition(":")
            except (ValueError, binascii.Error, UnicodeDecodeError):
                raise AuthError("malformed Basic credentials") from None
            return await self.check_pin(agent_id, pin, source=source)
        raise AuthError(f"unsupported authorization scheme {scheme[:20]!r}")

    async def broker_login(self, username: str, password: str, source: str) -> str | None:
        """The MQTT broker's CONNECT check (hotline.bus.access.AgentCredentials): password = a token of this
        agent, or the PIN (throttled like every PIN check). The role, or None."""
        try:
            if len(password) > 64:
                principal = self.verify_token(password)
                if principal.agent_id != username:
                    raise AuthError("token of another agent")
            else:
                principal = await self.check_pin(username, password, source=source)
        except AuthError:
            return None
        return principal.role

    def from_payload(self, payload: dict[str, Any]) -> Principal:
        """MQTT commands carry ``{"token": ...}`` from ``POST /api/auth/login``; never a PIN."""
        if payload.get("token"):
            return self.verify_token(str(payload["token"]))
        if "auth" in payload or "pin" in payload:
            raise AuthError("PINs are not accepted in MQTT payloads: log in over HTTP (POST /api/auth/login) "
                            "and send the token")
        raise AuthError("credentials required: a 'token' from POST /api/auth/login in the command")


def _short(source: str | None) -> str:
    return (source or "unknown source")[:80]


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


async def authorize(auth: Authenticator, authorization: str | None, what: str, *,
                    roles: set[str] | None = None, source: str | None = None) -> Principal:
    """Who sent this ``Authorization`` header (AuthError, 401, without valid credentials); with ``roles``,
    Forbidden (403, logged) unless their role is one of them."""
    principal = await auth.from_authorization(authorization, source=source)
    if roles is not None:
        require(principal, what, roles=roles)
    return principal
