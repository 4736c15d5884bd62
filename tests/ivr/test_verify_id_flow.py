"""The shipped identity check (flows/verify_id.yaml) an agent sends a caller to: the caller types an order
number; the answer is left on the channel for the dialplan ([hotline-ivr-return] reports it to the CTI) and the
flow ends without hanging up, so the caller goes back to the agent."""
from __future__ import annotations

from pathlib import Path

from ivr.flowdef.expr import runtime_functions
from ivr.flowdef.loader import load_flows
from ivr.agi.server import FastAgiServer
from ivr.runtime import FlowEngine, RuntimeDeps

from .fakepbx import ScriptedCall
from .runtime_env import FIXED_NOW

FLOWS = Path(__file__).resolve().parents[2] / "flows"
ORDERS = {"20261101001": {"number": "20261101001", "customer_number": "13800138000", "status": "shipped"}}


class Orders:
    async def by_number(self, number: str):
        return ORDERS.get(number)


async def check(script: list[str], caller: str = "13800138000") -> ScriptedCall:
    flows = load_flows(FLOWS)
    engine = FlowEngine(RuntimeDeps(flows=flows, orders=Orders(), now=lambda: FIXED_NOW,
                                    functions=runtime_functions({}, now=lambda: FIXED_NOW)))
    server = FastAgiServer({"verify_id": engine.handler("verify_id")}, port=0)
    await server.start()
    try:
        return await ScriptedCall(script, path="verify_id", caller=caller).run(server.port)
    finally:
        await server.close(timeout=2)


async def test_the_callers_own_order_verifies_them_and_the_call_goes_back():
    call = await check(["2", "0", "2", "6", "1", "1", "0", "1", "0", "0", "1", "#"])
    assert call.variables["HOTLINE_IVR_RESULT"] == "verified"
    assert call.variables["HOTLINE_DATA_ORDER"] == "20261101001"
    assert "hotline/zh-CN/verify_ok" in call.played
    assert not call.hangup_sent and "HANGUP" not in call.commands      # back to the dialplan, not hung up


async def test_someone_elses_order_or_an_unknown_one_does_not_verify():
    other = await check(["2", "0", "2", "6", "1", "1", "0", "1", "0", "0", "1", "#"], caller="13900000000")
    unknown = await check(["9", "9", "9", "9", "9", "9", "#"])
    for call in (other, unknown):
        assert call.variables["HOTLINE_IVR_RESULT"] == "not-verified"
        assert "hotline/zh-CN/verify_failed" in call.played and "HANGUP" not in call.commands
