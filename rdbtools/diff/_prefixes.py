"""``diff --summary``: differing keys counted by key prefix and type.

A key's prefix is its first ``depth`` parts split on ``separator``, with the separator
after them when the key goes on (``bull:emails:17`` at depth 2 is ``bull:emails:``); a
key of at most ``depth`` parts is its own prefix. The type is B's (A's for a key only
in A). At most ``max_rows`` (prefix, type) rows are kept; keys of further prefixes are
counted in the row ``(other)`` of their type, so memory is bounded whatever the keys.
"""

from __future__ import annotations

from dataclasses import dataclass

OTHER = b"(other)"
MAX_ROWS = 10_000
KINDS = ("changed", "added", "removed")


@dataclass(frozen=True, slots=True)
class PrefixRow:
    """Keys of one ``prefix`` and ``type`` that differ: ``changed`` (in both files),
    ``added`` (only in B), ``removed`` (only in A)."""

    prefix: bytes
    type: str
    changed: int = 0
    added: int = 0
    removed: int = 0


def key_prefix(key: bytes, separator: bytes, depth: int) -> bytes:
    """The first ``depth`` parts of ``key`` and the separator after them, or the whole key
    when it has no more parts."""
    parts = key.split(separator, depth)
    if len(parts) <= depth:
        return key
    return separator.join(parts[:depth]) + separator


class PrefixCounts:
    """Counts of differing keys by (prefix, type)."""

    def __init__(self, depth: int, separator: bytes = b":", max_rows: int = MAX_ROWS) -> None:
        self.depth = depth
        self.separator = separator
        self.max_rows = max_rows
        self.counts: dict[tuple[bytes, str], list[int]] = {}

    def add(self, kind: str, key: bytes, tp: str) -> None:
        """Count one key: ``kind`` one of ``KINDS``."""
        where = (key_prefix(key, self.separator, self.depth), tp)
        row = self.counts.get(where)
        if row is None:
            if len(self.counts) >= self.max_rows:
                where = (OTHER, tp)
                row = self.counts.get(where)
            if row is None:
                row = self.counts[where] = [0, 0, 0]
        row[KINDS.index(kind)] += 1

    def rows(self) -> tuple[PrefixRow, ...]:
        """The rows by prefix, then type; ``(other)`` last."""
        order = sorted(self.counts, key=lambda pt: (pt[0] == OTHER, pt))
        return tuple(PrefixRow(p, t, *self.counts[p, t]) for p, t in order)
