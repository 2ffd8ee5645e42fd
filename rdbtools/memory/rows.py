"""One row of ``rdbtool memory``: a key, what it is, and what it costs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MemoryRow:
    """A key's memory estimate and shape.

    ``memory`` is the estimated bytes the key costs in a running server (what
    ``MEMORY USAGE key SAMPLES 0`` reports, FORMAT.md §10); ``size`` the bytes of its
    serialized record; ``encoding`` the in-memory encoding the server would use after
    loading the key; ``elements`` the element count (bytes for a string, as ``info``
    counts them; entries for a stream); ``largest_element`` the byte length of its
    longest element (the value for a string); ``expire_at_ms`` the absolute expiry,
    ``idle`` / ``freq`` the LRU / LFU attributes when the file has them; ``file`` the
    input the key came from.
    """

    file: str
    db: int
    key: bytes
    type: str
    encoding: str
    memory: int
    size: int
    elements: int
    largest_element: int
    expire_at_ms: int | None = None
    idle: int | None = None
    freq: int | None = None

COLUMNS = (
    "file", "db", "key", "type", "encoding", "memory", "size", "elements",
    "largest_element", "expire_at_ms", "idle", "freq",
)
"""The CSV / JSON Lines column order."""
