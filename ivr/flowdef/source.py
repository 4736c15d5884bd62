"""Flow source files: which files of a directory are flows, and YAML reading that keeps where every key and
value came from and catches duplicate keys.

PyYAML's composer keeps marks on nodes; the constructor below turns mappings and sequences into
``MarkedDict``/``MarkedList`` that remember the 1-based line/column of each key and value, so every check
downstream can point at the offending spot. Plain ``yaml.safe_load`` would silently keep the last of two
equal keys, which hides a menu digit used twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .model import FlowProblem


@dataclass(frozen=True)
class Pos:
    line: int  # 1-based
    column: int  # 1-based
    quoted: bool = False  # a single-line quoted scalar: its text starts one column to the right
    plain_line: bool = True  # the scalar's text sits on this line as written (not a block/folded scalar)

    def shifted(self, offset: int) -> "Pos":
        """The position `offset` characters into the scalar's text (exact for single-line scalars)."""
        if not self.plain_line:
            return self
        return Pos(self.line, self.column + offset + (1 if self.quoted else 0), self.quoted, self.plain_line)


def _pos(node: yaml.Node) -> Pos:
    mark = node.start_mark
    quoted = isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')
    single_line = node.start_mark.line == node.end_mark.line and (
        not isinstance(node, yaml.ScalarNode) or node.style in (None, "", "'", '"'))
    return Pos(mark.line + 1, mark.column + 1, quoted, single_line)


class MarkedDict(dict):
    """A YAML mapping that knows where it, its keys and its values are in the file."""

    start: Pos
    key_pos: dict
    value_pos: dict
    duplicates: list  # (key, Pos of the repeated key, Pos of the first one)

    def where(self, key: Any) -> Pos:
        return self.key_pos.get(key, self.start)

    def where_value(self, key: Any) -> Pos:
        return self.value_pos.get(key, self.where(key))


class MarkedList(list):
    start: Pos
    item_pos: list

    def where(self, index: int) -> Pos:
        return self.item_pos[index] if 0 <= index < len(self.item_pos) else self.start


class _MarkedLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _MarkedLoader, node: yaml.MappingNode) -> MarkedDict:
    loader.flatten_mapping(node)
    result = MarkedDict()
    result.start, result.key_pos, result.value_pos, result.duplicates = _pos(node), {}, {}, []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found an unhashable key", key_node.start_mark)
        if key in result:
            result.duplicates.append((key, _pos(key_node), result.key_pos[key]))
            continue
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_pos[key] = _pos(key_node)
        result.value_pos[key] = _pos(value_node)
    return result


def _construct_sequence(loader: _MarkedLoader, node: yaml.SequenceNode) -> MarkedList:
    result = MarkedList(loader.construct_object(child, deep=True) for child in node.value)
    result.start = _pos(node)
    result.item_pos = [_pos(child) for child in node.value]
    return result


_MarkedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_MarkedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


@dataclass
class Document:
    path: Path
    data: Any = None
    problems: list[FlowProblem] = field(default_factory=list)

    def problem(self, where: Pos, reason: str) -> None:
        self.problems.append(FlowProblem(self.path, where.line, where.column, reason))


def read_yaml(path: Path, report_duplicates: bool = True) -> Document:
    """Parse one YAML file; syntax errors and duplicate keys become problems, never exceptions.
    `report_duplicates=False`: the caller reports them itself (the flow validator words menu digits its own way)."""
    path = Path(path)
    doc = Document(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        doc.problem(Pos(1, 1), "no such file")
        return doc
    except (OSError, UnicodeDecodeError) as exc:
        doc.problem(Pos(1, 1), f"cannot read file: {exc}")
        return doc
    try:
        doc.data = yaml.load(text, Loader=_MarkedLoader)  # noqa: S506 - _MarkedLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        doc.problem(Pos(mark.line + 1, mark.column + 1) if mark else Pos(1, 1), f"YAML syntax error: {reason}")
        return doc
    except yaml.YAMLError as exc:
        doc.problem(Pos(1, 1), f"YAML error: {exc}")
        return doc
    for mapping in _walk_mappings(doc.data) if report_duplicates else ():
        for key, where, first in mapping.duplicates:
            doc.problem(where, f"duplicate key {key!r} (first defined at line {first.line})")
    return doc


def _walk_mappings(value: Any):
    if isinstance(value, MarkedDict):
        yield value
        for child in value.values():
            yield from _walk_mappings(child)
    elif isinstance(value, MarkedList):
        for child in value:
            yield from _walk_mappings(child)


NON_FLOW_FILES = {"calendars.yaml", "calendars.yml"}


def flow_files(directory: Path) -> list[Path]:
    directory = Path(directory)
    return sorted(p for p in list(directory.glob("*.yaml")) + list(directory.glob("*.yml"))
                  if p.name not in NON_FLOW_FILES)
