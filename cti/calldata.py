"""Call-attached data (随路数据): key/value data that follows a call from the IVR to the queue, the agent and
any transfer target. Keyed by the call's Linkedid; a consult or transfer leg with another Linkedid is
linked to the original call so both see the same data. At most 1 MiB (JSON, UTF-8) per call: a write
that would exceed it is refused whole with a clear error - nothing is truncated.
"""
from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import Any, Callable, Mapping

from cti.agents import CtiError

MAX_CALL_DATA_BYTES = 1 << 20
RESERVED_KEYS = ("ivr_path",)


class CallDataTooLarge(CtiError):
    status = 413

    def __init__(self, linkedid: str, size: int, limit: int):
        self.size, self.limit = size, limit
        super().__init__(f"call data of call {linkedid} would be {size} bytes, over the limit of {limit} bytes "
                         f"(1 MiB); the write was refused and nothing was changed")


class CallDataInvalid(CtiError):
    pass


def encoded_size(data: Mapping[str, Any]) -> int:
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


class CallDataStore:
    def __init__(self, limit: int = MAX_CALL_DATA_BYTES, *, ended_kept: int = 2000,
                 clock: Callable[[], float] = time.time):
        self.limit = limit
        self.clock = clock
        self._data: dict[str, dict[str, Any]] = {}
        self._aliases: dict[str, str] = {}
        self._ended: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._ended_kept = ended_kept
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []

    def resolve(self, linkedid: str) -> str:
        seen = set()
        while linkedid in self._aliases and linkedid not in seen:
            seen.add(linkedid)
            linkedid = self._aliases[linkedid]
        return linkedid

    def get(self, linkedid: str) -> dict[str, Any]:
        key = self.resolve(linkedid)
        data = self._data.get(key)
        if data is None:
            data = self._ended.get(key, {})
        return json.loads(json.dumps(data, ensure_ascii=False))

    def size(self, linkedid: str) -> int:
        return encoded_size(self._data.get(self.resolve(linkedid), {}))

    def update(self, linkedid: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``values`` into the call's data (a value of None deletes the key)."""
        if not isinstance(values, Mapping):
            raise CallDataInvalid(f"call data must be a JSON object of key/value pairs, got {type(values).__name__}")
        for key in values:
            if not isinstance(key, str) or not key:
                raise CallDataInvalid(f"call data keys are non-empty strings, got {key!r}")
        try:
            json.dumps(dict(values), ensure_ascii=False, allow_nan=False)   # NaN/Infinity: not JSON
        except (TypeError, ValueError) as exc:
            raise CallDataInvalid(f"call data for call {linkedid} is not JSON-serialisable: {exc}") from None
        key = self.resolve(linkedid)
        current = self._data.get(key, {})
        merged = dict(current)
        for k, v in values.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = json.loads(json.dumps(v, ensure_ascii=False))
        size = encoded_size(merged)
        if size > self.limit:
            raise CallDataTooLarge(key, size, self.limit)
        self._data[key] = merged
        for listener in self.listeners:
            listener(key, merged)
        return merged

    def set(self, linkedid: str, key: str, value: Any) -> dict[str, Any]:
        return self.update(linkedid, {key: value})

    def append_ivr_step(self, linkedid: str, step: str) -> dict[str, Any]:
        path = list(self.get(linkedid).get("ivr_path", []))
        path.append(step)
        return self.update(linkedid, {"ivr_path": path})

    def link(self, other_linkedid: str, call_linkedid: str) -> None:
        """A consult/transfer leg (``other_linkedid``) now carries the data of ``call_linkedid``."""
        target = self.resolve(call_linkedid)
        if other_linkedid == target:
            return
        existing = self._data.pop(other_linkedid, None)
        self._aliases[other_linkedid] = target
        if existing:
            self.update(target, {k: v for k, v in existing.items() if k not in self._data.get(target, {})})

    def end(self, linkedid: str) -> dict[str, Any]:
        """The call is over: keep its data read-only for the wrap-up and the records."""
        key = self.resolve(linkedid)
        data = self._data.pop(key, None)
        if data is None:
            return self._ended.get(key, {})
        self._ended[key] = data
        while len(self._ended) > self._ended_kept:
            self._ended.popitem(last=False)
        for alias in [a for a, t in self._aliases.items() if t == key]:
            del self._aliases[alias]
            self._ended.setdefault(alias, data)
        return data

    def live_calls(self) -> list[str]:
        return list(self._data)
