"""Bounded decoding of incoming MQTT payloads: size and nesting depth are checked before json.loads
(a payload of a thousand ``[`` would otherwise raise RecursionError deep inside the JSON parser)."""
from __future__ import annotations

import json
import math
from typing import Any

from hotline.limits import json_depth_exceeds

MAX_PAYLOAD_BYTES = 64 * 1024       # an agent command is a few hundred bytes
MAX_DEPTH = 16                      # {"args": {"audience": {...}}} is depth 3


class PayloadError(ValueError):
    """The payload is refused; the message says why in a few words."""


def decode_json(raw: bytes | str, *, max_bytes: int = MAX_PAYLOAD_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON after checking its size and depth; PayloadError (a ValueError) names the limit broken."""
    if len(raw) > max_bytes:
        raise PayloadError(f"payload of {len(raw)} bytes is over the {max_bytes}-byte limit")
    if json_depth_exceeds(raw, max_depth):
        raise PayloadError(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(raw, parse_constant=_non_finite, parse_float=_finite_float)
    except PayloadError:
        raise
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"not JSON: {str(exc)[:120]}") from None


def _non_finite(name: str) -> Any:
    raise PayloadError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise PayloadError(f"number {text[:40]} is out of range")
    return value


def decode_object(raw: bytes | str, **limits: int) -> dict[str, Any]:
    value = decode_json(raw, **limits)
    if not isinstance(value, dict):
        raise PayloadError(f"not a JSON object (got {type(value).__name__})")
    return value
