"""Items 6 and 10 on the recordings API: a symlink planted in the store or a row whose path leaves the store
is refused (409 and a log line, no traceback, the target never served); ids beyond 64 bits are a 422."""
from __future__ import annotations

import logging
import os
from datetime import datetime, timezone

import httpx
import pytest
from sqlalchemy import update

from recordings.models import Recording
from recording_helpers import add_recording

DAY = datetime(2026, 11, 2, tzinfo=timezone.utc)
SUP = ("9001", "9001")


@pytest.fixture
async def client(served):
    async with httpx.AsyncClient(base_url=served, timeout=10, auth=SUP) as c:
        yield c


async def test_symlinks_and_escaping_paths_are_refused(ctx, client, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    secret = tmp_path / "secret.txt"
    secret.write_text("the host's secret\n")
    linked = await add_recording(ctx, started_at=DAY, agent_id="1001")
    target = ctx.primary.local_path(linked.path)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(secret, target)
    response = await client.get(f"/api/recordings/{linked.id}/audio")
    assert response.status_code == 409 and "secret" not in response.text
    # a directory link inside the store is refused too
    linked_dir = await add_recording(ctx, started_at=DAY.replace(hour=3), agent_id="1001")
    day_dir = ctx.primary.local_path(linked_dir.path).parent
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / os.path.basename(linked_dir.path)).write_text("outside")
    os.rename(day_dir, tmp_path / "moved") if day_dir.exists() else None
    os.symlink(tmp_path / "elsewhere", day_dir)
    assert (await client.get(f"/api/recordings/{linked_dir.id}/audio")).status_code == 409
    escaping = await add_recording(ctx, started_at=DAY.replace(hour=5), agent_id="1001")
    async with ctx.sessions() as session:
        await session.execute(update(Recording).where(Recording.id == escaping.id)
                              .values(path="../../../../../../etc/hostname"))
        await session.commit()
    response = await client.get(f"/api/recordings/{escaping.id}/audio")
    assert response.status_code == 409
    messages = [r.getMessage() for r in caplog.records]
    assert sum("file refused" in m for m in messages) == 3
    assert not any(r.exc_info for r in caplog.records)


async def test_ids_are_validated_at_the_edge(client):
    for bad in (str(2 ** 64), "abc", "-1", "0"):
        response = await client.get(f"/api/recordings/{bad}")
        assert response.status_code == 422, (bad, response.text)
    assert (await client.get(f"/api/recordings/{2 ** 31 - 1}")).status_code == 404
    assert (await client.get(f"/api/recordings/{2 ** 31}")).status_code == 422
    response = await client.post(f"/api/recordings/{2 ** 70}/evaluations", json={"scores": {}})
    assert response.status_code == 422
