"""The rows of ``rdbtool memory`` as Arrow record batches and a Parquet file: the columns
of ``--jsonl`` (``rows.COLUMNS``) typed as ``rdbtools.formats.arrow`` describes, with
``key_text`` after ``key``. pyarrow is the optional extra ``rdbtools[arrow]``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from rdbtools.formats.arrow import BATCH_ROWS, key_text, pyarrow, write_parquet
from rdbtools.memory.rows import MemoryRow

__all__ = ["memory_batches_of", "memory_schema", "write_memory_parquet"]


def memory_schema() -> Any:
    """The columns of ``memory --jsonl`` (``rdbtools.memory.rows.COLUMNS``), typed, with
    ``key_text`` after ``key``."""
    pa = pyarrow()
    return pa.schema([
        ("file", pa.string()),
        ("db", pa.int64()),
        ("key", pa.binary()),
        ("key_text", pa.string()),
        ("type", pa.string()),
        ("encoding", pa.string()),
        ("memory", pa.int64()),
        ("size", pa.int64()),
        ("elements", pa.int64()),
        ("largest_element", pa.int64()),
        ("expire_at_ms", pa.timestamp("ms", tz="UTC")),
        ("idle", pa.int64()),
        ("freq", pa.int64()),
    ])


def memory_batches_of(rows: Iterable[MemoryRow], *,
                      batch_rows: int = BATCH_ROWS) -> Iterator[Any]:
    """``rows`` as ``pyarrow.RecordBatch`` objects of at most ``batch_rows`` rows each."""
    schema = memory_schema()
    pa = pyarrow()
    chunk: list[MemoryRow] = []

    def batch() -> Any:
        keys = [r.key for r in chunk]
        return pa.RecordBatch.from_arrays([
            pa.array([r.file for r in chunk], pa.string()),
            pa.array([r.db for r in chunk], pa.int64()),
            pa.array(keys, pa.binary()),
            pa.array([key_text(k) for k in keys], pa.string()),
            pa.array([r.type for r in chunk], pa.string()),
            pa.array([r.encoding for r in chunk], pa.string()),
            pa.array([r.memory for r in chunk], pa.int64()),
            pa.array([r.size for r in chunk], pa.int64()),
            pa.array([r.elements for r in chunk], pa.int64()),
            pa.array([r.largest_element for r in chunk], pa.int64()),
            pa.array([r.expire_at_ms for r in chunk], pa.timestamp("ms", tz="UTC")),
            pa.array([r.idle for r in chunk], pa.int64()),
            pa.array([r.freq for r in chunk], pa.int64()),
        ], schema=schema)

    for row in rows:
        chunk.append(row)
        if len(chunk) >= batch_rows:
            yield batch()
            chunk = []
    if chunk:
        yield batch()


def write_memory_parquet(rows: Iterable[MemoryRow], out: BinaryIO) -> int:
    """Write ``rows`` to ``out`` as one Parquet file of ``memory_schema``, a row group at a
    time; return the number of rows."""
    return write_parquet(memory_batches_of(rows), out, memory_schema())
