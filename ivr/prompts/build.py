"""`hotline prompts build`: one 8 kHz mono 16-bit WAV per prompt and language, installed as
`<sounds_dir>/hotline/<lang>/<prompt_id>.wav` (the sound Asterisk plays as `hotline/<lang>/<prompt_id>`).

Text is synthesized with espeak-ng (voice cmn for Mandarin, en-us for English) and resampled with sox,
else ffmpeg, else pydub. A studio recording at `<studio_dir>/<lang>/<prompt_id>.<ext>` (any format or rate)
replaces the synthesized one, converted the same way. A manifest (`hotline/.manifest.json`) keeps a hash of
what each file was made from, so unchanged prompts are skipped. Files are written to a temporary name and
renamed into place, so a failed or interrupted build never leaves a half-written sound.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .catalogue import PromptCatalogue

SAMPLE_RATE = 8000
SOUND_PREFIX = "hotline"
MANIFEST_NAME = ".manifest.json"
VOICES = {"zh": "cmn", "en": "en-us"}  # language prefix → espeak-ng voice
SPEED_WPM = 150  # espeak-ng default 175 is brisk for a phone line; the customer asks for moderate speed
STUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac", ".opus", ".aiff", ".aif", ".au", ".gsm", ".sln")


class PromptError(Exception):
    """A build that cannot go ahead (missing tool, unreadable studio file, unwritable directory)."""


def voice_for(lang: str) -> str:
    return VOICES.get(lang.split("-")[0].lower(), lang.lower())


@dataclass(frozen=True)
class Tools:
    espeak: str | None
    sox: str | None
    ffmpeg: str | None

    @classmethod
    def find(cls, espeak: str = "espeak-ng", sox: str = "sox", ffmpeg: str = "ffmpeg") -> "Tools":
        return cls(shutil.which(espeak), shutil.which(sox), shutil.which(ffmpeg))


@dataclass(frozen=True)
class Job:
    prompt_id: str
    lang: str
    text: str
    output: Path
    digest: str
    studio: Path | None = None  # a studio recording replaces the synthesized voice

    @property
    def key(self) -> str:
        return f"{self.lang}/{self.prompt_id}"


@dataclass
class BuildReport:
    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        text = (f"{len(self.built)} built, {len(self.skipped)} unchanged, {len(self.failed)} failed"
                + (f", {len(self.removed)} removed" if self.removed else ""))
        return text


def studio_file(studio_dir: Path | None, lang: str, prompt_id: str) -> Path | None:
    if studio_dir is None:
        return None
    folder = Path(studio_dir) / lang
    for ext in STUDIO_EXTENSIONS:  # .wav first when several formats lie side by side
        candidate = folder / f"{prompt_id}{ext}"
        if candidate.is_file():
            return candidate
    return None


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8") if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def plan(catalogue: PromptCatalogue, sounds_dir: Path, studio_dir: Path | None = None,
         langs: list[str] | None = None) -> list[Job]:
    """Every (prompt, language) the catalogue has, with what its sound must be made from."""
    jobs: list[Job] = []
    root = Path(sounds_dir) / SOUND_PREFIX
    for prompt_id, lang, text in catalogue.items():
        if langs and lang not in langs:
            continue
        output = root / lang / f"{prompt_id}.wav"
        studio = studio_file(studio_dir, lang, prompt_id)
        if studio is not None:
            digest = _digest("studio", studio.read_bytes())
        else:
            digest = _digest("espeak-ng", voice_for(lang), str(SPEED_WPM), str(SAMPLE_RATE), text)
        jobs.append(Job(prompt_id, lang, text, output, digest, studio))
    return jobs


def read_manifest(sounds_dir: Path) -> dict[str, dict]:
    path = Path(sounds_dir) / SOUND_PREFIX / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}  # no (usable) manifest: everything is rebuilt, nothing is lost
    return data.get("prompts", {}) if isinstance(data, dict) else {}


def _write_manifest(sounds_dir: Path, entries: dict[str, dict]) -> None:
    path = Path(sounds_dir) / SOUND_PREFIX / MANIFEST_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{MANIFEST_NAME}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"version": 1, "prompts": dict(sorted(entries.items()))},
                              ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def is_phone_wav(path: Path) -> bool:
    """8 kHz, mono, 16-bit PCM: what Asterisk plays without transcoding (the .wav = slin format)."""
    try:
        with wave.open(str(path), "rb") as w:
            return w.getframerate() == SAMPLE_RATE and w.getnchannels() == 1 and w.getsampwidth() == 2
    except (OSError, EOFError, wave.Error):
        return False


def build_prompts(catalogue: PromptCatalogue, sounds_dir: Path, studio_dir: Path | None = None, *,
                  langs: list[str] | None = None, force: bool = False, workers: int | None = None,
                  progress: bool = True, tools: Tools | None = None) -> BuildReport:
    sounds_dir = Path(sounds_dir)
    tools = tools or Tools.find()
    if langs:
        unknown = [lang for lang in langs if lang not in catalogue.languages()]
        if unknown:
            raise PromptError(f"no prompt has a {', '.join(unknown)} text (catalogue languages: "
                              f"{', '.join(catalogue.languages())})")
    jobs = plan(catalogue, sounds_dir, studio_dir, langs)
    manifest = read_manifest(sounds_dir)
    report = BuildReport()
    todo: list[Job] = []
    for job in jobs:
        entry = manifest.get(job.key)
        if not force and entry and entry.get("hash") == job.digest and job.output.is_file():
            report.skipped.append(job.key)
        else:
            todo.append(job)
    _check_tools(todo, tools)
    try:
        (sounds_dir / SOUND_PREFIX).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PromptError(f"cannot create {sounds_dir / SOUND_PREFIX}: {exc.strerror}") from None

    # stale: sounds we generated for prompts that left the catalogue (only within the languages built now)
    current = {job.key for job in jobs}
    for key in [k for k in manifest if k not in current and (not langs or k.split("/")[0] in langs)]:
        lang, _, prompt_id = key.partition("/")
        (sounds_dir / SOUND_PREFIX / lang / f"{prompt_id}.wav").unlink(missing_ok=True)
        del manifest[key]
        report.removed.append(key)

    if todo:
        # Local: tqdm takes ~35 ms to import and every `hotline` command imports this module (through ivr.cli);
        # only a build with work to do draws the bar.
        from tqdm import tqdm

        limit = max(1, min(workers or os.cpu_count() or 1, os.cpu_count() or 1, len(todo)))
        bar = tqdm(total=len(todo), desc="prompts", unit="prompt", file=sys.stderr, disable=not progress)
        try:
            with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="prompt-build") as pool:
                futures = {pool.submit(_make_sound, job, tools): job for job in todo}
                for future in as_completed(futures):
                    job = futures[future]
                    try:
                        future.result()
                    except PromptError as exc:
                        report.failed.append((job.key, str(exc)))
                    else:
                        report.built.append(job.key)
                        manifest[job.key] = {"hash": job.digest, "source": "studio" if job.studio else "espeak-ng",
                                             "text": job.text}
                    bar.update(1)
        finally:
            bar.close()
            _write_manifest(sounds_dir, manifest)
    elif report.removed:
        _write_manifest(sounds_dir, manifest)
    return report


def _check_tools(todo: list[Job], tools: Tools) -> None:
    if any(job.studio is None for job in todo) and tools.espeak is None:
        raise PromptError("espeak-ng is not installed: install the Debian package espeak-ng "
                          "(sudo apt-get install espeak-ng), or place studio recordings in the studio directory")
    studio_non_wav = [job for job in todo if job.studio is not None and job.studio.suffix.lower() != ".wav"]
    if studio_non_wav and tools.sox is None and tools.ffmpeg is None:
        raise PromptError(f"{studio_non_wav[0].studio}: converting this format needs sox or ffmpeg "
                          "(Debian packages sox, ffmpeg)")


def _make_sound(job: Job, tools: Tools) -> None:
    job.output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hotline-prompt-") as tmp:
        source = job.studio
        if source is None:
            assert tools.espeak is not None          # _check_tools refused the build without it
            source = Path(tmp) / "voice.wav"
            _run([tools.espeak, "-v", voice_for(job.lang), "-s", str(SPEED_WPM), "-b", "1", "--stdin",
                  "-w", str(source)], job, stdin=job.text)
        staged = job.output.with_name(f".{job.output.stem}.{os.getpid()}.{id(job)}.tmp.wav")
        try:
            _convert(source, staged, tools, job)
            if not is_phone_wav(staged):
                raise PromptError(f"{job.key}: conversion did not give 8 kHz mono 16-bit audio")
            os.replace(staged, job.output)
        finally:
            staged.unlink(missing_ok=True)


def _convert(source: Path, target: Path, tools: Tools, job: Job) -> None:
    if tools.sox and source.suffix.lower() in (".wav", ".flac", ".ogg", ".aiff", ".aif", ".au"):
        _run([tools.sox, "-V1", str(source), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
              str(target)], job)
    elif tools.ffmpeg:
        _run([tools.ffmpeg, "-nostdin", "-y", "-loglevel", "error", "-i", str(source), "-ar", str(SAMPLE_RATE),
              "-ac", "1", "-c:a", "pcm_s16le", "-f", "wav", str(target)], job)
    else:
        try:
            # Local: the last-resort converter (no sox, no ffmpeg); importing pydub warns (audioop deprecation,
            # missing ffmpeg), which every other build would print for nothing.
            from pydub import AudioSegment

            fmt = source.suffix.lower().lstrip(".") or None  # wav is read in pure Python, no ffmpeg needed
            segment = AudioSegment.from_file(str(source), format=fmt)
            segment.set_frame_rate(SAMPLE_RATE).set_channels(1).set_sample_width(2).export(str(target), format="wav")
        except Exception as exc:  # pydub raises bare exceptions from its decoders
            raise PromptError(f"{job.key}: cannot convert {source.name} with pydub: {exc}") from None


def _run(cmd: list[str], job: Job, stdin: str | None = None) -> None:
    try:
        result = subprocess.run(cmd, input=stdin.encode("utf-8") if stdin is not None else None,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PromptError(f"{job.key}: {Path(cmd[0]).name} failed: {exc}") from None
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise PromptError(f"{job.key}: {Path(cmd[0]).name} exited with {result.returncode}"
                          + (f": {detail[-1]}" if detail else ""))
