"""What one FastAGI server accepts: which PBX addresses, how many sessions, how long a reply may take.

FastAGI has no authentication, so the allow-list is the only thing between a local process and the
flows (queues, agents' phones): by default only loopback may connect.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Iterable

from hotline.config import FastAgiConfig

# EXEC of these applications holds the command for as long as the call does (a Dial is the conversation)
LONG_APPLICATIONS = frozenset({
    "dial", "queue", "record", "confbridge", "meetme", "chanspy", "extenspy", "park", "parkedcall", "voicemail",
    "voicemailmain", "wait", "waitexten", "waitfornoise", "waitforsilence", "bridge", "followme", "page",
    "musiconhold", "playback", "background", "read", "directory", "agentrequest", "transfer",
})
DEFAULT_ALLOW = ("127.0.0.1", "::1")
# a prompt plays for as long as its sound file: these wait PROMPT_FACTOR × reply_timeout
PROMPT_COMMANDS = frozenset({"STREAM FILE", "CONTROL STREAM FILE", "GET OPTION"})
PROMPT_FACTOR = 5
ARG_DEPENDENT = frozenset({"EXEC", "WAIT FOR DIGIT", "GET DATA"})

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_allow(entries: Iterable[str]) -> tuple[Network, ...]:
    """``["127.0.0.1", "10.1.2.0/24", "::1"]`` -> networks; a bad entry raises ValueError naming it."""
    nets = []
    for entry in entries:
        try:
            nets.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError:
            raise ValueError(f"fastagi allow: {entry!r} is not an IP address or network") from None
    return tuple(nets)


@dataclass(frozen=True)
class AgiLimits:
    allow: tuple[str, ...] = DEFAULT_ALLOW          # PBX addresses (or networks) that may connect
    max_sessions: int = 1000                        # concurrent calls; beyond it a connection is closed at once
    header_timeout: float = 10.0                    # connect -> end of the agi_ block
    reply_timeout: float = 60.0                     # a command's reply, on top of the command's own timeout
    long_reply_timeout: float = 4 * 3600.0          # EXEC Dial/Queue/Record…, WAIT FOR DIGIT -1
    backlog: int = 1024                             # listen queue: a burst of calls waits here, not in SYN retries
    networks: tuple[Network, ...] = field(init=False, repr=False, compare=False)
    _verdicts: dict[str, bool] = field(init=False, repr=False, compare=False)   # host -> allowed (the PBXes)
    _fixed: dict[str, float] = field(init=False, repr=False, compare=False)     # verb -> timeout (no args needed)

    def __post_init__(self) -> None:
        if self.max_sessions < 1:
            raise ValueError("fastagi max_sessions must be at least 1")
        object.__setattr__(self, "networks", parse_allow(self.allow))
        object.__setattr__(self, "_verdicts", {})
        object.__setattr__(self, "_fixed", {})

    @classmethod
    def from_settings(cls, fastagi: FastAgiConfig) -> "AgiLimits":
        """From ``[fastagi]`` of hotline.toml; what it does not set keeps the defaults above."""
        return cls(allow=tuple(fastagi.allow), max_sessions=fastagi.max_sessions,
                   reply_timeout=fastagi.reply_timeout, long_reply_timeout=fastagi.long_reply_timeout)

    def allows(self, host: str) -> bool:
        verdict = self._verdicts.get(host)
        if verdict is None:
            verdict = self._allows(host)
            if len(self._verdicts) >= 1024:
                self._verdicts.clear()
            self._verdicts[host] = verdict
        return verdict

    def _allows(self, host: str) -> bool:
        try:
            addr = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        return any(addr in net for net in self.networks)

    def timeout_for(self, verb: str, args: tuple[object, ...]) -> float:
        """Seconds to wait for the reply of one command: its own timeout argument plus reply_timeout."""
        fixed = self._fixed.get(verb)
        if fixed is not None:
            return fixed
        if verb not in ARG_DEPENDENT and len(self._fixed) < 256:
            fixed = self._fixed[verb] = self._timeout_for(verb, ())
            return fixed
        return self._timeout_for(verb, args)

    def _timeout_for(self, verb: str, args: tuple[object, ...]) -> float:
        if verb == "EXEC":
            app = str(args[0]).lower() if args else ""
            return self.long_reply_timeout if app in LONG_APPLICATIONS else self.reply_timeout
        if verb in ("RECORD FILE", "SPEECH RECOGNIZE"):
            return self.long_reply_timeout
        if verb in PROMPT_COMMANDS or verb.startswith("SAY "):
            return self.reply_timeout * PROMPT_FACTOR
        own_ms = None
        if verb == "WAIT FOR DIGIT" and args:
            own_ms = args[0]
        elif verb == "GET DATA" and len(args) >= 2:
            own_ms = args[1]       # plus the prompt: GET DATA plays it first
        if own_ms is None:
            return self.reply_timeout
        try:
            ms = int(str(own_ms))
        except ValueError:
            return self.reply_timeout
        if ms < 0:
            return self.long_reply_timeout
        base = self.reply_timeout * (PROMPT_FACTOR if verb == "GET DATA" else 1)
        return base + ms / 1000.0
