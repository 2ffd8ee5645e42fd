"""One progress line on a terminal for long jobs (reads, restores): bytes done of the
total, keys, rate and time left, redrawn in place on stderr at most a few times a second.

Off when stderr is not a terminal or when the user asked for ``--quiet``: then every
call is a no-op, so callers never test for it. The library never draws: operations take
a plain ``progress(done_bytes, keys)`` callback and the command line passes
``Progress.update``.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "human_bytes"]

_REDRAW_S = 0.25


def human_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover - the loop returns at GiB


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """``Progress(total_bytes, label=..., enabled=None)``; ``update(done, keys)``;
    ``close()`` (also as a context manager). ``enabled=None``: on when ``stream`` is a
    terminal. ``total_bytes`` may be ``None`` (a pipe): then no percentage or ETA."""

    def __init__(self, total_bytes: int | None, *, label: str = "",
                 enabled: bool | None = None, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.total = total_bytes if total_bytes and total_bytes > 0 else None
        self.label = label
        self.started = time.monotonic()
        self._last = 0.0
        self._drawn = False
        self.done = 0
        self.keys = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def line(self) -> str:
        """The text of the progress line for what was last reported."""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        parts = [self.label] if self.label else []
        if self.total:
            pct = min(100.0, 100.0 * self.done / self.total)
            parts.append(f"{pct:5.1f}% {human_bytes(self.done)} of {human_bytes(self.total)}")
        else:
            parts.append(human_bytes(self.done))
        parts.append(f"{self.keys:,} keys")
        parts.append(f"{human_bytes(rate)}/s")
        if self.total and rate > 0 and self.done < self.total:
            parts.append(f"ETA {_clock((self.total - self.done) / rate)}")
        return "  ".join(parts)

    def update(self, done_bytes: int, keys: int) -> None:
        """Record progress; redraws when due."""
        self.done = done_bytes
        self.keys = keys
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < _REDRAW_S:
            return
        self._last = now
        self.stream.write("\r\x1b[K" + self.line())
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Erase the line so that what follows starts on a clean line."""
        if self.enabled and self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False
