"""Queue engine behaviour, event by event, with the queue log it writes."""
from __future__ import annotations

import pytest

from acd import actions as act
from acd.engine import UnknownAgent, UnknownQueue, DuplicateCall
from acd.state import AgentState, CallState, Outcome
from tests.acd.helpers import agent, call, engine, offers, queue, serve


def events(log, *names):
    return [(e.event, e.callid, e.agent, e.data1, e.data2, e.data3, e.data4) for e in log
            if not names or e.event in names]


def released(eng):
    out = [a for a in eng.actions if isinstance(a, (act.CallerReleased, act.CallFinished))]
    return out


def test_vip_and_key_accounts_go_first_fcfs_within_a_priority():
    log = []
    eng = engine([queue(wrapup_time=0)], [agent("a1")], log=log)
    for cid, kw in [("n1", {}), ("n2", {}), ("k1", {"key_account": True}), ("v1", {"vip_level": 1}),
                    ("v3", {"vip_level": 3}), ("n3", {}), ("p", {"priority": 7})]:
        eng.enqueue(10, call(cid, **kw))
    assert [eng.position(c) for c in ["v3", "v1", "p", "k1", "n1", "n2", "n3"]] == [1, 2, 3, 4, 5, 6, 7]
    order = []
    eng.agent_ready(20, "a1")
    for i in range(7):
        (o,) = offers(eng)
        order.append(o.call_id)
        serve(eng, 30 + i, o.call_id, talk=1)
    assert order == ["v3", "v1", "p", "k1", "n1", "n2", "n3"]
    enter = events(log, "ENTERQUEUE")
    assert enter[0] == ("ENTERQUEUE", "n1", "NONE", "", "138000000n1", "1", "")
    assert enter[4][1] == "v3" and enter[4][5] == "1"        # entered at position 1 ahead of everyone


def test_ring_no_answer_goes_to_next_agent_and_autopauses_after_n_misses():
    log = []
    eng = engine([queue(strategy="sequential", max_no_answer=2, wrapup_time=0)],
                 [agent("a1"), agent("a2")], log=log)
    eng.agent_ready(0, "a1")
    eng.enqueue(10, call("c1"))
    (o,) = offers(eng)
    assert o.agent_id == "a1" and o.ring_timeout_s == 15
    eng.agent_ready(11, "a2")                                  # a2 ready while a1 rings: nothing to give it
    assert offers(eng) == []
    assert eng.offer_failed(25, "c1", "a1", "noanswer", o.offer_id)
    (o2,) = offers(eng)
    assert o2.agent_id == "a2" and eng.agents["a1"].state is AgentState.READY
    assert eng.offer_failed(40, "c1", "a2", "rejected", o2.offer_id)
    (o3,) = offers(eng)
    assert o3.agent_id == "a1"                                 # a1 is free again: the call retries it
    assert eng.offer_failed(55, "c1", "a1", "noanswer", o3.offer_id)
    # a1 missed twice: not-ready (autopause); a2 gets the call again
    assert eng.agents["a1"].state is AgentState.NOT_READY and eng.agents["a1"].reason == "ring-no-answer"
    assert any(isinstance(a, act.AgentAutoPaused) and a.agent_id == "a1" for a in eng.actions)
    (o4,) = offers(eng)
    assert o4.agent_id == "a2"
    assert eng.offer_answered(60, "c1", "a2", o4.offer_id)
    assert eng.agents["a2"].misses == 0
    rna = events(log, "RINGNOANSWER")
    assert [(r[2], r[3], r[4]) for r in rna] == [("a1", "15000", "NOANSWER"), ("a2", "15000", "REJECTED"),
                                                 ("a1", "15000", "NOANSWER")]
    assert ("PAUSE", "NONE", "a1", "ring-no-answer", "", "", "") in events(log, "PAUSE")
    (conn,) = events(log, "CONNECT")
    assert conn == ("CONNECT", "c1", "a2", "50", "", "5", "")


def test_stale_or_unknown_reports_are_rejected():
    eng = engine([queue()], [agent("a1")])
    eng.agent_ready(0, "a1")
    eng.enqueue(1, call("c1"))
    (o,) = offers(eng)
    assert not eng.offer_answered(2, "c1", "a1", o.offer_id + 1)
    assert not eng.offer_answered(2, "nope", "a1")
    with pytest.raises(UnknownAgent, match="unknown agent ID '9999'"):
        eng.offer_answered(2, "c1", "9999")
    with pytest.raises(UnknownAgent):
        eng.agent_ready(2, "9999")
    with pytest.raises(UnknownQueue, match="unknown queue 'nosuch'"):
        eng.enqueue(2, call("c2", queue="nosuch"))
    with pytest.raises(DuplicateCall):
        eng.enqueue(2, call("c1"))
    eng.check_invariants()


def test_caller_hangs_up_while_agent_rings():
    log = []
    eng = engine([queue(wrapup_time=0)], [agent("a1")], log=log)
    eng.agent_ready(0, "a1")
    eng.enqueue(10, call("c1"))
    eng.enqueue(11, call("c2"))
    offers(eng)
    assert eng.caller_hung_up(14, "c1")
    assert events(log, "RINGCANCELED", "ABANDON") == [
        ("RINGCANCELED", "c1", "a1", "4000", "", "", ""), ("ABANDON", "c1", "NONE", "1", "1", "4", "")]
    (o,) = offers(eng)                                           # a1 is free: next caller rings
    assert o.call_id == "c2" and o.agent_id == "a1"
    assert not eng.offer_answered(15, "c1", "a1")
    eng.check_invariants()


def test_abandon_logs_position_orig_position_and_wait():
    log = []
    eng = engine([queue()], [agent("a1")], log=log)
    for i in range(4):
        eng.enqueue(100 + i, call(f"c{i}"))
    eng.caller_hung_up(110, "c0")
    eng.caller_hung_up(130, "c3")                                 # entered 4th, now 3rd
    assert events(log, "ABANDON") == [("ABANDON", "c0", "NONE", "1", "1", "10", ""),
                                      ("ABANDON", "c3", "NONE", "3", "4", "27", "")]


def test_wrapup_timer_and_early_end():
    eng = engine([queue(wrapup_time=30)], [agent("a1")])
    eng.agent_ready(0, "a1")
    eng.enqueue(10, call("c1"))
    eng.enqueue(11, call("c2"))
    offers(eng)
    serve(eng, 12, "c1", talk=60)                                 # ends at 72
    assert eng.agents["a1"].state is AgentState.WRAPUP and eng.next_deadline() == 102
    eng.advance(101)
    assert offers(eng) == []
    eng.advance(102)
    (o,) = offers(eng)
    assert o.call_id == "c2"
    serve(eng, 103, "c2", talk=10)
    assert eng.wrapup_ended(120, "a1")                             # agent ends wrap-up early
    assert eng.agents["a1"].state is AgentState.READY and eng.agents["a1"].idle_since == 120
    assert not eng.wrapup_ended(121, "a1")


def test_not_ready_requested_during_a_call_applies_after_wrapup():
    log = []
    eng = engine([queue(wrapup_time=10)], [agent("a1")], log=log)
    eng.agent_ready(0, "a1")
    eng.enqueue(1, call("c1"))
    offers(eng)
    eng.agent_not_ready(2, "a1", "meal")
    assert eng.agents["a1"].state is AgentState.RINGING
    serve(eng, 3, "c1", talk=5)
    eng.advance(30)
    assert eng.agents["a1"].state is AgentState.NOT_READY and eng.agents["a1"].reason == "meal"
    eng.enqueue(31, call("c2"))
    assert offers(eng) == []
    eng.agent_ready(40, "a1")
    (o,) = offers(eng)
    assert o.call_id == "c2"
    assert events(log, "PAUSE", "UNPAUSE") == [("PAUSE", "NONE", "a1", "meal", "", "", ""),
                                               ("UNPAUSE", "NONE", "a1", "meal", "", "", "")]


@pytest.mark.parametrize("target,outcome", [("voicemail", Outcome.VOICEMAIL), ("hangup", Outcome.OVERFLOW)])
def test_max_wait_overflows_to_voicemail_or_fallback(target, outcome):
    log = []
    eng = engine([queue(max_wait=60, overflow=target)], [agent("a1")], log=log)
    eng.enqueue(100, call("c1"))
    assert eng.next_deadline() == 160
    eng.advance(160)
    assert "c1" not in eng.calls
    assert act.CallerReleased("c1", outcome, None) in eng.actions
    assert events(log, "EXITWITHTIMEOUT", "OVERFLOW") == [
        ("EXITWITHTIMEOUT", "c1", "NONE", "1", "1", "60", ""), ("OVERFLOW", "c1", "NONE", target, "", "timeout", "60")]


def test_max_wait_overflows_into_another_queue_and_keeps_waiting():
    log = []
    eng = engine([queue("sales", max_wait=30, overflow="queue:backup"),
                  queue("backup", skills={"backup": 1}, max_wait=30, overflow="voicemail")],
                 [agent("a1", sales=5), agent("b1", backup=5)], log=log)
    eng.enqueue(0, call("c1"))
    eng.advance(30)
    assert eng.calls["c1"].queue == "backup" and act.CallMoved("c1", "backup") in eng.actions
    eng.agent_ready(40, "b1")
    (o,) = offers(eng)
    assert o.agent_id == "b1"
    assert [e[0] for e in events(log)] == ["ENTERQUEUE", "EXITWITHTIMEOUT", "OVERFLOW", "ENTERQUEUE"]


def test_max_wait_while_ringing_overflows_only_if_the_offer_fails():
    eng = engine([queue(max_wait=20, overflow="voicemail")], [agent("a1")])
    eng.agent_ready(0, "a1")
    eng.enqueue(10, call("c1"))
    eng.enqueue(10, call("c2"))
    (o,) = offers(eng)
    eng.advance(31)                                               # c1 rings at the deadline, c2 waits
    assert eng.calls["c1"].state is CallState.RINGING and "c2" not in eng.calls
    eng.offer_failed(32, "c1", "a1", "noanswer", o.offer_id)
    assert "c1" not in eng.calls
    assert act.CallerReleased("c1", Outcome.VOICEMAIL, None) in eng.actions


def test_max_length_rejects_to_overflow_target():
    log = []
    eng = engine([queue(max_length=2, overflow="voicemail")], [agent("a1")], log=log)
    for i in range(3):
        eng.enqueue(i, call(f"c{i}"))
    assert set(eng.calls) == {"c0", "c1"}
    assert events(log, "OVERFLOW") == [("OVERFLOW", "c2", "NONE", "voicemail", "", "full", "0")]


def test_join_and_leave_when_no_agent_is_logged_in():
    log = []
    eng = engine([queue(join_when_empty=False, leave_when_empty=True, overflow="voicemail")],
                 [agent("a1")], log=log)
    eng.enqueue(0, call("c0"))
    assert "c0" not in eng.calls                                    # nobody logged in: refused
    eng.agent_not_ready(1, "a1", "break")                           # logged in, not ready: may join
    eng.enqueue(2, call("c1"))
    assert eng.position("c1") == 1
    eng.agent_logged_out(5, "a1")                                   # last member leaves: callers leave
    assert "c1" not in eng.calls
    assert [e[:2] for e in events(log, "OVERFLOW", "EXITEMPTY")] == [
        ("OVERFLOW", "c0"), ("EXITEMPTY", "c1"), ("OVERFLOW", "c1")]


def test_callback_keeps_its_place_and_is_offered_agent_first():
    log = []
    eng = engine([queue(wrapup_time=0)], [agent("a1")], log=log)
    for i in range(3):
        eng.enqueue(i, call(f"c{i}"))
    assert eng.request_callback(5, "c0", "13912345678")
    assert eng.position("c0") == 1 and eng.position("c1") == 2     # still first in line
    eng.advance(10_000)                                            # callbacks never time out
    assert "c0" in eng.calls
    eng.agent_ready(20, "a1")
    (o,) = offers(eng)
    assert o.call_id == "c0" and o.callback and o.callback_number == "13912345678"
    assert eng.offer_answered(25, "c0", "a1", o.offer_id)          # agent first, then the customer
    assert eng.caller_hung_up(26, "c1")                            # c1 gives up meanwhile
    assert eng.callback_failed(40, "c0")
    assert events(log, "CALLBACK", "CALLBACKFAILED") == [
        ("CALLBACK", "c0", "NONE", "13912345678", "1", "5", ""),
        ("CALLBACKFAILED", "c0", "a1", "13912345678", "", "", "")]
    (o2,) = offers(eng)
    assert o2.call_id == "c2"


def test_overflow_to_callback_when_caller_number_known():
    eng = engine([queue(max_wait=30, overflow="callback")], [agent("a1")])
    eng.enqueue(0, call("c1"))
    eng.advance(30)
    assert eng.calls["c1"].callback and eng.position("c1") == 1
    assert act.CallerReleased("c1", Outcome.CALLBACK) in eng.actions


def test_voicemail_key_and_transfer_are_logged():
    log = []
    eng = engine([queue(wrapup_time=0)], [agent("a1")], log=log)
    eng.enqueue(0, call("c0"))
    eng.enqueue(1, call("c1"))
    assert eng.leave_with_key(9, "c1", "1")
    eng.agent_ready(10, "a1")
    (o,) = offers(eng)
    eng.offer_answered(12, "c0", "a1")
    assert eng.transferred(100, "c0", "8002", "hotline-internal")
    assert events(log, "EXITWITHKEY", "TRANSFER") == [
        ("EXITWITHKEY", "c1", "NONE", "1", "2", "2", "8"),
        ("TRANSFER", "c0", "a1", "8002", "hotline-internal", "12", "88")]


def test_complete_caller_and_agent():
    log = []
    eng = engine([queue(wrapup_time=0)], [agent("a1")], log=log)
    eng.agent_ready(0, "a1")
    eng.enqueue(10, call("c0"))
    serve(eng, 13, "c0", talk=40, by="caller")
    eng.enqueue(60, call("c1"))
    serve(eng, 61, "c1", talk=20, by="agent")
    assert events(log, "COMPLETECALLER", "COMPLETEAGENT") == [
        ("COMPLETECALLER", "c0", "a1", "3", "40", "1", ""), ("COMPLETEAGENT", "c1", "a1", "1", "20", "1", "")]
    assert eng.agents["a1"].calls_taken == 2 and eng.agents["a1"].talk_time == 60


def test_estimated_wait_uses_position_staff_and_handle_time():
    eng = engine([queue(wrapup_time=10, default_handle_time=120)], [agent("a1"), agent("a2")])
    for i in range(5):
        eng.enqueue(i, call(f"c{i}"))
    assert eng.estimated_wait("c4") == 5 * 120                  # nobody staffed: counted as one agent
    eng.agent_ready(10, "a1")
    eng.agent_ready(10, "a2")
    offers(eng)
    assert eng.position("c4") == 3
    assert eng.estimated_wait("c4") == 2 * 120                  # ceil(3 / 2) rounds of 120 s


def test_without_a_callback_dialer_a_callback_request_leaves_with_the_key():
    log = []
    eng = engine([queue(max_wait=30, overflow="callback")], [agent("a1")], log=log)
    eng.keep_callbacks = False
    eng.enqueue(0, call("c1"))
    eng.enqueue(1, call("c2"))
    assert eng.request_callback(5, "c1", key="2")
    assert "c1" not in eng.calls and act.CallFinished("c1", Outcome.CALLBACK) in eng.actions
    eng.advance(31)                                   # c2 overflows "callback": released, not kept
    assert "c2" not in eng.calls and act.CallerReleased("c2", Outcome.CALLBACK, None) in eng.actions
    assert [e[0] for e in events(log)] == ["ENTERQUEUE", "ENTERQUEUE", "EXITWITHKEY", "EXITWITHTIMEOUT", "OVERFLOW"]


def test_when_the_directory_times_wrapup_the_engine_waits_for_it():
    log = []
    eng = engine([queue(wrapup_time=5)], [agent("a1"), agent("a2")], log=log)
    eng.own_wrapup_timer = False
    for a in ("a1", "a2"):
        eng.agent_ready(0, a)
    eng.enqueue(1, call("c1"))
    eng.enqueue(1, call("c2"))
    offers(eng)
    serve(eng, 2, "c1", talk=10)
    assert [a for a in eng.actions if isinstance(a, act.WrapupStarted)] == [act.WrapupStarted("a1", "sales")]
    assert eng.next_deadline() is None                            # no timer of its own
    eng.advance(1000)
    assert eng.agents["a1"].state is AgentState.WRAPUP
    assert eng.wrapup_ended(1000, "a1") and eng.agents["a1"].state is AgentState.READY
    # the directory's not-ready during wrap-up ends it now (CTI went wrap-up -> not-ready)
    serve(eng, 2, "c2", talk=10)
    eng.agent_not_ready(20, "a2", "meal")
    assert (eng.agents["a2"].state, eng.agents["a2"].reason) == (AgentState.NOT_READY, "meal")
    # its ready while the call still runs (CTI saw the end first) is kept; after the call the directory confirms
    eng.enqueue(1001, call("c3"))
    (o,) = offers(eng)
    assert eng.offer_answered(1002, "c3", o.agent_id)
    eng.agent_ready(1003, o.agent_id)
    assert eng.agents[o.agent_id].state is AgentState.BUSY
    assert eng.call_ended(1004, "c3")
    assert eng.agents[o.agent_id].state is AgentState.WRAPUP    # until the directory confirms (WrapupStarted)
    eng.agent_ready(1004, o.agent_id)
    assert eng.agents[o.agent_id].state is AgentState.READY
    eng.check_invariants()
