"""`hotline recordings …` as a user types it: --config anywhere, `| head`, --from/--to, help, voicemail files."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert

from hotline.cli import main
from recordings.models import STATUS_COMPLETE, Recording
from recording_helpers import add_recording
from test_recordings_maintenance import run

HOTLINE = str(Path(sys.executable).parent / "hotline")
DAY = datetime(2026, 11, 1, 1, 0, tzinfo=timezone.utc)


def in_context(config_dir, coro_fn):
    return run(coro_fn, config_dir)


def seed_rows(config_dir, count: int) -> None:
    """Rows without files: enough output (count lines) to overflow a pipe's buffer."""
    async def go(ctx):
        async with ctx.sessions() as session:
            await session.execute(insert(Recording), [dict(
                linkedid=f"1762000000.{n}", segment=1, caller="13800000000", called="4008001234", agent_id="1001",
                agent_name="张伟", queue="presales", started_at=DAY + timedelta(seconds=n), answered_at=DAY,
                ended_at=DAY, duration_s=30.0, path=f"2026/11/01/{n}-1.wav", format="wav", status=STATUS_COMPLETE)
                for n in range(count)])
            await session.commit()
    in_context(config_dir, go)


@pytest.mark.parametrize("argv", [
    ["--config", "{c}", "recordings", "search", "--json"],
    ["recordings", "--config", "{c}", "search", "--json"],
    ["recordings", "search", "--config", "{c}", "--json"],
    ["recordings", "search", "--json", "--config", "{c}"],
])
def test_config_is_accepted_before_or_after_the_subcommand(config_dir, capsys, argv):
    in_context(config_dir, lambda ctx: add_recording(ctx, started_at=DAY, agent_id="1001"))
    capsys.readouterr()
    assert main([a.format(c=config_dir) for a in argv]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["total"] == 1


def test_a_search_piped_into_head_ends_quietly(config_dir):
    seed_rows(config_dir, 500)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    for _ in range(3):          # the pipe closes at a different moment each run
        result = subprocess.run(
            ["bash", "-c", f"set -o pipefail; '{HOTLINE}' recordings search --config '{config_dir}' "
                           f"--page-size 500 | head -n 2"],
            env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert result.stderr == "" and len(result.stdout.splitlines()) == 2


def test_from_later_than_to_is_an_error(config_dir, capsys):
    in_context(config_dir, lambda ctx: add_recording(ctx, started_at=DAY))
    capsys.readouterr()
    assert main(["recordings", "search", "--config", str(config_dir),
                 "--from", "2026-11-02", "--to", "2026-11-01"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "hotline: error: --from 2026-11-02 is not earlier than --to 2026-11-01: nothing could match"


def test_a_search_without_a_database_does_not_create_one(tmp_path, capsys):
    conf = tmp_path / "config"
    conf.mkdir()
    repo = Path(__file__).resolve().parents[2]
    for name in ("agents.yaml", "queues.yaml", "recording.yaml"):
        (conf / name).write_bytes((repo / "config" / name).read_bytes())
    (conf / "hotline.toml").write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    assert main(["recordings", "search", "--config", str(conf), "--agent", "1001"]) == 1
    assert f"no database at {tmp_path / 'data' / 'hotline.db'}" in capsys.readouterr().err
    assert not (tmp_path / "data" / "hotline.db").exists()


@pytest.mark.parametrize("action", ["search", "export"])
def test_search_and_export_explain_every_option(capsys, action):
    with pytest.raises(SystemExit):
        main(["recordings", action, "--help"])
    text = capsys.readouterr().out
    options = [line.split()[0] for line in text.splitlines() if line.startswith("  -")]
    assert options, text
    for line in text.split("options:")[1].split("\n  -")[1:]:
        assert len(line.split()) > 2 or "\n" in line.strip(), f"option without help: {line!r}"


def test_verify_does_not_count_voicemail_messages_as_stray_recordings(config_dir, capsys, tmp_path):
    in_context(config_dir, lambda ctx: add_recording(ctx, started_at=DAY, seconds=0.5))
    message = tmp_path / "data" / "recordings" / "voicemail" / "20261101" / "1762.1-voicemail-1.wav"
    message.parent.mkdir(parents=True)
    message.write_bytes(b"RIFF")
    capsys.readouterr()
    assert main(["recordings", "verify", "--config", str(config_dir), "--json", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["files_without_rows"] == []
