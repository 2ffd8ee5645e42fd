"""Opening what a user names: an RDB file, or an append-only file replayed into the
keyspace it builds. Every command that reads keys (``dump``, ``check``, ``info``,
``memory``, ``diff``) opens its inputs here."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

from rdbtools.errors import CorruptInput, RdbToolsError
from rdbtools.events import Event, KeyEnd
from rdbtools.ops.filters import KeyFilter, filter_events
from rdbtools.rdb.reader import read_rdb
from rdbtools.sources import open_binary

__all__ = ["is_aof_path", "open_input"]

_ANNOTATION = re.compile(rb"#TS:\d+\r\n")
"""The one annotation a server writes into an AOF (``aof-timestamp-enabled``)."""


def is_aof_path(path: str) -> bool:
    """An append-only file rather than an RDB: a directory holding a manifest, a
    ``*.manifest``, a file named ``*.aof`` (it may start with an RDB preamble), or a file
    that starts with a RESP command (``*``) or a ``#TS:<digits>\r\n`` annotation. Any
    other ``#`` (a README, a shell script) is no AOF."""
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
        with open_binary(path) as src:  # the first bytes of what it holds, decompressed
            head = src.fp.read(32)
    except (OSError, RdbToolsError):
        return False
    return head[:1] == b"*" or _ANNOTATION.match(head) is not None


def _refuse_hash_text(path: str) -> None:
    """``CorruptInput`` (exit 3) for a named file that starts with ``#`` but not with an
    annotation (a README, a script): no AOF, and no RDB either. Any other file is left
    to the RDB reader, which names what it finds."""
    try:
        with open_binary(path) as src:
            head = src.fp.read(1)
    except (OSError, RdbToolsError):
        return
    if head == b"#":
        raise CorruptInput("not an RDB or AOF file (an RDB starts with REDIS or VALKEY, "
                           "an AOF with * or #TS:)", source=path, offset=0)


def open_input(path: str, *, verify: bool = True, key_filter: KeyFilter | None = None,
               strict: bool = False,
               progress: Callable[[int, int], None] | None = None) -> Iterator[Event]:
    """The events of the RDB file at ``path`` (``-``: standard input; a URL; any of them
    compressed: ``rdbtools.sources``), filtered; an AOF path (``is_aof_path``) is
    replayed into the keyspace it builds (held in memory by the replay). ``verify``:
    check the CRC64 of the RDB (or of the AOF's RDB parts); ``strict``: fail on an AOF
    command replay does not model (else the keys it touches come out as
    ``not-replayed``). ``progress(done, keys)`` is called now and then while an RDB is
    read with the bytes of the file read so far (as stored: compressed bytes for a
    compressed file) and the keys read."""
    if is_aof_path(path):
        # the AOF machinery is imported only when an AOF is read
        from rdbtools.aof.reader import iter_aof
        from rdbtools.replay import replay

        return filter_events(replay(iter_aof(path, verify_checksum=verify), strict=strict),
                             key_filter or KeyFilter())
    if path != "-" and not os.path.isdir(path):
        _refuse_hash_text(path)
    src = open_binary(path)
    events = read_rdb(src, verify_checksum=verify)
    if progress is not None:
        events = _reporting(events, src.stored_position, progress)
    return filter_events(events, key_filter or KeyFilter())


_PROGRESS_EVERY = 256
"""Events between two progress calls."""


def _reporting(events: Iterator[Event], position: Callable[[], int],
               progress: Callable[[int, int], None]) -> Iterator[Event]:
    """``events`` again, calling ``progress(position(), keys)`` every few events and at
    the end."""
    keys = 0
    n = 0
    for ev in events:
        yield ev
        if type(ev) is KeyEnd:
            keys += 1
        n += 1
        if n >= _PROGRESS_EVERY:
            n = 0
            progress(position(), keys)
    progress(position(), keys)
