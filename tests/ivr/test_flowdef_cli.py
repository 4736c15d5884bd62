"""`hotline flows validate|graph` through the installed `hotline` script."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOTLINE = str(Path(sys.executable).with_name("hotline"))


def hotline(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([HOTLINE, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_shipped_flows_validate(tmp_path):
    paths = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "flows").glob("*.yaml"))
    assert "flows/hotline.yaml" in paths and "flows/qa_replay.yaml" in paths and "flows/calendars.yaml" in paths
    result = hotline("flows", "validate", *paths)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert set(result.stdout.splitlines()) == {f"OK {p}" for p in paths}


def test_a_directory_validates_too():
    result = hotline("flows", "validate", "flows")
    assert result.returncode == 0, result.stderr
    assert "OK flows/hotline.yaml" in result.stdout.splitlines()


def test_a_broken_flow_exits_non_zero_with_file_line_column(tmp_path):
    broken = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", broken)
    text = (broken / "hotline.yaml").read_text(encoding="utf-8")
    text = text.replace('      "4": self_service_menu\n', '      "4": self_service_menu\n      "1": complaints\n')
    text = text.replace("    prompt: closing\n", "    prompt: closing_typo\n")
    (broken / "hotline.yaml").write_text(text, encoding="utf-8")
    lines = text.splitlines()
    dup_line = lines.index('      "1": complaints') + 1
    first_line = lines.index('      "1": presales_queue') + 1
    typo_line = lines.index("    prompt: closing_typo") + 1

    result = hotline("flows", "validate", str(broken / "hotline.yaml"), str(broken / "qa_replay.yaml"))
    assert result.returncode == 1
    errors = result.stderr.splitlines()
    assert errors == [
        f"{broken}/hotline.yaml:{dup_line}:7: digit '1' used twice in menu 'main_menu' (first at line {first_line})",
        f"{broken}/hotline.yaml:{typo_line}:13: unknown prompt 'closing_typo' in 'prompt' of hangup node 'goodbye' "
        "(did you mean 'closing'?) (not in the prompt catalogue)",
    ]
    assert result.stdout.splitlines() == [f"OK {broken}/qa_replay.yaml"]


def test_a_broken_calendar_fails_validation(tmp_path):
    (tmp_path / "calendars.yaml").write_text("calendars:\n  office:\n    hours: {mon: 'all day'}\n", encoding="utf-8")
    result = hotline("flows", "validate", str(tmp_path / "calendars.yaml"))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{tmp_path}/calendars.yaml:3:18: bad hours 'all day': expected \"HH:MM-HH:MM\", a list of them, or \"closed\""]


def test_a_missing_file_is_an_error():
    result = hotline("flows", "validate", "flows/nope.yaml")
    assert result.returncode == 1
    assert result.stderr.strip() == "flows/nope.yaml:1:1: no such file"


def test_graph_by_flow_name_in_every_format(tmp_path):
    mermaid = hotline("flows", "graph", "hotline")
    assert mermaid.returncode == 0 and mermaid.stdout.startswith("flowchart TD")
    dot = hotline("flows", "graph", "flows/qa_replay.yaml", "--format", "dot", "--output", str(tmp_path / "qa.dot"))
    assert dot.returncode == 0
    assert (tmp_path / "qa.dot").read_text(encoding="utf-8").startswith('digraph "qa_replay"')
    png = hotline("flows", "graph", "qa_replay", "--format", "png", "-o", str(tmp_path / "qa.png"))
    assert png.returncode == 0, png.stderr
    assert (tmp_path / "qa.png").read_bytes()[:4] == b"\x89PNG"


def test_graph_of_a_broken_flow_prints_the_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("flow: bad\nlanguages: [zh-CN]\nstart: a\nnodes:\n  a: {type: play, prompt: welcome}\n",
                   encoding="utf-8")
    result = hotline("flows", "graph", str(bad))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"{bad}:5:3: play node 'a' is missing required parameter 'next'"]
