"""Drawing a flow: Mermaid (for Markdown/GitLab/GitHub), Graphviz DOT, and PNG through Graphviz's `dot`."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from .model import Flow, Node
from .schema import Edge, can_end_call, node_edges


class GraphError(Exception):
    """Drawing is not possible (Graphviz missing, `dot` failed)."""


def _label(node: Node) -> str:
    detail = node.params.get("prompt") or node.params.get("queue") or node.params.get("kind") or ""
    if node.type == "play" and not detail and node.params.get("prompts"):
        detail = ", ".join(map(str, node.params["prompts"]))
    return f"{node.id}\n{node.type}" + (f": {detail}" if detail else "")


def _all_edges(flow: Flow) -> list[Edge]:
    return [edge for node in flow.nodes.values() for edge in node_edges(node)]


def _external(edge: Edge) -> str:
    return f"{edge.flow}:{edge.target}" if edge.label != "call" else f"flow {edge.flow}"


# --- Mermaid -------------------------------------------------------------------------------------------

def to_mermaid(flow: Flow) -> str:
    ids: dict[str, str] = {}

    def mid(name: str) -> str:
        if name not in ids:
            ids[name] = f"n{len(ids)}_" + re.sub(r"[^A-Za-z0-9_]", "_", name)
        return ids[name]

    def text(value: str) -> str:
        return value.replace('"', "#quot;").replace("\n", "<br/>")

    lines = ["flowchart TD", f"  %% flow {flow.name}: start {flow.start}, languages {', '.join(flow.languages)}"]
    for node in flow.nodes.values():
        label = text(_label(node))
        if node.id == flow.start:
            lines.append(f'  {mid(node.id)}(["{label}"])')
        elif node.type == "hangup":
            lines.append(f'  {mid(node.id)}(("{label}"))')
        elif node.type in ("menu", "branch"):
            lines.append(f'  {mid(node.id)}{{"{label}"}}')
        elif can_end_call(node) and node.type != "menu":
            lines.append(f'  {mid(node.id)}[["{label}"]]')
        else:
            lines.append(f'  {mid(node.id)}["{label}"]')
    for edge in _all_edges(flow):
        if edge.flow is not None:
            target = mid(_external(edge))
            lines.append(f'  {target}>"{text(_external(edge))}"]')
        else:
            target = mid(edge.target)
        arrow = "-.->" if edge.flow is not None else "-->"
        label = f'|"{text(edge.label)}"|' if edge.label else ""
        lines.append(f"  {mid(edge.source)} {arrow}{label} {target}")
    return "\n".join(lines) + "\n"


# --- DOT ----------------------------------------------------------------------------------------------

def _dot_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(flow: Flow) -> str:
    lines = [f"digraph {_dot_quote(flow.name)} {{", "  rankdir=TB;",
             '  node [shape=box, style="rounded", fontname="Noto Sans CJK SC,sans-serif"];',
             '  edge [fontname="sans-serif", fontsize=10];']
    shapes = {"menu": "diamond", "branch": "diamond", "hangup": "octagon"}
    for node in flow.nodes.values():
        attrs = [f"label={_dot_quote(_label(node))}"]
        if node.type in shapes:
            attrs.append(f"shape={shapes[node.type]}")
        if node.id == flow.start:
            attrs.append('style="rounded,bold"')
        elif can_end_call(node):
            attrs.append('style="rounded,filled", fillcolor="#eeeeee"')
        lines.append(f"  {_dot_quote(node.id)} [{', '.join(attrs)}];")
    external = set()
    for edge in _all_edges(flow):
        attrs = [f"label={_dot_quote(edge.label)}"] if edge.label else []
        if edge.flow is not None:
            target = _external(edge)
            if target not in external:
                external.add(target)
                lines.append(f"  {_dot_quote(target)} [shape=cds];")
            attrs.append("style=dashed")
        else:
            target = edge.target
        lines.append(f"  {_dot_quote(edge.source)} -> {_dot_quote(target)}"
                     + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_png(flow: Flow, output: Path, dot_command: str = "dot") -> Path:
    """Write a PNG of the flow with Graphviz; a clear GraphError when Graphviz is not installed."""
    dot = shutil.which(dot_command)
    if dot is None:
        raise GraphError("Graphviz is not installed (no `dot` on PATH): install the Debian package graphviz "
                         "(sudo apt-get install graphviz), or use --format mermaid or --format dot")
    output = Path(output)
    try:
        result = subprocess.run([dot, "-Tpng", "-o", str(output)], input=to_dot(flow).encode("utf-8"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GraphError(f"dot failed: {exc}") from None
    if result.returncode != 0:
        raise GraphError(f"dot exited with {result.returncode}: "
                         + result.stderr.decode("utf-8", "replace").strip()[:500])
    return output
