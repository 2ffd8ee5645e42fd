"""``diff --sort``: the output in key order within a memory budget (an external merge sort).

Items are ``(sort key, text)``, one per key (all the lines of that key's changes, which
stay in their order). They are held while they fit ``budget`` bytes; beyond it each full
buffer is sorted and written to a run file (``marshal`` records) in one temporary
directory, and the runs are merged, at most ``FAN_IN`` at a time, so a merge holds one
item per run. The directory is removed when the sort ends, fails or its generator is
closed (Ctrl-C included).
"""

from __future__ import annotations

import heapq
import itertools
import marshal
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from operator import itemgetter

SortKey = tuple[int, int, bytes]
"""``(0, db, key)`` for a key, ``(1, 0, name)`` for a function library: keys by database
then by key bytes, libraries last."""
Item = tuple[SortKey, str]

ITEM_OVERHEAD = 200
"""Bytes an item is counted for besides its key and text (the tuples, the str object,
the list slot)."""
FAN_IN = 64
_BUFFER = 1 << 16
_key = itemgetter(0)


def _cost(item: Item) -> int:
    return len(item[0][2]) + len(item[1]) + ITEM_OVERHEAD


def _write_run(directory: str, n: int, items: Iterable[Item]) -> str:
    path = os.path.join(directory, f"run.{n}")
    with open(path, "wb", buffering=_BUFFER) as fp:
        for item in items:
            marshal.dump(item, fp)
    return path


def _read_run(path: str) -> Iterator[Item]:
    with open(path, "rb", buffering=_BUFFER) as fp:
        while True:
            try:
                item = marshal.load(fp)
            except EOFError:
                return
            yield item


def sorted_items(items: Iterable[Item], budget: int,
                 tmpdir: str | None = None) -> Iterator[Item]:
    """``items`` in the order of their sort keys, holding at most about ``budget`` bytes
    (one item is never split)."""
    held: list[Item] = []
    used = 0
    directory: str | None = None
    runs: list[str] = []
    names = itertools.count()
    try:
        for item in items:
            held.append(item)
            used += _cost(item)
            if used > budget:
                if directory is None:
                    directory = tempfile.mkdtemp(prefix="rdbtool-diff-sort-", dir=tmpdir)
                held.sort(key=_key)
                runs.append(_write_run(directory, next(names), held))
                held.clear()
                used = 0
        held.sort(key=_key)
        if directory is None:
            yield from held
            return
        while len(runs) > FAN_IN:
            first, runs = runs[:FAN_IN], runs[FAN_IN:]
            merged = heapq.merge(*map(_read_run, first), key=_key)
            runs.append(_write_run(directory, next(names), merged))
            for path in first:
                os.unlink(path)
        yield from heapq.merge(iter(held), *map(_read_run, runs), key=_key)
    finally:
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
