"""What the web pages consume from the CTI and the ACD, as Protocols owned by this package.

The composition root hands `web.http.router` objects that satisfy these (cti.core.Cti's parts and
acd.service.AcdService today); nothing here imports cti/ or acd/ code.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Principal(Protocol):
    """Who is asking (cti.auth.Principal)."""

    @property
    def agent_id(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def reads_all(self) -> bool: ...

    @property
    def supervises(self) -> bool: ...


class Authenticator(Protocol):
    """Turns a login token or an Authorization header into a Principal, raising on bad credentials
    (cti.auth.Authenticator; its errors carry an HTTP ``status`` and a message)."""

    def verify_token(self, token: str) -> Principal: ...

    async def from_authorization(self, header: str | None) -> Principal: ...


class AgentLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def endpoint(self) -> str: ...

    @property
    def team(self) -> str: ...

    @property
    def linkedid(self) -> str | None: ...


class AgentRoster(Protocol):
    """The agents and their live states (cti.agents.AgentService)."""

    @property
    def agents(self) -> Mapping[str, AgentLike]: ...

    def views(self) -> list[dict[str, Any]]: ...


class CallViews(Protocol):
    """The live calls and phones (cti.model.LiveModel)."""

    @property
    def devices(self) -> Mapping[str, str]: ...   # "PJSIP/1001" -> NOT_INUSE | INUSE | RINGING | UNAVAILABLE ...

    def calls_view(self) -> list[dict[str, Any]]: ...


class AnnouncementBox(Protocol):
    """Unread supervisor announcements (cti.supervisor.Announcements)."""

    async def unread(self, agent_id: str) -> list[dict[str, Any]]: ...


class QueueFigures(Protocol):
    """The ACD's queue figures, the one source of GET /api/queues/{name}/stats (acd.service.AcdService)."""

    def queue_names(self) -> list[str]: ...

    def queue_stats(self, name: str) -> dict[str, Any]: ...

    def overview(self) -> list[dict[str, Any]]: ...


class LocalFeed(Protocol):
    """The service's event bus, fanned out in process (hotline.bus.EventBus.add_local_listener)."""

    def add_local_listener(self, listener: Any) -> Any: ...
