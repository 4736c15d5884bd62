"""asterisk-conf/ readers: manager users, endpoints, queues; broken files name file and line."""
from __future__ import annotations

import pytest

from pbxsim.config import ConfigError, load_agents, load_manager_users, load_queues, parse_conf
from pbxsim_capture import CONF, SITE_CONF


def test_manager_users_from_the_site_and_capture_files():
    site = load_manager_users(SITE_CONF / "manager.conf")
    assert list(site) == ["hotline"]
    user = site["hotline"]
    assert user.secret == "hotline-secret" and {"call", "agi", "dialplan", "system"} <= user.read
    assert user.write == user.read and user.writetimeout == 1000
    assert load_manager_users(CONF / "manager.conf")["ivr"].secret == "ivrsecret"


def test_templates_and_repeated_sections():
    sections = parse_conf(SITE_CONF / "pjsip.conf")
    ep = next(s for s in sections if s.name == "1004" and s.get("type") == "endpoint")
    assert ep.get("context") == "hotline-agents" and ep.get("aors") == "1004"
    assert [s.get("type") for s in sections if s.name == "trunk"] == ["endpoint", "aor", "identify"]
    assert load_queues(CONF / "queues.conf")["support"]["members"] == ["Local/s@agentctx"]


@pytest.mark.parametrize("text,line,reason", [
    ("[hotline]\nread = all\n", 1, "has no secret"),
    ("[general]\nenabled = yes\n[broken\n", 3, "malformed section header"),
    ("secret = x\n", 1, "outside of any [section]"),
    ("[a](missing-template)\n", 1, "unknown template"),
    ("[a]\njust words\n", 2, "expected key = value"),
])
def test_broken_manager_conf(tmp_path, text, line, reason):
    path = tmp_path / "manager.conf"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_manager_users(path)
    assert str(err.value).startswith(f"{path}:{line}: ") and reason in str(err.value)


def test_agents_yaml_errors(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text("agents:\n  - id: '1001'\n    endpoint: SIP/1001\n")
    with pytest.raises(ConfigError, match=r"agents\[0\]\.endpoint: 'SIP/1001' is not PJSIP/<id>"):
        load_agents(path)
    path.write_text("agents: [\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_agents(path)
