"""Log records made safe before any handler writes them: bounded in length (a 10 MiB agent ID in a log
argument becomes a few hundred characters) and with secrets masked (PINs, tokens, passwords, the password
in an mqtt://user:password@host URL), whoever logged them, at any level."""
from __future__ import annotations

import logging
import re

MAX_MESSAGE_CHARS = 2000
MAX_TRACEBACK_CHARS = 8000

_SECRET = re.compile(
    r"""(?ix)
    (\b(?:pin|pin_hash|token|password|passwd|secret|authorization)\b\\?["']?\s*[:=]\s*\\?["']?(?:bearer\s+|basic\s+)?)
    ([^\s"'\\,;&}\]]+)""")
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)([^@/\s]+)(@)", re.I)


def redact(text: str) -> str:
    text = _URL_PASSWORD.sub(r"\1***\3", text)
    return _SECRET.sub(r"\1***", text)


def bound(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


class SafeLogFilter(logging.Filter):
    """A handler filter: formats the message once, bounds and masks it (and the traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception as exc:                       # a broken format string still gives one line
            message = f"{record.msg!r} (unformattable: {exc})"
        record.msg, record.args = bound(redact(bound(message, 4 * MAX_MESSAGE_CHARS)), MAX_MESSAGE_CHARS), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = bound(redact(record.exc_text), MAX_TRACEBACK_CHARS)
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Put the filter on every handler of ``logger`` (default: the root logger), once."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, SafeLogFilter) for f in handler.filters):
            handler.addFilter(SafeLogFilter())
