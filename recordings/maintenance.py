"""录音维护: archive old recordings, purge under the retention policy, verify files against rows, export.

Archive, per recording: copy to the archive tier, read the copy back and compare its sha256 with the row's,
only then point the row at the archive (one UPDATE, committed), then delete the primary file, then verify
once more through the row. A crash at any step leaves either the old row and file intact, or the new row
with a verified archive copy (plus, at worst, a leftover primary file that `verify` reports).
"""
from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from tqdm import tqdm

from recordings.context import RecordingsContext
from recordings.models import (
    STATUS_COMPLETE,
    STATUS_FLAGGED,
    STATUS_PROCESSING,
    STATUS_PURGED,
    STATUS_RECORDING,
    TIER_ARCHIVE,
    TIER_PRIMARY,
    AuditLog,
    Recording,
    utcnow,
)
from recordings.storage import LocalStorage, Storage, sha256_of

HAS_FILE = (STATUS_COMPLETE, STATUS_FLAGGED, STATUS_PROCESSING, STATUS_RECORDING)


async def audit(ctx: RecordingsContext, actor: str, action: str, recording_id: int | None, detail: str = "") -> None:
    async with ctx.sessions() as session:
        session.add(AuditLog(actor=actor, action=action, recording_id=recording_id, detail=detail))
        await session.commit()


def _copy_verified(src: Storage, dest: Storage, key: str, expected_sha: str) -> None:
    """Copy key from src to dest and check the copy's checksum; raise on mismatch (copy removed)."""
    local = src.local_path(key)
    if local is not None:
        dest.put(key, local)
    else:  # an object store: through a temporary file
        with tempfile.NamedTemporaryFile() as tmp, src.open(key) as fh:
            shutil.copyfileobj(fh, tmp)
            tmp.flush()
            dest.put(key, Path(tmp.name))
    actual = sha256_of(dest, key)
    if actual != expected_sha:
        dest.delete(key)
        raise ValueError(f"archive copy of {key} has sha256 {actual}, expected {expected_sha}")


def _keys(storage: Storage) -> list[str]:
    return list(storage.keys())


@dataclass
class ArchiveReport:
    archived: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


async def archive(ctx: RecordingsContext, older_than_days: int, actor: str = "maintenance", progress: bool = True) -> ArchiveReport:
    if older_than_days < 0:
        raise ValueError("--older-than must be zero or more days")
    cutoff = utcnow() - timedelta(days=older_than_days)
    async with ctx.sessions() as session:
        ids = (
            await session.scalars(
                select(Recording.id)
                .where(Recording.storage_tier == TIER_PRIMARY)
                .where(Recording.status == STATUS_COMPLETE)
                .where(Recording.started_at < cutoff)
                .order_by(Recording.started_at)
            )
        ).all()
    report = ArchiveReport()
    src, dest = ctx.primary, ctx.archive
    for rec_id in tqdm(ids, desc="archive", unit="rec", disable=not progress):
        async with ctx.sessions() as session:
            rec = await session.get(Recording, rec_id)
            key = rec.path
            try:
                expected = rec.sha256 or await asyncio.to_thread(sha256_of, src, key)
                current = await asyncio.to_thread(sha256_of, src, key)
                if current != expected:
                    raise ValueError(f"primary file {key} no longer matches its checksum; not archived")
                await asyncio.to_thread(_copy_verified, src, dest, key, expected)
            except Exception as exc:
                report.failed[rec_id] = str(exc)
                continue
            rec.storage_tier = TIER_ARCHIVE
            rec.sha256 = expected
            session.add(AuditLog(actor=actor, action="archive", recording_id=rec_id, detail=f"{TIER_PRIMARY}:{key} -> {TIER_ARCHIVE}:{key}"))
            await session.commit()
        await asyncio.to_thread(src.delete, key)
        if await asyncio.to_thread(sha256_of, dest, key) != expected:
            report.failed[rec_id] = f"archive copy of {key} changed after the move"
            continue
        report.archived.append(rec_id)
    return report


@dataclass
class PurgeReport:
    purged: list[int] = field(default_factory=list)
    skipped_tiers: list[str] = field(default_factory=list)


async def purge(ctx: RecordingsContext, actor: str = "maintenance", now: datetime | None = None, progress: bool = True) -> PurgeReport:
    """Delete files older than their tier's retention (recording.yaml `retention`); rows stay, status purged."""
    now = now or utcnow()
    report = PurgeReport()
    policy = ctx.config.retention
    if not any(policy.values()):
        raise ValueError("no retention policy configured (recording.yaml retention: days per tier): nothing purged")
    for tier, days in policy.items():
        if not days:
            report.skipped_tiers.append(tier)
            continue
        storage = ctx.storage_for(tier)
        cutoff = now - timedelta(days=days)
        async with ctx.sessions() as session:
            ids = (
                await session.scalars(
                    select(Recording.id)
                    .where(Recording.storage_tier == tier)
                    .where(Recording.status.in_((STATUS_COMPLETE, STATUS_FLAGGED)))
                    .where(Recording.started_at < cutoff)
                )
            ).all()
        for rec_id in tqdm(ids, desc=f"purge {tier}", unit="rec", disable=not progress):
            async with ctx.sessions() as session:
                rec = await session.get(Recording, rec_id)
                key = rec.path
                rec.status = STATUS_PURGED
                rec.error = f"file deleted by retention policy ({tier}: {days} days) on {now:%Y-%m-%d}"
                session.add(AuditLog(actor=actor, action="delete", recording_id=rec_id,
                                     detail=f"retention {tier} {days} days: {tier}:{key}"))
                await session.commit()
            await asyncio.to_thread(storage.delete, key)
            report.purged.append(rec_id)
    return report


@dataclass
class VerifyReport:
    checked: int = 0
    files_without_rows: list[str] = field(default_factory=list)  # "tier:key"
    rows_without_files: list[int] = field(default_factory=list)
    checksum_mismatches: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.files_without_rows or self.rows_without_files or self.checksum_mismatches)

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "files_without_rows": self.files_without_rows,
            "rows_without_files": self.rows_without_files,
            "checksum_mismatches": self.checksum_mismatches,
        }


# Folders of the recordings directory that hold no call recordings: the IVR's voicemail messages
# (<recordings_dir>/voicemail, ivr/service.py) have their own rows and are not "files without rows".
NOT_RECORDINGS = ("voicemail/",)


async def verify(ctx: RecordingsContext, progress: bool = True) -> VerifyReport:
    report = VerifyReport()
    async with ctx.sessions() as session:
        rows = (
            await session.execute(
                select(Recording.id, Recording.storage_tier, Recording.path, Recording.sha256, Recording.status)
            )
        ).all()
    expected: dict[str, set[str]] = {tier: set() for tier in ctx.storages}
    for rec_id, tier, key, sha, status in tqdm(rows, desc="verify", unit="rec", disable=not progress):
        if status not in HAS_FILE:
            continue
        storage = ctx.storages.get(tier)
        expected.setdefault(tier, set()).add(key)
        if storage is None or await asyncio.to_thread(storage.stat, key) is None:
            if status != STATUS_RECORDING:  # MixMonitor writes nothing until audio flows
                report.rows_without_files.append(rec_id)
            continue
        report.checked += 1
        if sha and status in (STATUS_COMPLETE, STATUS_FLAGGED):
            if await asyncio.to_thread(sha256_of, storage, key) != sha:
                report.checksum_mismatches.append(rec_id)
    for tier, storage in ctx.storages.items():
        known = expected.get(tier, set())
        for key in await asyncio.to_thread(_keys, storage):
            if key.startswith(NOT_RECORDINGS):
                continue
            if key not in known:
                report.files_without_rows.append(f"{tier}:{key}")
    return report


async def export(ctx: RecordingsContext, recording_id: int, output: Path, actor: str) -> Recording:
    async with ctx.sessions() as session:
        rec = await session.get(Recording, recording_id)
        if rec is None:
            raise LookupError(f"no recording with id {recording_id}")
        if rec.status not in HAS_FILE:
            raise LookupError(f"recording {recording_id} has no file (status {rec.status})")
        storage = ctx.storage_for(rec.storage_tier)

        def copy() -> None:
            output.parent.mkdir(parents=True, exist_ok=True)
            with storage.open(rec.path) as src, open(output, "wb") as dst:
                shutil.copyfileobj(src, dst)

        await asyncio.to_thread(copy)
        session.add(AuditLog(actor=actor, action="export", recording_id=rec.id, detail=f"to {output}"))
        await session.commit()
        return rec


@dataclass
class RecoverReport:
    completed: list[int] = field(default_factory=list)
    flagged: dict[int, str] = field(default_factory=dict)


async def recover(ctx: RecordingsContext, older_than_hours: float, executor=None, progress: bool = True) -> RecoverReport:
    """Finish rows a stopped service left `recording` / `processing` (Asterisk closed the file at hangup
    meanwhile): end time from the file's modification time, then the normal post-processing."""
    from recordings.postprocess import Postprocessor

    if older_than_hours <= 0:
        raise ValueError("--older-than-hours must be positive: younger rows may belong to calls still running")
    primary = ctx.primary
    if not isinstance(primary, LocalStorage):       # post-processing reads the files in a local directory
        raise ValueError(f"the primary storage must be a local directory to post-process, not {primary!r}")
    cutoff = utcnow() - timedelta(hours=older_than_hours)
    async with ctx.sessions() as session:
        ids = (await session.scalars(
            select(Recording.id)
            .where(Recording.status.in_((STATUS_RECORDING, STATUS_PROCESSING)))
            .where(Recording.started_at < cutoff)
            .order_by(Recording.id)
        )).all()
    report = RecoverReport()
    for rec_id in tqdm(ids, desc="recover", unit="rec", disable=not progress):
        async with ctx.sessions() as session:
            rec = await session.get(Recording, rec_id)
            storage = ctx.storage_for(rec.storage_tier)
            stat = await asyncio.to_thread(storage.stat, rec.path)
            if rec.ended_at is None:
                rec.ended_at = datetime.fromtimestamp(stat.mtime, tz=utcnow().tzinfo) if stat else rec.started_at
                rec.disposition = rec.disposition or "answered"
            rec.status = STATUS_PROCESSING
            await session.commit()
        done = await Postprocessor(ctx.sessions, primary, ctx.config.postprocess, executor).process(rec_id)
        if done.status == STATUS_COMPLETE:
            report.completed.append(rec_id)
        else:
            report.flagged[rec_id] = done.error or done.status
    return report
