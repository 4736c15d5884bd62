"""EventBus.add_local_listener: every publish reaches the in-process listeners (the web pages' live feed)."""
from __future__ import annotations

from hotline.bus import EventBus


def test_local_listeners_see_every_publish_and_a_failing_one_breaks_nothing(caplog):
    bus = EventBus("mqtt://127.0.0.1:1", "t")
    seen = []

    def broken(topic, payload):
        raise RuntimeError("boom")

    remove = bus.add_local_listener(lambda topic, payload: seen.append((topic, payload)))
    bus.add_local_listener(broken)
    assert bus.publish("agents/1001/state", {"state": "ready"})
    assert seen == [("agents/1001/state", {"state": "ready"})]
    assert "local listener of agents/1001/state failed" in caplog.text
    assert bus.queued == 1                                   # the broker still gets it
    remove()
    bus.publish("agents/1001/state", {"state": "not-ready"})
    assert len(seen) == 1
