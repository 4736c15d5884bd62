"""PJSIP endpoints of the simulated PBX: their configuration (pjsip.conf, agents.yaml) and live state."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Endpoint:
    name: str
    device_state: str = "Unavailable"   # "Not in use" | "Unavailable" | "In use" | "Ringing" | "Busy" | "On Hold"
    contacts: list[str] = field(default_factory=list)
    max_contacts: int = 1
    active_channels: int = 0


@dataclass
class EndpointConfig:
    """One PJSIP endpoint (from pjsip.conf and/or agents.yaml)."""
    name: str
    context: str = "default"
    callerid: str = ""
    max_contacts: int = 1
    contact: str = ""          # static contact (a trunk); softphones register at run time
    transport: str = ""
    kind: str = "phone"        # "phone" (an agent softphone) | "trunk"
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class EndpointState:
    config: EndpointConfig
    registered: bool = False
    contact_uri: str = ""
    phone: Any = None          # participants.Softphone driving this endpoint
    last_device_state: str = ""
