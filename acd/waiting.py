"""One queue's waiting callers (callback entries included), in the order they are served.

The order is priority (highest first), then arrival: one integer key per call, ``wait_key`` =
-priority · 2⁴⁸ + seq, kept in a sorted list (positions for the announcements in O(log n)). For an agent
becoming ready the calls are also indexed by the queue strategy's *class* (e.g. the skill a call needs):
one min-heap of keys per class with lazy deletion (a key whose call no longer waits here is dropped when it
reaches the top), so the agent looks at the head of each class it may take, not at every caller.
"""
from __future__ import annotations

from heapq import heapify, heappop, heappush
from typing import Hashable, Iterator

from sortedcontainers import SortedList

from acd.state import AgentRecord, CallRecord
from acd.strategies import Strategy

SEQ_SPAN = 1 << 48
_MIN_COMPACT = 64


def wait_key(priority: int, seq: int) -> int:
    return -priority * SEQ_SPAN + seq


class _ClassHeap:
    __slots__ = ("heap", "present")

    def __init__(self) -> None:
        self.heap: list[int] = []
        self.present: set[int] = set()


class WaitingCalls:
    def __init__(self, strategy: Strategy) -> None:
        self.strategy = strategy
        self.order = SortedList()
        self.by_key: dict[int, CallRecord] = {}
        kind = type(strategy)
        self.indexed = kind.call_class is not Strategy.call_class          # one heap per call class
        self.filtering = not self.indexed and kind.accepts is not Strategy.accepts   # walk and ask accepts
        self.classes: dict[Hashable, _ClassHeap] = {}

    # ---------------------------------------------------------------- membership
    def add(self, call: CallRecord) -> None:
        key = call.wait_key
        self.order.add(key)
        self.by_key[key] = call
        if self.indexed:
            ch = self.classes.get(call.route_class)
            if ch is None:
                ch = self.classes[call.route_class] = _ClassHeap()
            if key not in ch.present:
                ch.present.add(key)
                heappush(ch.heap, key)
                if len(ch.heap) > _MIN_COMPACT and len(ch.heap) > 2 * len(self.by_key):
                    self._compact(ch)

    def _compact(self, ch: _ClassHeap) -> None:
        by_key = self.by_key
        ch.heap = [k for k in ch.heap if k in by_key]
        heapify(ch.heap)
        ch.present = set(ch.heap)

    def remove(self, call: CallRecord) -> None:
        self.order.remove(call.wait_key)
        del self.by_key[call.wait_key]

    def position(self, call: CallRecord) -> int:
        """1-based place of a waiting call."""
        return self.order.bisect_left(call.wait_key) + 1

    def __iter__(self) -> Iterator[CallRecord]:
        by_key = self.by_key
        return (by_key[k] for k in self.order)

    def __len__(self) -> int:
        return len(self.by_key)

    def __contains__(self, call: CallRecord) -> bool:
        return self.by_key.get(call.wait_key) is call

    # ---------------------------------------------------------------- the agent's choice
    def best_for(self, agent: AgentRecord, best: CallRecord | None, fallback: CallRecord | None
                 ) -> tuple[CallRecord | None, CallRecord | None]:
        """Fold this queue into an agent's choice: ``best`` is the best waiting call the agent may take and
        has not missed yet, ``fallback`` the best it may take at all (over the queues looked at so far)."""
        if not self.by_key:
            return best, fallback
        if self.indexed:
            strategy = self.strategy
            classes = strategy.classes_for(agent)
            if classes is None:
                classes = [c for c in self.classes if strategy.accepts_class(agent, c)]
            for cls in classes:
                ch = self.classes.get(cls)
                if ch is not None:
                    best, fallback = self._best_in_heap(ch, agent.id, best, fallback)
            return best, fallback
        return self._best_in_order(agent, best, fallback)

    def _best_in_heap(self, ch: _ClassHeap, agent_id: str, best, fallback):
        heap, by_key = ch.heap, self.by_key
        while heap and heap[0] not in by_key:
            ch.present.discard(heappop(heap))
        if not heap:
            return best, fallback
        head = by_key[heap[0]]
        if fallback is None or head.wait_key < fallback.wait_key:
            fallback = head
        if best is not None and head.wait_key > best.wait_key:
            return best, fallback
        if agent_id not in head.tried:
            return head, fallback
        popped = []                                   # walk on past the calls this agent missed
        found = None
        while heap:
            key = heappop(heap)
            call = by_key.get(key)
            if call is None:
                ch.present.discard(key)
                continue
            popped.append(key)
            if best is not None and key > best.wait_key:
                break
            if agent_id not in call.tried:
                found = call
                break
        for key in popped:
            heappush(heap, key)
        return (found or best), fallback

    def _best_in_order(self, agent: AgentRecord, best, fallback):
        by_key, agent_id = self.by_key, agent.id
        accepts = self.strategy.accepts if self.filtering else None
        for key in self.order:
            if best is not None and key > best.wait_key and (fallback is None or key > fallback.wait_key):
                break
            call = by_key[key]
            if accepts is not None and not accepts(agent, call):
                continue
            if fallback is None or key < fallback.wait_key:
                fallback = call
            if best is not None and key > best.wait_key:
                break
            if agent_id not in call.tried:
                return call, fallback
        return best, fallback

    # ---------------------------------------------------------------- checks
    def check(self, queue: str) -> None:
        keys = list(self.order)
        assert keys == sorted(self.by_key), f"{queue}: waiting order and calls disagree"
        for key, call in self.by_key.items():
            assert call.wait_key == key, f"{queue}: call {call.id} filed under a wrong key"
            if self.indexed:
                ch = self.classes.get(call.route_class)
                assert ch is not None and key in ch.present, f"{queue}: call {call.id} missing from its class"
                assert call.route_class == self.strategy.call_class(call), f"{queue}: call {call.id} class changed"
        for cls, ch in self.classes.items():
            assert ch.present == set(ch.heap) and len(ch.present) == len(ch.heap), f"{queue}: class {cls!r} index"
            for i in range(1, len(ch.heap)):
                assert ch.heap[i] >= ch.heap[(i - 1) // 2], f"{queue}: class {cls!r} heap out of order"
