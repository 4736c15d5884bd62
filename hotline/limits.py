"""Limits every entry point applies before parsing: JSON nesting depth, bounded log text."""
from __future__ import annotations

import re

__all__ = ["json_depth_exceeds"]


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def json_depth_exceeds(raw: bytes | str, max_depth: int) -> bool:
    """True when brackets outside JSON strings nest deeper than ``max_depth`` (linear, never recurses)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else raw
    depth = 0
    for match in _TOKENS.finditer(text):
        ch = match.group()[0]
        if ch in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif ch in "]}":
            depth -= 1
    return False
