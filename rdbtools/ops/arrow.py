"""The rows of ``memory`` and ``dump`` as Arrow record batches and Parquet files, for an
engine that maps over many snapshots (DuckDB, Spark, Dask, Ray): schemas and types in
``rdbtools.formats.arrow``, the DuckDB walk-through in ``docs/fleet.md``.

pyarrow is the optional extra ``rdbtools[arrow]``; without it every function here raises
``MissingExtra``. Inputs are opened as every command opens them (``open_input``: a path,
a URL, ``-``, compressed or not).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from rdbtools.events import Event
from rdbtools.formats.arrow import BATCH_ROWS, DumpBatches, pyarrow, write_parquet
from rdbtools.memory.arrow import memory_batches_of, memory_schema
from rdbtools.ops.filters import KeyFilter
from rdbtools.ops.inputs import open_input
from rdbtools.ops.memory import memory_rows

__all__ = ["dump_parquet", "memory_batches", "memory_table"]


def memory_batches(path: str, *, version: str | None = None, allocator: str | None = None,
                   key_filter: KeyFilter | None = None, verify: bool = True,
                   batch_rows: int = BATCH_ROWS) -> Iterator[Any]:
    """The ``memory`` rows of the file at ``path`` as ``pyarrow.RecordBatch`` objects
    (columns: ``rdbtools.memory.arrow.memory_schema``), read as they are needed."""
    pyarrow()  # fail before opening anything when pyarrow is missing
    events = open_input(path, verify=verify, key_filter=key_filter)
    rows = memory_rows(events, file=path, version=version, allocator=allocator)
    return memory_batches_of(rows, batch_rows=batch_rows)


def memory_table(path: str, *, version: str | None = None, allocator: str | None = None,
                 key_filter: KeyFilter | None = None, verify: bool = True) -> Any:
    """The ``memory`` rows of the file at ``path`` as one ``pyarrow.Table`` (held whole:
    for a big file, iterate ``memory_batches`` instead)."""
    pa = pyarrow()
    batches = memory_batches(path, version=version, allocator=allocator,
                             key_filter=key_filter, verify=verify)
    return pa.Table.from_batches(list(batches), schema=memory_schema())


def dump_parquet(inputs: Iterable[tuple[str, Iterable[Event]]], out: BinaryIO) -> int:
    """Write every key and file-level record of every ``(file, events)`` input to
    ``out`` as one Parquet file (columns: ``rdbtools.formats.arrow.dump_schema``), a row
    group at a time; return the number of keys."""
    builder = DumpBatches()

    def batches() -> Iterator[Any]:
        for file, events in inputs:
            builder.file = file
            for ev in events:
                builder.write(ev)
                if builder.full:
                    yield builder.take()
        last = builder.take()
        if last is not None:
            yield last

    write_parquet(batches(), out, builder.schema)
    return builder.keys
