"""What ``diff`` reports: one ``Change`` per difference, and a ``DiffSummary``.

A ``Change`` names the key (``db``, ``key``; ``db`` is ``None`` for a function library,
whose name is in ``key``), what kind of change it is, where inside the value (``path``)
and the value at that place on each side (``a``, ``b``; ``None`` where it is absent).
Path elements are ``str`` labels (``"field"``, ``"member"``, ``"entry"`` ...) and stream
ids (``"ms-seq"``), ``bytes`` names (fields, members, groups, consumers) and ``int``
positions. The table of paths and values is in ``docs/diff.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdbtools.diff._prefixes import PrefixRow

CHANGE_KINDS = ("added", "removed", "type", "ttl", "value")
"""``added``: only in B; ``removed``: only in A; ``type``: the key's type differs;
``ttl``: a key's or a hash field's expiry differs; ``value``: a value differs."""

PathItem = str | bytes | int
DiffValue = object
"""``None``, ``bytes``, ``str`` (a type name or a stream id), ``int``, ``float`` or a
tuple of these."""


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between snapshot A and snapshot B."""

    db: int | None
    key: bytes
    change: str
    path: tuple[PathItem, ...] = ()
    a: DiffValue = None
    b: DiffValue = None


@dataclass(frozen=True, slots=True)
class DiffSummary:
    """Counts of a finished diff. Keys are counted once each: equal, changed (present
    on both sides with at least one change), only in A, only in B. ``changes`` counts
    the ``Change`` records (one per differing key with ``keys_only``); function
    libraries are counted apart. ``spilled`` tells whether the join went through
    temporary partition files (the state exceeded the memory budget). ``prefixes``: the
    differing keys by key prefix and type, when a summary was asked for."""

    keys_equal: int = 0
    keys_changed: int = 0
    only_a: int = 0
    only_b: int = 0
    changes: int = 0
    functions_equal: int = 0
    functions_changed: int = 0
    spilled: bool = False
    prefixes: tuple[PrefixRow, ...] = ()

    @property
    def differ(self) -> bool:
        """Whether anything differs."""
        return bool(self.keys_changed or self.only_a or self.only_b or self.functions_changed)
