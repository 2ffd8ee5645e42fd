"""The AOF reader: every AOF form as one stream of events (FORMAT.md §8).

``read_aof(path)`` accepts

* a single AOF file: plain RESP commands, or an RDB preamble (the file starts with
  ``REDIS`` or ``VALKEY``) whose keys come through the RDB reader, then RESP commands from
  the byte after its checksum to the end (§8.4);
* a multi-part AOF directory (``appendonlydir/``), through the one ``*.manifest`` file in
  it, or that manifest file itself (§8.5): the base (``.rdb`` or ``.aof``), then the incr
  files in manifest order; history files are ignored;
* ``-``: a single AOF on standard input;
* an opened ``Source`` (``rdbtools.sources``): a single AOF read from it once, front to
  back (a pipe, a FIFO).

It yields ``AofPart(path, kind)`` at the start of each file (``kind``: ``single``,
``base`` or ``incr``), the RDB events of a preamble or RDB base, and ``Command`` events.
Each file starts in database 0 (the server loads each with a fresh client); the
``#TS:`` timestamp carries over from file to file.

Damage raises ``AofTruncated`` / ``AofCorrupt`` with ``ok_up_to`` (§8.6) and
``last_file``: only the last file may be repaired by truncation. A partial MULTI block
at the end of a file is an error too (the server drops it when it truncates): its
commands have been yielded already, and ``ok_up_to`` is where the MULTI starts.

``iter_aof`` is the same stream with commands in ``Batch`` objects (much cheaper than
one event per command), for ``check`` and ``stats``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from rdbtools._buffer import Input
from rdbtools.aof._split import split_batches
from rdbtools.aof.manifest import Manifest, ManifestEntry, is_regular, load_manifest, resolve
from rdbtools.aof.resp import Batch, RespReader, batch_commands
from rdbtools.errors import AofFramingError, AofTimestampError, CorruptInput
from rdbtools.events import AofPart, Event
from rdbtools.rdb.reader import RdbReader
from rdbtools.sources import RDB_MAGICS, Opened, Source, open_binary, open_sniffed


@dataclass(frozen=True)
class AofFile:
    """One file of an AOF: ``path``, ``kind`` (``single`` / ``base`` / ``incr``), its
    manifest record (multi-part only), and for a single file already opened, its
    ``source`` (then the layout is read once: the source is consumed and closed)."""

    path: str
    kind: str
    entry: ManifestEntry | None = None
    source: Source | None = None


@dataclass(frozen=True)
class AofLayout:
    """What an AOF path is: ``kind`` ``single`` or ``multi``, the manifest (multi), and
    the files to read in load order."""

    path: str
    kind: str
    manifest: Manifest | None
    files: tuple[AofFile, ...]


@dataclass(frozen=True)
class TimestampCut:
    """With a timestamp limit: the last file is to be cut at ``offset`` (the first
    ``#TS:`` annotation later than ``limit``, or an open MULTI before it)."""

    path: str
    offset: int
    limit: int


AofItem = Event | Batch | TimestampCut


def manifest_names(directory: str) -> list[str]:
    """The ``*.manifest`` files in ``directory``, sorted."""
    return sorted(n for n in os.listdir(directory) if n.endswith(".manifest"))


def open_aof(path: str | os.PathLike[str]) -> AofLayout:
    """Find out what ``path`` is (see the module docstring). Raises ``CorruptInput`` for
    a bad manifest or a directory without exactly one manifest, ``OSError`` when
    ``path`` cannot be read."""
    path = os.fspath(path)
    if path == "-":
        return _single(path)
    if os.path.isdir(path):
        names = manifest_names(path)
        if len(names) != 1:
            what = "no *.manifest file" if not names else f"{len(names)} manifests " \
                f"({', '.join(names)}): name one"
            raise CorruptInput(f"not a multi-part AOF directory: {what}", source=path)
        return _multi(path, load_manifest(os.path.join(path, names[0])))
    if not is_regular(path):
        # a pipe or a device is read once, front to back, as one AOF (a manifest is
        # always a regular file): the layout opens it when it is read
        return _single(path)
    opened = open_sniffed(path)
    opened.close()  # a regular file: reopened by name, so that the layout reads again
    if opened.kind == "manifest":
        return _multi(path, load_manifest(path))
    return _single(path)


def aof_layout(opened: Opened) -> AofLayout:
    """The layout of an input opened once (``rdbtools.sources.open_sniffed``): a
    manifest or a directory are read by name (the source is closed), any other input is
    a single AOF read from its source, once."""
    if opened.kind == "manifest":
        opened.close()
        return _multi(opened.name, load_manifest(opened.name))
    if opened.source is None:  # a directory
        return open_aof(opened.name)
    return _single(opened.name, opened.source)


def opened_once(layout: AofLayout) -> AofLayout:
    """``layout``, its single file opened now when that is no regular file and not
    ``-`` (a FIFO, a shell's ``<(...)``): such a layout is read once, and its head can be
    peeked at first (``files[0].source``) without being lost."""
    f = layout.files[0] if layout.kind == "single" else None
    if f is None or f.source is not None or f.path == "-" or is_regular(f.path):
        return layout
    return aof_layout(open_sniffed(f.path))


def _single(path: str, source: Source | None = None) -> AofLayout:
    return AofLayout(path, "single", None, (AofFile(path, "single", source=source),))


def _multi(path: str, manifest: Manifest) -> AofLayout:
    files = tuple(AofFile(p, e.kind, e) for p, e in resolve(manifest))
    return AofLayout(path, "multi", manifest, files)


def iter_aof(path: str | os.PathLike[str] | AofLayout | Source, *, verify_checksum: bool = True,
             timestamp_limit: int | None = None, framing_only: bool = False,
             jobs: int = 1) -> Iterator[AofItem]:
    """The AOF at ``path`` as ``AofPart``, RDB events and ``Batch`` objects (and, with
    ``timestamp_limit``, a final ``TimestampCut`` when the last file has an annotation
    later than the limit; one in an earlier file raises ``AofTimestampError``).
    ``framing_only`` batches carry counts, not arguments (see ``RespReader``); with
    ``jobs`` > 1 such a read of a big file uses two processes (``rdbtools.aof._split``:
    the second half's batches are then a summary)."""
    layout = _layout(path)
    timestamp: int | None = None
    last = len(layout.files) - 1
    for n, f in enumerate(layout.files):
        split = jobs > 1 and framing_only and timestamp_limit is None
        reader = yield from _file(f, n == last, timestamp, verify_checksum,
                                  timestamp_limit, framing_only, split)
        if reader.cut_at is not None:  # the checks of redis-check-aof, in its order
            if reader.cut_at == 0:
                raise AofTimestampError(f"AOF {f.path} has nothing before timestamp "
                                        f"{timestamp_limit}")
            if n != last:
                raise AofTimestampError(
                    f"Failed to truncate AOF {f.path} to timestamp {timestamp_limit} at "
                    f"offset {reader.cut_at} because it is not the last file")
            assert timestamp_limit is not None
            yield TimestampCut(f.path, reader.cut_at, timestamp_limit)
            return
        timestamp = reader.timestamp


def _layout(path: str | os.PathLike[str] | AofLayout | Source) -> AofLayout:
    if isinstance(path, AofLayout):
        return path
    if isinstance(path, Source):
        return _single(path.name, path)
    return open_aof(path)


def read_aof(path: str | os.PathLike[str] | AofLayout | Source, *,
             verify_checksum: bool = True) -> Iterator[Event]:
    """The events of the AOF at ``path``: ``AofPart``, RDB events, ``Command``."""
    for item in iter_aof(path, verify_checksum=verify_checksum):
        if isinstance(item, Batch):
            yield from batch_commands(item)
        elif not isinstance(item, TimestampCut):
            yield item


def _open(f: AofFile) -> tuple[BinaryIO, int | None, Callable[[], None]]:
    """The bytes of ``f`` (its source, or its path opened: decompressed, see
    ``rdbtools.sources``), their size when known before reading, and how to close them."""
    src = f.source if f.source is not None else open_binary(f.path)
    # the size lets a big file be split between processes, which reopen it by name
    return src.fp, None if f.path == "-" else src.size, src.close


def _file(f: AofFile, last: bool, timestamp: int | None, verify: bool, limit: int | None,
          framing_only: bool, split: bool) -> Generator[AofItem, None, RespReader]:
    """The items of one file; returns its RESP reader (for its final state)."""
    fp, size, close = _open(f)
    try:
        yield AofPart(f.path, f.kind, 0)
        inp = Input(fp, f.path, size=size, checksum=verify)
        have = inp._fill(9)  # noqa: SLF001 - the buffer's refill, shared on purpose
        if not have and f.kind == "single" and not framing_only:
            # the server would start empty, but nothing in zero bytes says "AOF": a wrong
            # path or a failed producer; an empty part of a multi-part AOF is normal.
            # A check of the framing (aoftool check, fix) says what the server says.
            raise CorruptInput("empty input: an AOF holds at least one command or an RDB "
                               "preamble", source=f.path, offset=0)
        if have and inp.buf[inp.pos:inp.pos + 9].startswith(RDB_MAGICS):  # noqa: SLF001
            yield from RdbReader(inp, verify_checksum=verify).events()
            inp = Input(fp, f.path, size=size, checksum=False, initial=inp.leftover(),
                        base=inp.tell())
        else:
            inp.crc_on = False
        reader = RespReader(inp, timestamp=timestamp, timestamp_limit=limit,
                            framing_only=framing_only)
        try:
            if split and size is not None:
                yield from split_batches(reader, f.path, size)
            else:
                yield from reader.batches()
        except AofFramingError as err:
            err.last_file = last
            raise
        return reader
    finally:
        close()
