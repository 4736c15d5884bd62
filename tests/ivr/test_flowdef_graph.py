"""Drawing flows as Mermaid, DOT and PNG."""
from __future__ import annotations

from pathlib import Path

import pytest

from ivr.flowdef.graph import GraphError, render_png, to_dot, to_mermaid
from ivr.flowdef.loader import load_flows

FLOWS_DIR = Path(__file__).resolve().parents[2] / "flows"


@pytest.fixture(scope="module")
def flows():
    return load_flows(FLOWS_DIR)


def test_mermaid_has_every_node_and_menu_digit(flows):
    text = to_mermaid(flows["hotline"])
    assert text.startswith("flowchart TD\n")
    for node_id in flows["hotline"].nodes:
        assert f"_{node_id}[" in text or f"_{node_id}(" in text or f"_{node_id}{{" in text, node_id
    assert '-->|"4"| n' in text  # main menu digit 4 → self service
    assert "main_menu" in text and "self_service_menu" in text
    assert '-.->' in text and "qa_replay:qa_login" in text  # the goto into the QA flow is drawn dashed


def test_dot_is_well_formed_and_quotes_labels(flows):
    text = to_dot(flows["hotline"])
    assert text.startswith('digraph "hotline" {') and text.rstrip().endswith("}")
    assert '"main_menu" -> "self_service_menu" [label="4"];' in text
    assert '"screen" -> "blocked" [label="if customer.blocked"];' in text
    assert '"to_qa_replay" -> "qa_replay:qa_login" [style=dashed];' in text
    assert text.count("{") == text.count("}")


def test_png_through_graphviz(flows, tmp_path):
    out = render_png(flows["qa_replay"], tmp_path / "qa.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_png_without_graphviz_is_a_clear_error(flows, tmp_path):
    with pytest.raises(GraphError, match="install the Debian package graphviz"):
        render_png(flows["qa_replay"], tmp_path / "qa.png", dot_command="no-such-dot-binary")
    assert not (tmp_path / "qa.png").exists()
