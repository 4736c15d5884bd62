"""The containers strategies keep their ready agents in.

``LazyPool`` is the fast one: a binary heap ordered by a key computed when the agent joins, with lazy
deletion; entries are flat tuples (key fields, agent id, stamp, agent) so a comparison is mostly one float. An agent leaves every pool at once in O(1): the engine bumps its ``ready_stamp`` and an entry
whose stamp is no longer the agent's is dropped when it reaches the top. A decision looks at the top
(O(log n) amortized); walking further (past agents who already missed the call) pops and pushes back.

``KeyedPool`` keeps a sorted list with eager removal: for strategies that need positional access
(random picks by index).
"""
from __future__ import annotations

from heapq import heapify, heappop, heappush
from typing import Callable, Collection, Iterable, Iterator

from sortedcontainers import SortedList

from acd.state import AgentRecord

_MIN_COMPACT = 64


class LazyPool:
    __slots__ = ("_key", "_heap", "_limit")

    def __init__(self, key: Callable[[AgentRecord], tuple]) -> None:
        self._key = key
        self._heap: list[tuple] = []            # (*key, agent id, stamp, agent): the id breaks ties
        self._limit = _MIN_COMPACT

    def push(self, agent: AgentRecord) -> None:
        heap = self._heap
        heappush(heap, (*self._key(agent), agent.id, agent.ready_stamp, agent))
        if len(heap) > self._limit:
            self._compact()

    def _compact(self) -> None:
        """Drop stale entries buried under live ones (keeps the heap within twice the live agents)."""
        live = [e for e in self._heap if e[-2] == e[-1].ready_stamp]
        heapify(live)
        self._heap = live
        self._limit = max(_MIN_COMPACT, 2 * len(live))

    def take(self, skip: Collection[str]) -> tuple[AgentRecord | None, AgentRecord | None]:
        """(the best ready agent, the best one whose id is not in ``skip``), either None if there is none."""
        heap = self._heap
        while heap:
            top = heap[0]
            agent = top[-1]
            if top[-2] != agent.ready_stamp:
                heappop(heap)
                continue
            if not skip or agent.id not in skip:
                return agent, agent
            break
        else:
            return None, None
        first, found, popped = heap[0][-1], None, []
        while heap:
            entry = heappop(heap)
            agent = entry[-1]
            if entry[-2] != agent.ready_stamp:
                continue
            popped.append(entry)
            if agent.id not in skip:
                found = agent
                break
        for entry in popped:
            heappush(heap, entry)
        return first, found

    def ordered(self) -> list[AgentRecord]:
        """Live agents, best first (O(n log n): for checks and debugging, not decisions)."""
        return [e[-1] for e in sorted(e for e in self._heap if e[-2] == e[-1].ready_stamp)]

    def check(self, expected: Iterable[AgentRecord]) -> None:
        heap = self._heap
        for i in range(1, len(heap)):
            assert not heap[i] < heap[(i - 1) // 2], "pool heap out of order"
        live = [e[-3] for e in heap if e[-2] == e[-1].ready_stamp]
        assert len(live) == len(set(live)), f"agent twice in a pool: {sorted(live)[:5]}"
        want = sorted(a.id for a in expected)
        assert sorted(live) == want, f"pool holds {sorted(live)[:5]}..., ready {want[:5]}..."
        for e in heap:
            if e[-2] == e[-1].ready_stamp:
                assert e[:-3] == tuple(self._key(e[-1])), f"pool key of {e[-3]} changed while ready"


class KeyedPool:
    """Agents sorted by a key computed when they join; removal by id in O(log n)."""

    def __init__(self, key: Callable[[AgentRecord], tuple]) -> None:
        self._key = key
        self._list: SortedList = SortedList()
        self._entries: dict[str, tuple] = {}
        self._agents: dict[str, AgentRecord] = {}

    def add(self, agent: AgentRecord) -> None:
        if agent.id in self._entries:
            return
        entry = (*self._key(agent), agent.id)
        self._entries[agent.id] = entry
        self._agents[agent.id] = agent
        self._list.add(entry)

    def discard(self, agent: AgentRecord) -> None:
        entry = self._entries.pop(agent.id, None)
        if entry is not None:
            self._list.remove(entry)
            del self._agents[agent.id]

    def __iter__(self) -> Iterator[AgentRecord]:
        agents = self._agents
        for entry in self._list:
            yield agents[entry[-1]]

    def __len__(self) -> int:
        return len(self._list)

    def __contains__(self, agent: AgentRecord) -> bool:
        return agent.id in self._entries

    def at(self, index: int) -> AgentRecord:
        return self._agents[self._list[index][-1]]

    def agents(self) -> Iterator[AgentRecord]:
        return iter(list(self._agents.values()))
