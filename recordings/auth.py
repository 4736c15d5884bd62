"""Who is asking, for the recordings API and the QA page: the product's access control, cti.auth.

One login for everything: the token from ``POST /api/auth/login`` (agent ID + PIN, served by the CTI)
works on the CTI API, the recordings API and the QA page; HTTP Basic (agent ID:PIN) works too. The
authenticator is the CTI's own (``cti.auth``), handed to ``recordings.http.router`` by hotline/service.py.

The ``<audio>`` element cannot send an Authorization header: ``POST /api/recordings/session`` puts the same
token into an HttpOnly cookie, which is accepted for the audio stream only.
Refusals go through ``cti.auth.require``/``require_read``: 403 and a log line naming who tried what.
"""
from __future__ import annotations

from typing import Any, Callable

from fastapi import HTTPException, Request

from cti.auth import READ_ALL, AuthError, Authenticator, Forbidden, Principal, require, require_read

__all__ = ["COOKIE", "Principal", "bearer_token", "check", "credentials", "READ_ALL", "require", "require_read"]

COOKIE = "hotline_token"
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def credentials(auth: Authenticator, *, cookie: bool = False) -> Callable:
    """A FastAPI dependency: the caller's Principal, or 401. ``cookie``: also accept the session cookie."""

    async def current(request: Request) -> Principal:
        header = request.headers.get("authorization")
        token = request.cookies.get(COOKIE) if cookie and not header else None
        source = request.client.host if request.client else "unknown"
        try:
            return auth.verify_token(token) if token else await auth.from_authorization(header, source=source)
        except AuthError as exc:          # 401, or 429 while the account or the source is locked out
            raise HTTPException(exc.status, str(exc), headers=CHALLENGE if exc.status == 401 else None) from None

    return current


def check(rule: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Run a cti.auth rule (require / require_read); its Forbidden (already logged) becomes HTTP 403."""
    try:
        rule(*args, **kwargs)
    except Forbidden as exc:
        raise HTTPException(403, str(exc)) from None
