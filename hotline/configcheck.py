"""The whole configuration checked before anything starts: every file of the config folder, every problem.

`hotline serve`, `sim` and `demo` call `checked_settings` first; any problem is raised as one ConfigError whose
lines are `file: key: reason`, so the command exits 1 before a port is opened or a task started.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from acd.config import queue_problems
from crm.config import RequestConfigError, load_request_rules
from hotline.config import ConfigError, Settings, default_config_dir, folder_problems, load_settings
from hotline.service import StartupError, validate_flows
from recordings.config import RecordingConfigError, parse_recording_config, recording_config_problems


def recording_problems(config_dir: Path) -> list[str]:
    """config/recording.yaml (optional: a missing file means the defaults)."""
    path = config_dir / "recording.yaml"
    name = f"{config_dir.name}/recording.yaml"
    if not path.is_file():
        return []
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return [f"{name}: cannot read: {exc}".splitlines()[0]]
    problems = recording_config_problems(raw, name)
    if not problems:
        try:
            parse_recording_config(raw or {}, name)
        except RecordingConfigError as exc:
            problems = str(exc).splitlines()
    return problems


def acd_problems(config_dir: Path) -> list[str]:
    """The ACD's keys of every queue in queues.yaml (read raw: checked even when agents.yaml has problems)."""
    name = f"{config_dir.name}/queues.yaml"
    try:
        doc = yaml.safe_load((config_dir / "queues.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []                             # load_settings names the file and the reason
    entries = doc.get("queues") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        return []
    return queue_problems(entries, name)


def request_problems(config_dir: Path, settings: Settings | None) -> list[str]:
    """config/requests.yaml (optional: a missing file means the hotline's own standards)."""
    queues = tuple(q.name for q in settings.queues) if settings is not None else ()
    try:
        load_request_rules(config_dir / "requests.yaml", queues, file=f"{config_dir.name}/requests.yaml")
    except RequestConfigError as exc:
        return exc.problems
    return []


def checked_settings(config_dir: Path | None) -> Settings:
    """load_settings plus every other check; raises one ConfigError listing every problem of every file."""
    directory = (Path(config_dir) if config_dir is not None else default_config_dir()).resolve()
    problems: list[str] = []
    try:
        settings: Settings | None = load_settings(directory)
    except ConfigError as exc:
        settings, problems = None, list(exc.lines)
    problems += acd_problems(directory) + recording_problems(directory) + request_problems(directory, settings)
    if settings is not None:
        problems += folder_problems(settings)
    if settings is not None and not problems:     # flows need the folders and the queue names to be right
        try:
            validate_flows(settings)
        except StartupError as exc:
            problems += str(exc).splitlines()
    if problems:
        raise _collected(problems)
    assert settings is not None
    return settings


def _collected(lines: list[str]) -> ConfigError:
    error = ConfigError("configuration", "", lines[0])
    error.lines = lines
    error.args = ("\n".join(lines),)
    return error
