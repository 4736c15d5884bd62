"""Strategy registry: ``@register("longest-idle")``; a site adds its own module the same way and lists it
under ``strategy_modules`` (imported by ``load_strategy_modules``) before the queues are checked."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Callable, Iterable, TypeVar

if TYPE_CHECKING:
    from acd.strategies.base import Strategy

S = TypeVar("S", bound="type[Strategy]")

_REGISTRY: dict[str, type[Strategy]] = {}


def register(name: str, *aliases: str) -> Callable[[S], S]:
    def decorate(cls: S) -> S:
        for key in (name, *aliases):
            existing = _REGISTRY.get(key)
            if existing is not None and existing is not cls:
                raise ValueError(f"strategy {key!r} is already registered by {existing.__module__}.{existing.__name__}")
            _REGISTRY[key] = cls
        cls.name = name
        return cls
    return decorate


def registered() -> dict[str, type[Strategy]]:
    return dict(_REGISTRY)


def strategy_class(name: str) -> type[Strategy]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown strategy {name!r} (known: {', '.join(sorted(_REGISTRY))})") from None


def load_strategy_modules(modules: Iterable[str]) -> None:
    for module in modules:
        importlib.import_module(module)
