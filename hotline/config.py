"""Settings: config/hotline.toml + config/agents.yaml + config/queues.yaml, with HOTLINE_<SECTION>_<KEY> overrides.

Everything is checked before anything starts: every problem of every file is collected and raised together
as ConfigError, one line each naming the file, the key and the reason
(`config/hotline.toml: ami.port: must be an integer 1-65535, got 'abc'`; a misspelt key gets "did you mean").

Path resolution (explicit, the same for the shipped config/ and a copy elsewhere): a relative path in
hotline.toml ([service] data_dir, [paths] *) is resolved against the *site root*, the parent folder of the
config directory (`--config /srv/site/config` -> /srv/site/flows, /srv/site/prompts, /srv/site/data). A copied
config folder therefore either sits next to its flows/ and prompts/ or names them with absolute paths; a
missing flows folder or prompt catalogue is a configuration error, not a warning.
"""
from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from hotline.security.pins import is_pin_hash

CONFIG_DIR_ENV = "HOTLINE_CONFIG_DIR"
ENV_PREFIX = "HOTLINE_"
ROLES = ("agent", "supervisor", "qa", "admin")

_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")           # skills, queue names: safe in MQTT topics and SQL
_AGENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_ENDPOINT_RE = re.compile(r"^(PJSIP|SIP|IAX2|DAHDI|Local)/[A-Za-z0-9_.@+-]+$")
_PIN_RE = re.compile(r"^[0-9]{4,8}$")
_LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_HOST_RE = re.compile(r"^[A-Za-z0-9_.:-]+$")


class ConfigError(Exception):
    """A configuration problem: `file: key: reason`. `lines` is one line per problem (several when collected)."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        self.file, self.key, self.reason = file, key, reason
        self.lines = [f"{file}: {key}: {reason}" if key else f"{file}: {reason}"]
        super().__init__(self.lines[0])

    @classmethod
    def collected(cls, problems: list["ConfigError"]) -> "ConfigError":
        """One error carrying every problem found (its message: one line per problem)."""
        first = problems[0]
        error = cls(first.file, first.key, first.reason)
        error.lines = [line for problem in problems for line in problem.lines]
        error.args = ("\n".join(error.lines),)
        return error


def unknown_key(key: object, known: list[str] | tuple[str, ...] | set[str], what: str = "key") -> str:
    """The reason for a key that is not in `known`, with "did you mean" when it looks like a misspelling."""
    close = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.7)
    if close:
        return f"unknown {what}, did you mean {close[0]!r}?"
    return f"unknown {what} (known: {', '.join(sorted(known))})"


# ---------------------------------------------------------------- typed settings

@dataclass(frozen=True)
class ServiceConfig:
    data_dir: Path
    time_zone: str = "Asia/Shanghai"
    default_language: str = "zh-CN"


@dataclass(frozen=True)
class AmiConfig:
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "hotline"
    secret: str = "hotline-secret"
    ping_interval: float = 10.0
    ping_timeout: float = 5.0
    action_timeout: float = 10.0
    reconnect_max_delay: float = 30.0


@dataclass(frozen=True)
class FastAgiConfig:
    host: str = "127.0.0.1"
    port: int = 4573
    allow: tuple[str, ...] = ("127.0.0.1", "::1")   # PBX addresses/networks that may connect (ivr.agi.AgiLimits)
    max_sessions: int = 1000
    reply_timeout: float = 60.0
    long_reply_timeout: float = 14400.0


@dataclass(frozen=True)
class HttpConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    metrics_token: str = ""                   # "" = /metrics without authentication


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = ""


@dataclass(frozen=True)
class MqttConfig:
    url: str = "embedded"
    topic_prefix: str = "hotline"

    @property
    def embedded(self) -> bool:
        return self.url == "embedded"


@dataclass(frozen=True)
class PathsConfig:
    flows_dir: Path
    prompts_catalogue: Path
    studio_dir: Path
    sounds_dir: Path
    recordings_dir: Path
    asterisk_conf_dir: Path


@dataclass(frozen=True)
class AgentConfig:
    id: str                                   # 工号
    name: str
    endpoint: str                             # e.g. PJSIP/1001
    skills: Mapping[str, int]                 # skill -> proficiency 1-10
    languages: tuple[str, ...]
    team: str
    role: str                                 # agent | supervisor | qa | admin
    pin: str
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))   # keys other modules add

    @property
    def endpoint_id(self) -> str:
        """`PJSIP/1001` -> `1001`."""
        return self.endpoint.split("/", 1)[1]


@dataclass(frozen=True)
class QueueConfig:
    name: str
    skills: Mapping[str, int]                 # required skill -> minimum proficiency
    members: tuple[str, ...]                  # agent ids pinned to the queue (optional)
    strategy: str
    raw: Mapping[str, Any]                    # the whole YAML entry; the ACD reads its own fields from here


@dataclass(frozen=True)
class Settings:
    config_dir: Path
    root: Path
    service: ServiceConfig
    ami: AmiConfig
    fastagi: FastAgiConfig
    http: HttpConfig
    database: DatabaseConfig
    mqtt: MqttConfig
    paths: PathsConfig
    agents: list[AgentConfig]
    queues: list[QueueConfig]

    def agent(self, agent_id: str) -> AgentConfig | None:
        return next((a for a in self.agents if a.id == agent_id), None)

    def queue(self, name: str) -> QueueConfig | None:
        return next((q for q in self.queues if q.name == name), None)

    def replace(self, **sections: Any) -> "Settings":
        """A copy with some sections or keys changed: `settings.replace(ami={"port": 5039}, http={"port": 0})`."""
        changes = {}
        for name, value in sections.items():
            current = getattr(self, name)
            changes[name] = dataclasses.replace(current, **value) if isinstance(value, dict) else value
        changed = dataclasses.replace(self, **changes)
        old_data, new_data = self.service.data_dir, changed.service.data_dir
        if new_data != old_data:
            # what is written under data_dir follows it (a test's tmp_path, a demo's folder) unless set too;
            # the sounds, built assets the service only reads, stay where they are
            given = sections.get("paths") or {}
            derived = {key: new_data / getattr(self.paths, key).relative_to(old_data)
                       for key in ("recordings_dir",)
                       if key not in given and getattr(self.paths, key).is_relative_to(old_data)}
            if derived:
                changed = dataclasses.replace(changed, paths=dataclasses.replace(changed.paths, **derived))
            if "database" not in sections and self.database.url == _normalise_db_url("", old_data, self.root):
                changed = dataclasses.replace(changed, database=DatabaseConfig(_normalise_db_url("", new_data, self.root)))
        return changed


# ---------------------------------------------------------------- hotline.toml schema

# section -> key -> (kind, default). kind drives both TOML checking and env conversion.
_TOML_SCHEMA: dict[str, dict[str, tuple[str, Any]]] = {
    "service": {"data_dir": ("path", "data"), "time_zone": ("tz", "Asia/Shanghai"),
                "default_language": ("lang", "zh-CN")},
    "ami": {"host": ("host", "127.0.0.1"), "port": ("port", 5038), "username": ("nonempty", "hotline"),
            "secret": ("nonempty", "hotline-secret"), "ping_interval": ("seconds", 10),
            "ping_timeout": ("seconds", 5), "action_timeout": ("seconds", 10),
            "reconnect_max_delay": ("seconds", 30)},
    "fastagi": {"host": ("host", "127.0.0.1"), "port": ("bindport", 4573),
                "allow": ("addresses", ("127.0.0.1", "::1")), "max_sessions": ("count", 1000),
                "reply_timeout": ("seconds", 60), "long_reply_timeout": ("seconds", 14400)},
    "http": {"host": ("host", "127.0.0.1"), "port": ("bindport", 8080), "metrics_token": ("token", "")},
    "database": {"url": ("dburl", "")},
    "mqtt": {"url": ("mqtturl", "embedded"), "topic_prefix": ("prefix", "hotline")},
    "paths": {"flows_dir": ("path", "flows"), "prompts_catalogue": ("path", "prompts/catalogue.yaml"),
              "studio_dir": ("path", "prompts/studio"), "sounds_dir": ("optpath", ""),
              "recordings_dir": ("optpath", ""), "asterisk_conf_dir": ("path", "asterisk-conf")},
}


def _check_value(kind: str, value: Any, from_env: bool) -> Any:
    """Convert/check one hotline.toml value; raises ValueError(reason)."""
    def text() -> str:
        if not isinstance(value, str):
            raise ValueError(f"must be a string, got {value!r}")
        return value

    if kind in ("port", "bindport"):
        low = 1 if kind == "port" else 0
        what = f"must be an integer {low}-65535"
        if from_env:
            try:
                value = int(value.strip())
            except ValueError:
                raise ValueError(f"{what}, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 65535:
            raise ValueError(f"{what}, got {value!r}")
        return value
    if kind == "addresses":       # IP addresses or networks: a TOML list, or comma-separated in the env
        items = value.split(",") if from_env and isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not items:
            raise ValueError(f"must be a non-empty list of IP addresses or networks, got {value!r}")
        out = []
        for item in items:
            try:
                ipaddress.ip_network(str(item).strip(), strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. '127.0.0.1', '10.0.0.0/24')") \
                    from None
            out.append(str(item).strip())
        return tuple(out)
    if kind == "count":
        if from_env:
            try:
                value = int(value.strip())
            except ValueError:
                raise ValueError(f"must be a whole number >= 1, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"must be a whole number >= 1, got {value!r}")
        return value
    if kind == "seconds":
        if from_env:
            try:
                value = float(value.strip())
            except ValueError:
                raise ValueError(f"must be a number of seconds > 0, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"must be a number of seconds > 0, got {value!r}")
        return float(value)
    value = text()
    if kind == "host":
        if not _HOST_RE.match(value):
            raise ValueError(f"must be a host name or IP address, got {value!r}")
    elif kind == "token":
        if value and (len(value) < 16 or not value.isprintable() or " " in value):
            raise ValueError("must be empty or at least 16 printable characters without spaces")
    elif kind == "nonempty":
        if not value:
            raise ValueError("must not be empty")
    elif kind == "tz":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (expected e.g. 'Asia/Shanghai')") from None
    elif kind == "lang":
        if not _LANG_RE.match(value):
            raise ValueError(f"must be a language tag like 'zh-CN' or 'en', got {value!r}")
    elif kind == "path":
        if not value:
            raise ValueError("must not be empty")
    elif kind == "dburl":
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError(f"must be empty (SQLite under data_dir), sqlite+aiosqlite:///FILE or "
                             f"postgresql+asyncpg://USER@HOST:PORT/DB, got {value!r}")
    elif kind == "mqtturl":
        if value != "embedded":
            _parse_mqtt_url(value)
    elif kind == "prefix":
        if not value or value.startswith("/") or value.endswith("/") or any(c in value for c in "+#\0 "):
            raise ValueError(f"must be a topic root without wildcards or surrounding '/', got {value!r}")
    return value


def parse_mqtt_url(url: str) -> tuple[str, int, str | None, str | None]:
    """`mqtt://[user[:password]@]host[:port]` -> (host, port, user, password)."""
    return _parse_mqtt_url(url)


def _parse_mqtt_url(url: str) -> tuple[str, int, str | None, str | None]:
    m = re.match(r"^mqtt://(?:([^:@/]+)(?::([^@/]*))?@)?([A-Za-z0-9_.-]+|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?/?$", url)
    if not m:
        raise ValueError(f"must be 'embedded' or mqtt://host[:port], got {url!r}")
    user, password, host, port = m.groups()
    port_no = int(port) if port else 1883
    if not 1 <= port_no <= 65535:
        raise ValueError(f"port must be 1-65535, got {port_no}")
    return host.strip("[]"), port_no, user, password


def _normalise_db_url(url: str, data_dir: Path, root: Path) -> str:
    if not url:
        return f"sqlite+aiosqlite:///{data_dir / 'hotline.db'}"
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://"):]
    if url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    if url.startswith("sqlite+aiosqlite:///"):
        path = url[len("sqlite+aiosqlite:///"):]
        if path and path != ":memory:" and not path.startswith("/"):
            return f"sqlite+aiosqlite:///{root / path}"
    return url


# ---------------------------------------------------------------- loading

def default_config_dir(env: Mapping[str, str] = os.environ) -> Path:
    """HOTLINE_CONFIG_DIR, else ./config when it holds hotline.toml, else the checkout's config/."""
    if env.get(CONFIG_DIR_ENV):
        return Path(env[CONFIG_DIR_ENV])
    here = Path.cwd() / "config"
    if (here / "hotline.toml").is_file():
        return here
    return Path(__file__).resolve().parent.parent / "config"


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def load_settings(config_dir: Path | str | None = None, env: Mapping[str, str] = os.environ) -> Settings:
    """Read and check hotline.toml, agents.yaml and queues.yaml; every problem is collected into one ConfigError."""
    config_dir = Path(config_dir) if config_dir is not None else default_config_dir(env)
    config_dir = config_dir.resolve()
    root = config_dir.parent
    toml_path = config_dir / "hotline.toml"
    toml_name = _display(toml_path, root)
    problems: list[ConfigError] = []
    if not config_dir.is_dir():
        raise ConfigError(toml_name, "", "file not found")       # one line, not one per missing file

    try:
        raw = _read_toml(toml_path, toml_name)
    except ConfigError as exc:
        problems.append(exc)
        raw = {}
    values: dict[str, dict[str, Any]] = {}
    for section, keys in raw.items():
        if section not in _TOML_SCHEMA:
            problems.append(ConfigError(toml_name, section, unknown_key(section, list(_TOML_SCHEMA), "section")))
            continue
        if not isinstance(keys, dict):
            problems.append(ConfigError(toml_name, section, "must be a table ([section])"))
            continue
        for key, value in keys.items():
            if key not in _TOML_SCHEMA[section]:
                problems.append(ConfigError(toml_name, f"{section}.{key}", unknown_key(key, list(_TOML_SCHEMA[section]))))
                continue
            try:
                values.setdefault(section, {})[key] = _check_value(_TOML_SCHEMA[section][key][0], value, False)
            except ValueError as exc:
                problems.append(ConfigError(toml_name, f"{section}.{key}", str(exc)))

    for name, value in sorted(env.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        env_section, key = _split_env_name(name)
        if env_section is None:
            continue                        # HOTLINE_CONFIG_DIR, HOTLINE_TEST_* …: not a settings key
        if key not in _TOML_SCHEMA[env_section]:
            problems.append(ConfigError("environment", name, f"unknown key {key!r} in section [{env_section}] "
                                                              f"(known: {', '.join(_TOML_SCHEMA[env_section])})"))
            continue
        try:
            values.setdefault(env_section, {})[key] = _check_value(_TOML_SCHEMA[env_section][key][0], value, True)
        except ValueError as exc:
            problems.append(ConfigError("environment", name, str(exc)))

    def get(section: str, key: str) -> Any:
        return values.get(section, {}).get(key, _TOML_SCHEMA[section][key][1])

    def path(section: str, key: str, base: Path) -> Path:
        p = Path(get(section, key)).expanduser()
        return (p if p.is_absolute() else base / p).resolve()

    data_dir = path("service", "data_dir", root)
    service = ServiceConfig(data_dir=data_dir, time_zone=get("service", "time_zone"),
                            default_language=get("service", "default_language"))
    paths = PathsConfig(
        flows_dir=path("paths", "flows_dir", root),
        prompts_catalogue=path("paths", "prompts_catalogue", root),
        studio_dir=path("paths", "studio_dir", root),
        sounds_dir=path("paths", "sounds_dir", root) if get("paths", "sounds_dir") else data_dir / "sounds",
        recordings_dir=(path("paths", "recordings_dir", root) if get("paths", "recordings_dir")
                        else data_dir / "recordings"),
        asterisk_conf_dir=path("paths", "asterisk_conf_dir", root),
    )
    agents_path = config_dir / "agents.yaml"
    agents, agents_ok = _load_agents(agents_path, _display(agents_path, root), service.default_language, problems)
    queues_path = config_dir / "queues.yaml"
    queues = _load_queues(queues_path, _display(queues_path, root), agents if agents_ok else None, problems)
    if problems:
        raise ConfigError.collected(problems)
    return Settings(
        config_dir=config_dir, root=root, service=service,
        ami=AmiConfig(**{k: get("ami", k) for k in _TOML_SCHEMA["ami"]}),
        fastagi=FastAgiConfig(**{k: get("fastagi", k) for k in _TOML_SCHEMA["fastagi"]}),
        http=HttpConfig(**{k: get("http", k) for k in _TOML_SCHEMA["http"]}),
        database=DatabaseConfig(url=_normalise_db_url(get("database", "url"), data_dir, root)),
        mqtt=MqttConfig(url=get("mqtt", "url"), topic_prefix=get("mqtt", "topic_prefix")),
        paths=paths, agents=agents, queues=queues,
    )


def folder_problems(settings: Settings) -> list[str]:
    """The folders the service reads at start: a missing flows folder or prompt catalogue is an error."""
    toml_name = _display(settings.config_dir / "hotline.toml", settings.root)
    where = f"relative paths resolve against {settings.root}, the config folder's parent; or give an absolute path"
    problems = []
    if not settings.paths.flows_dir.is_dir():
        problems.append(f"{toml_name}: paths.flows_dir: folder {settings.paths.flows_dir} not found ({where})")
    if not settings.paths.prompts_catalogue.is_file():
        problems.append(f"{toml_name}: paths.prompts_catalogue: file {settings.paths.prompts_catalogue} "
                        f"not found ({where})")
    return problems


def _split_env_name(name: str) -> tuple[str | None, str]:
    rest = name[len(ENV_PREFIX):]
    for section in _TOML_SCHEMA:
        head = section.upper() + "_"
        if rest.startswith(head):
            return section, rest[len(head):].lower()
    return None, ""


def _read_toml(path: Path, name: str) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(name, "", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(name, "", f"invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(name, "", f"cannot read: {exc.strerror}") from None


def _read_yaml(path: Path, name: str, top_key: str) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(name, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(name, "", f"cannot read: {exc}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(name, "", f"invalid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(doc, dict) or top_key not in doc:
        raise ConfigError(name, top_key, f"missing: the file must contain a '{top_key}:' list")
    items = doc[top_key]
    if not isinstance(items, list):
        raise ConfigError(name, top_key, "must be a list")
    extra = set(doc) - {top_key}
    if extra:
        raise ConfigError(name, sorted(extra)[0], f"unknown top-level key (expected only '{top_key}')")
    return items


def _skill_map(value: Any, file: str, key: str, what: str) -> Mapping[str, int]:
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, dict):
        raise ConfigError(file, key, f"must be a mapping skill -> {what} 1-10, got {value!r}")
    out = {}
    for skill, level in value.items():
        if not isinstance(skill, str) or not _NAME_RE.match(skill):
            raise ConfigError(file, f"{key}.{skill}", "skill names are lower-case words (a-z, 0-9, _ or -)")
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 10:
            raise ConfigError(file, f"{key}.{skill}", f"{what} must be an integer 1-10, got {level!r}")
        out[skill] = level
    return MappingProxyType(out)


AGENT_KEYS = ("id", "name", "endpoint", "skills", "languages", "team", "role", "pin", "pin_hash",
              "senior", "wrapup_seconds")     # the last two are read by the ACD and the CTI (AgentConfig.extra)


def _load_agents(path: Path, file: str, default_language: str,
                 problems: list[ConfigError]) -> tuple[list[AgentConfig], bool]:
    """Every agent entry is checked; problems are appended. Returns the good agents and whether the file was read."""
    agents: list[AgentConfig] = []
    seen_ids: dict[str, int] = {}
    seen_endpoints: dict[str, int] = {}
    try:
        entries = _read_yaml(path, file, "agents")
    except ConfigError as exc:
        problems.append(exc)
        return agents, False
    for i, entry in enumerate(entries):
        key = f"agents[{i}]"
        if isinstance(entry, dict):
            for unknown in [k for k in entry if k not in AGENT_KEYS]:
                problems.append(ConfigError(file, f"{key}.{unknown}", unknown_key(unknown, AGENT_KEYS)))
        try:
            agents.append(_agent(entry, key, file, default_language, seen_ids, seen_endpoints, i))
        except ConfigError as exc:
            problems.append(exc)
    return agents, True


def _agent(entry: Any, key: str, file: str, default_language: str, seen_ids: dict[str, int],
           seen_endpoints: dict[str, int], i: int) -> AgentConfig:
    known = {"id", "name", "endpoint", "skills", "languages", "team", "role", "pin"}
    if not isinstance(entry, dict):
        raise ConfigError(file, key, "must be a mapping with id, name, endpoint, skills, role, pin")
    agent_id = entry.get("id")
    if isinstance(agent_id, int) and not isinstance(agent_id, bool):
        agent_id = str(agent_id)
    if not isinstance(agent_id, str) or not _AGENT_ID_RE.match(agent_id):
        raise ConfigError(file, f"{key}.id", f"must be a staff number like \"1001\" "
                                             f"(letters, digits, _ or -), got {entry.get('id')!r}")
    if agent_id in seen_ids:
        raise ConfigError(file, f"{key}.id", f"duplicate agent id {agent_id!r} (also agents[{seen_ids[agent_id]}])")
    seen_ids[agent_id] = i
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(file, f"{key}.name", "must be a non-empty string")
    endpoint = entry.get("endpoint", f"PJSIP/{agent_id}")
    if not isinstance(endpoint, str) or not _ENDPOINT_RE.match(endpoint):
        raise ConfigError(file, f"{key}.endpoint", f"must look like TECH/RESOURCE, e.g. PJSIP/{agent_id} "
                                                   f"(TECH one of PJSIP, SIP, IAX2, DAHDI, Local), got {endpoint!r}")
    if endpoint in seen_endpoints:
        raise ConfigError(file, f"{key}.endpoint",
                          f"endpoint {endpoint!r} already used by agents[{seen_endpoints[endpoint]}]")
    seen_endpoints[endpoint] = i
    skills = _skill_map(entry.get("skills"), file, f"{key}.skills", "proficiency")
    languages = entry.get("languages", [default_language])
    if isinstance(languages, str):
        languages = [languages]
    if not isinstance(languages, list) or not languages or not all(
            isinstance(lang, str) and _LANG_RE.match(lang) for lang in languages):
        raise ConfigError(file, f"{key}.languages", f"must be a list of language tags like [zh-CN, en], "
                                                    f"got {entry.get('languages')!r}")
    team = entry.get("team", "")
    if not isinstance(team, (str, int)) or isinstance(team, bool):
        raise ConfigError(file, f"{key}.team", f"must be a string, got {team!r}")
    role = entry.get("role", "agent")
    if role not in ROLES:
        raise ConfigError(file, f"{key}.role", f"unknown role {role!r} (expected one of {', '.join(ROLES)})")
    pin = entry.get("pin")
    if "pin_hash" in entry and pin is None:   # AgentConfig.pin then holds the hash (hotline.security.pins)
        pin = entry["pin_hash"]
        if not isinstance(pin, str) or not is_pin_hash(pin):
            raise ConfigError(file, f"{key}.pin_hash", "must be a hash from `python -m hotline.security.pins`")
    elif not isinstance(pin, str) or not _PIN_RE.match(pin):
        raise ConfigError(file, f"{key}.pin", f"must be a quoted string of 4-8 digits (e.g. \"1234\"), got {pin!r}")
    senior = entry.get("senior", False)
    if not isinstance(senior, bool):
        raise ConfigError(file, f"{key}.senior", f"must be true or false, got {senior!r}")
    wrapup = entry.get("wrapup_seconds", 0)
    if isinstance(wrapup, bool) or not isinstance(wrapup, (int, float)) or wrapup < 0:
        raise ConfigError(file, f"{key}.wrapup_seconds", f"must be a number of seconds >= 0, got {wrapup!r}")
    return AgentConfig(
        id=agent_id, name=name.strip(), endpoint=endpoint, skills=skills, languages=tuple(languages),
        team=str(team), role=role, pin=pin,
        extra=MappingProxyType({k: v for k, v in entry.items() if k not in known}),
    )


def _load_queues(path: Path, file: str, agents: list[AgentConfig] | None,
                 problems: list[ConfigError]) -> list[QueueConfig]:
    """Every queue entry is checked; problems are appended. `agents` None: agents.yaml was unreadable."""
    queues: list[QueueConfig] = []
    seen: dict[str, int] = {}
    try:
        entries = _read_yaml(path, file, "queues")
    except ConfigError as exc:
        problems.append(exc)
        return queues
    for i, entry in enumerate(entries):
        try:
            queues.append(_queue(entry, f"queues[{i}]", file, agents, seen, i))
        except ConfigError as exc:
            problems.append(exc)
    return queues


def _queue(entry: Any, key: str, file: str, agents: list[AgentConfig] | None, seen: dict[str, int],
           i: int) -> QueueConfig:
    if not isinstance(entry, dict):
        raise ConfigError(file, key, "must be a mapping with name and skills")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(file, f"{key}.name", f"must be a lower-case word (a-z, 0-9, _ or -), got {name!r}")
    if name in seen:
        raise ConfigError(file, f"{key}.name", f"duplicate queue name {name!r} (also queues[{seen[name]}])")
    seen[name] = i
    skills = _skill_map(entry.get("skills"), file, f"{key}.skills", "minimum proficiency")
    members = entry.get("members", [])
    if not isinstance(members, list):
        raise ConfigError(file, f"{key}.members", "must be a list of agent ids")
    member_ids = [str(m) if isinstance(m, int) and not isinstance(m, bool) else m for m in members]
    if agents is not None:
        _check_queue_is_servable(file, key, skills, member_ids, agents)
    if not skills and not member_ids:
        raise ConfigError(file, key, "needs required skills or members, otherwise no agent can take its calls")
    strategy = entry.get("strategy", "skill-based")
    if not isinstance(strategy, str) or not strategy:
        raise ConfigError(file, f"{key}.strategy", f"must be a non-empty string, got {strategy!r}")
    return QueueConfig(name=name, skills=skills, members=tuple(member_ids), strategy=strategy,
                       raw=MappingProxyType(dict(entry)))


def _check_queue_is_servable(file: str, key: str, skills: Mapping[str, int], member_ids: list[Any],
                             agents: list[AgentConfig]) -> None:
    """A queue nobody can ever serve is a typo or a missing agent, not a state to start in."""
    agent_ids = {agent.id for agent in agents}
    for j, member in enumerate(member_ids):
        if member not in agent_ids:
            raise ConfigError(file, f"{key}.members[{j}]", f"unknown agent id {member!r}")
    for skill, level in skills.items():
        levels = [agent.skills[skill] for agent in agents if skill in agent.skills]
        if not levels:
            raise ConfigError(file, f"{key}.skills.{skill}", f"no agent in agents.yaml has skill {skill!r}")
        if max(levels) < level:
            raise ConfigError(file, f"{key}.skills.{skill}",
                              f"asks proficiency {level} but no agent in agents.yaml has {skill!r} above "
                              f"{max(levels)}")
    if len(skills) > 1 and not any(all(agent.skills.get(s, 0) >= lv for s, lv in skills.items())
                                   for agent in agents):
        raise ConfigError(file, f"{key}.skills", "no single agent in agents.yaml has every required skill "
                                                 "at its minimum proficiency")
