"""The domain packages (ivr, cti, acd, recordings) plug into the service shell when they are installed."""
from __future__ import annotations

import importlib
from types import ModuleType


def optional_module(name: str) -> ModuleType | None:
    """Import `name`, or None when that module (or its package) does not exist. Other import errors raise."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
            return None
        raise
