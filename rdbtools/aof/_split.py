"""Checking one big AOF file in two processes (``aoftool check`` on 2 cores).

The framing of the second half is read by another process while this one reads the
first half, and the two results are joined only when that is provably what one reader
from the start would have found; otherwise this process simply reads on. Exactly:

1. the split point ``r`` is the first position after the middle where a complete
   command parses (``rdbtools.aof._resync.command_at``) — a guess: it could lie inside
   an argument that happens to look like a command;
2. a child process reads ``[r, end)`` from a fresh state (outside MULTI) and reports a
   summary: how many commands, the ``#TS:`` range, the final timestamp, or its first
   damage;
3. this process reads from the start and stops at the first item boundary at or after
   ``r``. If that boundary is ``r`` itself and no MULTI is open there, then a reader from
   the start is at ``r`` in the state the child started from (the database and the
   timestamp do not change what is valid), so the child's count, range and damage are
   exactly what it would have found; the child's result is used. If the reader passed
   over ``r`` (the guess was inside a command), or a MULTI is open at ``r``, the child is
   stopped and this process reads on to the end as usual;
4. damage before ``r`` is found by this process first, as it would be anyway.

Only framing-only reads without a timestamp limit are split (the child's batches are
summarized: a batch for the commands before its first ``#TS:``, then one per end of its
timestamp range). The child is forked (it needs nothing but the path); where ``fork``
is not available the file is read by one process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection

from rdbtools._buffer import Input
from rdbtools.aof._resync import CANDIDATE, command_at
from rdbtools.aof._walk import Batch
from rdbtools.aof.resp import RespReader
from rdbtools.errors import AofCorrupt, AofFramingError, AofTruncated

SPLIT_MIN = 48 << 20
"""Files whose commands take fewer bytes are read by one process."""
SEARCH = 1 << 20
"""How far after the middle a split point is looked for."""


@dataclass
class Summary:
    """What the child found in ``[offset, end)``."""

    count: int = 0
    untimed: int = 0
    low: int | None = None
    high: int | None = None
    final: int | None = None
    annotations: int = 0
    error: tuple[bool, str, int | None, int, bool] | None = None
    """(truncated, message, offset, ok_up_to, in_multi) of the first damage"""
    bug: str | None = None


def find_split(path: str, start: int, size: int) -> int | None:
    """A position after the middle of ``[start, size)`` where a command parses."""
    middle = start + (size - start) // 2
    with open(path, "rb") as fp:
        fp.seek(middle)
        block = fp.read(SEARCH)
        for m in CANDIDATE.finditer(block):
            if command_at(fp, path, size, middle + m.start()) is not None:
                return middle + m.start()
    return None


def _child(path: str, offset: int, size: int, conn: Connection) -> None:
    summary = Summary()
    try:
        with open(path, "rb") as fp:
            fp.seek(offset)
            reader = RespReader(Input(fp, path, size=size, checksum=False, base=offset),
                                framing_only=True)
            for b in reader.batches():
                summary.count += b.count
                ts = b.timestamp
                if ts is None:
                    summary.untimed += b.count
                else:
                    summary.low = ts if summary.low is None else min(summary.low, ts)
                    summary.high = ts if summary.high is None else max(summary.high, ts)
            summary.final = reader.timestamp
            summary.annotations = reader.annotations
    except AofFramingError as err:
        summary.error = (isinstance(err, AofTruncated), err.message, err.offset,
                         err.ok_up_to, err.in_multi)
    except BaseException as err:  # noqa: BLE001 - reported; the parent reads on itself
        summary.bug = repr(err)
    conn.send(summary)
    conn.close()


class _Half:
    """The child reading ``[offset, size)``."""

    def __init__(self, path: str, offset: int, size: int) -> None:
        ctx = multiprocessing.get_context("fork")
        self._conn, child = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_child, args=(path, offset, size, child),
                                 daemon=True)
        self._proc.start()
        child.close()

    def result(self) -> Summary | None:
        try:
            summary: Summary = self._conn.recv()
        except (EOFError, OSError):
            return None
        self._proc.join()
        return summary

    def cancel(self) -> None:
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join()
        with contextlib.suppress(OSError):
            self._conn.close()


def split_batches(reader: RespReader, path: str, size: int) -> Iterator[Batch]:
    """``reader.batches()`` for a framing-only reader of the regular file ``path``
    (``size`` bytes), the second half read by a child process (see the module)."""
    start = reader.input.tell()
    can_fork = "fork" in multiprocessing.get_all_start_methods()
    r = find_split(path, start, size) if can_fork and size - start >= SPLIT_MIN else None
    if r is None:
        yield from reader.batches()
        return
    half = _Half(path, r, size)
    try:
        reader.stop_at = r
        yield from reader.batches()
        reader.stop_at = None
        st = reader.state
        if reader.input.tell() == r and st.multi_at < 0 and reader.cut_at is None:
            summary = half.result()
            if summary is not None and summary.bug is None:
                yield from _joined(reader, summary, path)
                return
        half.cancel()
        yield from reader.batches()
    finally:
        half.cancel()


def _joined(reader: RespReader, s: Summary, path: str) -> Iterator[Batch]:
    """The child's commands as summary batches, then its damage, as a reader from the
    start would have yielded and raised them."""
    st = reader.state
    if s.untimed:
        b = Batch(st.db, st.timestamp)
        b.count = s.untimed
        yield b
    if s.count > s.untimed:
        low, high = Batch(st.db, s.low), Batch(st.db, s.high)
        low.count = s.count - s.untimed
        yield low
        yield high
    if s.final is not None:
        st.timestamp = s.final
    st.annotations += s.annotations
    if s.error is not None:
        truncated, message, offset, ok_up_to, in_multi = s.error
        cls = AofTruncated if truncated else AofCorrupt
        raise cls(message, source=path, offset=offset, ok_up_to=ok_up_to, in_multi=in_multi)
