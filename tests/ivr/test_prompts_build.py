"""`hotline prompts build`: real espeak-ng/sox/ffmpeg runs producing 8 kHz mono 16-bit WAV files."""
from __future__ import annotations

import json
import math
import os
import shutil
import struct
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from ivr.prompts.build import PromptError, Tools, build_prompts, is_phone_wav
from ivr.prompts.catalogue import PromptCatalogue

HOTLINE = str(Path(sys.executable).with_name("hotline"))
TEXTS = {
    "welcome": {"zh-CN": "您好，江南云商客服中心为您服务。", "en": "Hello."},
    "closing": {"zh-CN": "感谢您的来电，欢迎再次拨打，再见。", "en": "Goodbye."},
}


def wav_info(path: Path) -> tuple[int, int, int, int]:
    with wave.open(str(path), "rb") as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()


def write_tone(path: Path, seconds: float, rate: int = 44100, channels: int = 2) -> None:
    """A studio-style recording: 44.1 kHz stereo sine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) * channels
                      for i in range(int(seconds * rate)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def test_builds_8khz_mono_16bit_for_every_prompt_and_language(tmp_path):
    report = build_prompts(PromptCatalogue(TEXTS), tmp_path / "sounds", tmp_path / "studio", progress=False)
    assert report.ok and sorted(report.built) == ["en/closing", "en/welcome", "zh-CN/closing", "zh-CN/welcome"]
    for lang in ("zh-CN", "en"):
        for prompt_id in TEXTS:
            rate, channels, width, frames = wav_info(tmp_path / "sounds" / "hotline" / lang / f"{prompt_id}.wav")
            assert (rate, channels, width) == (8000, 1, 2)
            assert frames > 8000 * 0.3  # there is speech in it
    # the Mandarin sentence is much longer spoken than "Hello."
    assert wav_info(tmp_path / "sounds/hotline/zh-CN/welcome.wav")[3] > 2 * wav_info(
        tmp_path / "sounds/hotline/en/welcome.wav")[3]
    assert not list((tmp_path / "sounds" / "hotline").rglob("*.tmp*"))


def test_unchanged_prompts_are_skipped_and_changed_ones_rebuilt(tmp_path):
    sounds = tmp_path / "sounds"
    build_prompts(PromptCatalogue(TEXTS), sounds, progress=False)
    closing = sounds / "hotline/zh-CN/closing.wav"
    before = closing.stat().st_mtime_ns
    again = build_prompts(PromptCatalogue(TEXTS), sounds, progress=False)
    assert again.built == [] and len(again.skipped) == 4
    assert closing.stat().st_mtime_ns == before

    changed = {**TEXTS, "welcome": {**TEXTS["welcome"], "en": "Hello, welcome to the hotline."}}
    report = build_prompts(PromptCatalogue(changed), sounds, progress=False)
    assert report.built == ["en/welcome"] and len(report.skipped) == 3
    manifest = json.loads((sounds / "hotline/.manifest.json").read_text(encoding="utf-8"))
    assert manifest["prompts"]["en/welcome"]["text"] == "Hello, welcome to the hotline."

    forced = build_prompts(PromptCatalogue(changed), sounds, progress=False, force=True)
    assert len(forced.built) == 4


def test_a_deleted_sound_is_rebuilt_and_a_removed_prompt_cleaned_up(tmp_path):
    sounds = tmp_path / "sounds"
    build_prompts(PromptCatalogue(TEXTS), sounds, progress=False)
    (sounds / "hotline/en/welcome.wav").unlink()
    report = build_prompts(PromptCatalogue({"welcome": TEXTS["welcome"]}), sounds, progress=False)
    assert report.built == ["en/welcome"]
    assert sorted(report.removed) == ["en/closing", "zh-CN/closing"]
    assert not (sounds / "hotline/en/closing.wav").exists()


def test_studio_recording_wins_and_is_converted(tmp_path):
    sounds, studio = tmp_path / "sounds", tmp_path / "studio"
    build_prompts(PromptCatalogue(TEXTS), sounds, studio, progress=False)
    write_tone(studio / "zh-CN" / "welcome.wav", seconds=0.5)
    report = build_prompts(PromptCatalogue(TEXTS), sounds, studio, progress=False)
    assert report.built == ["zh-CN/welcome"]
    rate, channels, width, frames = wav_info(sounds / "hotline/zh-CN/welcome.wav")
    assert (rate, channels, width) == (8000, 1, 2)
    assert abs(frames - 4000) <= 8  # 0.5 s of the studio take, not the ~5 s synthesized sentence
    manifest = json.loads((sounds / "hotline/.manifest.json").read_text(encoding="utf-8"))
    assert manifest["prompts"]["zh-CN/welcome"]["source"] == "studio"

    # re-recorded in the studio: rebuilt; removed from the studio: back to the synthesized voice
    write_tone(studio / "zh-CN" / "welcome.wav", seconds=0.25)
    assert build_prompts(PromptCatalogue(TEXTS), sounds, studio, progress=False).built == ["zh-CN/welcome"]
    assert abs(wav_info(sounds / "hotline/zh-CN/welcome.wav")[3] - 2000) <= 8
    (studio / "zh-CN" / "welcome.wav").unlink()
    assert build_prompts(PromptCatalogue(TEXTS), sounds, studio, progress=False).built == ["zh-CN/welcome"]
    assert wav_info(sounds / "hotline/zh-CN/welcome.wav")[3] > 8000


def test_studio_recording_in_another_format(tmp_path):
    studio = tmp_path / "studio"
    write_tone(tmp_path / "take.wav", seconds=0.5, rate=48000, channels=1)
    (studio / "en").mkdir(parents=True)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(tmp_path / "take.wav"),
                    str(studio / "en" / "closing.mp3")], check=True)
    report = build_prompts(PromptCatalogue(TEXTS), tmp_path / "sounds", studio, langs=["en"], progress=False)
    assert report.ok
    rate, channels, width, frames = wav_info(tmp_path / "sounds/hotline/en/closing.wav")
    assert (rate, channels, width) == (8000, 1, 2) and 3500 < frames < 5500  # mp3 adds a little padding


@pytest.mark.parametrize("which", ["ffmpeg", "pydub"])
def test_resampling_without_sox(tmp_path, which):
    found = Tools.find()
    tools = Tools(found.espeak, None, found.ffmpeg if which == "ffmpeg" else None)
    report = build_prompts(PromptCatalogue({"closing": TEXTS["closing"]}), tmp_path, progress=False, tools=tools)
    assert report.ok and len(report.built) == 2
    assert is_phone_wav(tmp_path / "hotline/zh-CN/closing.wav")


def test_missing_espeak_names_the_debian_package(tmp_path):
    tools = Tools(None, shutil.which("sox"), shutil.which("ffmpeg"))
    with pytest.raises(PromptError, match="install the Debian package espeak-ng"):
        build_prompts(PromptCatalogue(TEXTS), tmp_path, progress=False, tools=tools)
    assert not (tmp_path / "hotline").exists()


def test_studio_only_builds_need_no_espeak(tmp_path):
    studio = tmp_path / "studio"
    write_tone(studio / "en" / "welcome.wav", seconds=0.2)
    tools = Tools(None, shutil.which("sox"), None)
    report = build_prompts(PromptCatalogue({"welcome": {"en": "Hello."}}), tmp_path / "s", studio,
                           progress=False, tools=tools)
    assert report.built == ["en/welcome"]


def test_a_failing_prompt_loses_nothing_else(tmp_path):
    studio = tmp_path / "studio"
    (studio / "en").mkdir(parents=True)
    (studio / "en" / "welcome.wav").write_bytes(b"RIFF....not really a wav")
    report = build_prompts(PromptCatalogue(TEXTS), tmp_path / "sounds", studio, progress=False)
    assert [key for key, _ in report.failed] == ["en/welcome"]
    assert sorted(report.built) == ["en/closing", "zh-CN/closing", "zh-CN/welcome"]
    assert not (tmp_path / "sounds/hotline/en/welcome.wav").exists()
    manifest = json.loads((tmp_path / "sounds/hotline/.manifest.json").read_text(encoding="utf-8"))
    assert "en/welcome" not in manifest["prompts"] and "en/closing" in manifest["prompts"]


def test_unknown_language_is_refused(tmp_path):
    with pytest.raises(PromptError, match="no prompt has a fr text"):
        build_prompts(PromptCatalogue(TEXTS), tmp_path, langs=["fr"], progress=False)


# --- through the installed `hotline` script -----------------------------------------------------------

def small_catalogue(tmp_path: Path) -> Path:
    path = tmp_path / "catalogue.yaml"
    path.write_text("prompts:\n  welcome:\n    zh-CN: 您好\n    en: Hello\n  closing:\n    zh-CN: 再见\n    en: Goodbye\n",
                    encoding="utf-8")
    return path


def test_cli_build_then_list(tmp_path):
    catalogue, sounds = small_catalogue(tmp_path), tmp_path / "sounds"
    args = [HOTLINE, "prompts", "build", "--catalogue", str(catalogue), "--sounds-dir", str(sounds),
            "--studio-dir", str(tmp_path / "studio")]
    first = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"prompts: 4 built, 0 unchanged, 0 failed → {sounds}/hotline"
    assert "prompts: 100%" in first.stderr  # the progress bar
    second = subprocess.run(args + ["--lang", "en", "--no-progress"], capture_output=True, text=True, timeout=60)
    assert second.stdout.strip() == f"prompts: 0 built, 2 unchanged, 0 failed → {sounds}/hotline"
    assert second.stderr == ""
    listing = subprocess.run([HOTLINE, "prompts", "list", "--catalogue", str(catalogue), "--sounds-dir", str(sounds)],
                             capture_output=True, text=True, timeout=60)
    assert listing.stdout.splitlines()[0] == "welcome\tzh-CN\tbuilt\ttts\t您好"
    assert len(listing.stdout.splitlines()) == 4


def test_cli_without_espeak_on_path(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path / "empty-bin")}
    result = subprocess.run([HOTLINE, "prompts", "build", "--catalogue", str(small_catalogue(tmp_path)),
                             "--sounds-dir", str(tmp_path / "s"), "--no-progress"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1
    assert "espeak-ng is not installed: install the Debian package espeak-ng" in result.stderr
