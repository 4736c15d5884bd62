"""Graph checks of one flow: nodes nobody can reach, and loops a caller can never leave."""
from __future__ import annotations

from collections.abc import Mapping

from . import schema
from .source import Document, Pos
from .model import Node


def check_graph(doc: Document, nodes: Mapping[str, Node], start: str) -> None:
    """Report unreachable nodes, and every closed loop (a strongly connected set with no edge out) in which no
    node can end the call. Only meaningful once the targets are known to exist (the validator checks first)."""
    local = {n: [e.target for e in schema.node_edges(node) if e.flow is None and e.target in nodes]
             for n, node in nodes.items()}
    reachable = {start}
    todo = [start]
    while todo:
        for nxt in local[todo.pop()]:
            if nxt not in reachable:
                reachable.add(nxt)
                todo.append(nxt)
    for node in nodes.values():
        if node.id not in reachable:
            doc.problem(Pos(node.line, node.column), f"node {node.id!r} is unreachable from start node {start!r}")

    # nodes from which no node that can end the call is reachable
    incoming: dict[str, list[str]] = {n: [] for n in nodes}
    for src, targets in local.items():
        for t in targets:
            incoming[t].append(src)
    can_end = {n for n, node in nodes.items() if schema.can_end_call(node)}
    todo = list(can_end)
    while todo:
        for src in incoming[todo.pop()]:
            if src not in can_end:
                can_end.add(src)
                todo.append(src)
    trapped = [n for n in nodes if n in reachable and n not in can_end]
    for component in _strongly_connected(trapped, local):
        members = set(component)
        leaves = any(t not in members for n in component for t in local[n])
        loops = len(component) > 1 or component[0] in local[component[0]]
        if leaves or not loops:
            continue
        first = min(component, key=lambda n: (nodes[n].line, nodes[n].column))
        cycle = " → ".join(sorted(component, key=lambda n: (nodes[n].line, nodes[n].column)))
        doc.problem(Pos(nodes[first].line, nodes[first].column),
                    f"loop with no exit: {cycle} can never end the call "
                    "(no hangup, queue, transfer, voicemail or fallback reachable)")


def _strongly_connected(members: list[str], edges: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative, over the sub-graph induced by `members`."""
    inside = set(members)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in members:
        if root in index:
            continue
        work = [(root, iter([t for t in edges[root] if t in inside]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter([t for t in edges[child] if t in inside])))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                out.append(component)
    return out
