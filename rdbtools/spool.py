"""Bounded-memory buffers for writers that must see a whole key before writing its first
byte: RDB puts a value's counts before its elements, and the JSON form of a string or a
hash depends on all of it.

A ``Spool`` holds bytes in memory up to a budget and in an anonymous temporary file
beyond it. An ``ItemSpool`` holds objects the same way: in a list up to a byte budget,
then, in pickled chunks, in a ``Spool``; iterating gives the items back in order.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from typing import IO, Generic, TypeVar

T = TypeVar("T")

MEMORY_LIMIT = 8 << 20
"""Bytes a spool keeps in memory before it spills to disk."""


class Spool:
    """Bytes written in order: in memory up to ``budget`` bytes (default
    ``MEMORY_LIMIT``), in a temporary file beyond."""

    __slots__ = ("buf", "file", "size", "budget")

    def __init__(self, budget: int | None = None) -> None:
        self.buf = bytearray()
        self.file: IO[bytes] | None = None
        self.size = 0
        self.budget = MEMORY_LIMIT if budget is None else budget

    def write(self, data: bytes) -> None:
        """Append ``data``."""
        self.size += len(data)
        if self.file is not None:
            self.file.write(data)
            return
        self.buf += data
        if len(self.buf) > self.budget:
            self.file = tempfile.TemporaryFile(prefix="rdbtools-spool-")
            self.file.write(self.buf)
            self.buf = bytearray()

    @property
    def spilled(self) -> bool:
        """Whether the bytes went to the temporary file."""
        return self.file is not None

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        """The bytes written, in order."""
        if self.file is None:
            if self.buf:
                yield bytes(self.buf)
            return
        self.file.seek(0)
        while True:
            chunk = self.file.read(size)
            if not chunk:
                return
            yield chunk

    def getvalue(self) -> bytes:
        """Everything written, as one ``bytes`` (only for spools that did not spill)."""
        assert self.file is None, "spilled spool read whole"
        return bytes(self.buf)

    def close(self) -> None:
        """Drop the content and remove the temporary file (``size`` stays what was
        written)."""
        if self.file is not None:
            self.file.close()
            self.file = None
        if self.buf:
            self.buf = bytearray()


class ItemSpool(Generic[T]):
    """An append-only sequence held in memory up to ``limit`` bytes (default
    ``MEMORY_LIMIT``), in a ``Spool`` on disk beyond."""

    def __init__(self, limit: int | None = None) -> None:
        self._limit = MEMORY_LIMIT if limit is None else limit
        self._items: list[T] = []
        self._size = 0
        self._spilled = Spool(0)  # budget 0: the first pickled chunk goes to disk
        self.count = 0

    def append(self, item: T, size: int) -> None:
        """Add ``item``; ``size`` is its approximate weight in bytes."""
        self._items.append(item)
        self._size += size
        self.count += 1
        if self._size > self._limit:
            self._spilled.write(pickle.dumps(self._items, protocol=pickle.HIGHEST_PROTOCOL))
            self._items = []
            self._size = 0

    def __iter__(self) -> Iterator[T]:
        file = self._spilled.file
        if file is not None:
            file.seek(0)
            while True:
                try:
                    chunk: list[T] = pickle.load(file)
                except EOFError:
                    break
                yield from chunk
            file.seek(0, 2)
        yield from self._items

    def close(self) -> None:
        """Drop the content and remove the temporary file."""
        self._spilled.close()
        self._items = []
        self._size = 0
        self.count = 0
