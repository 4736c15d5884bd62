from __future__ import annotations

from pathlib import Path

import pytest

from hotline.config import Settings, load_settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def service_settings(tmp_path: Path) -> Settings:
    """The shipped configuration with every listener on a free port and the data under tmp_path."""
    settings = load_settings(PROJECT_ROOT / "config", env={})
    return settings.replace(
        service={"data_dir": tmp_path / "data"},
        database={"url": f"sqlite+aiosqlite:///{tmp_path / 'data' / 'hotline.db'}"},
        fastagi={"port": 0}, http={"port": 0},
        ami={"port": 1, "reconnect_max_delay": 1.0},    # nothing listens on port 1: AMI stays disconnected
    )
