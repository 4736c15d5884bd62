"""After a call: check the file, measure it, normalise, convert, checksum — off the event loop.

`process_file` is a plain module-level function so it runs in a thread or a process pool alike. It never
deletes a file that failed: the WAV Asterisk wrote is removed only after its converted copy has been written
completely, renamed into place and read back. Every failure (unreadable audio, ffmpeg error, full disk)
comes back as a result with `error` set; `Postprocessor` turns that into status `flagged` on the row.
"""
from __future__ import annotations

import asyncio
import errno
import os
import uuid
import wave
from concurrent.futures import Executor
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy.ext.asyncio import async_sessionmaker

from recordings.config import PostprocessConfig
from recordings.models import STATUS_COMPLETE, STATUS_FLAGGED, Recording
from recordings.storage import LocalStorage, sha256_file

CONTENT_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg"}


@dataclass
class ProcessResult:
    key: str  # storage key of the file to keep (converted, or the original when flagged)
    format: str
    duration_s: float | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def process_file(root: str, key: str, options: dict) -> ProcessResult:
    """Process `<root>/<key>` (a WAV from MixMonitor) according to a PostprocessConfig given as a dict."""
    opts = PostprocessConfig(**options)
    src = Path(root) / key
    src_format = src.suffix.lstrip(".").lower() or "wav"
    if not src.exists():
        return ProcessResult(key=key, format=src_format, error=f"file missing: {src}")
    size = src.stat().st_size
    try:
        digest = sha256_file(src)
    except OSError as exc:
        return ProcessResult(key=key, format=src_format, size_bytes=size, error=f"cannot read {src}: {exc}")
    kept = ProcessResult(key=key, format=src_format, size_bytes=size, sha256=digest)
    try:
        wav_duration = _wav_duration(src)
    except (wave.Error, EOFError, OSError) as exc:
        kept.error = f"not a readable WAV file ({exc})"
        return kept
    kept.duration_s = wav_duration
    if wav_duration <= 0:
        kept.error = "recording has no audio (0 s)"
        return kept

    from pydub import AudioSegment, effects  # imported here: process-pool workers pay for it only when used
    from pydub.exceptions import CouldntDecodeError, CouldntEncodeError

    try:
        audio = AudioSegment.from_wav(str(src))
    except (CouldntDecodeError, OSError, ValueError) as exc:
        kept.error = f"cannot decode audio: {exc}"
        return kept
    if opts.normalise and audio.max_dBFS != float("-inf"):
        audio = effects.normalize(audio, headroom=opts.headroom_db)

    target_key = str(PurePosixPath(key).with_suffix("." + opts.format))
    target = Path(root) / target_key
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.part"
    try:
        with open(tmp, "wb") as out:
            if opts.format == "wav":
                _write_wav(out, audio)
            elif opts.format == "mp3":
                audio.export(out, format="mp3", bitrate=opts.mp3_bitrate)
            else:
                audio.export(out, format="ogg", codec="libopus", parameters=["-b:a", "24k"])
            out.flush()
            os.fsync(out.fileno())
        converted = AudioSegment.from_file(str(tmp), format=opts.format)
        duration = len(converted) / 1000.0
        if abs(duration - wav_duration) > max(opts.duration_tolerance_s, 0.1):
            raise CouldntEncodeError(f"converted length {duration:.2f}s differs from the WAV's {wav_duration:.2f}s")
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            kept.error = f"disk full while writing {target.name}: original kept at {key}"
        else:
            kept.error = f"cannot write {target.name}: {exc}"
        return kept
    except (CouldntEncodeError, CouldntDecodeError, ValueError, IndexError) as exc:
        tmp.unlink(missing_ok=True)
        kept.error = f"conversion to {opts.format} failed: {exc}"
        return kept

    if target_key != key:
        src.unlink()
    return ProcessResult(
        key=target_key,
        format=opts.format,
        duration_s=round(duration, 3),
        size_bytes=target.stat().st_size,
        sha256=sha256_file(target),
    )


def _write_wav(out, audio) -> None:
    """The WAV writer closed on every path (pydub's leaves a half-closed writer behind on ENOSPC)."""
    writer = wave.open(out, "wb")
    try:
        writer.setnchannels(audio.channels)
        writer.setsampwidth(audio.sample_width)
        writer.setframerate(audio.frame_rate)
        writer.writeframes(audio.raw_data)
    finally:
        writer.close()


def _wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as wf:
        rate = wf.getframerate()
        frames = wf.getnframes()
        if rate <= 0:
            raise wave.Error("sample rate 0")
        # MixMonitor killed mid-write leaves a header that claims 0 or too many frames: trust the file size.
        data_bytes = path.stat().st_size - 44
        frame_bytes = wf.getsampwidth() * wf.getnchannels()
        if frame_bytes and (frames == 0 or frames * frame_bytes > data_bytes + frame_bytes):
            frames = max(0, data_bytes // frame_bytes)
        return frames / rate


class Postprocessor:
    """Runs process_file in an executor and records the outcome on the row."""

    def __init__(
        self,
        sessions: async_sessionmaker,
        storage: LocalStorage,
        options: PostprocessConfig,
        executor: Executor | None = None,
    ):
        self._sessions = sessions
        self._storage = storage
        self._options = options
        self._executor = executor

    async def process(self, recording_id: int) -> Recording:
        async with self._sessions() as session:
            rec = await session.get(Recording, recording_id)
            if rec is None:
                raise LookupError(f"no recording {recording_id}")
            key = rec.path
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(
                self._executor, process_file, str(self._storage.root), key, asdict(self._options)
            )
        except Exception as exc:  # a crashed worker must still leave the row flagged, not stuck
            result = ProcessResult(key=key, format=PurePosixPath(key).suffix.lstrip("."), error=f"post-processing crashed: {exc!r}")
        async with self._sessions() as session:
            rec = await session.get(Recording, recording_id)
            rec.path = result.key
            rec.format = result.format
            if result.size_bytes is not None:
                rec.size_bytes = result.size_bytes
            if result.sha256 is not None:
                rec.sha256 = result.sha256
            if result.duration_s is not None:
                rec.duration_s = result.duration_s
            rec.status = STATUS_COMPLETE if result.ok else STATUS_FLAGGED
            rec.error = result.error
            await session.commit()
            return rec
