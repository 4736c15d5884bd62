"""Which calls are recorded (config/recording.yaml `policy`), and how MixMonitor is asked to do it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from recordings.config import RecordingConfig


@dataclass
class CallFacts:
    """What the CTI layer knows about a call when an agent answers it."""

    linkedid: str
    channel: str  # the caller's channel, bridged to the agent: MixMonitor runs on it (read = caller, write = agent)
    caller: str = ""
    called: str = ""
    agent_id: str = ""
    agent_name: str = ""
    queue: str = ""
    customer_id: str | None = None
    direction: str = "inbound"
    answered_at: datetime | None = None
    tags: tuple[str, ...] = ()


class RecordingPolicy:
    def __init__(self, config: RecordingConfig):
        self._config = config

    def should_record(self, facts: CallFacts) -> bool:
        policy = self._config.policy
        if policy.mode == "all":
            return True
        if policy.mode == "numbers":
            return _digits(facts.caller) in {_digits(n) for n in policy.numbers} or _digits(facts.called) in {
                _digits(n) for n in policy.numbers
            }
        if policy.mode == "agents":
            return facts.agent_id in policy.agents
        if policy.mode == "queues":
            return facts.queue in policy.queues
        return False

    def announcement_prompt(self) -> str | None:
        """The prompt ID the IVR plays before connecting an agent, or None."""
        ann = self._config.announcement
        return ann.prompt if ann.enabled else None

    def mixmonitor_options(self) -> str:
        """MixMonitor options: b = only while bridged; D = stereo, channel's read (caller) left, write (agent) right."""
        options = ""
        if self._config.mixmonitor.bridged_only:
            options += "b"
        if self._config.mixmonitor.stereo:
            options += "D"
        return options


def _digits(number: str) -> str:
    """Compare numbers by their digits so '+86 138-0000' matches '860138…' written differently."""
    kept = "".join(ch for ch in number or "" if ch.isdigit())
    return kept.lstrip("0") or kept
