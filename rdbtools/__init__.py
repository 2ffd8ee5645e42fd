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
