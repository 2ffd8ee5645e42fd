"""Bounded-memory buffers for the two cases where a writer must see a whole key before
it can write its first byte (the JSON form of a string or of a hash depends on all of it).

A ``Spool`` keeps items in memory up to a byte budget and moves them, in pickled chunks,
to an anonymous temporary file beyond it; iterating gives the items back in order.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from typing import IO, Generic, TypeVar

T = TypeVar("T")

MEMORY_LIMIT = 8 << 20
"""Bytes a spool keeps in memory before it spills to disk."""


class Spool(Generic[T]):
    """An append-only sequence held in memory up to ``limit`` bytes (default
    ``MEMORY_LIMIT``), on disk beyond."""

    def __init__(self, limit: int | None = None) -> None:
        self._limit = MEMORY_LIMIT if limit is None else limit
        self._items: list[T] = []
        self._size = 0
        self._file: IO[bytes] | None = None
        self.count = 0

    def append(self, item: T, size: int) -> None:
        """Add ``item``; ``size`` is its approximate weight in bytes."""
        self._items.append(item)
        self._size += size
        self.count += 1
        if self._size > self._limit:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="rdbtools-spool-")
            pickle.dump(self._items, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._items = []
            self._size = 0

    def __iter__(self) -> Iterator[T]:
        if self._file is not None:
            self._file.seek(0)
            while True:
                try:
                    chunk: list[T] = pickle.load(self._file)
                except EOFError:
                    break
                yield from chunk
            self._file.seek(0, 2)
        yield from self._items

    def close(self) -> None:
        """Drop the content and remove the temporary file."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._items = []
        self._size = 0
        self.count = 0
