"""A window of input split into ``\\r\\n``-terminated lines, and where each line starts."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate

from rdbtools._accel import speedups

FAR = 256
"""Lines from the cursor and from the end beyond which counting is "far"."""


class Lines:
    """``window`` (which starts at byte ``wbase`` of the source) split on ``\\r\\n``.

    Lines ``0 .. nl-1`` are complete; line ``nl`` is what follows the last ``\\r\\n``
    (possibly empty). ``offset(k)`` is where line ``k`` starts; it is counted from a
    cursor (cheap for lines near it; the cursor moves forward) until ``cum()`` exists.
    """

    __slots__ = ("window", "list", "nl", "wbase", "_tuple", "_cum", "_ref", "_ref_off",
                 "_end", "_far")

    def __init__(self, window: bytes, wbase: int) -> None:
        self.window = window
        self.list = window.split(b"\r\n")
        self.nl = len(self.list) - 1
        self.wbase = wbase
        self._tuple: tuple[bytes, ...] | None = None
        self._cum: Sequence[int] | None = None
        self._ref = 0
        self._ref_off = wbase
        self._end = wbase + len(window) - len(self.list[-1])  # where line nl starts
        self._far = 0

    def tuple(self) -> tuple[bytes, ...]:
        """The lines as a tuple (slices of it are the argument tuples)."""
        if self._tuple is None:
            self._tuple = tuple(self.list)
        return self._tuple

    def cum(self) -> Sequence[int]:
        """``cum[k]``: the length of lines ``0 .. k-1`` without their ``\\r\\n``
        (``k <= nl + 1``). With the C extension a view of native 64-bit integers made in
        one pass (``aof_cum``), else a list."""
        if self._cum is None:
            if _c_cum is not None:
                self._cum = memoryview(_c_cum(self.list)).cast("q")
            else:
                self._cum = list(accumulate(map(len, self.list), initial=0))
        return self._cum

    def offset(self, k: int) -> int:
        """Where line ``k`` starts in the source: counted from the end of the window when
        that is nearer, else from the cursor, which moves forward to ``k``; a line far
        behind the cursor twice makes ``cum()``."""
        if self._cum is not None:
            return self.wbase + self._cum[k] + 2 * k
        lines, ref, nl = self.list, self._ref, self.nl
        if k >= ref:
            if nl - k < k - ref:
                return self._end - sum(map(len, lines[k:nl])) - 2 * (nl - k)
            self._ref_off += sum(map(len, lines[ref:k])) + 2 * (k - ref)
            self._ref = k
            return self._ref_off
        if ref - k > FAR:
            self._far += 1
            if self._far > 1:
                return self.wbase + self.cum()[k] + 2 * k
        return self._ref_off - sum(map(len, lines[k:ref])) - 2 * (ref - k)

    def line_after(self, line: int, start: int, end: int) -> int | None:
        """The line that starts at byte ``end``, given that line ``line`` starts at byte
        ``start`` (counting the ``\\r\\n`` between), if one does and is complete."""
        a, b = start - self.wbase, end - self.wbase
        if b > len(self.window) - len(self.list[-1]) or self.window[b - 2:b] != b"\r\n":
            return None
        k = line + self.window.count(b"\r\n", a, b)
        return k if k < self.nl else None


_c_cum = speedups.aof_cum if speedups else None
