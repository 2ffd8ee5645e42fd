"""The ``#TS:<unix time>`` annotations a server writes into an AOF
(``aof-timestamp-enabled``, Redis 7.0+), and which of them are times at all."""

from __future__ import annotations

MAX_TIMESTAMP = 253402300799
"""The last second of the year 9999. The server writes ``#TS:<time(NULL)>``; an
annotation beyond this is not a time any clock wrote: it is reported and left out of
timelines (the server itself skips every annotation when it loads)."""


def timestamp_note(path: str, count: int, first: int, offset: int | None) -> str:
    """The one-line report of ``count`` ``#TS:`` annotations of ``path`` beyond
    ``MAX_TIMESTAMP``, the first of which holds ``first`` (before the command at
    ``offset`` when known)."""
    digits = str(first)
    shown = digits if len(digits) <= 24 else f"{digits[:12]}... ({len(digits)} digits)"
    before = f" (before the command at offset {offset})" if offset is not None else ""
    return (f"{path}: #TS:{shown}{before} is not a time (beyond the year 9999): "
            f"{count} such annotation(s) left out of the timestamps")
