"""The reports agree with the demo's own summary, the call-detail records written at each call's end are the
ones a rebuild derives from the stored facts, and an agent's talk time is the sum of their recordings."""
from __future__ import annotations

import json
import sqlite3

from tests.reports.conftest import DAY, db_env, hotline

FIGURES = ("offered", "answered", "abandoned", "service_level", "asa_s", "aht_s")


def report(db, name: str, *args: str) -> dict:
    done = hotline("reports", name, "--from", DAY, "--to", DAY, "--format", "json", *args, env=db_env(db))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def demo_figures(summary: dict) -> dict:
    return {"offered": summary["reached_queue"], **{k: summary[k] for k in FIGURES[1:]}}


def test_kpi_and_interval_reports_give_the_demo_figures(demo_day, demo_db):
    summary, _ = demo_day
    assert summary["answered"] > 0 and summary["abandoned"] > 0          # a day worth comparing
    kpi = {row["kpi"]: row["value"] for row in report(demo_db, "kpi")["rows"]}
    assert {k: kpi[k] for k in FIGURES} == demo_figures(summary)
    assert kpi["calls"] == summary["calls"]
    day = report(demo_db, "interval", "--interval", "1d")["rows"]
    assert len(day) == 1 and {k: day[0][k] for k in FIGURES} == demo_figures(summary)
    hourly = report(demo_db, "interval", "--interval", "1h")["rows"]
    assert len(hourly) == 24
    assert sum(r["offered"] for r in hourly) == summary["reached_queue"]
    assert sum(r["answered"] for r in hourly) == summary["answered"]
    busy = [r for r in hourly if r["offered"]]
    assert all(r["agents_needed"] >= 1 and r["agents_logged_in"] > 0 for r in busy)


def test_per_queue_figures_agree_with_the_demo(demo_day, demo_db):
    summary, _ = demo_day
    for queue, figures in summary["queues"].items():
        kpi = {row["kpi"]: row["value"] for row in report(demo_db, "kpi", "--queue", queue)["rows"]}
        assert {k: kpi[k] for k in FIGURES} == demo_figures(figures), queue


def test_call_details_written_at_call_end_equal_a_rebuild(demo_db):
    columns = "linkedid, arrived_at, queue, offered, answered, abandoned, wait_s, agent_id, talk_s, hold_s, " \
              "wrapup_s, ivr_outcome, ended_how, survey_rating, recording_id, recorded_s, ivr_path"
    with sqlite3.connect(demo_db) as db:
        written = db.execute(f"SELECT {columns} FROM call_details ORDER BY linkedid").fetchall()
        calls = db.execute("SELECT COUNT(DISTINCT linkedid) FROM ivr_calls").fetchone()[0]
        db.execute("DELETE FROM call_details")
    assert len(written) == calls == 20
    done = hotline("reports", "rebuild", "--from", DAY, "--to", DAY, env=db_env(demo_db))
    assert done.returncode == 0, done.stderr
    assert "20 call-detail records written" in done.stderr
    with sqlite3.connect(demo_db) as db:
        rebuilt = db.execute(f"SELECT {columns} FROM call_details ORDER BY linkedid").fetchall()
    assert rebuilt == written


def test_ivr_outcomes_of_the_records_match_the_demo(demo_day, demo_db):
    summary, _ = demo_day
    with sqlite3.connect(demo_db) as db:
        outcomes = dict(db.execute("SELECT ivr_outcome, COUNT(*) FROM call_details GROUP BY ivr_outcome"))
    for key in ("reached_queue", "silent_hangup", "blocked"):
        assert outcomes.get(key, 0) == summary["ivr"][key], (key, outcomes)


def test_an_agents_talk_time_is_the_sum_of_their_recordings(demo_db):
    agents = {row["agent_id"]: row for row in report(demo_db, "agents")["rows"]}
    calls = report(demo_db, "agent-calls")["rows"]
    with sqlite3.connect(demo_db) as db:
        recorded = dict(db.execute("SELECT linkedid, SUM(duration_s) FROM recordings WHERE status = 'complete' "
                                   "GROUP BY linkedid"))
    answered = [c for c in calls if c["ended_how"] == "answered"]
    assert answered and all(c["linkedid"] in recorded for c in answered)
    for agent_id, row in agents.items():
        mine = [c for c in calls if c["agent_id"] == agent_id]
        # the agent report's talk is the sum of the agent's calls (a call back included)
        assert row["talk_s"] == sum(c["talk_s"] for c in mine)
        inbound = [c for c in mine if c["ended_how"] == "answered"]
        assert row["answered"] == len(inbound)
        # talk is Asterisk's calltime in whole seconds: within half a second per call of the recordings
        # (a call back is recorded under the outbound call's own linkedid, so only answered calls compare)
        talk, tape = sum(c["talk_s"] for c in inbound), sum(recorded[c["linkedid"]] for c in inbound)
        assert abs(talk - tape) <= 0.5 * len(inbound), (agent_id, talk, tape)
        assert row["login_s"] > 0 and row["occupancy"] is not None
