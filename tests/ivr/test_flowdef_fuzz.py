"""Whatever is in a flow file, validation answers with problems (file:line:column: reason), never a crash."""
from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from ivr.flowdef.model import FlowProblem
from ivr.flowdef.validator import validate_files
from ivr.prompts.catalogue import PromptCatalogue

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [(ROOT / "flows" / name).read_text(encoding="utf-8").splitlines() for name in ("hotline.yaml", "qa_replay.yaml")]
CATALOGUE = PromptCatalogue.load(ROOT / "prompts" / "catalogue.yaml")
REPLACEMENTS = ["", "[]", "{}", "[play]", "{a: 1}", "null", "0", "-1", "true", "'*'", '"1"', "1.5", "~", "[1, 2]",
                "!!binary aGk=", "2027-01-01", "main_menu", "nowhere", "'${'", "'(('", "'a b'", "{if: x}",
                "[{if: '1 +'}]", "[{next: a}]", "__class__", "qa_replay:nope", "hotline:welcome", "'x:'", "[menu, 1]",
                "{next: '3', menu: '3'}", "'[0-9'", "play", "hangup", "queue", "goto", "subflow"]
VALUE = re.compile(r"(?:^|[{,\s-])([A-Za-z_\"'*0-9][^:{},]*):[ ]")


@st.composite
def mutated_flow(draw):
    lines = list(draw(st.sampled_from(SOURCES)))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["value", "value", "value", "delete", "duplicate", "indent"]))
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "indent":
            lines[i] = "  " + lines[i]
        else:
            spots = list(VALUE.finditer(lines[i]))
            if spots:
                start = draw(st.sampled_from(spots)).end()
                end = start
                depth = 0
                while end < len(lines[i]) and (depth or lines[i][end] not in ",}"):
                    depth += {"[": 1, "{": 1, "]": -1, "}": -1}.get(lines[i][end], 0)
                    end += 1
                lines[i] = lines[i][:start] + draw(st.sampled_from(REPLACEMENTS)) + lines[i][end:]
    return "\n".join(lines) + "\n"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=mutated_flow())
def test_mutated_flows_give_problems_not_crashes(tmp_path, text):
    path = tmp_path / "flow.yaml"
    path.write_text(text, encoding="utf-8")
    flows, problems = validate_files([path], CATALOGUE)
    assert all(isinstance(p, FlowProblem) and p.line >= 1 and p.column >= 1 and p.reason for p in problems)
    assert bool(flows) != bool(problems)  # either it loads, or it says why not
