"""config/hotline.toml, agents.yaml, queues.yaml: the shipped files load; every bad value names file, key, reason."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hotline.config import ConfigError, load_settings

PROJECT_CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the shipped config/ inside a throw-away project root."""
    target = tmp_path / "site" / "config"
    shutil.copytree(PROJECT_CONFIG, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def error_of(config_dir: Path, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(config_dir, env=env or {})
    return str(info.value)


def test_shipped_configuration_loads_with_resolved_paths(config_dir: Path):
    settings = load_settings(config_dir, env={})
    root = config_dir.parent.resolve()
    assert settings.root == root
    assert settings.ami.port == 5038 and settings.ami.username == "hotline"
    assert settings.ami.ping_interval == 10.0
    assert settings.fastagi.port == 4573 and settings.http.port == 8080
    assert settings.service.data_dir == root / "data"
    assert settings.database.url == f"sqlite+aiosqlite:///{root / 'data' / 'hotline.db'}"
    assert settings.mqtt.url == "embedded" and settings.mqtt.embedded
    assert settings.mqtt.topic_prefix == "hotline"
    assert settings.paths.flows_dir == root / "flows"
    assert settings.paths.prompts_catalogue == root / "prompts" / "catalogue.yaml"
    assert settings.paths.sounds_dir == root / "data" / "sounds"
    assert settings.paths.recordings_dir == root / "data" / "recordings"
    assert settings.paths.asterisk_conf_dir == root / "asterisk-conf"

    ids = [a.id for a in settings.agents]
    assert ids == ["1001", "1002", "1003", "1004", "1005", "1006", "9001", "9101"]
    zhang = settings.agent("1001")
    assert zhang.name == "张伟" and zhang.endpoint == "PJSIP/1001" and zhang.endpoint_id == "1001"
    assert dict(zhang.skills) == {"presales": 8, "aftersales": 5}
    assert zhang.languages == ("zh-CN", "en") and zhang.role == "agent" and zhang.pin == "1234"
    assert settings.agent("9001").role == "supervisor" and settings.agent("9101").role == "qa"
    names = [q.name for q in settings.queues]
    assert names == ["presales", "aftersales", "logistics", "complaints", "vip", "english"]
    assert dict(settings.queue("vip").skills) == {"vip": 5}
    assert settings.queue("vip").raw["strategy"] == "skill-based"
    assert settings.agent("0000") is None and settings.queue("nope") is None


def test_absolute_paths_and_explicit_directories(config_dir: Path, tmp_path: Path):
    edit(config_dir / "hotline.toml", 'data_dir = "data"', f'data_dir = "{tmp_path / "elsewhere"}"')
    edit(config_dir / "hotline.toml", 'sounds_dir = ""', 'sounds_dir = "/var/lib/asterisk/sounds"')
    settings = load_settings(config_dir, env={})
    assert settings.service.data_dir == tmp_path / "elsewhere"
    assert settings.paths.sounds_dir == Path("/var/lib/asterisk/sounds")
    assert settings.paths.recordings_dir == tmp_path / "elsewhere" / "recordings"


def test_env_overrides_are_converted_to_the_key_type(config_dir: Path):
    env = {"HOTLINE_AMI_PORT": "5039", "HOTLINE_AMI_PING_TIMEOUT": "2.5",
           "HOTLINE_DATABASE_URL": "postgresql://root@127.0.0.1:5432/test",
           "HOTLINE_MQTT_URL": "mqtt://127.0.0.1:1883", "HOTLINE_PATHS_FLOWS_DIR": "custom/flows",
           "HOTLINE_HTTP_PORT": "0", "HOTLINE_TEST_PG": "ignored: not a settings section"}
    settings = load_settings(config_dir, env=env)
    assert settings.ami.port == 5039 and isinstance(settings.ami.port, int)
    assert settings.ami.ping_timeout == 2.5
    assert settings.database.url == "postgresql+asyncpg://root@127.0.0.1:5432/test"
    assert settings.mqtt.url == "mqtt://127.0.0.1:1883" and not settings.mqtt.embedded
    assert settings.paths.flows_dir == config_dir.parent.resolve() / "custom" / "flows"
    assert settings.http.port == 0


@pytest.mark.parametrize(("env", "expected"), [
    ({"HOTLINE_AMI_PORT": "abc"}, "environment: HOTLINE_AMI_PORT: must be an integer 1-65535, got 'abc'"),
    ({"HOTLINE_AMI_PROT": "1"}, "environment: HOTLINE_AMI_PROT: unknown key 'prot' in section [ami]"),
    ({"HOTLINE_AMI_PING_INTERVAL": "-1"}, "environment: HOTLINE_AMI_PING_INTERVAL: must be a number of seconds > 0"),
    ({"HOTLINE_MQTT_URL": "tcp://x"}, "environment: HOTLINE_MQTT_URL: must be 'embedded' or mqtt://host[:port]"),
])
def test_bad_env_override(config_dir: Path, env, expected):
    assert error_of(config_dir, env).startswith(expected)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("port = 5038", "port = 'abc'", "config/hotline.toml: ami.port: must be an integer 1-65535, got 'abc'"),
    ("port = 5038", "port = 70000", "config/hotline.toml: ami.port: must be an integer 1-65535, got 70000"),
    ("port = 4573", "port = -1", "config/hotline.toml: fastagi.port: must be an integer 0-65535, got -1"),
    ("ping_timeout = 5", "ping_timeout = 0", "config/hotline.toml: ami.ping_timeout: must be a number of seconds > 0"),
    ('time_zone = "Asia/Shanghai"', 'time_zone = "Mars/Olympus"',
     "config/hotline.toml: service.time_zone: unknown time zone 'Mars/Olympus'"),
    ('secret = "hotline-secret"', 'secret = ""', "config/hotline.toml: ami.secret: must not be empty"),
    ('url = "embedded"', 'url = "amqp://x"', "config/hotline.toml: mqtt.url: must be 'embedded' or mqtt://host[:port]"),
    ('url = ""', 'url = "mysql://x"', "config/hotline.toml: database.url: must be empty"),
    ('topic_prefix = "hotline"', 'topic_prefix = "hot/#"', "config/hotline.toml: mqtt.topic_prefix: must be a topic root"),
    ("[http]", "[htpp]", "config/hotline.toml: htpp: unknown section"),
    ("ping_timeout = 5", "ping_timeout = 5\npong = 1", "config/hotline.toml: ami.pong: unknown key"),
    ("[ami]", "[ami", "config/hotline.toml: invalid TOML"),
])
def test_bad_toml_value_names_file_key_and_reason(config_dir: Path, old, new, expected):
    edit(config_dir / "hotline.toml", old, new)
    assert error_of(config_dir).startswith(expected)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('id: "1002"', 'id: "1001"', "config/agents.yaml: agents[1].id: duplicate agent id '1001' (also agents[0])"),
    ("skills: {presales: 8, aftersales: 5}", "skills: {presales: 11, aftersales: 5}",
     "config/agents.yaml: agents[0].skills.presales: proficiency must be an integer 1-10, got 11"),
    ("skills: {presales: 8, aftersales: 5}", "skills: {presales: 0}",
     "config/agents.yaml: agents[0].skills.presales: proficiency must be an integer 1-10, got 0"),
    ("role: supervisor", "role: boss",
     "config/agents.yaml: agents[6].role: unknown role 'boss' (expected one of agent, supervisor, qa, admin)"),
    ("endpoint: PJSIP/1003", "endpoint: 1003",
     "config/agents.yaml: agents[2].endpoint: must look like TECH/RESOURCE"),
    ("endpoint: PJSIP/1003", "endpoint: PJSIP/1001",
     "config/agents.yaml: agents[2].endpoint: endpoint 'PJSIP/1001' already used by agents[0]"),
    ('pin: "1234"', "pin: 1234", "config/agents.yaml: agents[0].pin: must be a quoted string of 4-8 digits"),
    ("name: 张伟", "name: ''", "config/agents.yaml: agents[0].name: must be a non-empty string"),
    ("languages: [zh-CN, en]", "languages: chinese", "config/agents.yaml: agents[0].languages: must be a list"),
    ("agents:", "agentz:", "config/agents.yaml: agents: missing"),
    ("  - id: \"1001\"", "  - id: [\"1001\"", "config/agents.yaml: invalid YAML at line"),
])
def test_bad_agent_names_file_key_and_reason(config_dir: Path, old, new, expected):
    edit(config_dir / "agents.yaml", old, new)
    assert error_of(config_dir).startswith(expected)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("name: aftersales", "name: presales",
     "config/queues.yaml: queues[1].name: duplicate queue name 'presales' (also queues[0])"),
    ("skills: {english: 1}", "skills: {french: 1}",
     "config/queues.yaml: queues[5].skills.french: no agent in agents.yaml has skill 'french'"),
    ("skills: {vip: 5}", "skills: {vip: 12}",
     "config/queues.yaml: queues[4].skills.vip: minimum proficiency must be an integer 1-10, got 12"),
    ("strategy: skill-based\n  - name: vip", "members: ['1001', '4242']\n  - name: vip",
     "config/queues.yaml: queues[3].members[1]: unknown agent id '4242'"),
    ("name: vip", "name: VIP Line", "config/queues.yaml: queues[4].name: must be a lower-case word"),
])
def test_bad_queue_names_file_key_and_reason(config_dir: Path, old, new, expected):
    edit(config_dir / "queues.yaml", old, new)
    assert error_of(config_dir).startswith(expected)


def test_missing_file_is_named(config_dir: Path):
    (config_dir / "queues.yaml").unlink()
    assert error_of(config_dir) == "config/queues.yaml: file not found"


def test_queue_members_are_kept(config_dir: Path):
    edit(config_dir / "queues.yaml", "skills: {english: 1}", "skills: {english: 1}\n    members: ['1006', 1001]")
    assert load_settings(config_dir, env={}).queue("english").members == ("1006", "1001")


def test_replace_gives_a_changed_copy(config_dir: Path):
    settings = load_settings(config_dir, env={})
    other = settings.replace(http={"port": 0}, ami={"port": 6000})
    assert (other.http.port, other.ami.port) == (0, 6000)
    assert (settings.http.port, settings.ami.port) == (8080, 5038)


def test_replacing_data_dir_moves_what_was_derived_from_it(config_dir: Path, tmp_path: Path):
    """A test's (or a demo's) data_dir takes the recordings and the SQLite file with it; sounds stay."""
    settings = load_settings(config_dir, env={})
    moved = settings.replace(service={"data_dir": tmp_path / "elsewhere"})
    assert moved.paths.recordings_dir == tmp_path / "elsewhere" / "recordings"
    assert moved.paths.sounds_dir == settings.paths.sounds_dir
    assert moved.database.url == f"sqlite+aiosqlite:///{tmp_path / 'elsewhere' / 'hotline.db'}"
    assert settings.paths.recordings_dir == settings.service.data_dir / "recordings"
    explicit = settings.replace(service={"data_dir": tmp_path / "x"}, paths={"recordings_dir": tmp_path / "rec"},
                                database={"url": "sqlite+aiosqlite:///:memory:"})
    assert explicit.paths.recordings_dir == tmp_path / "rec" and explicit.database.url.endswith(":memory:")
