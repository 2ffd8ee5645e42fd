"""A bounded histogram of non-negative integers for percentiles.

Values below 1024 are counted exactly; larger values are rounded down to their 10 most
significant bits (relative error under 0.2%). The number of buckets is therefore at most
1024 + 512 per power of two, however many values are added.
"""

from __future__ import annotations

import math

EXACT_BELOW = 1024


def bucket(value: int) -> int:
    """The bucket (its lower bound) that ``value`` falls into."""
    if value < EXACT_BELOW:
        return value
    shift = value.bit_length() - 10
    return (value >> shift) << shift


class Histogram:
    """Counts values in buckets; reports count, min, max (exact) and percentiles."""

    def __init__(self) -> None:
        self._buckets: dict[int, int] = {}
        self.count = 0
        self.min: int | None = None
        self.max: int | None = None

    def add(self, value: int) -> None:
        """Count one value."""
        if value < EXACT_BELOW:
            b = value
        else:
            shift = value.bit_length() - 10
            b = (value >> shift) << shift
        buckets = self._buckets
        buckets[b] = buckets.get(b, 0) + 1
        self.count += 1
        if self.min is None:
            self.min = self.max = value
        elif value < self.min:
            self.min = value
        elif value > self.max:  # type: ignore[operator]
            self.max = value

    def percentile(self, q: float) -> int | None:
        """The nearest-rank ``q``-th percentile (0 < q <= 100): the smallest bucket value
        such that at least ``q`` percent of the values fall at or below it (``None`` when
        empty). The maximum is reported exactly."""
        if self.count == 0:
            return None
        rank = max(1, math.ceil(self.count * q / 100))
        seen = 0
        for b in sorted(self._buckets):
            seen += self._buckets[b]
            if seen >= rank:
                return self.max if self.max is not None and b >= bucket(self.max) else b
        return self.max
