"""``dump``: write an event stream in one of the output formats."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from rdbtools.events import Event
from rdbtools.formats import WRITERS

FORMATS = tuple(WRITERS)
"""The format names ``dump`` accepts: ``jsonl``, ``json``, ``resp``, ``keys``."""


@dataclass(frozen=True)
class DumpSummary:
    """What ``dump`` wrote: the number of keys, and what the format could not express
    (``skipped``: count by kind, e.g. ``{"module keys": 2}`` for RESP)."""

    format: str
    keys: int
    skipped: dict[str, int] = field(default_factory=dict)


def dump(events: Iterable[Event], out: BinaryIO, *, format: str = "jsonl") -> DumpSummary:
    """Write ``events`` to the binary file ``out`` as ``format`` (one of ``FORMATS``).

    Output is written as the events arrive. ``out`` is flushed of the writer's buffers
    but neither flushed at the OS level nor closed. A ``ParseError`` from the reader
    propagates, leaving what was written so far in ``out``.
    """
    try:
        factory = WRITERS[format]
    except KeyError:
        raise ValueError(f"unknown dump format {format!r} (known: {', '.join(FORMATS)})") from None
    writer = factory(out)
    write = writer.write
    for ev in events:
        write(ev)
    writer.close()
    return DumpSummary(format=format, keys=writer.keys, skipped=dict(writer.skipped))
