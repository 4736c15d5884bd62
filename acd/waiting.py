"""One queue's waiting callers (callback entries included), in the order they are served.

The order is priority (highest first), then arrival: one integer key per call, ``wait_key`` =
-priority · 2⁴⁸ + seq, kept in a sorted Python list (bisect: a position is O(log n); filing and leaving move
the list's tail with one memmove, microseconds even for 10,000 callers in one queue). For an agent
becoming ready the calls are also indexed by the queue strategy's *class* (e.g. the skill a call needs; one
class when the strategy accepts every call): one min-heap of keys per class with lazy deletion (a key whose
call no longer waits here is dropped when it reaches the top), so the agent looks at the head of each class
it may take (``ClassHeap.head``), not at every caller. A strategy that filters calls without classes is
walked in order (``best_in_order``).
"""
from __future__ import annotations

from bisect import bisect_left, insort
from heapq import heapify, heappop, heappush
from typing import Callable, Hashable, Iterator

from acd.state import AgentRecord, CallRecord
from acd.strategies import Strategy

SEQ_SPAN = 1 << 48
_MIN_COMPACT = 64


def wait_key(priority: int, seq: int) -> int:
    return -priority * SEQ_SPAN + seq


class ClassHeap:
    __slots__ = ("heap", "present", "by_key")

    def __init__(self, by_key: dict[int, CallRecord]) -> None:
        self.heap: list[int] = []
        self.present: set[int] = set()             # keys in the heap (live or stale): no key is pushed twice
        self.by_key = by_key                       # the queue's waiting calls: a key not in it is stale

    def head(self) -> int | None:
        heap, by_key = self.heap, self.by_key
        while heap and heap[0] not in by_key:
            self.present.discard(heappop(heap))
        return heap[0] if heap else None

    def first_untried(self, agent_id: str, bound: int | None) -> CallRecord | None:
        """The first call this agent has not missed, with a key below ``bound`` (walks past the missed ones)."""
        heap, by_key = self.heap, self.by_key
        popped, found = [], None
        while heap:
            key = heappop(heap)
            call = by_key.get(key)
            if call is None:
                self.present.discard(key)
                continue
            popped.append(key)
            if bound is not None and key > bound:
                break
            if agent_id not in call.tried:
                found = call
                break
        for key in popped:
            heappush(heap, key)
        return found


class WaitingCalls:
    def __init__(self, strategy: Strategy) -> None:
        self.strategy = strategy
        self.order: list[int] = []
        self.by_key: dict[int, CallRecord] = {}
        kind = type(strategy)
        self.indexed = kind.call_class is not Strategy.call_class          # one heap per call class
        self.filtering = not self.indexed and kind.accepts is not Strategy.accepts   # walk and ask accepts
        self.classes: dict[Hashable, ClassHeap] = {}
        self.new_class: Callable[[Hashable, ClassHeap], None] = lambda cls, heap: None  # a class heap appeared

    # ---------------------------------------------------------------- membership
    def add(self, call: CallRecord) -> None:
        key = call.wait_key
        insort(self.order, key)
        self.by_key[key] = call
        if not self.filtering:
            ch = self.classes.get(call.route_class)
            if ch is None:
                ch = self.classes[call.route_class] = ClassHeap(self.by_key)
                self.new_class(call.route_class, ch)
            if key not in ch.present:
                ch.present.add(key)
                heappush(ch.heap, key)
                if len(ch.heap) > _MIN_COMPACT and len(ch.heap) > 2 * len(self.by_key):
                    self._compact(ch)

    def _compact(self, ch: ClassHeap) -> None:
        by_key = self.by_key
        ch.heap = [k for k in ch.heap if k in by_key]
        heapify(ch.heap)
        ch.present = set(ch.heap)

    def remove(self, call: CallRecord) -> None:
        key = call.wait_key
        order = self.order
        i = bisect_left(order, key)
        if i == len(order) or order[i] != key:
            raise ValueError(f"call {call.id} is not waiting here")
        del order[i]
        del self.by_key[key]

    def position(self, call: CallRecord) -> int:
        """1-based place of a call (filed or about to be: callers ahead + 1)."""
        return bisect_left(self.order, call.wait_key) + 1 if self.order else 1

    def __iter__(self) -> Iterator[CallRecord]:
        by_key = self.by_key
        return (by_key[k] for k in self.order)

    def __len__(self) -> int:
        return len(self.by_key)

    def __contains__(self, call: CallRecord) -> bool:
        return self.by_key.get(call.wait_key) is call

    # ---------------------------------------------------------------- the agent's choice
    def heaps_for(self, agent: AgentRecord) -> list[ClassHeap]:
        """The class heaps holding calls this agent may take (present ones; a filtering queue has none)."""
        if self.filtering:
            return []
        strategy = self.strategy
        if not self.indexed:
            return list(self.classes.values())
        classes = strategy.classes_for(agent)
        if classes is None:
            return [ch for c, ch in self.classes.items() if strategy.accepts_class(agent, c)]
        return [self.classes[c] for c in classes if c in self.classes]

    def best_in_order(self, agent: AgentRecord, best: CallRecord | None, fallback: CallRecord | None
                      ) -> tuple[CallRecord | None, CallRecord | None]:
        """A filtering queue folded into the agent's choice: ``best`` is the best waiting call the agent may
        take and has not missed, ``fallback`` the best it may take at all (over the queues seen so far)."""
        by_key, agent_id, accepts = self.by_key, agent.id, self.strategy.accepts
        for key in self.order:
            if best is not None and key > best.wait_key:
                break
            call = by_key[key]
            if not accepts(agent, call):
                continue
            if fallback is None or key < fallback.wait_key:
                fallback = call
            if agent_id not in call.tried:
                return call, fallback
        return best, fallback

    # ---------------------------------------------------------------- checks
    def check(self, queue: str) -> None:
        assert self.order == sorted(self.by_key), f"{queue}: waiting order and calls disagree"
        for key, call in self.by_key.items():
            assert call.wait_key == key, f"{queue}: call {call.id} filed under a wrong key"
            if not self.filtering:
                ch = self.classes.get(call.route_class)
                assert ch is not None and key in ch.present, f"{queue}: call {call.id} missing from its class"
                want = self.strategy.call_class(call) if self.indexed else None
                assert call.route_class == want, f"{queue}: call {call.id} class changed"
        for cls, ch in self.classes.items():
            assert ch.present == set(ch.heap) and len(ch.present) == len(ch.heap), f"{queue}: class {cls!r} index"
            for i in range(1, len(ch.heap)):
                assert ch.heap[i] >= ch.heap[(i - 1) // 2], f"{queue}: class {cls!r} heap out of order"
