"""PIN hashes: ``scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>`` (hashlib.scrypt, random 16-byte salt).

config/agents.yaml takes ``pin_hash: "scrypt$..."`` instead of ``pin:``; a plain ``pin:`` still works (the
demo configuration) and is hashed when it is loaded, so no plain PIN is compared or kept by the
authenticator. Make a hash with ``python -m hotline.security.pins`` (it asks for the PIN).

A check costs 10-40 ms of CPU by design. Done on the event loop, every login or wrong PIN would hold every
caller's next prompt and every AMI event that long, so the service checks with :func:`verify_pin_off_loop`: on
two worker threads (scrypt releases the GIL), which also caps the memory a burst of checks takes (16 MiB each).
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import re
from concurrent.futures import ThreadPoolExecutor

STORED_COST = 14        # n = 2**14, r = 8: ~40 ms and 16 MiB per check, for hashes written to files
LOAD_COST = 12          # plain PINs hashed at start-up (~10 ms each): they already sit in a file in clear

_HASH_RE = re.compile(r"^scrypt\$(1[0-9]|[4-9])\$([1-9][0-9]?)\$([1-9])\$([A-Za-z0-9+/=]{16,64})\$([A-Za-z0-9+/=]{32,88})$")


def is_pin_hash(value: str) -> bool:
    return bool(_HASH_RE.match(value))


def hash_pin(pin: str, *, cost: int = STORED_COST, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=2 ** cost, r=8, p=1, dklen=32)
    return f"scrypt${cost}$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_pin(pin: str, stored: str) -> bool:
    """Constant-time check of ``pin`` against a hash from ``hash_pin`` (False for anything malformed)."""
    match = _HASH_RE.match(stored)
    if match is None or len(pin) > 64:
        return False
    cost, r, p = int(match[1]), int(match[2]), int(match[3])
    try:
        salt, expected = base64.b64decode(match[4]), base64.b64decode(match[5])
        digest = hashlib.scrypt(pin.encode(), salt=salt, n=2 ** cost, r=r, p=p, dklen=len(expected))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(digest, expected)


_CHECKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pin-check")


async def verify_pin_off_loop(pin: str, stored: str) -> bool:
    """:func:`verify_pin` on the PIN-check threads, so the event loop goes on meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(_CHECKERS, verify_pin, pin, stored)


def ensure_hashed(pin_or_hash: str) -> str:
    return pin_or_hash if is_pin_hash(pin_or_hash) else hash_pin(pin_or_hash, cost=LOAD_COST)


if __name__ == "__main__":   # pragma: no cover - interactive helper
    import getpass

    print(hash_pin(getpass.getpass("PIN: ")))
