"""rdbtools: streaming readers, writers and tools for Redis and Valkey RDB and AOF files.

The spine: readers yield events (``rdbtools.events``), operations consume events,
writers accept events, the command-line tools only wire them together.
"""

from __future__ import annotations

from rdbtools.errors import (
    ChecksumMismatch,
    CorruptInput,
    LimitExceeded,
    ParseError,
    RdbToolsError,
    TruncatedInput,
    UnsupportedType,
    UnsupportedVersion,
    WriteError,
)
from rdbtools.events import Record, records
from rdbtools.rdb.reader import read_rdb

__version__ = "0.1.0"

__all__ = [
    "ChecksumMismatch",
    "CorruptInput",
    "LimitExceeded",
    "ParseError",
    "RdbToolsError",
    "Record",
    "TruncatedInput",
    "UnsupportedType",
    "UnsupportedVersion",
    "WriteError",
    "read_rdb",
    "records",
]

# Operations (rdbtools.ops): one library function per rdbtool command.
from rdbtools.ops.check import CheckSummary, check  # noqa: E402
from rdbtools.ops.dump import DumpSummary, dump  # noqa: E402
from rdbtools.ops.filters import KeyFilter, filter_events  # noqa: E402
from rdbtools.ops.info import InfoReport, info  # noqa: E402

__all__ += [
    "CheckSummary",
    "DumpSummary",
    "InfoReport",
    "KeyFilter",
    "check",
    "dump",
    "filter_events",
    "info",
]

from rdbtools.aof.reader import read_aof  # noqa: E402
from rdbtools.ops.convert import convert, open_events  # noqa: E402
from rdbtools.ops.load import load_events  # noqa: E402
from rdbtools.ops.restore import RestoreSummary, restore  # noqa: E402
from rdbtools.rdb.payload import decode_payload, encode_payload  # noqa: E402
from rdbtools.rdb.writer import LossReport, RdbWriter, write_rdb  # noqa: E402

__all__ += [
    "LossReport",
    "RdbWriter",
    "RestoreSummary",
    "convert",
    "decode_payload",
    "encode_payload",
    "load_events",
    "open_events",
    "read_aof",
    "restore",
    "write_rdb",
]

# AOF, replay, rewrite, memory, diff, Arrow and the input opener: imported when first
# used (PEP 562), so that reading an RDB does not load them.
_LAZY = {
    "Replayer": "rdbtools.replay",
    "iter_aof": "rdbtools.aof.reader",
    "AofWriter": "rdbtools.aof.writer",
    "write_aof": "rdbtools.aof.writer",
    "aof_check": "rdbtools.ops.aof_check",
    "aof_dump": "rdbtools.ops.aof_dump",
    "aof_fix": "rdbtools.ops.aof_fix",
    "aof_rewrite": "rdbtools.ops.aof_rewrite",
    "aof_stats": "rdbtools.ops.aof_stats",
    "open_input": "rdbtools.ops.inputs",
    "MemoryRow": "rdbtools.memory.rows",
    "choose_model": "rdbtools.memory.model",
    "rows_from_events": "rdbtools.memory.estimate",
    "memory_rows": "rdbtools.ops.memory",
    "memory_summary": "rdbtools.ops.memory",
    "Change": "rdbtools.ops.diff",
    "DiffSummary": "rdbtools.ops.diff",
    "diff_events": "rdbtools.ops.diff",
    "diff_files": "rdbtools.ops.diff",
    "memory_batches": "rdbtools.ops.arrow",
    "memory_table": "rdbtools.ops.arrow",
    "open_binary": "rdbtools.sources",
}

__all__ += sorted(_LAZY)


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rdbtools' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazily loaded ones (``_LAZY``) included."""
    return sorted(set(globals()) | set(_LAZY))
