"""Where recording files live: a small interface, and a local directory behind it.

Keys are relative POSIX paths (`2026/11/01/1795434901.20-1.wav`), the same in every tier, so a row's
`path` plus its `storage_tier` names the file wherever the tier is kept.

An S3-compatible object store fits behind the same interface (not shipped; no client library is a
dependency yet): `put` = PutObject of the whole file (S3 objects appear atomically, there are no partial
objects, so no temporary name is needed), `open` = GetObject returning the streaming body (ranged reads via
`open_range` = GetObject with `Range: bytes=a-b`), `stat` = HeadObject (size, ETag / x-amz-checksum-sha256),
`delete` = DeleteObject, `keys` = ListObjectsV2 paginated, `url` = a presigned GetObject URL (the HTTP replay
can redirect to it), `local_path` = None (post-processing then downloads to a temporary file first).
`move` across tiers stays copy + verify + delete, which is what archive.py does anyway.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator, Protocol

CHUNK = 1 << 20


@dataclass(frozen=True)
class ObjectStat:
    key: str
    size: int
    mtime: float


class StorageError(Exception):
    pass


class UnsafeKey(StorageError):
    """The key leads through a symlink or out of the storage root: refused, never followed."""


class Storage(Protocol):
    tier: str

    def put(self, key: str, src: Path) -> ObjectStat:
        """Store the file at src under key, atomically: readers see the old object or the whole new one."""

    def open(self, key: str) -> BinaryIO:
        """A binary reader positioned at 0 (seekable for local files)."""

    def stat(self, key: str) -> ObjectStat | None:
        """Size and modification time, or None when there is no such object."""

    def delete(self, key: str) -> None: ...

    def move(self, key: str, new_key: str) -> ObjectStat:
        """Rename within this storage, atomically."""

    def keys(self) -> Iterator[str]: ...

    def url(self, key: str) -> str: ...

    def local_path(self, key: str) -> Path | None:
        """A filesystem path when the object is a local file (MixMonitor writes there), else None."""


def check_key(key: str) -> str:
    """Refuse keys that could escape the storage root."""
    pure = PurePosixPath(key)
    if not key or pure.is_absolute() or any(part in ("..", "") for part in pure.parts) or "\\" in key:
        raise StorageError(f"bad storage key {key!r}")
    return str(pure)


class LocalStorage:
    """A directory. Writes go to a temporary name in the destination folder, are fsynced, then renamed."""

    def __init__(self, root: Path, tier: str = "primary"):
        self.root = Path(root).resolve()
        self.tier = tier

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r}, tier={self.tier!r})"

    def _path(self, key: str) -> Path:
        """The file for ``key``; UnsafeKey when any part of it below the root is a symlink (a link planted in
        the recordings directory must not serve /etc/hostname) or when it resolves outside the root."""
        path = self.root / check_key(key)
        probe = self.root
        for part in PurePosixPath(key).parts:
            probe = probe / part
            if probe.is_symlink():
                raise UnsafeKey(f"{self.tier}: {key!r} goes through a symbolic link; refused")
        if not path.resolve().is_relative_to(self.root):
            raise UnsafeKey(f"{self.tier}: {key!r} resolves outside {self.root}; refused")
        return path

    def local_path(self, key: str) -> Path:
        return self._path(key)

    def put(self, key: str, src: Path) -> ObjectStat:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.parent / f".{dest.name}.{uuid.uuid4().hex[:8]}.part"
        try:
            with open(src, "rb") as fin, open(tmp, "wb") as fout:
                shutil.copyfileobj(fin, fout, CHUNK)
                fout.flush()
                os.fsync(fout.fileno())
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(dest.parent)
        return self._stored(key)

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))   # no link swapped in since the check
        except FileNotFoundError as exc:
            raise StorageError(f"{self.tier}: no such recording file {key!r}") from exc
        except OSError as exc:
            raise UnsafeKey(f"{self.tier}: {key!r} cannot be opened safely: {exc.strerror}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise UnsafeKey(f"{self.tier}: {key!r} is not a regular file; refused")
        return os.fdopen(fd, "rb")

    def stat(self, key: str) -> ObjectStat | None:
        path = self._path(key)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeKey(f"{self.tier}: {key!r} is not a regular file; refused")
        return ObjectStat(key=key, size=st.st_size, mtime=st.st_mtime)

    def _stored(self, key: str) -> ObjectStat:
        """The stat of a file just written or moved here (gone again only if someone deleted it meanwhile)."""
        st = self.stat(key)
        if st is None:
            raise StorageError(f"{self.tier}: {key!r} disappeared right after it was stored")
        return st

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def move(self, key: str, new_key: str) -> ObjectStat:
        dest = self._path(new_key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._path(key), dest)
        _fsync_dir(dest.parent)
        return self._stored(new_key)

    def keys(self) -> Iterator[str]:
        if not self.root.exists():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(self.root).as_posix()

    def url(self, key: str) -> str:
        return self._path(key).as_uri()


def sha256_of(storage: Storage, key: str) -> str:
    digest = hashlib.sha256()
    with storage.open(key) as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
