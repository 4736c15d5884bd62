"""录音维护 through the real command line: archive, verify, purge, search and export."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from hotline.cli import main
from recordings.cli import _context
from recordings.models import AuditLog, Recording
from recordings.storage import sha256_file
from recording_helpers import add_recording

NOW = datetime.now(timezone.utc).replace(microsecond=0)


class Args:
    def __init__(self, config_dir):
        self.config_dir = config_dir


def run(coro_fn, config_dir):
    async def go():
        async with _context(Args(config_dir)) as ctx:
            return await coro_fn(ctx)
    return asyncio.run(go())


def seed(config_dir, specs):
    async def go(ctx):
        return [(await add_recording(ctx, **spec)).id for spec in specs]
    return run(go, config_dir)


def rows(config_dir):
    async def go(ctx):
        async with ctx.sessions() as session:
            return {r.id: r for r in (await session.scalars(select(Recording))).all()}
    return run(go, config_dir)


def audit(config_dir):
    async def go(ctx):
        async with ctx.sessions() as session:
            return [(a.action, a.recording_id, a.actor) for a in (await session.scalars(select(AuditLog).order_by(AuditLog.id))).all()]
    return run(go, config_dir)


def search_json(config_dir, capsys, *args):
    capsys.readouterr()
    assert main(["--config", str(config_dir), "recordings", "search", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_archive_keeps_everything_findable_and_verified(config_dir, capsys, tmp_path):
    old = [seed(config_dir, [dict(started_at=NOW - timedelta(days=40, minutes=n), agent_id="1001", seconds=1.0 + n)])[0] for n in range(3)]
    new = seed(config_dir, [dict(started_at=NOW - timedelta(days=2), agent_id="1001", seconds=1.0),
                            dict(started_at=NOW - timedelta(hours=1), agent_id="1002", seconds=1.5)])
    before = rows(config_dir)
    data = tmp_path / "data"

    assert main(["--config", str(config_dir), "recordings", "archive", "--older-than", "30", "--no-progress"]) == 0
    after = rows(config_dir)
    for rec_id in old:
        rec = after[rec_id]
        assert rec.storage_tier == "archive" and rec.path == before[rec_id].path
        assert sha256_file(data / "recordings-archive" / rec.path) == before[rec_id].sha256
        assert not (data / "recordings" / rec.path).exists()
    for rec_id in new:
        assert after[rec_id].storage_tier == "primary" and (data / "recordings" / after[rec_id].path).exists()

    found = search_json(config_dir, capsys, "--agent", "1001")
    assert sorted(item["id"] for item in found["items"]) == sorted(old + new[:1])
    capsys.readouterr()
    assert main(["--config", str(config_dir), "recordings", "verify", "--json", "--no-progress"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report == {"ok": True, "checked": 5, "files_without_rows": [], "rows_without_files": [], "checksum_mismatches": []}

    out = tmp_path / "exported.wav"
    assert main(["--config", str(config_dir), "recordings", "export", str(old[0]), "--output", str(out), "--actor", "9101"]) == 0
    assert sha256_file(out) == before[old[0]].sha256
    log = audit(config_dir)
    assert sorted(r for a, r, _ in log if a == "archive") == sorted(old)
    assert ("export", old[0], "cli:9101") in log


def test_verify_reports_deleted_corrupted_and_stray_files(config_dir, capsys, tmp_path):
    ids = seed(config_dir, [dict(started_at=NOW - timedelta(minutes=n), seconds=1.0, agent_id="1003") for n in range(3)])
    recs = rows(config_dir)
    primary = tmp_path / "data" / "recordings"
    (primary / recs[ids[0]].path).unlink()
    with open(primary / recs[ids[1]].path, "r+b") as fh:
        fh.seek(100)
        fh.write(b"\x7f\x7f\x7f\x7f")
    stray = primary / "2026" / "01" / "01" / "nobody-1.wav"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"RIFF")

    capsys.readouterr()
    assert main(["--config", str(config_dir), "recordings", "verify", "--json", "--no-progress"]) == 1
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["rows_without_files"] == [ids[0]]
    assert report["checksum_mismatches"] == [ids[1]]
    assert report["files_without_rows"] == ["primary:2026/01/01/nobody-1.wav"]
    assert main(["--config", str(config_dir), "recordings", "verify", "--no-progress"]) == 1
    text = capsys.readouterr().out
    assert f"row without file: recording {ids[0]}" in text and "PROBLEMS FOUND" in text


def test_purge_deletes_only_under_the_retention_policy(config_dir, tmp_path):
    ancient, recent = seed(config_dir, [dict(started_at=NOW - timedelta(days=400), seconds=1.0),
                                        dict(started_at=NOW - timedelta(days=100), seconds=1.0)])
    primary_old = seed(config_dir, [dict(started_at=NOW - timedelta(days=900), seconds=1.0, agent_id="1004")])[0]
    assert main(["--config", str(config_dir), "recordings", "archive", "--older-than", "50", "--no-progress"]) == 0
    # Leave one 900-day-old recording in primary: primary has no retention, so it must survive.
    async def back_to_primary(ctx):
        async with ctx.sessions() as session:
            rec = await session.get(Recording, primary_old)
            ctx.primary.put(rec.path, ctx.archive.local_path(rec.path))
            ctx.archive.delete(rec.path)
            rec.storage_tier = "primary"
            await session.commit()
    run(back_to_primary, config_dir)

    assert main(["--config", str(config_dir), "recordings", "purge", "--no-progress"]) == 0
    after = rows(config_dir)
    assert after[ancient].status == "purged" and "retention" in after[ancient].error
    assert not (tmp_path / "data" / "recordings-archive" / after[ancient].path).exists()
    assert after[recent].status == "complete" and (tmp_path / "data" / "recordings-archive" / after[recent].path).exists()
    assert after[primary_old].status == "complete" and (tmp_path / "data" / "recordings" / after[primary_old].path).exists()
    assert [(a, r) for a, r, _ in audit(config_dir) if a == "delete"] == [("delete", ancient)]
    assert main(["--config", str(config_dir), "recordings", "verify", "--no-progress"]) == 0


def test_purge_refuses_without_a_policy(config_dir, capsys):
    text = (config_dir / "recording.yaml").read_text(encoding="utf-8").replace("  archive: 365", "  archive: null")
    (config_dir / "recording.yaml").write_text(text, encoding="utf-8")
    assert main(["--config", str(config_dir), "recordings", "purge"]) == 1
    assert "no retention policy configured" in capsys.readouterr().err


def test_search_reads_times_in_the_configured_zone(config_dir, capsys):
    day = datetime(2026, 11, 1, tzinfo=timezone.utc)
    inside, edge_in, edge_out, other_agent = seed(config_dir, [
        dict(started_at=day + timedelta(hours=1, minutes=30), agent_id="1001", duration_s=30.0),   # 09:30 Shanghai
        dict(started_at=day, agent_id="1001", duration_s=5.0),                                     # 08:00 exactly
        dict(started_at=day + timedelta(hours=10), agent_id="1001", duration_s=30.0),              # 18:00 exactly
        dict(started_at=day + timedelta(hours=2), agent_id="1002", duration_s=30.0),
    ])
    found = search_json(config_dir, capsys, "--agent", "1001", "--from", "2026-11-01T08:00", "--to", "2026-11-01T18:00")
    assert [item["id"] for item in found["items"]] == [edge_in, inside]
    found = search_json(config_dir, capsys, "--agent", "1001", "--from", "2026-11-01T08:00", "--to", "2026-11-01T18:00",
                        "--min-duration", "10")
    assert [item["id"] for item in found["items"]] == [inside]
    assert main(["--config", str(config_dir), "recordings", "search", "--agent", "1001", "--from", "2026-11-01T08:00",
                 "--to", "2026-11-01T18:00"]) == 0
    text = capsys.readouterr().out
    assert "2026-11-01 09:30:00" in text and "2 recording(s)" in text
    assert main(["--config", str(config_dir), "recordings", "search", "--from", "tomorrow"]) == 1
    assert "not a date/time" in capsys.readouterr().err


def test_a_broken_recording_yaml_is_one_clear_line(config_dir, capsys):
    text = (config_dir / "recording.yaml").read_text(encoding="utf-8").replace("  mode: all", "  mode: sometimes")
    (config_dir / "recording.yaml").write_text(text, encoding="utf-8")
    assert main(["--config", str(config_dir), "recordings", "search"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"hotline: error: {config_dir / 'recording.yaml'}: policy.mode: must be one of all, numbers, agents, "
                   "queues, got 'sometimes'")


def test_recover_finishes_rows_a_stopped_service_left_open(config_dir, capsys, tmp_path):
    stale, running, lost = seed(config_dir, [
        dict(started_at=NOW - timedelta(hours=13), seconds=2.0, status="recording"),
        dict(started_at=NOW - timedelta(minutes=5), seconds=1.0, status="recording"),   # may still be recording
        dict(started_at=NOW - timedelta(hours=20), status="processing"),                 # no file ever written
    ])
    assert main(["--config", str(config_dir), "recordings", "recover", "--no-progress"]) == 0
    assert "completed 1 recording(s), flagged 1" in capsys.readouterr().out
    after = rows(config_dir)
    assert after[stale].status == "complete" and abs(after[stale].duration_s - 2.0) < 0.05 and after[stale].ended_at
    assert after[running].status == "recording"
    assert after[lost].status == "flagged" and after[lost].error.startswith("file missing")
