"""IVR details seen on a real Asterisk 22: a `#` typed right after a complete fixed-length entry belongs to that
entry (it does not answer the next prompt); a call cut by a PBX restart in a queue is not a caller abandon."""
from __future__ import annotations

from .fakepbx import ScriptedCall
from .runtime_env import ivr_server

DATE_THEN_MENU = """
flow: d
languages: [zh-CN, en]
default_language: zh-CN
start: date
nodes:
  date:
    type: collect
    prompt: enter_order_number
    var: day
    min_digits: 8
    max_digits: 8
    terminator: "#"
    timeout: 5
    next: menu
    fallback: agent
  menu:
    type: menu
    prompt: main_menu
    options: {"1": one, "#": hash}
    retries: 2
    invalid_prompt: sorry
    fallback: agent
  one: {type: hangup, prompt: closing}
  hash: {type: hangup, prompt: closing}
  agent: {type: hangup, prompt: please_wait}
"""

ZH = "hotline/zh-CN/"


async def test_a_terminator_right_after_a_complete_entry_belongs_to_it(tmp_path):
    async with ivr_server(tmp_path, {"d": DATE_THEN_MENU}) as (server, engine):
        call = await ScriptedCall(["20261124#", "1"], path="d").run(server.port)
    result = engine.results[-1]
    assert result.path == ["d:date", "d:menu", "d:one"]
    assert ZH + "sorry" not in call.played
    assert call.tokens == []


async def test_without_the_terminator_the_next_key_answers_the_next_prompt(tmp_path):
    async with ivr_server(tmp_path, {"d": DATE_THEN_MENU}) as (server, engine):
        await ScriptedCall(["20261124", "1"], path="d").run(server.port)
        assert engine.results[-1].path == ["d:date", "d:menu", "d:one"]
        # a `#` the caller means for the next prompt, pressed after it was heard in full, is an answer
        await ScriptedCall(["20261124", ".", "#"], path="d").run(server.port)
        assert engine.results[-1].path == ["d:date", "d:menu", "d:hash"]


async def test_a_call_cut_by_the_pbx_in_a_queue_is_not_logged_as_a_caller_abandon(tmp_path, caplog):
    """A PBX restart breaks the FastAGI connection of an answered call: the log says the connection was lost."""
    import logging

    from ivr.runtime import QueueOutcome

    from .test_runtime_nodes import ROUTING

    class CutByThePbx:
        async def enqueue(self, call, queue, skill, priority):
            return QueueOutcome("abandoned", wait_s=3.0, detail="connection-lost")

    caplog.set_level(logging.INFO)
    async with ivr_server(tmp_path, {"r": ROUTING}, queues=CutByThePbx()) as (server, engine):
        await ScriptedCall(["."], path="r").run(server.port)
    assert engine.results[-1].node == "q"
    text = [r.getMessage() for r in caplog.records]
    assert any("FastAGI connection lost at r:q" in m and "not a caller abandon" in m for m in text), text
    assert not [m for m in text if "caller abandoned queue" in m]
