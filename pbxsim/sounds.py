"""Sound files: how long each prompt plays, and which files SAY ... plays.

A sound name resolves like Asterisk: ``<dir>/<language>/<name>.wav`` then
``<dir>/<name>.wav`` in each configured sounds directory (absolute names are
used as is). Lengths are in 8 kHz samples. The Asterisk core sounds seen in the
captures have built-in lengths so the simulator matches their timing without
the files being installed.
"""
from __future__ import annotations

import time
import wave
from pathlib import Path

# Lengths (8 kHz samples) of Asterisk core sounds, from the capture timings.
CORE_SOUNDS: dict[str, int] = {
    "hello-world": 11234,       # STREAM FILE hello-world -> endpos=11234
    "beep": 3404,               # STREAM FILE beep -> endpos=3404
    "demo-congrats": 26616,     # interrupted at 10400 in the captures; full length ~3.3 s
    "demo-thanks": 14080,
    "vm-goodbye": 7200,
    "goodbye": 6400,
    "auth-thankyou": 7040,
    "pbx-invalid": 12800,
    "vm-intro": 24000,
    "queue-thankyou": 12000,
    "queue-callswaiting": 16000,
    "tt-monkeys": 52000,
    "silence/1": 8000,
    "silence/2": 16000,
    "silence/3": 24000,
    "silence/5": 40000,
    "silence/10": 80000,
    # SAY DIGITS 12 took 1.657 s, SAY NUMBER 42 1.692 s
    "digits/1": 6656, "digits/2": 6600, "digits/40": 6936,
}
for _d in range(10):
    CORE_SOUNDS.setdefault(f"digits/{_d}", 6400)
for _d in range(10, 20):
    CORE_SOUNDS.setdefault(f"digits/{_d}", 7200)
for _d in range(20, 100, 10):
    CORE_SOUNDS.setdefault(f"digits/{_d}", 6936)
for _w in ("hundred", "thousand", "million", "oclock", "a-m", "p-m", "at", "minus", "star", "pound"):
    CORE_SOUNDS.setdefault(f"digits/{_w}", 5600)
for _d in range(7):
    CORE_SOUNDS.setdefault(f"digits/day-{_d}", 6400)
for _m in range(12):
    CORE_SOUNDS.setdefault(f"digits/mon-{_m}", 6400)
for _h in ("h-1", "h-2", "h-3"):
    CORE_SOUNDS.setdefault(f"digits/{_h}", 6400)
for _c in "abcdefghijklmnopqrstuvwxyz":
    CORE_SOUNDS.setdefault(f"letters/{_c}", 4800)
for _w in ("at", "dash", "dot", "slash", "space", "exclaimation-point", "equals", "plus", "zed"):
    CORE_SOUNDS.setdefault(f"letters/{_w}", 4800)


class SoundLibrary:
    def __init__(self, dirs: list[Path] | None = None, *, builtin: bool = True) -> None:
        self.dirs = [Path(d) for d in (dirs or [])]
        self.builtin = builtin
        self._cache: dict[Path, tuple[float, int]] = {}

    def find(self, name: str, language: str = "en") -> Path | None:
        name = name.strip()
        candidates: list[Path] = []
        p = Path(name)
        if p.is_absolute():
            candidates += [p if p.suffix else p.with_suffix(".wav")]
        else:
            for d in self.dirs:
                if language:
                    candidates.append(d / language / f"{name}.wav")
                candidates.append(d / f"{name}.wav")
        for c in candidates:
            if c.is_file():
                return c
        return None

    def length(self, name: str, language: str = "en") -> int | None:
        """Samples at 8 kHz, or None when the sound does not exist."""
        path = self.find(name, language)
        if path is not None:
            return self._wav_samples(path)
        if self.builtin and name in CORE_SOUNDS:
            return CORE_SOUNDS[name]
        return None

    def _wav_samples(self, path: Path) -> int:
        mtime = path.stat().st_mtime
        hit = self._cache.get(path)
        if hit and hit[0] == mtime:
            return hit[1]
        try:
            with wave.open(str(path), "rb") as w:
                samples = int(w.getnframes() * 8000 / (w.getframerate() or 8000))
        except (wave.Error, EOFError, OSError):
            samples = 0
        self._cache[path] = (mtime, samples)
        return samples


_ONES = {i: f"digits/{i}" for i in range(20)}


def number_files(n: int) -> list[str]:
    if n < 0:
        return ["digits/minus"] + number_files(-n)
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        tens, rest = divmod(n, 10)
        return [f"digits/{tens * 10}"] + ([_ONES[rest]] if rest else [])
    if n < 1000:
        h, rest = divmod(n, 100)
        return [_ONES[h], "digits/hundred"] + (number_files(rest) if rest else [])
    if n < 1_000_000:
        t, rest = divmod(n, 1000)
        return number_files(t) + ["digits/thousand"] + (number_files(rest) if rest else [])
    m, rest = divmod(n, 1_000_000)
    return number_files(m) + ["digits/million"] + (number_files(rest) if rest else [])


def say_files(kind: str, value: str, tz_offset_s: int = 0) -> list[str]:
    """The sound files Asterisk plays for SAY NUMBER/DIGITS/ALPHA/DATE/TIME/DATETIME (English)."""
    kind = kind.lower()
    value = value.strip()
    if kind == "number":
        try:
            return number_files(int(value))
        except ValueError:
            return []
    if kind == "digits":
        names = {"*": "digits/star", "#": "digits/pound", "-": "digits/minus"}
        return [names.get(c, f"digits/{c}") for c in value if c.isdigit() or c in names]
    if kind in ("alpha", "phonetic"):
        out = []
        for c in value.lower():
            if c.isdigit():
                out.append(f"digits/{c}")
            elif c.isalpha():
                out.append(f"letters/{c}")
            elif c == " ":
                out.append("letters/space")
            elif c == ".":
                out.append("letters/dot")
        return out
    try:
        ts = int(value) + tz_offset_s
    except ValueError:
        return []
    tm = time.gmtime(ts)
    date = [f"digits/day-{(tm.tm_wday + 1) % 7}", f"digits/mon-{tm.tm_mon - 1}"] + number_files(tm.tm_mday)
    hour = tm.tm_hour % 12 or 12
    clock = number_files(hour)
    if tm.tm_min:
        clock += (["digits/oh"] if tm.tm_min < 10 else []) + number_files(tm.tm_min)
    clock.append("digits/p-m" if tm.tm_hour >= 12 else "digits/a-m")
    if kind == "date":
        return date + number_files(tm.tm_year)
    if kind == "time":
        return clock
    if kind == "datetime":
        return date + clock
    return []
