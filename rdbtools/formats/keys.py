"""Key names, one per line.

A key is written as its raw bytes followed by ``\\n``. A key that holds ``\\n`` or ``\\r``,
or that starts with ``"``, is written instead as a double-quoted string with the escapes
``redis-cli`` uses (``\\n \\r \\t \\a \\b \\\\ \\"`` and ``\\xHH`` for any other byte outside
printable ASCII), so every line is exactly one key and a line that starts with ``"`` is
always a quoted one.
"""

from __future__ import annotations

from typing import BinaryIO

from rdbtools.events import Event, KeyStart
from rdbtools.quoting import quote_key
from rdbtools.sinks import BytesSink


def key_line(key: bytes) -> bytes:
    """The line for ``key`` (raw unless it would break the one-key-per-line rule)."""
    if b"\n" in key or b"\r" in key or key.startswith(b'"'):
        return quote_key(key) + b"\n"
    return key + b"\n"


class KeysWriter:
    """Writes the name of every key of an event stream, one per line."""

    def __init__(self, out: BinaryIO) -> None:
        self._sink = BytesSink(out)
        self.keys = 0
        self.skipped: dict[str, int] = {}

    def write(self, ev: Event) -> None:
        """Write a line for a ``KeyStart``; other events are ignored."""
        if isinstance(ev, KeyStart):
            self._sink.emit(key_line(ev.key))
            self.keys += 1

    def close(self) -> None:
        """Write out what is buffered."""
        self._sink.flush()
