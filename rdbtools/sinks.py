"""Output buffers: collect small pieces, write them to the binary file in large blocks."""

from __future__ import annotations

from typing import BinaryIO, Generic, TypeVar

BLOCK = 1 << 16
"""Bytes (about) collected before one write to the output file."""

P = TypeVar("P", str, bytes)


class _Sink(Generic[P]):
    """Collects pieces; ``flush`` (per subclass) writes them out joined."""

    def __init__(self, out: BinaryIO, block: int = BLOCK) -> None:
        self._out = out
        self._block = block
        self._parts: list[P] = []
        self._size = 0

    def emit(self, piece: P) -> None:
        """Add ``piece``; write out when a block is full."""
        self._parts.append(piece)
        self._size += len(piece)
        if self._size >= self._block:
            self.flush()

    def flush(self) -> None:
        """Write everything collected so far (the file object's own buffer still applies)."""
        raise NotImplementedError


class TextSink(_Sink[str]):
    """Collects ``str`` pieces and writes them UTF-8 encoded."""

    def flush(self) -> None:
        """Write everything collected so far (the file object's own buffer still applies)."""
        if self._parts:
            self._out.write("".join(self._parts).encode("utf-8"))
            self._parts = []
            self._size = 0


class BytesSink(_Sink[bytes]):
    """Collects ``bytes`` pieces and writes them as they are."""

    def flush(self) -> None:
        """Write everything collected so far."""
        if self._parts:
            self._out.write(b"".join(self._parts))
            self._parts = []
            self._size = 0
