"""Erlang C against the textbook example: 10 Erlangs (e.g. 200 calls an hour of 180 s), 80 % within 20 s."""
from __future__ import annotations

import pytest

from reports.erlang import agents_needed, erlang_c, service_level


def test_probability_of_waiting_matches_the_erlang_c_table():
    # Erlang C tables: A = 10 Erlangs, N = 11 agents -> P(wait) = 0.6821; N = 12 -> 0.4494; N = 14 -> 0.1741
    assert erlang_c(11, 10.0) == pytest.approx(0.6821, abs=1e-4)
    assert erlang_c(12, 10.0) == pytest.approx(0.4494, abs=1e-4)
    assert erlang_c(14, 10.0) == pytest.approx(0.1741, abs=1e-4)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)          # M/M/1: P(wait) = utilisation
    assert erlang_c(10, 10.0) == 1.0 and erlang_c(5, 0.0) == 0.0


def test_service_level_and_agents_needed_for_the_textbook_hour():
    # SL = 1 - C * exp(-(N - A) * T / AHT): with 11 agents 1 - 0.6821 * e^(-1/9) = 0.3896
    assert service_level(11, 10.0, 180, 20) == pytest.approx(0.3896, abs=1e-4)
    assert service_level(13, 10.0, 180, 20) == pytest.approx(0.7956, abs=1e-4)    # just short of 80 %
    assert service_level(14, 10.0, 180, 20) == pytest.approx(0.8884, abs=1e-4)
    assert agents_needed(200, 180, 3600, target=0.8, threshold_s=20) == 14
    assert agents_needed(100, 180, 1800, target=0.8, threshold_s=20) == 14        # same traffic per half hour
    assert agents_needed(0, 180, 3600) == 0


def test_more_traffic_never_needs_fewer_agents():
    needed = [agents_needed(calls, 240, 900) for calls in range(0, 200, 7)]
    assert needed == sorted(needed)
