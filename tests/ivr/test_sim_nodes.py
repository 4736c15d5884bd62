"""Node types and error paths through the PBX simulator with small flows written for the test."""
from __future__ import annotations

import asyncio

from ivr.stats import read_stats
from pbxsim.participants import CallerScript, PhoneBehaviour

from .runtime_env import write_flows
from .sim_env import run_with_simulator

FLOW = """
flow: nodes
languages: [zh-CN, en]
default_language: zh-CN
start: tag
nodes:
  tag: {type: set, data: {entry: "'sim'"}, vars: {n: "0"}, next: ask}
  ask:
    type: collect
    prompt: enter_order_number
    var: order_no
    min_digits: 4
    max_digits: 8
    timeout: 3
    retries: 2
    invalid_prompt: invalid_order_number
    next: echo
    fallback: bye
  echo: {type: say, kind: digits, value: order_no, next: amount}
  amount: {type: say, kind: money, value: "'88.80'", next: pick}
  pick:
    type: menu
    prompt: main_menu
    options: {"1": sub, "2": xfer, "3": ctx}
    timeout: 3
    fallback: bye
  sub: {type: subflow, flow: helper, next: bye}
  xfer: {type: transfer, to: "PJSIP/1003", next: bye}
  ctx: {type: transfer, to: "8000", context: hotline-agents}
  bye: {type: hangup, prompt: closing}
"""
HELPER = """
flow: helper
languages: [zh-CN, en]
default_language: zh-CN
start: hi
nodes:
  hi: {type: play, prompt: please_wait, next: go}
  go: {type: goto, target: done}
  done: {type: branch, conditions: [{if: "data.entry == 'sim'", next: back}], else: back}
  back: {type: goto, target: "nodes:bye"}
"""


def _flows(tmp_path):
    return write_flows(tmp_path / "flows", {"nodes": FLOW, "helper": HELPER})


def _script(*steps):
    return CallerScript("13800138000", dnid="4008001234", steps=list(steps))


def _route_to(flows, name):
    """Only the named flow is started by the dialplan's agi://…/hotline: serve it under that path."""
    out = dict(flows)
    out["hotline"] = flows[name]
    return out


def test_collect_say_menu_subflow_goto(tmp_path):
    flows = _route_to(_flows(tmp_path), "nodes")

    async def body(sim, ivr, sessions):
        outcome = await (await sim.place_call(_script("wait 0.5", "press 12#", "wait 2", "press 123456#",
                                                      "wait 6", "press 1", "wait 4"))).wait()
        return outcome, ivr.engine.results[-1], await read_stats(sessions, "nodes")

    outcome, result, stats = run_with_simulator(tmp_path, body, flows=flows)
    assert result.outcome == "completed"
    assert result.path == ["nodes:tag", "nodes:ask", "nodes:echo", "nodes:amount", "nodes:pick", "nodes:sub",
                           "helper:hi", "helper:go", "helper:done", "helper:back", "nodes:bye"]
    assert stats[("nodes", "ask", "invalid")] == 1 and stats[("nodes", "ask", "collected")] == 1
    assert outcome.hung_up_by == "pbx"


def test_transfer_by_dial_to_an_agent_phone(tmp_path):
    flows = _route_to(_flows(tmp_path), "nodes")

    async def body(sim, ivr, sessions):
        outcome = await (await sim.place_call(_script("wait 0.5", "press 1234#", "wait 6", "press 2",
                                                      "wait 10"))).wait()
        return outcome, ivr.engine.results[-1]

    outcome, result = run_with_simulator(tmp_path, body, flows=flows,
                                         phone_defaults=PhoneBehaviour(answer_after_s=1, talk_time_s=3))
    assert outcome.bridged_with.startswith("PJSIP/1003-")
    assert result.path[-1] == "nodes:xfer" and result.outcome == "completed"


def test_transfer_to_a_dialplan_context_leaves_the_ivr(tmp_path):
    flows = _route_to(_flows(tmp_path), "nodes")

    async def body(sim, ivr, sessions):
        call = await sim.place_call(_script("wait 0.5", "press 1234#", "wait 6", "press 3", "wait 3", "hangup"))
        await call.wait()
        return [r.outcome for r in ivr.engine.results]

    outcomes = run_with_simulator(tmp_path, body, flows=flows)
    # 8000 in [hotline-agents] goes back to the hotline: the call re-enters the IVR as a second session
    assert outcomes[0] == "left" and len(outcomes) == 2


def test_server_stopping_mid_call_drops_the_fastagi_socket_and_still_writes_stats(tmp_path):
    flows = _route_to(_flows(tmp_path), "nodes")

    async def body(sim, ivr, sessions):
        call = await sim.place_call(_script("wait 30"))
        await asyncio.sleep(1.5)          # inside the collect prompt / wait
        await ivr.close(timeout=0.1)      # the session is cancelled: socket closed mid-command
        outcome = await call.wait()
        return outcome, ivr.engine.results[-1], await read_stats(sessions, "nodes")

    outcome, result, stats = run_with_simulator(tmp_path, body, flows=flows)
    assert result.outcome == "cancelled" and result.node == "ask"
    assert stats[("nodes", "ask", "cancelled")] == 1
    assert outcome.hung_up_by == "pbx"     # the dialplan went on to Hangup() after AGI returned
