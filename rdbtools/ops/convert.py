"""``convert``: rewrite an RDB (or a ``dump --jsonl`` file) as an RDB of another version."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from rdbtools.atomic import atomic_file
from rdbtools.events import Event
from rdbtools.ops.inputs import read_input
from rdbtools.ops.load import load_events
from rdbtools.rdb.reader import read_rdb
from rdbtools.rdb.targets import Thresholds
from rdbtools.rdb.writer import LossReport, RdbWriter
from rdbtools.sources import RDB_MAGICS


def open_events(path: str, *, verify_checksum: bool = True) -> Iterator[Event]:
    """The events of ``path`` (``-``: standard input; a URL; any of them compressed:
    ``rdbtools.sources``), an RDB file or a JSON Lines dump, told apart by the first bytes
    of what it holds (``rdbtools.ops.inputs.read_input``: opened once, a pipe is never
    seeked nor reopened)."""
    return read_input(path, verify=verify_checksum, jsonl=True).events


def convert(
    events: Iterable[Event],
    out: BinaryIO | str | os.PathLike[str],
    *,
    version: int | str = 11,
    strict: bool = False,
    thresholds: Thresholds | None = None,
    checksum: bool = True,
) -> LossReport:
    """Write ``events`` to ``out`` as an RDB of ``version`` (6..12 or ``"valkey"``) with the
    encodings that version's server would choose; return what could not be kept.
    ``strict=True`` raises ``WriteError`` at the first loss instead.

    ``out`` is a binary file, or a path: then the file is written as ``rdbtool convert``
    writes OUT (``rdbtools.atomic.atomic_file``): beside it, fsync-ed and renamed over
    it, so that on any error (a loss with ``strict``, bad input) the path is untouched.
    The path may be the file ``events`` are read from."""
    if isinstance(out, (str, os.PathLike)):
        with atomic_file(out) as fp:
            return convert(events, fp, version=version, strict=strict,
                           thresholds=thresholds, checksum=checksum)
    writer = RdbWriter(out, version, strict=strict, thresholds=thresholds, checksum=checksum)
    return writer.write_all(events)


def convert_bytes(data: bytes, version: int | str = 11) -> tuple[bytes, LossReport]:
    """Convenience for small inputs: an RDB (or JSON Lines) held in memory, converted."""
    out = io.BytesIO()
    if data.startswith(RDB_MAGICS):
        events: Iterable[Event] = read_rdb(io.BytesIO(data))
    else:
        events = load_events(data.splitlines())
    report = convert(events, out, version=version)
    return out.getvalue(), report
