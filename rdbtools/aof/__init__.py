"""Append-only files: the RESP parser, multi-part manifests and the AOF reader
(FORMAT.md §8). ``read_aof(path)`` is the entry point; see ``rdbtools.aof.reader``.

The names below are loaded on first use (PEP 562), so that the command emitter
(``rdbtools.aof.commands``, ``rdbtools.aof.emitter``), which ``dump --resp`` uses, does
not load the reader."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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

_WHERE = {
    "AofCorrupt": "rdbtools.errors",
    "AofFile": "rdbtools.aof.reader",
    "AofLayout": "rdbtools.aof.reader",
    "AofTimestampError": "rdbtools.errors",
    "AofTruncated": "rdbtools.errors",
    "Batch": "rdbtools.aof.resp",
    "Manifest": "rdbtools.aof.manifest",
    "ManifestEntry": "rdbtools.aof.manifest",
    "RespReader": "rdbtools.aof.resp",
    "TimestampCut": "rdbtools.aof.reader",
    "iter_aof": "rdbtools.aof.reader",
    "load_manifest": "rdbtools.aof.manifest",
    "ok_up_to": "rdbtools.errors",
    "open_aof": "rdbtools.aof.reader",
    "parse_manifest": "rdbtools.aof.manifest",
    "read_aof": "rdbtools.aof.reader",
}

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


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'rdbtools.aof' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
