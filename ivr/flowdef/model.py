"""What a loaded flow is: nodes with their source positions, and the error type every check reports with."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    params: Mapping[str, Any]  # the node's YAML mapping minus "type"
    line: int  # 1-based position of the node's id key
    column: int


@dataclass(frozen=True)
class Flow:
    name: str
    path: Path
    languages: tuple[str, ...]
    default_language: str
    start: str
    nodes: Mapping[str, Node]
    variables: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, order=True)
class FlowProblem:
    path: Path
    line: int
    column: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.reason}"


class FlowError(Exception):
    """One or more problems in flow files; str() gives one `path:line:column: reason` line per problem."""

    def __init__(self, errors: list[FlowProblem]):
        self.errors = sorted(errors, key=lambda p: (str(p.path), p.line, p.column, p.reason))
        super().__init__("\n".join(str(p) for p in self.errors))
