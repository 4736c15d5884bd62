"""Every node type and error path of the flow runtime, over TCP with a scripted Asterisk-like peer."""
from __future__ import annotations

import asyncio

import pytest

from ivr.runtime import QueueOutcome

from .fakepbx import ScriptedCall
from .runtime_env import Published, ivr_server

MENU = """
flow: t
languages: [zh-CN, en]
default_language: zh-CN
start: welcome
nodes:
  welcome: {type: play, prompt: welcome, barge_in: "12", next: menu}
  menu:
    type: menu
    prompt: main_menu
    options: {"1": one, "2": two}
    repeat_key: "*"
    timeout: 3
    retries: 3
    invalid_prompt: sorry
    fallback: agent
    timeout_prompt: silent_prompt
    max_timeouts: 3
    timeout_fallback: silent
  one: {type: hangup, prompt: closing}
  two: {type: hangup, prompt: closing}
  agent: {type: hangup, prompt: please_wait}
  silent: {type: hangup, prompt: silent_goodbye}
"""

ZH = "hotline/zh-CN/"


async def test_barge_in_key_answers_the_next_menu(tmp_path):
    async with ivr_server(tmp_path, {"t": MENU}) as (server, engine):
        call = await ScriptedCall(["2"], path="t").run(server.port)
    assert call.played == [ZH + "welcome", ZH + "closing"]
    assert engine.results[-1].path == ["t:welcome", "t:menu", "t:two"]
    assert engine.results[-1].outcome == "completed"
    assert call.commands[-1] == "HANGUP"


async def test_menu_invalid_keys_three_times_then_fallback(tmp_path):
    async with ivr_server(tmp_path, {"t": MENU}) as (server, engine):
        call = await ScriptedCall(["9", ".", ".", "8", ".", ".", "7"], path="t").run(server.port)
    assert call.played == [ZH + "welcome", ZH + "main_menu", ZH + "sorry", ZH + "main_menu", ZH + "sorry",
                           ZH + "main_menu", ZH + "please_wait"]
    stats = engine.results[-1]
    assert stats.path[-1] == "t:agent"


async def test_silent_caller_rule(tmp_path):
    async with ivr_server(tmp_path, {"t": MENU}) as (server, engine):
        call = await ScriptedCall(["-", "-", "-"], path="t").run(server.port)
    assert call.played == [ZH + "welcome", ZH + "main_menu", ZH + "silent_prompt", ZH + "silent_prompt",
                           ZH + "silent_goodbye"]
    assert [c for c in call.commands if c.startswith("WAIT FOR DIGIT")] == ["WAIT FOR DIGIT 3000"] * 3
    assert engine.results[-1].path[-1] == "t:silent"


async def test_repeat_key_replays_and_is_not_invalid(tmp_path):
    async with ivr_server(tmp_path, {"t": MENU}) as (server, engine):
        call = await ScriptedCall(["*", "*", "*", "1"], path="t").run(server.port)
    assert call.played.count(ZH + "main_menu") == 4
    assert ZH + "sorry" not in call.played
    assert engine.results[-1].path[-1] == "t:one"


async def test_menu_without_fallback_hangs_up_when_retries_run_out(tmp_path):
    flow = """
    flow: t
    languages: [zh-CN]
    default_language: zh-CN
    start: menu
    nodes:
      menu: {type: menu, prompt: main_menu, options: {"1": bye}, retries: 2, max_timeouts: 2}
      bye: {type: hangup}
    """
    async with ivr_server(tmp_path, {"t": flow}) as (server, engine):
        call = await ScriptedCall(["5", "6", "1"], path="t").run(server.port)
    assert call.commands[-1] == "HANGUP" and call.tokens == ["1"]
    assert engine.results[-1].path == ["t:menu"]


COLLECT = """
flow: c
languages: [zh-CN, en]
default_language: zh-CN
start: ask
nodes:
  ask:
    type: collect
    prompt: enter_order_number
    var: order_no
    min_digits: 6
    max_digits: 10
    pattern: "^[1-9][0-9]*$"
    timeout: 5
    retries: 3
    invalid_prompt: invalid_order_number
    next: readout
    fallback: agent
  readout: {type: say, kind: digits, value: order_no, next: amount}
  amount: {type: say, kind: money, value: "'12.05'", next: bye}
  bye: {type: hangup, prompt: closing}
  agent: {type: hangup, prompt: please_wait}
"""


async def test_collect_terminator_min_digits_pattern_and_retries(tmp_path):
    async with ivr_server(tmp_path, {"c": COLLECT}) as (server, engine):
        # too short, bad pattern (leading 0), then a good number ended by #
        call = await ScriptedCall(["123#", "0123456#", "2345678#"], path="c").run(server.port)
    result = engine.results[-1]
    assert result.path == ["c:ask", "c:readout", "c:amount", "c:bye"]
    assert call.played.count(ZH + "invalid_order_number") == 2
    spoken = [p.removeprefix(ZH) for p in call.played if p.startswith(ZH + "num-") or p.startswith(ZH + "word-")]
    assert spoken == ["num-2", "num-3", "num-4", "num-5", "num-6", "num-7", "num-8",
                      "num-10", "num-2", "word-yuan", "num-0", "num-5", "word-fen"]


async def test_collect_gives_up_after_retries_and_max_digits_ends_input(tmp_path):
    async with ivr_server(tmp_path, {"c": COLLECT}) as (server, engine):
        await ScriptedCall(["-", "-", "-"], path="c").run(server.port)
        assert engine.results[-1].path == ["c:ask", "c:agent"]
        call = await ScriptedCall(["12345678901"], path="c").run(server.port)  # 10 digits max, no # needed
        assert engine.results[-1].path[1] == "c:readout"
    assert call.tokens == ["1"]  # the 11th key: pressed during the readout, nothing asked for it


LOGIC = """
flow: l
languages: [zh-CN, en]
default_language: zh-CN
variables: {tries: 0}
start: setup
nodes:
  setup:
    type: set
    vars: {tries: "tries + 1", greeting: "'hi ' + caller"}
    data: {source: "'ivr'", caller: caller}
    next: route
  route:
    type: branch
    conditions:
      - {if: "tries > 5", next: bye}
      - {if: "caller == '13800138000' and tries == 1", next: english}
    else: bye
  english: {type: set, language: "'en'", next: sub}
  sub: {type: subflow, flow: s, next: bye}
  bye: {type: hangup, prompt: closing}
"""
SUB = """
flow: s
languages: [zh-CN, en]
default_language: zh-CN
start: hello
nodes:
  hello: {type: play, prompt: welcome, next: jump}
  jump: {type: goto, target: last}
  last: {type: say, kind: number, value: "tries + 20", next: done}
  done: {type: goto, target: "l:bye"}
"""


async def test_set_branch_language_subflow_goto(tmp_path):
    async with ivr_server(tmp_path, {"l": LOGIC, "s": SUB}) as (server, engine):
        call = await ScriptedCall([], path="l").run(server.port)
    assert engine.results[-1].path == ["l:setup", "l:route", "l:english", "l:sub", "s:hello", "s:jump", "s:last",
                                       "s:done", "l:bye"]
    assert call.played == ["hotline/en/welcome", "hotline/en/num-20", "hotline/en/num-1", "hotline/en/closing"]


async def test_hangup_mid_prompt_ends_the_call_cleanly(tmp_path):
    async with ivr_server(tmp_path, {"t": MENU}) as (server, engine):
        call = await ScriptedCall(["hangup-play"], path="t").run(server.port)
    result = engine.results[-1]
    assert result.outcome == "hangup" and result.node == "welcome"
    # STREAM FILE answered -1 (then HANGUP): the runtime's CHANNEL STATUS probe got 511, nothing else was sent
    assert call.closed_by_server and call.commands[-2:] == ['STREAM FILE hotline/zh-CN/welcome "12"', "CHANNEL STATUS"]


async def test_hangup_line_before_reply_during_menu(tmp_path):
    async with ivr_server(tmp_path, {"t": MENU}) as (server, engine):
        call = await ScriptedCall(["-", "hangup-early"], path="t").run(server.port)
    assert engine.results[-1].outcome == "hangup" and engine.results[-1].node == "menu"
    assert call.closed_by_server


async def test_510_511_520_replies_end_the_call_without_a_crash(tmp_path):
    async with ivr_server(tmp_path, {"t": MENU}) as (server, engine):
        await ScriptedCall(["1"], path="t", reply_overrides={"STREAM FILE": b"510 Invalid or unknown command\n"}
                           ).run(server.port)
        assert engine.results[-1].outcome == "error" and "510" in engine.results[-1].error
        call = await ScriptedCall(["1"], path="t", reply_overrides={
            "STREAM FILE": b"520-Invalid command syntax.  Proper usage follows:\nusage text\n520 End of proper usage.\n"}
        ).run(server.port)
        assert engine.results[-1].outcome == "error" and "usage text" in engine.results[-1].error
        assert call.variables["IVRSTATUS"] == "ERROR"
        await ScriptedCall(["1"], path="t", reply_overrides={
            "STREAM FILE": b"511 Command Not Permitted on a dead channel or intercept routine\n"}).run(server.port)
        assert engine.results[-1].outcome == "hangup"
    assert server.failed == 0


async def test_dropped_socket_mid_command(tmp_path):
    async with ivr_server(tmp_path, {"t": MENU}) as (server, engine):
        call = await ScriptedCall(["-", "drop"], path="t").run(server.port)
        for _ in range(100):
            if engine.results:
                break
            await asyncio.sleep(0.01)
    assert call.dropped
    assert engine.results[-1].outcome == "hangup" and engine.results[-1].node == "menu"


ROUTING = """
flow: r
languages: [zh-CN, en]
default_language: zh-CN
start: q
nodes:
  q:
    type: queue
    queue: presales
    priority: "3"
    hold_prompt: please_wait
    options: {"1": vm, "2": cb}
    options_prompt: queue_options
    wait_prompt: sorry_to_keep_waiting
    announce_interval: 20
    next: rate
    fallback: xfer
  rate: {type: survey, prompt: survey_prompt, thanks_prompt: survey_thanks, invalid_prompt: sorry, next: bye}
  xfer: {type: transfer, to: "1001", next: vm}
  vm: {type: voicemail, prompt: voicemail_prompt, max_length: 60, silence: 4, next: bye}
  cb: {type: callback, prompt: callback_intro, confirm_prompt: callback_confirm, time_prompt: callback_time, next: bye}
  bye: {type: hangup, prompt: closing}
"""


class _Agent:
    def __init__(self, id, endpoint, skills, languages=("zh-CN", "en")):
        self.id, self.endpoint, self.skills, self.languages, self.role = id, endpoint, skills, languages, "agent"


class _Queue:
    def __init__(self, name, skills):
        self.name, self.skills, self.members = name, skills, ()


def _dial_handoff():
    from .dial_handoff import DialQueueHandoff
    agents = [_Agent("1001", "PJSIP/1001", {"presales": 8}), _Agent("1002", "PJSIP/1002", {"presales": 6}),
              _Agent("1003", "PJSIP/1003", {"aftersales": 9})]
    return DialQueueHandoff(agents, [_Queue("presales", {"presales": 1})], ring_timeout_s=20)


async def test_queue_answered_then_survey_with_agent(tmp_path):
    published = Published()
    async with ivr_server(tmp_path, {"r": ROUTING}, queues=_dial_handoff(), publish=published) as (server, engine):
        call = await ScriptedCall(["dial:ANSWER:PJSIP/1002", "7", "4"], path="r").run(server.port)
    assert call.dialed == ["PJSIP/1001&PJSIP/1002,20,m(default)"]
    assert call.variables["HOTLINE_AGENT_ID"] == "1002" and call.variables["HOTLINE_QUEUE"] == "presales"
    assert engine.results[-1].path == ["r:q", "r:rate", "r:bye"]
    survey = [p for t, p in published if t == "survey/result"]
    assert survey == [{"uniqueid": "1795435282.1", "linkedid": "1795435282.1", "agent_id": "1002",
                       "queue": "presales", "rating": 4}]
    assert published[0][0] == "ivr/queue" and published[0][1]["priority"] == 3


async def test_queue_waiting_option_key_leads_to_voicemail(tmp_path):
    published = Published()
    async with ivr_server(tmp_path, {"r": ROUTING}, queues=_dial_handoff(), publish=published,
                          voicemail_dir=str(tmp_path / "vm")) as (server, engine):
        call = await ScriptedCall(["dial:NOANSWER", "1", "rec:7#"], path="r").run(server.port)
    assert call.dialed == ["PJSIP/1001&PJSIP/1002,20,m(default)"]
    assert engine.results[-1].path == ["r:q", "r:vm", "r:bye"]
    record = [c for c in call.commands if c.startswith("RECORD FILE")][0]
    assert record.endswith('wav "#" 60000 BEEP s=4')
    assert str(tmp_path / "vm" / "20261123") in record
    vm = [p for t, p in published if t == "voicemail/new"][0]
    assert vm["duration_s"] == 7.0 and vm["ended_by"] == "dtmf" and vm["queue"] == "presales"


async def test_queue_caller_hangs_up_while_ringing_is_abandoned(tmp_path):
    async with ivr_server(tmp_path, {"r": ROUTING}, queues=_dial_handoff()) as (server, engine):
        await ScriptedCall([".", "hangup"], path="r").run(server.port)
    assert engine.results[-1].outcome == "hangup" and engine.results[-1].node == "q"


async def test_queue_without_agents_overflows_to_transfer(tmp_path):
    class NoAgents:
        async def enqueue(self, call, queue, skill, priority):
            return QueueOutcome("overflow", detail="no agents")

    async with ivr_server(tmp_path, {"r": ROUTING}, queues=NoAgents()) as (server, engine):
        call = await ScriptedCall(["dial:ANSWER:PJSIP/1001"], path="r").run(server.port)
    assert call.dialed == ["PJSIP/1001,30"]
    assert engine.results[-1].path == ["r:q", "r:xfer"] and engine.results[-1].outcome == "completed"


async def test_transfer_failure_goes_to_next_and_callback_is_recorded(tmp_path):
    class NoAgents:
        async def enqueue(self, call, queue, skill, priority):
            return QueueOutcome("overflow")

    published = Published()
    async with ivr_server(tmp_path, {"r": ROUTING}, queues=NoAgents(), publish=published) as (server, engine):
        # transfer busy → voicemail; the caller hangs up during the recording: the message is kept
        await ScriptedCall(["dial:BUSY", "rec:3!"], path="r").run(server.port)
        assert engine.results[-1].outcome == "hangup"
        assert [p["ended_by"] for t, p in published if t == "voicemail/new"] == ["hangup"]


async def test_transfer_by_context_leaves_the_ivr_without_hanging_up(tmp_path):
    flow = """
    flow: x
    languages: [zh-CN]
    default_language: zh-CN
    start: go
    nodes:
      go: {type: transfer, to: "8000", context: hotline-agents}
    """
    async with ivr_server(tmp_path, {"x": flow}) as (server, engine):
        call = await ScriptedCall([], path="x").run(server.port)
    assert call.variables["__context"] == "hotline-agents" and call.variables["__extension"] == "8000"
    assert "HANGUP" not in call.commands and engine.results[-1].outcome == "left"


async def test_callback_confirms_the_caller_number_and_preferred_time(tmp_path):
    flow = """
    flow: cb
    languages: [zh-CN]
    default_language: zh-CN
    start: cb
    nodes:
      cb: {type: callback, prompt: callback_intro, confirm_prompt: callback_confirm, time_prompt: callback_time, next: bye}
      bye: {type: hangup, prompt: closing}
    """
    published = Published()
    async with ivr_server(tmp_path, {"cb": flow}, publish=published) as (server, engine):
        await ScriptedCall(["1", "0930#"], path="cb").run(server.port)
        await ScriptedCall(["2", "13912345678#", "-"], path="cb").run(server.port)
    first, second = [p for t, p in published if t == "callback/new"]
    assert first["number"] == "13800138000" and first["preferred_at"] == "2026-11-24T09:30:00+08:00"
    assert second["number"] == "13912345678" and second["preferred_at"] is None


@pytest.mark.mosquitto
async def test_voicemail_is_announced_on_the_real_broker(tmp_path, mqtt_url, topic_prefix):
    from hotline.bus import EventBus

    received: asyncio.Queue = asyncio.Queue()

    class NoAgents:
        async def enqueue(self, call, queue, skill, priority):
            return QueueOutcome("overflow")

    async with EventBus(mqtt_url, topic_prefix, announce_status=False) as bus:
        assert await bus.wait_connected()
        bus.subscribe("voicemail/#", lambda suffix, payload: received.put_nowait((suffix, payload)))
        await asyncio.sleep(0.2)  # the subscription is in place
        async with ivr_server(tmp_path, {"r": ROUTING}, queues=NoAgents(), publish=bus.publish,
                              voicemail_dir="/var/spool/asterisk/voicemail/hotline") as (server, engine):
            await ScriptedCall(["dial:NOANSWER", "rec:9"], path="r").run(server.port)
        suffix, payload = await asyncio.wait_for(received.get(), 5)
    assert suffix == "voicemail/new"
    assert payload["v"] == 1 and payload["duration_s"] == 9.0 and payload["caller"] == "13800138000"
    assert payload["path"].startswith("/var/spool/asterisk/voicemail/hotline/20261123/1795435282.1-vm-")


async def test_callback_failure_leaves_no_number_and_the_flow_can_tell(tmp_path):
    flow = """
    flow: cb
    languages: [zh-CN]
    default_language: zh-CN
    start: cb
    nodes:
      cb: {type: callback, prompt: callback_number, confirm_prompt: callback_confirm_number, time_prompt: callback_time, next: check}
      check:
        type: branch
        conditions: [{if: "callback_number", next: ok}]
        else: failed
      ok: {type: hangup, prompt: callback_registered}
      failed: {type: hangup, prompt: callback_failed}
    """
    published = Published()
    async with ivr_server(tmp_path, {"cb": flow}, publish=published) as (server, engine):
        await ScriptedCall(["1", "2230#"], path="cb").run(server.port)
        assert engine.results[-1].path[-1] == "cb:ok"
        failed = await ScriptedCall(["2", "12#", "-", "99#"], path="cb").run(server.port)
        assert engine.results[-1].path[-1] == "cb:failed"
    assert failed.played.count("hotline/zh-CN/callback_number") == 3
    [stored] = [p for t, p in published if t == "callback/new"]
    assert stored["number"] == "13800138000" and stored["preferred_at"] == "2026-11-23T22:30:00+08:00"
