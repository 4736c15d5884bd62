"""The demo's queue figures from queue-log rows: each call has one outcome, in the queue where its wait ended."""
from __future__ import annotations

from acd.config import QueueSettings
from acd.demo import tally
from acd.queue_log import entry

QUEUES = {"presales": QueueSettings("presales", {"presales": 1}, service_level_s=20.0, wrapup_s=10.0),
          "english": QueueSettings("english", {"english": 1}, service_level_s=20.0, wrapup_s=10.0)}


def log(*rows):
    return [entry(t, callid, queue, agent, event, *data) for t, callid, queue, agent, event, *data in rows]


def wrapup(agent_id: str, queue: str, callid: str = "") -> float:
    return 10.0


def test_every_call_has_one_outcome_and_the_figures_follow():
    rows = log(
        (0, "NONE", "NONE", "1001", "PAUSE", "login"),
        (1, "c1", "presales", None, "ENTERQUEUE", "", "139", 1),
        (3, "c1", "presales", "1001", "CONNECT", 2, "", 2),
        (103, "c1", "presales", "1001", "COMPLETEAGENT", 2, 100, 1),
        (5, "c2", "presales", None, "ENTERQUEUE", "", "138", 1),
        (20, "c2", "presales", "1002", "RINGNOANSWER", 15000, "NOANSWER"),
        (45, "c2", "presales", "1001", "CONNECT", 40, "", 3),
        (245, "c2", "presales", "1001", "COMPLETECALLER", 40, 200, 1),
        (6, "c3", "presales", None, "ENTERQUEUE", "", "137", 2),
        (36, "c3", "presales", None, "ABANDON", 2, 2, 30),
        (7, "c4", "presales", None, "ENTERQUEUE", "", "136", 2),
        (50, "c4", "presales", None, "EXITWITHKEY", "1", 1, 2, 43),
        (8, "c5", "presales", None, "ENTERQUEUE", "", "135", 2),
        (60, "c5", "presales", None, "CALLBACK", "135", 1, 52),
        (300, "c5", "presales", "1002", "CONNECT", 292, "", 3),
        (400, "c5", "presales", "1002", "COMPLETEAGENT", 292, 100, 1),
        (9, "c6", "english", None, "ENTERQUEUE", "", "134", 1),
        (309, "c6", "english", None, "EXITWITHTIMEOUT", 1, 1, 300),
        (309, "c6", "english", None, "OVERFLOW", "voicemail", "", "timeout", 300),
        (10, "c7", "english", None, "ENTERQUEUE", "", "133", 1),
        (310, "c7", "english", None, "OVERFLOW", "queue", "presales", "timeout", 300),
        (310, "c7", "presales", None, "ENTERQUEUE", "", "133", 1),
        (320, "c7", "presales", "1001", "CONNECT", 10, "", 2),
        (380, "c7", "presales", "1001", "COMPLETECALLER", 10, 60, 1),
        (11, "c8", "english", None, "ENTERQUEUE", "", "132", 1),
        (12, "c9", "english", None, "ENTERQUEUE", "", "131", 1),
        (312, "c9", "english", None, "OVERFLOW", "hangup", "", "timeout", 300),
    )
    overall, per_queue = tally(sorted(rows, key=lambda e: e.time), QUEUES, wrapup)
    figures = overall.figures()
    assert figures["reached_queue"] == 9
    assert (figures["answered"], figures["abandoned"], figures["voicemails"], figures["callbacks"],
            figures["overflows"], figures["still_waiting"]) == (3, 1, 2, 1, 1, 1)
    assert figures["callbacks_connected"] == 1                  # the callback's CONNECT is not an answer
    assert figures["service_level"] == round(2 / 3, 4)          # c2 waited 40 s > 20 s
    assert figures["asa_s"] == round((2 + 40 + 10) / 3, 2)
    assert figures["aht_s"] == round((100 + 200 + 60 + 3 * 10) / 3, 2)
    assert figures["ring_no_answer"] == 1
    presales, english = per_queue["presales"].figures(), per_queue["english"].figures()
    assert presales["answered"] == 3                            # c7 counts where its wait ended
    assert english["reached_queue"] == 3 and english["voicemails"] == 1 and english["overflows"] == 1
    for t in (figures, presales, english):
        assert t["reached_queue"] == sum(t[k] for k in ("answered", "abandoned", "voicemails", "callbacks",
                                                          "overflows", "still_waiting"))
