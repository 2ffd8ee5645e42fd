"""Writers that turn an event stream into an output format.

Each writer is built on a binary file object, takes events one at a time through
``write`` and is finished with ``close`` (which flushes but does not close the file).
``keys`` counts the keys written and ``skipped`` counts what the format cannot express,
by kind. Nothing holds a whole file: keys are written as they arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO, Protocol

from rdbtools.events import Event
from rdbtools.formats.json_document import JsonDocumentWriter
from rdbtools.formats.jsonl import JsonlWriter
from rdbtools.formats.keys import KeysWriter
from rdbtools.formats.resp import RespWriter


class EventWriter(Protocol):
    """What every writer provides."""

    keys: int
    skipped: dict[str, int]

    def write(self, ev: Event) -> None:
        """Write one event."""

    def close(self) -> None:
        """Finish the output (flush; the file stays open)."""


WRITERS: dict[str, Callable[[BinaryIO], EventWriter]] = {
    "jsonl": JsonlWriter,
    "json": JsonDocumentWriter,
    "resp": RespWriter,
    "keys": KeysWriter,
}
"""Writer classes by format name."""

__all__ = [
    "WRITERS",
    "EventWriter",
    "JsonDocumentWriter",
    "JsonlWriter",
    "KeysWriter",
    "RespWriter",
]
