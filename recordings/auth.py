"""Who is asking: staff ID (工号) + PIN from config/agents.yaml -> a signed bearer token.

This is a small seam until the CTI layer's access control exists: `Authenticator.current_user` is the
only FastAPI dependency the recordings API uses, so swapping it for a shared one touches nothing else.
The token is `<staff id>.<expiry epoch>.<hmac>` signed with a per-process key (tokens end with the
process); it travels as `Authorization: Bearer …` or, for the <audio> element that cannot set
headers, as the `hotline_qa` cookie set at login.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from fastapi import HTTPException, Request

from recordings.context import Staff

COOKIE = "hotline_qa"
TOKEN_TTL_S = 12 * 3600
REVIEW_ROLES = ("qa", "supervisor", "admin")  # search and replay everything, evaluate


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: str

    @property
    def sees_everything(self) -> bool:
        return self.role in REVIEW_ROLES


class Authenticator:
    def __init__(self, staff: dict[str, Staff], key: bytes | None = None, ttl_s: int = TOKEN_TTL_S):
        self._staff = staff
        self._key = key or secrets.token_bytes(32)
        self._ttl = ttl_s

    def login(self, staff_id: str, pin: str) -> tuple[User, str]:
        person = self._staff.get(str(staff_id))
        if person is None or not hmac.compare_digest(person.pin.encode(), str(pin).encode()):
            raise PermissionError("unknown staff ID or wrong PIN")
        return _user(person), self._sign(person.id, int(time.time()) + self._ttl)

    def _sign(self, staff_id: str, expires: int) -> str:
        body = f"{staff_id}.{expires}"
        mac = hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{body}.{mac}"

    def user_for_token(self, token: str) -> User:
        try:
            staff_id, expires, mac = token.rsplit(".", 2)
            expected = self._sign(staff_id, int(expires)).rsplit(".", 1)[1]
        except ValueError:
            raise PermissionError("malformed token") from None
        if not hmac.compare_digest(mac, expected):
            raise PermissionError("invalid token")
        if int(expires) < time.time():
            raise PermissionError("token expired; log in again")
        person = self._staff.get(staff_id)
        if person is None:
            raise PermissionError("staff ID no longer configured")
        return _user(person)

    async def current_user(self, request: Request) -> User:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(COOKIE, "")
        if not token:
            raise HTTPException(401, "log in first (POST /api/recordings/login)", headers={"WWW-Authenticate": "Bearer"})
        try:
            return self.user_for_token(token)
        except PermissionError as exc:
            raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None


def _user(person: Staff) -> User:
    return User(id=person.id, name=person.name, role=person.role)
