"""A byte sink for one key's encoded value: memory up to a budget, then a temporary file,
so a key of any size can be written once its element count is known (RDB puts counts
before elements)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO

SPOOL_MEMORY = 8 << 20


class Spool:
    __slots__ = ("buf", "file", "size", "budget")

    def __init__(self, budget: int = SPOOL_MEMORY) -> None:
        self.buf = bytearray()
        self.file: IO[bytes] | None = None
        self.size = 0
        self.budget = budget

    def write(self, data: bytes) -> None:
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
        if self.file is not None:
            self.file.close()
            self.file = None
        if self.buf:
            self.buf = bytearray()
