"""Read-only tokens for a wall TV (大屏): it shows the wallboard without anyone logging in on it.

A supervisor asks for one (POST /api/wallboard/tv-token) and opens ``/wallboard?tv=1#token=...`` on the TV.
The token lets its holder read the live feed and the snapshot, nothing else; it lasts ``ttl`` seconds (30 days
by default) and is signed with the wallboard key (``data/keys/wallboard-tv.key``, made at the first start), so
it outlives restarts; deleting that file and restarting revokes every TV token at once.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from typing import Any

PREFIX = "tv."


class TvTokenError(Exception):
    status = 401


class TvTokens:
    def __init__(self, *, secret: bytes | None = None, ttl: float = 30 * 86400):
        self._secret = secret or secrets.token_bytes(32)
        self.ttl = ttl

    @staticmethod
    def is_tv_token(token: str) -> bool:
        return token.startswith(PREFIX)

    def _sign(self, body: str) -> str:
        return hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, *, by: str) -> dict[str, Any]:
        expires = int(time.time() + self.ttl)
        body = f"{by}:{expires}"
        token = PREFIX + base64.urlsafe_b64encode(f"{body}:{self._sign(body)}".encode()).decode().rstrip("=")
        return {"token": token, "expires": expires, "read_only": True, "url": f"/wallboard?tv=1#token={token}"}

    def verify(self, token: str) -> str:
        """The supervisor who issued the token; TvTokenError (401) when it is not valid or has expired."""
        raw = token[len(PREFIX):]
        try:
            by, expires, sig = base64.urlsafe_b64decode((raw + "=" * (-len(raw) % 4)).encode()).decode().rsplit(":", 2)
            good = hmac.compare_digest(self._sign(f"{by}:{expires}"), sig)
            expired = int(expires) < time.time()
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise TvTokenError("malformed wallboard token") from None
        if not good:
            raise TvTokenError("invalid wallboard token")
        if expired:
            raise TvTokenError("wallboard token expired; ask a supervisor for a new one")
        return by
