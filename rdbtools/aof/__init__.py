"""Append-only files: the RESP parser, multi-part manifests and the AOF reader
(FORMAT.md §8). ``read_aof(path)`` is the entry point; see ``rdbtools.aof.reader``."""

from __future__ import annotations

from rdbtools.aof.manifest import Manifest, ManifestEntry, load_manifest, parse_manifest
from rdbtools.aof.reader import (
    AofFile,
    AofLayout,
    TimestampCut,
    iter_aof,
    open_aof,
    read_aof,
)
from rdbtools.aof.resp import Batch, RespReader
from rdbtools.errors import AofCorrupt, AofTimestampError, AofTruncated, ok_up_to

__all__ = [
    "AofCorrupt",
    "AofFile",
    "AofLayout",
    "AofTimestampError",
    "AofTruncated",
    "Batch",
    "Manifest",
    "ManifestEntry",
    "RespReader",
    "TimestampCut",
    "iter_aof",
    "load_manifest",
    "ok_up_to",
    "open_aof",
    "parse_manifest",
    "read_aof",
]
