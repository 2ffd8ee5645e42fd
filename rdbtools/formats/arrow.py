"""Arrow record batches and Parquet files: the per-key rows of ``dump`` (and, through
``rdbtools.memory.arrow``, of ``memory``) in a columnar form that DuckDB, Spark, Trino
or BigQuery read as they are.

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

from collections.abc import Callable, Iterable
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

__all__ = ["BATCH_ROWS", "DumpBatches", "dump_schema", "key_text", "pyarrow", "write_parquet"]

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


def key_text(key: bytes) -> str | None:
    """The ``key_text`` column: ``key`` as text where it is valid UTF-8, else null."""
    try:
        return key.decode("utf-8")
    except UnicodeDecodeError:
        return None


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
        self._on: dict[type, Callable[[Any], None]] = {KeyStart: self._key_start,
                                                       KeyEnd: self._key_end}

    @property
    def full(self) -> bool:
        return len(self._rows) >= self.batch_rows or self._bytes >= self.batch_bytes

    def write(self, ev: Event) -> None:
        """Take one event (value events go to the key being read)."""
        on = self._on.get(type(ev))
        if on is not None:
            on(ev)
        elif self._key.in_key:
            self._key.value(ev)
        else:
            text = record_json(ev)
            if text is not None:
                self._parts.append(text)
                self._add((self.file, _RECORD_NAMES.get(type(ev)), *_NO_KEY))

    def _key_start(self, ev: KeyStart) -> None:
        self._start = ev
        self._key.start(ev)

    def _key_end(self, ev: KeyEnd) -> None:
        self._key.end(ev)
        ks = self._start
        assert ks is not None
        self._add((self.file, None, ks.db, ks.key, key_text(ks.key), ks.type,
                   ks.encoding, ks.expire_ms, ks.idle, ks.freq, ev.size))
        self.keys += 1
        self._start = None

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
