"""Everything the CTI tells desktops and wallboards, over MQTT (JSON objects with "v": 1).

Topics (under the configured prefix, "hotline" by default):
  agents/{id}/state            retained - the agent's state (see cti.agents.Agent.view)
  agents/{id}/screenpop        the screen pop when the agent's phone rings
  agents/{id}/announcements    supervisor announcements until read
  agents/{id}/cmd/reply        replies to commands sent on agents/{id}/cmd (carry the request's id)
  calls/{linkedid}             the call's live view on every change, and once more when it ends
(``queues/{name}/stats`` is the ACD's: acd.publisher.)
"""
from __future__ import annotations

from typing import Any, Protocol

PAYLOAD_VERSION = 1


class Publisher(Protocol):
    def publish(self, topic_suffix: str, payload: dict[str, Any], retain: bool = False) -> Any: ...


class Notifier:
    def __init__(self, publisher: Publisher | None):
        self.publisher = publisher

    def _publish(self, suffix: str, payload: dict[str, Any], retain: bool = False) -> None:
        if self.publisher is None:
            return
        self.publisher.publish(suffix, {"v": PAYLOAD_VERSION, **payload}, retain=retain)

    def agent_state(self, view: dict[str, Any]) -> None:
        self._publish(f"agents/{view['agent_id']}/state", view, retain=True)

    def screenpop(self, agent_id: str, payload: dict[str, Any]) -> None:
        self._publish(f"agents/{agent_id}/screenpop", payload)

    def announcement(self, agent_id: str, payload: dict[str, Any]) -> None:
        self._publish(f"agents/{agent_id}/announcements", payload)

    def command_reply(self, agent_id: str, payload: dict[str, Any]) -> None:
        self._publish(f"agents/{agent_id}/cmd/reply", payload)

    def call(self, linkedid: str, view: dict[str, Any]) -> None:
        self._publish(f"calls/{linkedid}", view)
