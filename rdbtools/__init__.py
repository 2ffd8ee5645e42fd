"""rdbtools: streaming readers, writers and tools for Redis and Valkey RDB and AOF files.

The spine: readers yield events (``rdbtools.events``), operations consume events,
writers accept events, the command-line tools only wire them together.

The names below are the library's surface (``docs/api.md``). ``import rdbtools`` loads
only what reading an RDB needs (the RDB reader, the events, the errors); the opener,
the writers, the AOF reader and every operation are imported when first used (PEP 562),
so that a script which reads one snapshot does not pay for the AOF replayer, the memory
model, the diff engine, redis-py or pyarrow.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing
import warnings as _warnings

from rdbtools import events
from rdbtools.errors import (
    ChecksumMismatch,
    CorruptInput,
    LimitExceeded,
    MissingExtra,
    ParseError,
    RdbToolsError,
    TruncatedInput,
    UnsupportedType,
    UnsupportedVersion,
    WriteError,
)
from rdbtools.events import Record, records
from rdbtools.rdb.reader import read_rdb

if _typing.TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from rdbtools.aof.reader import read_aof
    from rdbtools.aof.writer import AofWriter
    from rdbtools.ops.aof_check import aof_check
    from rdbtools.ops.aof_dump import aof_dump
    from rdbtools.ops.aof_fix import aof_fix
    from rdbtools.ops.aof_rewrite import aof_rewrite
    from rdbtools.ops.aof_stats import aof_stats
    from rdbtools.ops.check import check
    from rdbtools.ops.convert import convert
    from rdbtools.ops.diff import diff_files
    from rdbtools.ops.dump import dump
    from rdbtools.ops.info import info
    from rdbtools.ops.inputs import open_input
    from rdbtools.ops.load import load_events
    from rdbtools.ops.memory import memory_rows
    from rdbtools.ops.restore import restore
    from rdbtools.rdb.writer import RdbWriter, write_rdb

__version__ = "0.1.0"

_LAZY = {
    # reading: one opener for every input, and the AOF reader
    "open_input": "rdbtools.ops.inputs",
    "read_aof": "rdbtools.aof.reader",
    # writing
    "RdbWriter": "rdbtools.rdb.writer",
    "write_rdb": "rdbtools.rdb.writer",
    "AofWriter": "rdbtools.aof.writer",
    # one function per command
    "check": "rdbtools.ops.check",
    "dump": "rdbtools.ops.dump",
    "info": "rdbtools.ops.info",
    "convert": "rdbtools.ops.convert",
    "load_events": "rdbtools.ops.load",
    "restore": "rdbtools.ops.restore",
    "memory_rows": "rdbtools.ops.memory",
    "diff_files": "rdbtools.ops.diff",
    "aof_check": "rdbtools.ops.aof_check",
    "aof_dump": "rdbtools.ops.aof_dump",
    "aof_fix": "rdbtools.ops.aof_fix",
    "aof_rewrite": "rdbtools.ops.aof_rewrite",
    "aof_stats": "rdbtools.ops.aof_stats",
}
"""Public names imported on first use: name -> the module that defines it."""

_MOVED = {
    "CheckSummary": "rdbtools.ops.check",
    "DumpSummary": "rdbtools.ops.dump",
    "InfoReport": "rdbtools.ops.info",
    "KeyFilter": "rdbtools.ops.filters",
    "filter_events": "rdbtools.ops.filters",
    "open_events": "rdbtools.ops.convert",
    "RestoreSummary": "rdbtools.ops.restore",
    "LossReport": "rdbtools.rdb.writer",
    "decode_payload": "rdbtools.rdb.payload",
    "encode_payload": "rdbtools.rdb.payload",
    "Replayer": "rdbtools.replay",
    "iter_aof": "rdbtools.aof.reader",
    "write_aof": "rdbtools.aof.writer",
    "MemoryRow": "rdbtools.memory.rows",
    "choose_model": "rdbtools.memory.model",
    "rows_from_events": "rdbtools.memory.estimate",
    "memory_summary": "rdbtools.ops.memory",
    "memory_batches": "rdbtools.ops.arrow",
    "memory_table": "rdbtools.ops.arrow",
    "Change": "rdbtools.ops.diff",
    "DiffSummary": "rdbtools.ops.diff",
    "diff_events": "rdbtools.ops.diff",
    "open_binary": "rdbtools.sources",
}
"""Names the top level used to offer, now imported from their own module
(``docs/api.md``): they still resolve, with a ``DeprecationWarning`` that names it."""

__all__ = [
    # reading
    "open_input",
    "read_rdb",
    "read_aof",
    "records",
    "Record",
    "events",
    # writing
    "RdbWriter",
    "write_rdb",
    "AofWriter",
    # one function per command
    "check",
    "dump",
    "info",
    "convert",
    "load_events",
    "restore",
    "memory_rows",
    "diff_files",
    "aof_check",
    "aof_dump",
    "aof_fix",
    "aof_rewrite",
    "aof_stats",
    # errors (the others: rdbtools.errors)
    "RdbToolsError",
    "ParseError",
    "TruncatedInput",
    "CorruptInput",
    "ChecksumMismatch",
    "UnsupportedVersion",
    "UnsupportedType",
    "LimitExceeded",
    "WriteError",
    "MissingExtra",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        module = _MOVED.get(name)
        if module is None:
            raise AttributeError(f"module 'rdbtools' has no attribute {name!r}")
        _warnings.warn(f"rdbtools.{name} is deprecated: use 'from {module} import {name}'",
                      DeprecationWarning, stacklevel=2)
        return getattr(_importlib.import_module(module), name)
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, the lazily loaded ones included, and the module's own."""
    return sorted(set(globals()) | set(_LAZY))
