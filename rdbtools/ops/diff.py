"""``diff``: the semantic difference between two snapshots (RDB files or AOFs).

Both inputs are read as key events, each key folded into a canonical form that does not
depend on the encoding the file chose (``rdbtools.diff._canon``), the two key streams
joined by ``(db, key)`` within a memory budget (``rdbtools.diff._spill``) and each pair
compared (``rdbtools.diff._compare``). Function libraries are compared by name. The
result is a stream of ``Change`` records; the generator's return value is the
``DiffSummary``::

    gen = diff_files("old.rdb", "new.rdb")
    changes = list(gen)            # or: summary = yield from diff_files(...)

What is held in memory: the keys of A up to ``memory_budget`` bytes (beyond that they
go to temporary partition files, and one partition of A at a time is held), one key of
B, and while two keys are compared, both whole. A single key is never split: comparing
a 10-million-element list holds both lists.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence

from rdbtools.clock import now_ms
from rdbtools.diff import (
    CHANGE_KINDS,
    Change,
    DiffSummary,
    Join,
    Options,
    PrefixCounts,
    PrefixRow,
    canonical_rows,
    compare_rows,
)
from rdbtools.events import Event
from rdbtools.ops._glob import compile_glob
from rdbtools.ops.filters import KeyFilter
from rdbtools.ops.inputs import open_input

__all__ = ["CHANGE_KINDS", "Change", "DiffSummary", "PrefixRow", "diff_events",
           "diff_files", "open_snapshot"]

DEFAULT_BUDGET = 256 << 20
"""The default memory budget of the join (bytes)."""


def open_snapshot(path: str, *, verify: bool = True,
                  key_filter: KeyFilter | None = None) -> Iterator[Event]:
    """The key events of the snapshot at ``path``: an RDB file (``-``: standard input),
    or an AOF replayed into the keyspace it builds (``rdbtools.ops.inputs``)."""
    return open_input(path, verify=verify, key_filter=key_filter)


def diff_files(a: str, b: str, *, verify: bool = True, key_filter: KeyFilter | None = None,
               ignore_ttl: bool = False, ignore_stream_times: bool = False,
               keys_only: bool = False, memory_budget: int = DEFAULT_BUDGET,
               tmpdir: str | None = None, exclude: Sequence[bytes] = (),
               summary_depth: int | None = None,
               ) -> Generator[Change, None, DiffSummary]:
    """The changes from snapshot ``a`` to snapshot ``b`` (paths, see ``open_snapshot``),
    both read through ``key_filter``; returns the ``DiffSummary``. See ``diff_events``.
    "Now" for ``no_expired`` is taken once, so both sides drop the same keys."""
    if key_filter is not None and key_filter.no_expired and key_filter.now_ms is None:
        key_filter = dataclasses.replace(key_filter, now_ms=now_ms())
    return diff_events(
        open_snapshot(a, verify=verify, key_filter=key_filter),
        open_snapshot(b, verify=verify, key_filter=key_filter),
        ignore_ttl=ignore_ttl, ignore_stream_times=ignore_stream_times, keys_only=keys_only,
        memory_budget=memory_budget, tmpdir=tmpdir, exclude=exclude,
        summary_depth=summary_depth,
    )


def _excluder(globs: Sequence[bytes]) -> Callable[[bytes], bool] | None:
    """Whether a key matches one of the Redis-style ``globs`` (``None`` for none)."""
    if not globs:
        return None
    patterns = [compile_glob(g).fullmatch for g in globs]
    return lambda key: any(m(key) is not None for m in patterns)


def diff_events(a: Iterable[Event], b: Iterable[Event], *, ignore_ttl: bool = False,
                ignore_stream_times: bool = False, keys_only: bool = False,
                memory_budget: int = DEFAULT_BUDGET, tmpdir: str | None = None,
                exclude: Sequence[bytes] = (), summary_depth: int | None = None,
                ) -> Generator[Change, None, DiffSummary]:
    """The changes from the events of snapshot ``a`` to those of ``b``.

    Per key present on one side only: one ``added`` / ``removed`` change (``a`` / ``b``
    the type). Per key on both sides: ``type`` (and then no value changes), ``ttl``
    unless ``ignore_ttl`` (which ignores hash field TTLs too), then the value changes;
    ``ignore_stream_times`` leaves out PEL delivery times and consumers' seen and
    active times, which a server sets from its clock when it loads an AOF.
    With ``keys_only``, one change per differing key, with no path and no values: the
    kind of its first change when that is about the whole key, else ``value``. Function
    libraries come last, with ``db`` ``None``, ``key`` the library name and the path
    ``("library",)`` (none with ``keys_only``). Changes of
    one key come together; keys come in the order of B, then A's keys B lacks (per
    partition when the join spilled).

    ``exclude``: Redis-style globs (``rdbtools.ops._glob``); a key matching any of them
    is left out on both sides. ``summary_depth``: also count the differing keys by
    key prefix of that many ``:``-separated parts and type (``DiffSummary.prefixes``,
    see ``rdbtools.diff._prefixes``)."""
    opts = Options(ignore_ttl=ignore_ttl, ignore_stream_times=ignore_stream_times)
    functions_a: dict[bytes, bytes] = {}
    functions_b: dict[bytes, bytes] = {}
    skip = _excluder(exclude)
    counts = PrefixCounts(summary_depth) if summary_depth is not None else None
    join = Join(canonical_rows(a, functions_a, skip), canonical_rows(b, functions_b, skip),
                memory_budget, tmpdir)
    equal = changed = only_a = only_b = count = 0
    for ra, rb in join.pairs():
        if ra is None:
            assert rb is not None
            only_b += 1
            count += 1
            if counts is not None:
                counts.add("added", rb[1], rb[2])
            yield Change(rb[0], rb[1], "added", (), None, rb[2] if not keys_only else None)
        elif rb is None:
            only_a += 1
            count += 1
            if counts is not None:
                counts.add("removed", ra[1], ra[2])
            yield Change(ra[0], ra[1], "removed", (), ra[2] if not keys_only else None, None)
        elif ra[4] == rb[4] and ra[2] == rb[2] and (ignore_ttl or ra[3] == rb[3]):
            equal += 1
        else:
            changes = compare_rows(ra, rb, opts)
            if not changes:
                equal += 1
                continue
            changed += 1
            if counts is not None:
                counts.add("changed", rb[1], rb[2])
            if keys_only:
                count += 1
                first = changes[0]
                yield Change(ra[0], ra[1], first.change if not first.path else "value")
            else:
                count += len(changes)
                yield from changes
    f_equal = f_changed = 0
    for name, code, other in _libraries(functions_a, functions_b):
        if code == other:
            f_equal += 1
            continue
        f_changed += 1
        kind = "added" if code is None else "removed" if other is None else "value"
        if keys_only:
            yield Change(None, name, kind)
        else:
            yield Change(None, name, kind, ("library",), code, other)
    return DiffSummary(keys_equal=equal, keys_changed=changed, only_a=only_a, only_b=only_b,
                       changes=count + f_changed, functions_equal=f_equal,
                       functions_changed=f_changed, spilled=join.spilled,
                       prefixes=counts.rows() if counts is not None else ())


def _libraries(a: dict[bytes, bytes], b: dict[bytes, bytes]
               ) -> Iterator[tuple[bytes, bytes | None, bytes | None]]:
    """``(name, code in A, code in B)`` for every library of either side, A's first."""
    for name, code in a.items():
        yield name, code, b.get(name)
    for name, code in b.items():
        if name not in a:
            yield name, None, code


def collect(gen: Generator[Change, None, DiffSummary]) -> tuple[list[Change], DiffSummary]:
    """Every change of a diff and its summary (for small inputs)."""
    changes: list[Change] = []
    while True:
        try:
            changes.append(next(gen))
        except StopIteration as stop:
            summary: DiffSummary = stop.value
            return changes, summary

