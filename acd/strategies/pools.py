"""The containers strategies keep their ready agents in.

``LazyPool`` is the fast one: a sorted Python list of flat entries (key fields, agent id, stamp, agent) with
a head index and lazy deletion. An agent leaves every pool at once in O(1): the engine bumps its
``ready_stamp``, and an entry whose stamp is no longer the agent's is stale. A decision skips stale entries
at the head (the head only moves past stale ones) and takes the first live one; walking further (past
agents who already missed the call) reads on without changing anything. Joining is a bisect (C) plus a
memmove of the list's tail; stale entries are dropped in bulk when they outnumber the live ones.

``KeyedPool`` keeps a sorted list with eager removal: for strategies that need positional access
(random picks by index).
"""
from __future__ import annotations

from bisect import bisect_right
from typing import Callable, Collection, Iterable, Iterator

from sortedcontainers import SortedList

from acd.state import AgentRecord

_MIN_COMPACT = 64


class LazyPool:
    __slots__ = ("_key", "_list", "_head", "_limit")

    def __init__(self, key: Callable[[AgentRecord], tuple]) -> None:
        self._key = key
        self._list: list[tuple] = []            # (*key, agent id, stamp, agent), sorted: the id breaks ties
        self._head = 0                          # every entry before it is stale
        self._limit = _MIN_COMPACT

    def push(self, agent: AgentRecord) -> None:
        entry = (*self._key(agent), agent.id, agent.ready_stamp, agent)
        entries = self._list
        i = bisect_right(entries, entry)
        entries.insert(i, entry)
        if i < self._head:
            self._head = i
        if len(entries) > self._limit:
            self._compact()

    def _compact(self) -> None:
        """Drop the stale entries (keeps the list within twice the live agents)."""
        self._list = [e for e in self._list[self._head:] if e[-2] == e[-1].ready_stamp]
        self._head = 0
        self._limit = max(_MIN_COMPACT, 2 * len(self._list))

    def take(self, skip: Collection[str]) -> tuple[AgentRecord | None, AgentRecord | None]:
        """(the best ready agent, the best one whose id is not in ``skip``), either None if there is none."""
        entries, head = self._list, self._head
        n = len(entries)
        while head < n:
            entry = entries[head]
            if entry[-2] == entry[-1].ready_stamp:
                break
            head += 1
        self._head = head
        if head == n:
            return None, None
        first = entries[head][-1]
        if not skip or first.id not in skip:
            return first, first
        for i in range(head + 1, n):
            entry = entries[i]
            agent = entry[-1]
            if entry[-2] == agent.ready_stamp and agent.id not in skip:
                return first, agent
        return first, None

    def ordered(self) -> list[AgentRecord]:
        """Live agents, best first."""
        return [e[-1] for e in self._list[self._head:] if e[-2] == e[-1].ready_stamp]

    def check(self, expected: Iterable[AgentRecord]) -> None:
        entries = self._list
        assert all(entries[i] < entries[i + 1] for i in range(len(entries) - 1)), "pool out of order"
        assert all(e[-2] != e[-1].ready_stamp for e in entries[:self._head]), "a live agent behind the head"
        live = [e[-3] for e in entries if e[-2] == e[-1].ready_stamp]
        assert len(live) == len(set(live)), f"agent twice in a pool: {sorted(live)[:5]}"
        want = sorted(a.id for a in expected)
        assert sorted(live) == want, f"pool holds {sorted(live)[:5]}..., ready {want[:5]}..."
        for e in entries:
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
