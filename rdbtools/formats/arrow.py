"""Arrow record batches and Parquet files: the per-key rows of ``memory`` and ``dump``
in a columnar form that DuckDB, Spark, Trino or BigQuery read as they are.

pyarrow is an optional extra (``pip install 'rdbtools[arrow]'``): it is a large binary
package that only these outputs need; without it they raise ``MissingExtra``.

Types: ``key`` is ``binary`` (keys are bytes) with ``key_text`` beside it, the key as
``string`` where it is valid UTF-8 and null elsewhere; counts and sizes are ``int64``;
``expire_at_ms`` (the absolute expiry in Unix milliseconds) is ``timestamp[ms, UTC]``.
Rows are gathered into batches of at most ``BATCH_ROWS`` rows (or ``BATCH_BYTES`` of
JSON text for ``dump``), and each batch becomes one Parquet row group as soon as it is
full, so memory stays bounded however many keys the inputs hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from rdbtools.errors import MissingExtra
from rdbtools.events import (
    Aux,
    End,
    Event,
    Function,
    Header,
    KeyEnd,
    KeyStart,
    ModuleAux,
    SlotImport,
    SlotInfo,
)
from rdbtools.formats._jsonkey import KeyJson
from rdbtools.formats._records import record_json
from rdbtools.memory.rows import MemoryRow

__all__ = ["BATCH_ROWS", "DumpBatches", "dump_schema", "memory_batches_of",
           "memory_schema", "pyarrow", "write_memory_parquet", "write_parquet"]

BATCH_ROWS = 65536
"""Rows per record batch (and Parquet row group)."""
BATCH_BYTES = 64 << 20
"""``dump``: a batch is also closed when its JSON text reaches this many bytes."""


def pyarrow() -> Any:
    """The ``pyarrow`` module (with ``pyarrow.parquet`` loaded), or ``MissingExtra``."""
    try:
        import pyarrow as pa
        import pyarrow.parquet  # noqa: F401 - loads pa.parquet
    except ImportError:
        raise MissingExtra("Arrow and Parquet output need pyarrow", extra="arrow") from None
    return pa


def _key_text(key: bytes) -> str | None:
    try:
        return key.decode("utf-8")
    except UnicodeDecodeError:
        return None


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
            pa.array([_key_text(k) for k in keys], pa.string()),
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


def dump_schema() -> Any:
    """One row per key and per file-level record of ``dump``: ``file``; ``record``
    (null for a key, else ``aux``, ``function`` ... as in ``docs/jsonl-schema.md``); the
    key's ``db``, ``key``, ``key_text``, ``type``, ``encoding`` (as stored in the file),
    ``expire_at_ms``, ``idle``, ``freq`` and ``size`` (bytes of its record); ``json``:
    the object ``dump --jsonl`` writes for it, lossless, so ``rdbtool load`` rebuilds the
    key from it."""
    pa = pyarrow()
    return pa.schema([
        ("file", pa.string()),
        ("record", pa.string()),
        ("db", pa.int64()),
        ("key", pa.binary()),
        ("key_text", pa.string()),
        ("type", pa.string()),
        ("encoding", pa.string()),
        ("expire_at_ms", pa.timestamp("ms", tz="UTC")),
        ("idle", pa.int64()),
        ("freq", pa.int64()),
        ("size", pa.int64()),
        ("json", pa.string()),
    ])


_RECORD_NAMES: dict[type, str] = {
    Aux: "aux", Function: "function", ModuleAux: "module_aux", SlotInfo: "slot_info",
    SlotImport: "slot_import", Header: "header", End: "end",
}
"""The ``record`` column of each file-level event (its ``"record"`` member in JSON)."""
_NO_KEY = (None, None, None, None, None, None, None, None, None)


class DumpBatches:
    """Turns the events of one or more files into ``dump_schema`` record batches: feed
    ``write(ev)`` (after setting ``file``), collect ``take()`` whenever ``full``, and
    ``take()`` once more at the end. One key's JSON text is held at a time, plus the
    rows of the batch being filled."""

    def __init__(self, *, batch_rows: int = BATCH_ROWS, batch_bytes: int = BATCH_BYTES) -> None:
        self.schema = dump_schema()
        self.file = "-"
        self.keys = 0
        self.batch_rows = batch_rows
        self.batch_bytes = batch_bytes
        self._rows: list[tuple[Any, ...]] = []
        self._bytes = 0
        self._parts: list[str] = []
        self._key = KeyJson(self._parts.append)
        self._start: KeyStart | None = None

    @property
    def full(self) -> bool:
        return len(self._rows) >= self.batch_rows or self._bytes >= self.batch_bytes

    def write(self, ev: Event) -> None:
        """Take one event (value events go to the key being read)."""
        if isinstance(ev, KeyStart):
            self._start = ev
            self._key.start(ev)
        elif isinstance(ev, KeyEnd):
            self._key.end(ev)
            ks = self._start
            assert ks is not None
            self._add((self.file, None, ks.db, ks.key, _key_text(ks.key), ks.type,
                       ks.encoding, ks.expire_ms, ks.idle, ks.freq, ev.size))
            self.keys += 1
            self._start = None
        elif self._key.in_key:
            self._key.value(ev)
        else:
            text = record_json(ev)
            if text is not None:
                self._parts.append(text)
                self._add((self.file, _RECORD_NAMES.get(type(ev)), *_NO_KEY))

    def _add(self, meta: tuple[Any, ...]) -> None:
        text = "".join(self._parts)
        self._parts.clear()
        self._rows.append((*meta, text))
        self._bytes += len(text)

    def take(self) -> Any | None:
        """The rows gathered so far as one record batch (``None`` if there are none)."""
        if not self._rows:
            return None
        pa = pyarrow()
        columns = list(zip(*self._rows))
        self._rows = []
        self._bytes = 0
        return pa.RecordBatch.from_arrays(
            [pa.array(list(col), field.type) for col, field in zip(columns, self.schema)],
            schema=self.schema)


def write_memory_parquet(rows: Iterable[MemoryRow], out: BinaryIO) -> int:
    """Write ``rows`` to ``out`` as one Parquet file of ``memory_schema``, a row group at a
    time; return the number of rows."""
    return write_parquet(memory_batches_of(rows), out, memory_schema())


def write_parquet(batches: Iterable[Any], out: BinaryIO, schema: Any) -> int:
    """Write ``batches`` to the binary file ``out`` as one Parquet file of ``schema``,
    each batch a row group as it comes; return the number of rows. ``out`` is neither
    flushed at the OS level nor closed."""
    pa = pyarrow()
    rows = 0
    with pa.parquet.ParquetWriter(out, schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch, row_group_size=batch.num_rows)
            rows += batch.num_rows
    return rows
