"""The HTTP edge, in front of every router: credentials before the body, body size and JSON depth bounded.

For a request that carries a body:
1. no credentials (no ``Authorization`` header, no cookie) on a path that needs them -> 401 at once, unread;
   with an ``authenticate`` check installed, wrong credentials -> 401 at once too;
2. ``Content-Length`` over the path's limit -> 413 at once, unread;
3. otherwise the body is read while counting (a chunked body over the limit -> 413 as soon as it crosses
   it), a body that is not UTF-8 -> 400, nested deeper than ``max_depth`` -> 422, and the app gets the
   bytes replayed.
Answers are ``{"error": "..."}`` like every other refusal of the API.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Awaitable, Protocol

from hotline.bus.payload import PayloadError, decode_json
from hotline.limits import json_depth_exceeds

log = logging.getLogger("hotline.http")

KIB = 1024
DEFAULT_BODY_LIMIT = 64 * KIB
CALL_DATA_LIMIT = 1024 * KIB            # call-attached data: 1 MiB, as documented in cti.calldata
DEFAULT_MAX_DEPTH = 32


@dataclass(frozen=True)
class BodyRule:
    pattern: re.Pattern[str]
    limit: int


DEFAULT_RULES = (BodyRule(re.compile(r"^/api/calls/[^/]+/data$"), CALL_DATA_LIMIT),)
# logging in is the one thing done without credentials
PUBLIC_PATHS = (re.compile(r"^/api/auth/login$"), re.compile(r"^/api/recordings/session$"))
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class _BodyTooLarge(Exception):
    pass


class CheckCredentials(Protocol):
    """``cti.auth.Authenticator.from_authorization``: raises for wrong credentials; ``source`` (the client's
    address) counts failures against the login-throttling policy."""

    def __call__(self, header: str | None, *, source: str | None = None) -> Awaitable[object]: ...


class RequestLimits:
    """ASGI middleware. ``authenticate(authorization_header, source=…)`` raises for wrong credentials."""

    def __init__(self, app: Any, *, rules: Iterable[BodyRule] = DEFAULT_RULES,
                 default_limit: int = DEFAULT_BODY_LIMIT, max_depth: int = DEFAULT_MAX_DEPTH,
                 public_paths: Iterable[re.Pattern[str]] = PUBLIC_PATHS,
                 authenticate: CheckCredentials | None = None) -> None:
        self.app = app
        self.rules = tuple(rules)
        self.default_limit = default_limit
        self.max_depth = max_depth
        self.public_paths = tuple(public_paths)
        self.authenticate = authenticate

    def limit_for(self, path: str) -> int:
        return next((rule.limit for rule in self.rules if rule.pattern.match(path)), self.default_limit)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        path = scope.get("path", "")
        length_header = headers.get("content-length")
        if length_header is None and "chunked" not in headers.get("transfer-encoding", ""):
            await self.app(scope, receive, send)          # no body at all
            return
        if not any(p.match(path) for p in self.public_paths):
            client = scope.get("client")
            refusal = await self._check_credentials(headers, client[0] if client else "unknown")
            if refusal is not None:
                await _answer(send, 401, refusal)
                return
        limit = self.limit_for(path)
        if length_header is not None:
            if not length_header.isdigit():
                await _answer(send, 400, "Content-Length must be a number of bytes")
                return
            if int(length_header) > limit:
                log.warning("HTTP %s %s: refused a %s-byte body (limit %d)", scope["method"], path[:200],
                            length_header, limit)
                await _answer(send, 413, f"request body over the {limit}-byte limit for this endpoint")
                return
        try:
            body = await _read_bounded(receive, limit)
        except _BodyTooLarge:
            log.warning("HTTP %s %s: refused a streamed body over %d bytes", scope["method"], path[:200], limit)
            await _answer(send, 413, f"request body over the {limit}-byte limit for this endpoint")
            return
        try:
            body.decode("utf-8")                              # every body of this API is JSON text
        except UnicodeDecodeError as exc:
            await _answer(send, 400, f"request body is not UTF-8 text (byte {exc.start})")
            return
        if json_depth_exceeds(body, self.max_depth):
            await _answer(send, 422, f"JSON nested deeper than {self.max_depth} levels")
            return
        if body.strip() and "json" in headers.get("content-type", "application/json"):
            try:                              # standard JSON only: no NaN/Infinity a response could not encode
                decode_json(body, max_bytes=limit, max_depth=self.max_depth)
            except PayloadError as exc:
                await _answer(send, 422, f"request body: {exc}")
                return
        await self.app(scope, _replay(body, receive), send)

    async def _check_credentials(self, headers: dict[str, str], source: str) -> str | None:
        authorization = headers.get("authorization")
        if not authorization and not headers.get("cookie"):
            return "credentials required: Authorization: Bearer <token> or Basic <agent id:PIN>"
        if authorization and self.authenticate is not None:
            try:
                await self.authenticate(authorization, source=source)
            except Exception as exc:                         # the checker's own 401 message
                return str(exc) or "wrong credentials"
        return None


async def _read_bounded(receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()                                # http.disconnect, when it comes
    return replay


async def _answer(send, status: int, error: str) -> None:
    payload = json.dumps({"error": error}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})
