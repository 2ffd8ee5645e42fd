"""Allocator size classes: what an allocation of n bytes really occupies (FORMAT.md §10.4).

"Size classes (bytes), 8-byte quantum: 8 16 24 32 40 48 56 64 | 80 96 112 128 | 160 …
Rule: n ≤ 8 → 8; n ≤ 64 → round up to a multiple of 8; otherwise let g = largest power
of two < n, round n up to a multiple of g/4.  With a 16-byte quantum: 8, 16, 32, 48, 64,
80, … (n > 8 rounds up to a multiple of 16 up to 128, then the same rule).
glibc malloc: usable ≈ round_up(n + 8, 16) − 8, min 24."
"""

from __future__ import annotations

from dataclasses import dataclass

ALLOCATORS = ("jemalloc", "jemalloc-q16", "libc")
"""``jemalloc``: the bundled jemalloc of a source build (8-byte quantum, Redis 4.0+);
``jemalloc-q16``: a system jemalloc with its default 16-byte quantum (distribution
packages, and Redis 3.2's bundled copy); ``libc``: glibc malloc (``MALLOC=libc``)."""


def jemalloc_size(n: int, quantum: int = 8) -> int:
    """The jemalloc size class of an ``n``-byte request."""
    if n <= 8:
        return 8
    if quantum == 16:
        if n <= 128:
            return (n + 15) & ~15
    elif n <= 64:
        return (n + 7) & ~7
    g = 1 << ((n - 1).bit_length() - 1)  # largest power of two < n
    step = g >> 2
    return (n + step - 1) // step * step


def libc_size(n: int) -> int:
    """glibc ``malloc_usable_size`` of an ``n``-byte request on 64-bit."""
    return max(24, ((n + 8 + 15) & ~15) - 8)


@dataclass(frozen=True, slots=True)
class Allocator:
    """An allocator: ``name`` (one of ``ALLOCATORS``) and its rounding."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in ALLOCATORS:
            raise ValueError(
                f"unknown allocator {self.name!r} (expected one of {', '.join(ALLOCATORS)})"
            )

    def size(self, n: int) -> int:
        """The usable size the allocator hands out for an ``n``-byte request."""
        if self.name == "libc":
            return libc_size(n)
        return jemalloc_size(n, 16 if self.name == "jemalloc-q16" else 8)
