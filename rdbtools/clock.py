"""The wall clock in the unit of RDB and AOF expiry times: Unix milliseconds."""

from __future__ import annotations

import time


def now_ms() -> int:
    """The current time in Unix milliseconds."""
    return time.time_ns() // 1_000_000
