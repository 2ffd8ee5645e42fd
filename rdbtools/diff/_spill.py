"""The join of two key streams by ``(db, key)`` within a memory budget.

Key order differs between files (it follows each server's hash tables), so the keys of
A are held until B's arrive. ``Join.pairs()`` first reads A into memory. When A fits the
budget, B is streamed against it: memory is A's keys plus one key of B. When A does not
fit, A's keys so far and the rest of A go to ``partitions`` temporary files, chosen by a
hash of ``(db, key)``, B's keys go to files of the same partitions, and each partition
of A is loaded in turn and B's partition streamed against it. A partition of A that
itself outgrows the budget is split again with another hash, down to ``MAX_DEPTH``
levels; one key is never split, so a key bigger than the budget is still held whole.

Spill files hold one record per key: a 30-byte little-endian header (db ``q``, type code
``B``, has-expiry ``B``, expiry ``q``, key length ``I``, value length ``Q``), the key,
then the packed value. They
live in one temporary directory that is removed when the join ends, fails, or its
generator is closed (Ctrl-C included).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from struct import Struct
from typing import BinaryIO

from rdbtools._spec import LOGICAL_TYPES
from rdbtools.diff._canon import KeyRow

ROW_OVERHEAD = 320
"""Bytes a held key is counted for besides its name and packed value. ``tracemalloc``
measured about 190 (the row tuple, the bytes and int objects, the dict slot) on the
benchmark file; the rest covers a dict's growth and the allocator's slack."""
PARTITIONS = 32
MAX_DEPTH = 4
"""Partitioning levels at most: the first split and up to three more."""
_HEAD = Struct("<qBBqIQ")
_TYPE_CODE = {t: i for i, t in enumerate(LOGICAL_TYPES)}
_WRITE_BUFFER = 64 << 10
_READ_BUFFER = 1 << 20

Pair = tuple[KeyRow | None, KeyRow | None]
State = dict[int, dict[bytes, KeyRow]]


def row_cost(row: KeyRow) -> int:
    """The bytes a held row is counted for."""
    return len(row[1]) + len(row[4]) + ROW_OVERHEAD


class _Partitions:
    """``count`` spill files of one side, written through small buffers."""

    def __init__(self, directory: str, name: str, count: int, seed: int) -> None:
        self.paths = [os.path.join(directory, f"{name}.{i}") for i in range(count)]
        self.seed = seed
        self.count = count
        self.files: list[BinaryIO] = []
        try:
            for path in self.paths:
                self.files.append(open(path, "wb", buffering=_WRITE_BUFFER))  # noqa: SIM115
        except BaseException:
            self.close()
            raise

    def add(self, row: KeyRow) -> None:
        db, key, tp, expire, value = row
        fp = self.files[hash((self.seed, db, key)) % self.count]
        head = _HEAD.pack(db, _TYPE_CODE[tp], expire is not None, expire or 0, len(key),
                          len(value))
        if len(value) < _WRITE_BUFFER:  # one call; a big value is not copied
            fp.write(b"".join((head, key, value)))
        else:
            fp.write(head + key)
            fp.write(value)

    def close(self) -> None:
        for fp in self.files:
            fp.close()


def _read_rows(path: str) -> Iterator[KeyRow]:
    with open(path, "rb", buffering=_READ_BUFFER) as fp:
        size = _HEAD.size
        unpack = _HEAD.unpack
        read = fp.read
        while True:
            head = read(size)
            if not head:
                return
            db, tp, has_expire, expire, key_len, value_len = unpack(head)
            yield (db, read(key_len), LOGICAL_TYPES[tp], expire if has_expire else None,
                   read(value_len))


class Join:
    """Pairs the rows of A and B by ``(db, key)``: ``(a, b)``, ``(a, None)`` for a key
    only in A, ``(None, b)`` for one only in B. ``budget`` is the number of bytes the
    held rows may take (``row_cost``)."""

    def __init__(self, rows_a: Iterable[KeyRow], rows_b: Iterable[KeyRow], budget: int,
                 tmpdir: str | None = None, partitions: int = PARTITIONS) -> None:
        self.rows_a = rows_a
        self.rows_b = rows_b
        self.budget = max(1, budget)
        self.tmpdir = tmpdir
        self.partitions = max(2, partitions)
        self.spilled = False
        """Whether the rows went through spill files."""
        self.peak_held = 0
        """The most bytes (``row_cost``) held at once."""

    def pairs(self) -> Iterator[Pair]:
        """Every key of A and B once, paired; A is read whole before the first pair."""
        state: State = {}
        used = 0
        it_a = iter(self.rows_a)
        for row in it_a:
            keys = state.get(row[0])
            if keys is None:
                keys = state[row[0]] = {}
            old = keys.get(row[1])
            keys[row[1]] = row
            used += row_cost(row) - (row_cost(old) if old is not None else 0)
            if used > self.budget:
                self.peak_held = max(self.peak_held, used)
                yield from self._spilled(state, it_a)
                return
        self.peak_held = max(self.peak_held, used)
        yield from _stream_against(state, self.rows_b)

    def _spilled(self, state: State, rest_a: Iterator[KeyRow]) -> Iterator[Pair]:
        self.spilled = True
        directory = tempfile.mkdtemp(prefix="rdbtool-diff-", dir=self.tmpdir)
        try:
            parts_a = _Partitions(directory, "a", self.partitions, 0)
            try:
                for keys in state.values():
                    for row in keys.values():
                        parts_a.add(row)
                state.clear()
                for row in rest_a:
                    parts_a.add(row)
            finally:
                parts_a.close()
            parts_b = _Partitions(directory, "b", self.partitions, 0)
            try:
                for row in self.rows_b:
                    parts_b.add(row)
            finally:
                parts_b.close()
            for path_a, path_b in zip(parts_a.paths, parts_b.paths):
                yield from self._partition(directory, path_a, path_b, 1)
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def _partition(self, directory: str, path_a: str, path_b: str, depth: int) -> Iterator[Pair]:
        state: State = {}
        used = rows = 0
        for row in _read_rows(path_a):
            state.setdefault(row[0], {})[row[1]] = row
            used += row_cost(row)
            rows += 1
            if used > self.budget and rows > 1 and depth < MAX_DEPTH:
                state.clear()
                yield from self._split(directory, path_a, path_b, depth)
                return
        self.peak_held = max(self.peak_held, used)
        os.unlink(path_a)
        yield from _stream_against(state, _read_rows(path_b))
        os.unlink(path_b)

    def _split(self, directory: str, path_a: str, path_b: str, depth: int) -> Iterator[Pair]:
        names = []
        for path in (path_a, path_b):
            parts = _Partitions(directory, os.path.basename(path), self.partitions, depth)
            try:
                for row in _read_rows(path):
                    parts.add(row)
            finally:
                parts.close()
            os.unlink(path)
            names.append(parts.paths)
        for sub_a, sub_b in zip(*names):
            yield from self._partition(directory, sub_a, sub_b, depth + 1)


def _stream_against(state: State, rows_b: Iterable[KeyRow]) -> Iterator[Pair]:
    """Pairs of ``rows_b`` with the held rows of A, then A's rows that B lacks."""
    empty: dict[bytes, KeyRow] = {}
    for row in rows_b:
        yield state.get(row[0], empty).pop(row[1], None), row
    for keys in state.values():
        for row in keys.values():
            yield row, None
    state.clear()
