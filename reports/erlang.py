"""Erlang C staffing: how many agents an interval needs to answer its calls within the service level.

A = calls × AHT ÷ interval (traffic in Erlangs). With N > A agents the probability that a caller waits is
    C(N, A) = (A^N/N! · N/(N−A)) / (Σ_{k<N} A^k/k! + A^N/N! · N/(N−A))
and the service level (answered within T seconds) is 1 − C(N, A) · e^{−(N−A)·T/AHT}.
The sums are computed with the Erlang B recursion B(k) = A·B(k−1) / (k + A·B(k−1)), which never overflows.
"""
from __future__ import annotations

import math


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a call waits (1.0 when the agents cannot carry the traffic)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    return agents * b / (agents - traffic * (1 - b))


def service_level(agents: int, traffic: float, aht_s: float, threshold_s: float) -> float:
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    return 1.0 - erlang_c(agents, traffic) * math.exp(-(agents - traffic) * threshold_s / aht_s)


def agents_needed(calls: float, aht_s: float, interval_s: float, *, target: float = 0.8,
                  threshold_s: float = 20.0, max_agents: int = 10_000) -> int:
    """The fewest agents for which the service level reaches the target (0 when there are no calls)."""
    if calls <= 0 or aht_s <= 0:
        return 0
    traffic = calls * aht_s / interval_s

    def enough(agents: int) -> bool:
        return service_level(agents, traffic, aht_s, threshold_s) >= target

    # the service level grows with the agents: widen until enough, then bisect (each try costs O(agents))
    low = max(1, math.floor(traffic) + 1)
    if enough(low):
        return low
    step, high = 1, low + 1
    while high < max_agents and not enough(high):
        low, step = high, step * 2
        high = min(max_agents, high + step)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high
