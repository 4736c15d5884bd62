"""Post-processing measures, normalises and converts real audio; a bad file is kept and flagged, never deleted."""
from __future__ import annotations

import dataclasses
import subprocess
import uuid
from concurrent.futures import ProcessPoolExecutor
import multiprocessing
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pydub import AudioSegment

from recordings.config import PostprocessConfig
from recordings.models import Recording
from recordings.postprocess import Postprocessor, process_file
from recordings.storage import LocalStorage, sha256_file
from recording_helpers import write_wav

WHEN = datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc)


async def _row(ctx, key: str) -> int:
    async with ctx.sessions() as session:
        rec = Recording(linkedid=key.replace("/", "_"), agent_id="1001", started_at=WHEN, path=key, status="processing")
        session.add(rec)
        await session.commit()
        return rec.id


@pytest.mark.parametrize("fmt,content_check", [("mp3", "mp3"), ("ogg", "ogg"), ("wav", "wav")])
def test_process_file_converts_and_measures(tmp_path, fmt, content_check):
    write_wav(tmp_path / "2026/11/01/a-1.wav", 3.0, amplitude=0.05)
    result = process_file(str(tmp_path), "2026/11/01/a-1.wav", dataclasses.asdict(PostprocessConfig(format=fmt)))
    assert result.ok, result.error
    assert result.key == f"2026/11/01/a-1.{fmt}" and result.format == fmt
    out = tmp_path / result.key
    assert abs(result.duration_s - 3.0) < 0.1
    assert result.size_bytes == out.stat().st_size and result.sha256 == sha256_file(out)
    if fmt != "wav":
        assert not (tmp_path / "2026/11/01/a-1.wav").exists()  # replaced only after the copy was read back
    audio = AudioSegment.from_file(str(out), format=fmt)
    assert audio.max_dBFS > -3  # normalised from a quiet (-26 dBFS) tone
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=format_name", "-of", "csv=p=0", str(out)],
                           capture_output=True, text=True)
    assert content_check in probe.stdout


async def test_broken_file_is_flagged_and_kept(ctx):
    key = "2026/11/01/broken-1.wav"
    path = ctx.primary.local_path(key)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEgarbage that is not audio")
    rec_id = await _row(ctx, key)
    rec = await Postprocessor(ctx.sessions, ctx.primary, PostprocessConfig(format="mp3")).process(rec_id)
    assert rec.status == "flagged"
    assert "not a readable WAV" in rec.error
    assert path.exists() and rec.path == key and rec.sha256 == sha256_file(path)


async def test_missing_file_is_flagged(ctx):
    rec_id = await _row(ctx, "2026/11/01/never-written-1.wav")
    rec = await Postprocessor(ctx.sessions, ctx.primary, PostprocessConfig()).process(rec_id)
    assert rec.status == "flagged" and rec.error.startswith("file missing")


async def test_completes_in_a_process_pool(ctx):
    key = "2026/11/01/pool-1.wav"
    write_wav(ctx.primary.local_path(key), 2.0)
    rec_id = await _row(ctx, key)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        rec = await Postprocessor(ctx.sessions, ctx.primary, PostprocessConfig(format="mp3"), pool).process(rec_id)
    assert rec.status == "complete", rec.error
    assert rec.path == "2026/11/01/pool-1.mp3" and rec.format == "mp3" and abs(rec.duration_s - 2.0) < 0.1


@pytest.fixture
def small_disk(tmp_path):
    """A real 1 MiB filesystem (tmpfs), so writes fail with ENOSPC exactly as on a full recordings disk."""
    mount = tmp_path / f"small-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


async def test_full_disk_flags_the_row_and_keeps_the_original(ctx, small_disk):
    storage = LocalStorage(small_disk, "primary")
    key = "2026/11/01/full-1.wav"
    original = write_wav(storage.local_path(key), 40.0, amplitude=0.05)  # 640 kB: a normalised copy cannot fit
    digest = sha256_file(original)
    rec_id = await _row(ctx, key)
    rec = await Postprocessor(ctx.sessions, storage, PostprocessConfig(format="wav")).process(rec_id)
    assert rec.status == "flagged"
    assert rec.error.startswith("disk full while writing full-1.wav: original kept")
    assert sha256_file(original) == digest and rec.sha256 == digest
    assert sorted(p.name for p in original.parent.iterdir()) == ["full-1.wav"]  # no partial file left behind
