"""YAML reading with 1-based positions and duplicate-key detection."""
from __future__ import annotations

from ivr.flowdef.source import MarkedDict, MarkedList, Pos, read_yaml

TEXT = """\
flow: demo
nodes:
  a: {type: play, prompt: "welcome", next: b}
  b:
    type: hangup
    type: play
list:
  - one
  - 'two'
"""


def at(pos: Pos) -> tuple[int, int]:
    return pos.line, pos.column


def test_positions_of_keys_values_and_items(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(TEXT, encoding="utf-8")
    doc = read_yaml(path)
    data = doc.data
    assert isinstance(data, MarkedDict) and at(data.start) == (1, 1)
    assert at(data.where("nodes")) == (2, 1)
    a = data["nodes"]["a"]
    assert at(data["nodes"].where("a")) == (3, 3)
    assert at(a.where("prompt")) == (3, 19)
    assert a.where_value("prompt") == Pos(3, 27, quoted=True)
    assert a.where_value("prompt").shifted(2) == Pos(3, 30, quoted=True)  # inside the quotes
    items = data["list"]
    assert isinstance(items, MarkedList) and items == ["one", "two"]
    assert items.where(1) == Pos(9, 5, quoted=True)


def test_duplicate_keys_keep_the_first_and_are_reported(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(TEXT, encoding="utf-8")
    doc = read_yaml(path)
    assert doc.data["nodes"]["b"]["type"] == "hangup"
    assert [str(p) for p in doc.problems] == [f"{path}:6:5: duplicate key 'type' (first defined at line 5)"]
    assert read_yaml(path, report_duplicates=False).problems == []


def test_unreadable_and_binary_files(tmp_path):
    assert [p.reason for p in read_yaml(tmp_path / "absent.yaml").problems] == ["no such file"]
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00bad")
    problem = read_yaml(tmp_path / "bin.yaml").problems[0]
    assert (problem.line, problem.column) == (1, 1) and problem.reason.startswith("cannot read file")


def test_syntax_error_position(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\nb: [1, 2\nc: 3\n", encoding="utf-8")
    problem = read_yaml(path).problems[0]
    assert (problem.line, problem.column) == (3, 2)
    assert problem.reason.startswith("YAML syntax error: while parsing a flow sequence")
