"""Typed failures of a FastAGI session, so a flow can tell a caller hang-up from a bug."""
from __future__ import annotations


class AgiError(Exception):
    """Base of every FastAGI failure."""


class AgiHangup(AgiError):
    """The caller hung up (HANGUP line, 511 on a channel command, or -1 on a dead channel)."""


class AgiConnectionLost(AgiHangup):
    """The FastAGI socket closed or broke mid-session: treated like a hang-up, the call is gone for us."""


class AgiTimeout(AgiConnectionLost):
    """The PBX did not answer a command (or finish the header) in time: the session is dropped."""


class AgiHeaderError(AgiError):
    """The agi_ header block was cut short (EOF before the empty line) or malformed."""


class AgiProtocolError(AgiError):
    """A line that is not a valid FastAGI reply."""


class AgiCommandError(AgiError):
    """Asterisk rejected a command; ``code`` is 510 (unknown) or 520 (usage, see ``usage``)."""

    def __init__(self, code: int, command: str, message: str, usage: str = "") -> None:
        self.code = code
        self.command = command
        self.usage = usage
        detail = f": {usage}" if usage else ""
        super().__init__(f"{code} for {command!r}: {message}{detail}")


class AgiUnknownCommand(AgiCommandError):
    """510 Invalid or unknown command."""


class AgiUsageError(AgiCommandError):
    """520 Invalid command syntax (the usage block is in ``usage``)."""
