"""The optional C extension ``rdbtools._speedups`` (blob decoders and runs of
rdb-strings), or ``None`` when it was not built (no C compiler at install time) or
``RDBTOOLS_PURE_PYTHON`` is set. Every user keeps a pure-Python path that gives the same
results; tests/test_speedups.py holds the two to that."""

from __future__ import annotations

import importlib
import os
from typing import Any


def _load() -> Any:
    if os.environ.get("RDBTOOLS_PURE_PYTHON"):
        return None
    try:
        return importlib.import_module("rdbtools._speedups")
    except ImportError:
        return None


speedups: Any = _load()
