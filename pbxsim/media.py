"""Audio the simulator writes: MixMonitor recordings and Record()/RECORD FILE files.

Recordings are real WAV files, 8 kHz 16-bit, mono (or stereo with MixMonitor's
``D`` option: caller left, agent right). Their length is the time audio flowed
on the channel while recording (start -> stop or hangup). The content is
synthetic speech-like tone bursts (the caller at 440 Hz, the agent at 660 Hz,
soft noise in between), so level normalisation and silence detection have
something real to work on. Muted directions (MixMonitorMute) are silent.
"""
from __future__ import annotations

import logging
import math
import random
import struct
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

RATE = 8000
log = logging.getLogger("pbxsim")


def _tone(freq: float, amp: float, seconds: float = 1.0, seed: int = 0) -> list[int]:
    rng = random.Random(seed)
    n = int(RATE * seconds)
    fade = RATE // 20
    out = []
    for i in range(n):
        env = min(1.0, i / fade, (n - 1 - i) / fade)
        s = amp * env * (math.sin(2 * math.pi * freq * i / RATE) + 0.3 * math.sin(2 * math.pi * 2.5 * freq * i / RATE))
        out.append(int(s + rng.uniform(-150, 150)))
    return out


def _noise(amp: float, seconds: float = 1.0, seed: int = 1) -> list[int]:
    rng = random.Random(seed)
    return [int(rng.uniform(-amp, amp)) for _ in range(int(RATE * seconds))]


_CALLER = _tone(440, 9000, seed=2)
_AGENT = _tone(660, 7000, seed=3)
_QUIET = _noise(120)
_SILENT = [0] * RATE


def _pack_mono(samples: list[int]) -> bytes:
    return struct.pack(f"<{len(samples)}h", *samples)


def _pack_stereo(left: list[int], right: list[int]) -> bytes:
    inter = [0] * (2 * len(left))
    inter[0::2] = left
    inter[1::2] = right
    return struct.pack(f"<{len(inter)}h", *inter)


def _block(kind: str, read_muted: bool, write_muted: bool, stereo: bool) -> bytes:
    left = _CALLER if kind == "c" else _QUIET
    right = _AGENT if kind == "a" else _QUIET
    if kind == "q":
        left = right = _QUIET
    if read_muted:
        left = _SILENT
    if write_muted:
        right = _SILENT
    if stereo:
        return _pack_stereo(left, right)
    if kind == "c":
        return _pack_mono(left)
    if kind == "a":
        return _pack_mono(right)
    return _pack_mono(_SILENT if (read_muted and write_muted) else _QUIET)


def write_wav(path: Path, seconds: float, *, stereo: bool = False, seed: int = 0,
              mutes: list[tuple[float, bool, bool]] | None = None, voiced_s: float | None = None,
              talk: bool = True) -> Path:
    """Write ``seconds`` of speech-like audio to ``path`` (WAV, 8 kHz, 16-bit)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    total = max(0, int(round(seconds * RATE)))
    width = 4 if stereo else 2
    mutes = sorted(mutes or [])
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2 if stereo else 1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        written = 0
        sec = 0
        while written < total:
            n = min(RATE, total - written)
            t = sec + 0.5
            read_m = write_m = False
            for at, rm, wm in mutes:
                if at <= t:
                    read_m, write_m = rm, wm
            if voiced_s is not None:
                kind = "c" if sec < voiced_s else "q"
            elif not talk:
                kind = "q"
            else:
                kind = rng.choice("ccaaq")
            block = _block(kind, read_m, write_m, stereo)
            w.writeframes(block[: n * width])
            written += n
            sec += 1
    return path


class RecordedChannel(Protocol):
    """What the recorder keeps of a channel (channel.Channel)."""

    uniqueid: str


class MediaHost(Protocol):
    """What the recorder uses of its PBX (pbx.Pbx): the clock and the seed the audio is drawn from."""

    seed: int

    def loop_time(self) -> float: ...


@dataclass
class Recording:
    id: str
    channel: RecordedChannel
    path: Path
    options: str
    started: float
    stereo: bool
    mutes: list[tuple[float, bool, bool]] = field(default_factory=list)
    read_muted: bool = False
    write_muted: bool = False
    stopped: bool = False
    seconds: float = 0.0
    error: str | None = None     # why the file could not be written (full disk, bad directory...)


class MediaRecorder:
    """Owns the MixMonitor recordings of one Pbx."""

    def __init__(self, pbx: MediaHost, monitor_dir: Path) -> None:
        self.pbx = pbx
        self.monitor_dir = Path(monitor_dir)
        self.active: dict[str, Recording] = {}
        self.finished: list[Recording] = []
        self._seq = 0

    def resolve(self, file: str) -> Path:
        p = Path(file)
        return p if p.is_absolute() else self.monitor_dir / p

    def start(self, chan: RecordedChannel, file: str, options: str = "") -> Recording:
        self._seq += 1
        rec = Recording(id=f"{chan.uniqueid}-mm{self._seq}", channel=chan, path=self.resolve(file),
                        options=options, started=self.pbx.loop_time(), stereo="D" in options)
        self.active[rec.id] = rec
        return rec

    def for_channel(self, chan: RecordedChannel) -> list[Recording]:
        return [r for r in self.active.values() if r.channel is chan]

    def mute(self, rec: Recording, direction: str, state: bool) -> None:
        if direction in ("read", "both"):
            rec.read_muted = state
        if direction in ("write", "both"):
            rec.write_muted = state
        rec.mutes.append((self.pbx.loop_time() - rec.started, rec.read_muted, rec.write_muted))

    def stop(self, rec: Recording) -> Path:
        if rec.stopped:
            return rec.path
        rec.stopped = True
        self.active.pop(rec.id, None)
        rec.seconds = max(0.0, self.pbx.loop_time() - rec.started)
        seed = self.pbx.seed * 1_000_003 + int(rec.id.rsplit("mm", 1)[-1])
        try:
            write_wav(rec.path, rec.seconds, stereo=rec.stereo, seed=seed, mutes=rec.mutes)
        except OSError as exc:   # like Asterisk: the call goes on, the recording is lost and logged
            rec.error = f"{rec.path}: {exc.strerror or exc}"
            log.error("MixMonitor could not write %s", rec.error)
        self.finished.append(rec)
        return rec.path

    def stop_channel(self, chan: RecordedChannel) -> None:
        for rec in self.for_channel(chan):
            self.stop(rec)

    def write_recording(self, file: str, fmt: str, seconds: float, *, voiced_samples: int = 0) -> str | None:
        """Record()/RECORD FILE output: ``file`` without extension plus ``.fmt``.
        Returns None when written, else the reason it could not be."""
        p = self.resolve(file)
        if fmt and not p.name.endswith("." + fmt):
            p = p.with_name(p.name + "." + fmt)
        try:
            write_wav(p, seconds, voiced_s=voiced_samples / RATE, seed=self.pbx.seed)
        except OSError as exc:
            log.error("cannot write recording %s: %s", p, exc.strerror or exc)
            return f"{p}: {exc.strerror or exc}"
        return None
