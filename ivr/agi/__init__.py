"""FastAGI: wire protocol (protocol.py), per-call command API (channel.py), asyncio server (server.py)."""
from .channel import AgiChannel, AgiHandler, AgiRequest
from .errors import (
    AgiCommandError,
    AgiConnectionLost,
    AgiError,
    AgiHangup,
    AgiHeaderError,
    AgiProtocolError,
    AgiTimeout,
    AgiUnknownCommand,
    AgiUsageError,
)
from .protocol import HANGUP, AgiReader, AgiReply, parse_status_line
from .limits import AgiLimits
from .server import FastAgiServer

__all__ = [
    "AgiChannel", "AgiHandler", "AgiRequest", "AgiCommandError", "AgiConnectionLost", "AgiError", "AgiHangup",
    "AgiHeaderError", "AgiProtocolError", "AgiTimeout", "AgiLimits", "AgiUnknownCommand", "AgiUsageError", "HANGUP", "AgiReader",
    "AgiReply", "parse_status_line", "FastAgiServer",
]
