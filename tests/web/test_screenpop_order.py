"""The screen pop carries the IVR path whichever side learns about the call first (issue 10.4)."""
from __future__ import annotations

from cti.calldata import CallDataStore
from cti.notifier import Notifier
from cti.screenpop import ScreenPop


class Directory:
    async def by_number(self, number):
        return None

    async def history(self, number, **kw):
        return []


class Published:
    def __init__(self):
        self.messages = []

    def publish(self, topic, payload, retain=False):
        self.messages.append((topic, payload))


IVR = {"ivr_flow": "hotline", "ivr_language": "zh-CN", "ivr_path": ["welcome", "main_menu", "presales_queue"],
       "ivr_choices": ["choose_language:1", "main_menu:1"], "order_no": "20261123"}


async def test_ivr_data_known_before_the_ring_is_in_the_pop():
    data, published = CallDataStore(), Published()
    pop = ScreenPop(Directory(), data, Notifier(published), agent_names={})
    data.update("1.1", dict(IVR, queue="presales"))
    payload = await pop.pop(agent_id="1001", linkedid="1.1", caller_number="13800138000")
    assert payload["ivr"] == {"flow": "hotline", "language": "zh-CN", "path": IVR["ivr_path"],
                              "choices": IVR["ivr_choices"], "collected": {"order_no": "20261123"}}


async def test_ivr_data_arriving_after_the_ring_sends_the_pop_again_with_it():
    data, published = CallDataStore(), Published()
    pop = ScreenPop(Directory(), data, Notifier(published), agent_names={})
    first = await pop.pop(agent_id="1001", linkedid="1.1", caller_number="13800138000")
    assert first["ivr"]["path"] == [] and first["ivr"]["flow"] is None
    data.update("1.1", dict(IVR, queue="presales"))
    pops = [p for t, p in published.messages if t == "agents/1001/screenpop"]
    assert pops[-1]["update"] is True and pops[-1]["ivr"]["choices"] == IVR["ivr_choices"]
    assert pops[-1]["queue"] == "presales" and pops[-1]["ivr"]["collected"] == {"order_no": "20261123"}
    count = len(pops)
    data.update("1.1", {"queue_entered_at": 5.0})          # nothing the pop shows changed: no new pop
    assert len([p for t, p in published.messages if t == "agents/1001/screenpop"]) == count
    pop.forget("1.1")
    data.update("1.1", {"order_no": "1"})                  # the call is over: its pop is not sent again
    assert len([p for t, p in published.messages if t == "agents/1001/screenpop"]) == count
