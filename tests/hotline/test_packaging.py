"""A wheel built from the checkout carries every file the packages read at run time (pages, vendored libraries
with their licences, seeds, migrations), not only the ones under importable folder names."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
PACKAGES = ("hotline/", "ivr/", "cti/", "acd/", "recordings/", "crm/", "kb/", "pbxsim/", "web/", "reports/",
            "migrations/")


def _tracked(*paths: str) -> list[str]:
    return subprocess.run(["git", "ls-files", *paths], capture_output=True, text=True, cwd=PROJECT,
                          check=True).stdout.split()


def test_the_wheel_holds_every_data_file_of_the_packages(tmp_path: Path):
    source = tmp_path / "source"            # pip builds in the tree it is given: a copy, never the checkout
    for name in _tracked():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / name, source / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path),
                            str(source)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = tmp_path.glob("hotline-*.whl")
    inside = set(zipfile.ZipFile(wheel).namelist())
    missing = [f for f in _tracked(*PACKAGES) if f not in inside and not f.endswith("README.md")]
    assert missing == []
    assert "reports/static/vendor/echarts-5.5.1/echarts.min.js" in inside
    assert "reports/static/vendor/echarts-5.5.1/LICENSE" in inside
