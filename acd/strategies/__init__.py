"""Routing strategies, one module each, behind a registry (see registry.py)."""
from acd.strategies.base import (KeyedPool, LazyPool, LazyStrategy, PooledStrategy, SkillPoolStrategy, SortedPoolStrategy,
                                 Strategy, StrategyContext)
from acd.strategies.registry import load_strategy_modules, register, registered, strategy_class
from acd.strategies import (  # noqa: F401  (importing registers them)
    sequential, round_robin, fewest_calls, least_talk_time, longest_idle, skill_based,
    business_based, customer_based, random_choice, weighted_random,
)

__all__ = ["KeyedPool", "LazyPool", "LazyStrategy", "PooledStrategy", "SkillPoolStrategy", "SortedPoolStrategy", "Strategy",
           "StrategyContext", "load_strategy_modules", "register", "registered", "strategy_class"]
