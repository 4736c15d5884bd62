"""Reading the Asterisk configuration a real site installs (asterisk-conf/).

- manager.conf  -> AMI users (``load_manager_users``)
- pjsip.conf    -> endpoints: ``type=endpoint`` sections (context, callerid, aors),
                   ``type=aor`` (max_contacts, static ``contact`` = a trunk)
- queues.conf   -> queues and their static members (for the minimal Queue())
- musiconhold.conf -> music classes
- extensions.conf  -> pbxsim.dialplan.Dialplan
- agents.yaml (hotline's config/agents.yaml) -> extra softphone endpoints

Errors name the file and line: ``ConfigError("pjsip.conf:12: ...")``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .ami.users import AmiUser
from .endpoints import EndpointConfig


class ConfigError(ValueError):
    pass


@dataclass
class ConfSection:
    name: str
    templates: list[str]
    line: int
    items: list[tuple[str, str]] = field(default_factory=list)

    def get(self, key: str, default: str | None = None) -> str | None:
        for k, v in reversed(self.items):
            if k == key:
                return v
        return default

    def get_all(self, key: str) -> list[str]:
        return [v for k, v in self.items if k == key]


def parse_conf(path: Path) -> list[ConfSection]:
    """Generic Asterisk .conf parser (sections, ``key = value``, ``key => value``, ``;`` comments,
    ``[name](template)``, ``[name](!)`` templates, ``#include``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    sections: list[ConfSection] = []
    templates: dict[str, ConfSection] = {}
    current: ConfSection | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(?<!\\);.*", "", raw).replace("\\;", ";").strip()
        if not line:
            continue
        if line.startswith("#include"):
            inc = path.parent / line[len("#include"):].strip().strip('"<>')
            sections += parse_conf(inc)
            continue
        if line.startswith("["):
            m = re.fullmatch(r"\[([^\]]+)\]\s*(?:\(([^)]*)\))?", line)
            if not m:
                raise ConfigError(f"{path}:{lineno}: malformed section header {line!r}")
            tpl = [t.strip() for t in (m.group(2) or "").split(",") if t.strip()]
            current = ConfSection(m.group(1).strip(), tpl, lineno)
            for t in tpl:
                if t in ("!", "+"):
                    continue
                base = templates.get(t)
                if base is None:
                    raise ConfigError(f"{path}:{lineno}: unknown template {t!r}")
                current.items += list(base.items)
            if "!" in tpl:
                templates[current.name] = current
            else:
                sections.append(current)
                templates.setdefault(current.name, current)
            continue
        m = re.fullmatch(r"([^=]+?)\s*=>?\s*(.*)", line)
        if not m:
            raise ConfigError(f"{path}:{lineno}: expected key = value, got {line!r}")
        if current is None:
            raise ConfigError(f"{path}:{lineno}: setting outside of any [section]")
        current.items.append((m.group(1).strip(), m.group(2).strip()))
    return sections


def load_manager_users(path: Path):
    users = {}
    for sec in parse_conf(Path(path)):
        if sec.name == "general":
            continue
        secret = sec.get("secret")
        if secret is None:
            raise ConfigError(f"{path}:{sec.line}: manager user [{sec.name}] has no secret")
        kwargs = {}
        wt = sec.get("writetimeout")
        if wt and wt.isdigit():
            kwargs["writetimeout"] = int(wt)
        users[sec.name] = AmiUser(sec.name, secret, read=sec.get("read", "") or "",
                                  write=sec.get("write", "") or "", **kwargs)
    return users


def load_pjsip(path: Path) -> list[EndpointConfig]:
    sections = parse_conf(Path(path))
    aors = {s.name: s for s in sections if s.get("type") == "aor"}
    out: list[EndpointConfig] = []
    for sec in sections:
        if sec.get("type") != "endpoint":
            continue
        aor_names = [a.strip() for a in (sec.get("aors") or sec.name).split(",") if a.strip()]
        max_contacts = 1
        contact = ""
        for a in aor_names:
            aor = aors.get(a)
            if aor is not None:
                mc = aor.get("max_contacts")
                if mc and mc.isdigit():
                    max_contacts = int(mc)
                contact = contact or (aor.get("contact") or "")
        kind = "trunk" if contact or sec.name.lower().startswith(("trunk", "carrier", "sipp")) else "phone"
        out.append(EndpointConfig(name=sec.name, context=sec.get("context") or "default",
                                  callerid=sec.get("callerid") or "", max_contacts=max_contacts,
                                  contact=contact, transport=sec.get("transport") or "", kind=kind,
                                  extra=dict(sec.items)))
    return out


def load_queues(path: Path) -> dict[str, dict]:
    if not Path(path).exists():
        return {}
    queues: dict[str, dict] = {}
    for sec in parse_conf(Path(path)):
        if sec.name == "general":
            continue
        q: dict = dict(sec.items)
        q["members"] = [m.split(",")[0].strip() for m in sec.get_all("member")]
        queues[sec.name] = q
    return queues


def load_musiconhold(path: Path) -> dict[str, dict]:
    if not Path(path).exists():
        return {"default": {"mode": "files"}}
    return {s.name: dict(s.items) for s in parse_conf(Path(path)) if s.name != "general"} or {"default": {}}


@dataclass
class AgentPhone:
    agent_id: str
    endpoint: str
    name: str = ""
    softphone: dict = field(default_factory=dict)


def load_agents(path: Path) -> list[AgentPhone]:
    """Softphones from hotline's config/agents.yaml (``endpoint: PJSIP/1001``).

    An optional ``softphone:`` mapping per agent sets the simulated phone's behaviour
    (registered, mode, answer_after_s, talk_time_s); the server ignores it."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    agents = data.get("agents") if isinstance(data, dict) else None
    if not isinstance(agents, list):
        raise ConfigError(f"{path}: expected a top-level 'agents:' list")
    out = []
    for i, a in enumerate(agents):
        if not isinstance(a, dict) or "endpoint" not in a:
            raise ConfigError(f"{path}: agents[{i}]: needs an 'endpoint' (e.g. PJSIP/1001)")
        ep = str(a["endpoint"])
        if not ep.upper().startswith("PJSIP/"):
            raise ConfigError(f"{path}: agents[{i}].endpoint: {ep!r} is not PJSIP/<id>")
        out.append(AgentPhone(agent_id=str(a.get("id", ep[6:])), endpoint=ep[6:], name=str(a.get("name", "")),
                              softphone=dict(a.get("softphone") or {})))
    return out
