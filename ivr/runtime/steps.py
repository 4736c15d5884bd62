"""What a node executor returns: the next node id (``"node"`` or ``"flow:node"``), or one of these."""
from __future__ import annotations

from dataclasses import dataclass


class _End:
    """The call is over for the IVR (hung up by a hangup node, or the flow ran out of nodes)."""

    def __repr__(self) -> str:
        return "END"


class _Leave:
    """The call left the IVR on purpose and continues in the dialplan (transfer via context/extension)."""

    def __repr__(self) -> str:
        return "LEAVE"


class _HangupNow:
    """Hang the caller up now (a menu/collect without fallback whose counter ran out)."""

    def __repr__(self) -> str:
        return "HANGUP"


END = _End()
HANGUP = _HangupNow()
LEAVE = _Leave()


@dataclass(frozen=True)
class EnterSubflow:
    flow: str
    return_to: str | None
