"""Output buffers: collect small pieces, write them to the binary file in large blocks."""

from __future__ import annotations

from typing import BinaryIO

BLOCK = 1 << 16
"""Bytes (about) collected before one write to the output file."""


class TextSink:
    """Collects ``str`` pieces and writes them UTF-8 encoded."""

    def __init__(self, out: BinaryIO, block: int = BLOCK) -> None:
        self._out = out
        self._block = block
        self._parts: list[str] = []
        self._size = 0

    def emit(self, text: str) -> None:
        """Add ``text``; write out when a block is full."""
        self._parts.append(text)
        self._size += len(text)
        if self._size >= self._block:
            self.flush()

    def flush(self) -> None:
        """Write everything collected so far (the file object's own buffer still applies)."""
        if self._parts:
            self._out.write("".join(self._parts).encode("utf-8"))
            self._parts = []
            self._size = 0


class BytesSink:
    """Collects ``bytes`` pieces and writes them as they are."""

    def __init__(self, out: BinaryIO, block: int = BLOCK) -> None:
        self._out = out
        self._block = block
        self._parts: list[bytes] = []
        self._size = 0

    def emit(self, data: bytes) -> None:
        """Add ``data``; write out when a block is full."""
        self._parts.append(data)
        self._size += len(data)
        if self._size >= self._block:
            self.flush()

    def flush(self) -> None:
        """Write everything collected so far."""
        if self._parts:
            self._out.write(b"".join(self._parts))
            self._parts = []
            self._size = 0
