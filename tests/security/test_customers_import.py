"""Item 7: `hotline customers import` stores exactly what the file says, or refuses the whole file with
`FILE:LINE: reason` and exit 1, nothing written."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.hotline.test_serve import HOTLINE


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HOTLINE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}",
               HOTLINE_SERVICE_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run([HOTLINE, "customers", *args], env=env, capture_output=True, text=True, timeout=120)


def test_embedded_newlines_and_u2028_are_stored_exactly(tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_bytes('number,name,notes\r\n13800138000,"李\n先生","line one\r\nline two"\r\n'
                    '13900000000,王\u2028芳,"say ""hi"", then\u2028go"\r\n'.encode("utf-8"))
    done = _run(tmp_path, "import", str(csv))
    assert done.returncode == 0, done.stderr
    assert "2 customer(s): 2 added" in done.stdout
    first = json.loads(_run(tmp_path, "show", "13800138000").stdout)
    assert first["name"] == "李\n先生" and first["notes"] == "line one\r\nline two"
    second = json.loads(_run(tmp_path, "show", "13900000000").stdout)
    assert second["name"] == "王\u2028芳" and second["notes"] == 'say "hi", then\u2028go'


@pytest.mark.parametrize("content, reason", [
    ('number,name\n13800138000,"unterminated\n13900000000,next row\n', ":2: unterminated quoted field"),
    ("number,name\n13800138000,ok\n13900000000,a\x00b\n", ":3: NUL byte"),
    ("number,notes\n13800138000,ok\n13900000000," + "x" * 131_073 + "\n", ":3: a value over 131072 characters"),
    ("number,notes\n13800138000,ok\n13900000000," + "x" * 5000 + "\n", ":3: notes is over 4000 characters"),
    ("number,name\n13800138000," + "n" * 201 + "\n", ":2: name is over 200 characters"),
])
def test_unreadable_files_are_refused_whole(tmp_path, content, reason):
    csv = tmp_path / "bad.csv"
    csv.write_text(content, encoding="utf-8")
    failed = _run(tmp_path, "import", str(csv))
    assert failed.returncode == 1, failed.stdout
    assert f"{csv}{reason}" in failed.stderr and "Traceback" not in failed.stderr
    assert "nothing imported" in failed.stderr
    assert _run(tmp_path, "show", "13800138000").returncode == 1           # nothing half-written
