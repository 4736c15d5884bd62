"""Everything the recordings package needs, built once from hotline's Settings (or by a test, explicitly)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from recordings.config import RecordingConfig, load_recording_config
from recordings.models import TIER_ARCHIVE, TIER_PRIMARY
from recordings.storage import LocalStorage, Storage

if TYPE_CHECKING:
    from hotline.config import Settings


@dataclass
class RecordingsContext:
    sessions: async_sessionmaker
    config: RecordingConfig
    storages: dict[str, Storage]
    time_zone: ZoneInfo
    engine: AsyncEngine | None = None

    @property
    def primary(self) -> Storage:
        return self.storages[TIER_PRIMARY]

    @property
    def archive(self) -> Storage:
        return self.storages[TIER_ARCHIVE]

    def storage_for(self, tier: str) -> Storage:
        try:
            return self.storages[tier]
        except KeyError:
            raise LookupError(f"no storage configured for tier {tier!r}") from None


def storages_from(config: RecordingConfig, recordings_dir: Path, data_dir: Path, root: Path) -> dict[str, Storage]:
    def resolve(value: str, default: Path) -> Path:
        if not value:
            return default
        p = Path(value).expanduser()
        return p if p.is_absolute() else root / p

    return {
        TIER_PRIMARY: LocalStorage(resolve(config.storage.primary, recordings_dir), TIER_PRIMARY),
        TIER_ARCHIVE: LocalStorage(resolve(config.storage.archive, data_dir / "recordings-archive"), TIER_ARCHIVE),
    }


def context_from_settings(settings: "Settings", sessions: async_sessionmaker[AsyncSession],
                          engine: AsyncEngine | None = None) -> RecordingsContext:
    """From hotline.config.Settings: config/recording.yaml beside hotline.toml."""
    config = load_recording_config(Path(settings.config_dir) / "recording.yaml")
    storages = storages_from(config, Path(settings.paths.recordings_dir), Path(settings.service.data_dir), Path(settings.root))
    return RecordingsContext(
        sessions=sessions,
        config=config,
        storages=storages,
        time_zone=ZoneInfo(str(settings.service.time_zone)),
        engine=engine,
    )
