"""Signing keys that must outlive a restart, kept in files under the data folder.

A wall TV's token is valid for 30 days and typed in once on a TV nobody logs in to; signed with a key made at
each start, every nightly restart would blank every wall. :func:`load_or_create_key` keeps the key in a file
readable only by hotline's user: created once (random, 32 bytes), read on every start. Deleting the file and
restarting is how every token signed with it is revoked at once.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_BYTES = 32


class KeyFileError(Exception):
    """The key file exists but is not a key hotline wrote (wrong size, a link, unreadable)."""


def load_or_create_key(path: Path) -> bytes:
    """The key stored at ``path``; a new random one written there (mode 0600) when there is none yet."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return _create(path)
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the key ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as file:
        key = file.read(KEY_BYTES + 1)
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"{path}: not a {KEY_BYTES}-byte key (delete it to make a new one; "
                           "tokens signed with the old key stop working)")
    return key


def _create(path: Path) -> bytes:
    """Written whole under a temporary name, then linked into place: a crash leaves no half key, and of two
    processes starting at once both end up with the one key linked first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(key)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return load_or_create_key(path)
    finally:
        temporary.unlink(missing_ok=True)
    return key
