"""`hotline demo` with the ACD: callers go through the hotline flow into queues; same seed, same figures."""
from __future__ import annotations

from hotline.config import load_settings
from hotline.demo import run_demo
from pbxsim.clock import run_virtual

ACD_KEYS = ("reached_queue", "answered", "abandoned", "voicemails", "callbacks", "overflows", "still_waiting",
            "service_level", "asa_s", "aht_s", "queues")


def test_demo_routes_callers_through_queues_and_repeats(tmp_path):
    settings = load_settings()
    runs = [run_virtual(run_demo(settings, calls=8, seed=3, data_dir=tmp_path / f"run{i}"), start=0.0)
            for i in range(2)]
    first, second = ({k: run[k] for k in ACD_KEYS} for run in runs)
    assert first == second
    s = runs[0]
    assert s["reached_queue"] > 0 and s["answered"] > 0
    assert s["reached_queue"] == (s["answered"] + s["abandoned"] + s["voicemails"] + s["callbacks"] + s["overflows"]
                                  + s["still_waiting"])
    assert sum(q["answered"] for q in s["queues"].values()) == s["answered"]
    assert 0 <= s["service_level"] <= 1 and s["asa_s"] >= 0 and s["aht_s"] > 0
