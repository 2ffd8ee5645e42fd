"""Opening what a user names, once: an RDB file, an append-only file replayed into the
keyspace it builds, or (for ``convert`` and ``restore``) a ``dump --jsonl`` file. Every
command that reads keys (``dump``, ``check``, ``info``, ``memory``, ``diff``,
``convert``, ``restore``) opens its inputs here.

The input is opened once (``rdbtools.sources.open_sniffed``) and told apart by its
first bytes, which stay unread: a pipe, ``-`` or a FIFO (a shell's ``<(...)``) reads as
the file does, compressed or not."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Literal

from rdbtools.errors import CorruptInput
from rdbtools.events import Event, KeyEnd
from rdbtools.ops.filters import KeyFilter, filter_events
from rdbtools.ops.load import load_events
from rdbtools.rdb.reader import read_rdb
from rdbtools.sources import InputKind, Opened, open_binary, open_sniffed

__all__ = ["AOF_NAMES", "Input", "open_input", "read_input"]

AOF_NAMES = (".aof", ".manifest")
"""Names of files read as an AOF whatever they start with (an AOF may start with an RDB
preamble)."""


@dataclass(frozen=True)
class Input:
    """The events of an opened input, and what it was: ``kind`` ``rdb``, ``aof``
    (replayed) or ``jsonl``; ``size``: an RDB's size when known before reading (a plain
    regular file), else ``None``; ``position()``: the bytes read so far, as stored."""

    kind: Literal["rdb", "aof", "jsonl"]
    events: Iterator[Event]
    size: int | None
    position: Callable[[], int]


def _kind(opened: Opened, jsonl: bool) -> InputKind:
    """The kind to read ``opened`` as: with ``jsonl``, anything not an RDB is JSON Lines;
    without, a file named ``*.aof`` / ``*.manifest`` is an AOF and JSON Lines is no
    input (the RDB reader names what it finds)."""
    if jsonl:
        return "rdb" if opened.kind == "rdb" else "jsonl"
    if opened.name.endswith(AOF_NAMES) and opened.kind not in ("manifest", "aof-dir"):
        return "aof"
    return "other" if opened.kind == "jsonl" else opened.kind


def read_input(path: str, *, verify: bool = True, strict: bool = False, jsonl: bool = False,
               key_filter: KeyFilter | None = None,
               progress: Callable[[int, int], None] | None = None) -> Input:
    """``path`` (``-``: standard input; a URL; any of them compressed:
    ``rdbtools.sources``) opened once and read as what it holds: an RDB, an AOF
    replayed into the keyspace it builds (held in memory by the
    replay), or, with ``jsonl``, a JSON Lines dump (then anything not an RDB is read as
    one). ``verify``: check the CRC64 of the RDB (or of the AOF's RDB parts);
    ``strict``: fail on an AOF command replay does not model (else the keys it touches
    come out as ``not-replayed``). A file starting with a ``#`` that is no annotation is
    refused (``CorruptInput``); any other input that is no AOF goes to the RDB reader,
    which names what it finds.

    An AOF is a directory holding a manifest, a ``*.manifest``, a file named ``*.aof``
    (it may start with an RDB preamble), or an input that starts with a RESP command
    (``*``) or a ``#TS:<digits>\r\n`` annotation (``rdbtools.sources.sniff_kind``).

    The events are filtered by ``key_filter`` when one is given. ``progress(done,
    keys)`` is called now and then while an RDB is read with the bytes of the file read
    so far (as stored: compressed bytes for a compressed file) and the keys read."""
    opened = open_sniffed(path)
    try:
        inp = _READERS[_kind(opened, jsonl)](opened, verify, strict)
    except BaseException:
        opened.close()
        raise
    events = inp.events
    if progress is not None and inp.kind == "rdb":
        events = _reporting(events, inp.position, progress)
    if key_filter is not None:
        events = filter_events(events, key_filter)
    return replace(inp, events=events)


def _rdb(opened: Opened, verify: bool, strict: bool) -> Input:
    src = opened.source
    assert src is not None  # only a directory has none, and it is an AOF
    events = read_rdb(src, verify_checksum=verify, alone=True)
    return Input("rdb", events, src.size, src.stored_position)


def _aof(opened: Opened, verify: bool, strict: bool) -> Input:
    # the AOF machinery is imported only when an AOF is read
    from rdbtools.aof.reader import aof_layout, iter_aof
    from rdbtools.replay import replay

    src = opened.source
    layout = aof_layout(opened)
    events = replay(iter_aof(layout, verify_checksum=verify), strict=strict)
    return Input("aof", events, None, src.stored_position if src is not None else _nothing)


def _jsonl(opened: Opened, verify: bool, strict: bool) -> Input:
    # a directory has no source: opening it says so (IsADirectoryError)
    src = opened.source if opened.source is not None else open_binary(opened.name)
    return Input("jsonl", src.watch(load_events(src.fp, src.name)), None, src.stored_position)


def _text(opened: Opened, verify: bool, strict: bool) -> Input:
    raise CorruptInput("not an RDB or AOF file (an RDB starts with REDIS or VALKEY, "
                       "an AOF with * or #TS:)", source=opened.name, offset=0)


def _nothing() -> int:
    return 0


_READERS: dict[InputKind, Callable[[Opened, bool, bool], Input]] = {
    "rdb": _rdb,
    "other": _rdb,
    "jsonl": _jsonl,
    "aof": _aof,
    "manifest": _aof,
    "aof-dir": _aof,
    "text": _text,
}
"""How each kind of input is read, keyed by ``_kind``."""


def open_input(path: str, *, verify: bool = True, key_filter: KeyFilter | None = None,
               strict: bool = False,
               progress: Callable[[int, int], None] | None = None) -> Iterator[Event]:
    """The events of ``path`` (``read_input``: an RDB, or an AOF replayed), filtered,
    with ``progress`` calls while an RDB is read."""
    return read_input(path, verify=verify, strict=strict, key_filter=key_filter or KeyFilter(),
                      progress=progress).events


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
