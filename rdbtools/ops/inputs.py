"""Opening what a user names: an RDB file, or an append-only file replayed into the
keyspace it builds. Every command that reads keys (``dump``, ``check``, ``info``,
``memory``, ``diff``) opens its inputs here."""

from __future__ import annotations

import os
from collections.abc import Iterator

from rdbtools.events import Event
from rdbtools.ops.filters import KeyFilter, filter_events
from rdbtools.rdb.reader import read_rdb

__all__ = ["is_aof_path", "open_input"]


def is_aof_path(path: str) -> bool:
    """An append-only file rather than an RDB: a directory holding a manifest, a
    ``*.manifest``, a file named ``*.aof`` (it may start with an RDB preamble), or a file
    whose first byte is ``*`` or ``#`` (RESP commands, annotations)."""
    if path == "-":
        return False
    if os.path.isdir(path):
        try:
            return any(name.endswith(".manifest") for name in os.listdir(path))
        except OSError:
            return False
    if path.endswith((".manifest", ".aof")):
        return True
    try:
        with open(path, "rb") as fp:
            return fp.read(1) in (b"*", b"#")
    except OSError:
        return False


def open_input(path: str, *, verify: bool = True,
               key_filter: KeyFilter | None = None) -> Iterator[Event]:
    """The events of the RDB file at ``path`` (``-``: standard input), filtered; an AOF
    path (``is_aof_path``) is replayed into the keyspace it builds (held in memory by the
    replay). ``verify``: check the CRC64 of the RDB (or of the AOF's RDB parts)."""
    if is_aof_path(path):
        # the AOF machinery is imported only when an AOF is read
        from rdbtools.aof.reader import iter_aof
        from rdbtools.replay import replay

        return filter_events(replay(iter_aof(path, verify_checksum=verify)),
                             key_filter or KeyFilter())
    return filter_events(read_rdb(path, verify_checksum=verify), key_filter or KeyFilter())
