"""Names of the dialplan contexts the CTI's call control uses (documented in /work/brief/cti_dialplan.md)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DialplanNames:
    outbound: str = "hotline-agent-outbound"
    hold: str = "hotline-hold"
    agent_hold: str = "hotline-agent-hold"
    consult: str = "hotline-consult"
    transfer: str = "hotline-transfer"
    conference: str = "hotline-conf"
    ivr_return: str = "hotline-ivr-return"
    ivr_return_event: str = "HotlineIvrReturn"
    outbound_trunk: str = "PJSIP/trunk/"    # prefix the outbound context dials the number with
