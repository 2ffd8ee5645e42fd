"""Salvage: keep every command that can be read around damage in the middle of an AOF
file (``aoftool fix --salvage``).

``redis-check-aof --fix`` truncates at the first damage and loses everything after it.
Salvage instead resynchronises: after a damaged region it looks for the next byte
position where ``*<n>\\r\\n$`` starts a command that parses completely (strictly, as
``redis-check-aof`` reads) and is followed by the end of the file or by another item
(``*`` or ``#``), and goes on reading from there. It reports every byte range dropped.

A damaged region inside a MULTI/EXEC block drops the whole block: from its MULTI to its
EXEC (the commands found before that EXEC are remnants of the same transaction and are
dropped with it, so that no transaction is half applied). A SELECT inside the dropped
bytes cannot be known for sure; when the bytes hold the word, the report warns that the
commands after the region may run in another database than before the damage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from rdbtools._buffer import Input
from rdbtools.aof._resync import CANDIDATE, command_at
from rdbtools.aof._walk import EXEC, MULTI, kind_of
from rdbtools.aof.resp import RespReader
from rdbtools.errors import AofFramingError

BLOCK = 1 << 20


@dataclass(frozen=True)
class Dropped:
    """Bytes ``start`` to ``end`` (exclusive) of the file were dropped, and why."""

    start: int
    end: int
    reason: str

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass
class Salvage:
    """The byte ranges to keep, the ranges dropped, and warnings."""

    kept: list[tuple[int, int]]
    dropped: list[Dropped]
    warnings: list[str]


def resync(fp: BinaryIO, source: str, size: int, start: int,
           in_multi: bool) -> tuple[int | None, int]:
    """The offset of the first command at or after ``start`` to read on from (``None``:
    none to the end of the file). With ``in_multi`` the damaged transaction's remaining
    commands and its EXEC are passed over. Also returns how many commands were passed
    over that way."""
    pos = start
    skipped = 0
    while pos < size:
        fp.seek(pos)
        block = fp.read(BLOCK + 32)
        found = None
        for m in CANDIDATE.finditer(block):
            off = pos + m.start()
            if off < start:
                continue
            parsed = command_at(fp, source, size, off)
            if parsed is None:
                continue
            args, end = parsed
            if in_multi:
                kind = kind_of(args[0])
                if kind != MULTI:
                    skipped += 1
                    in_multi = kind != EXEC
                    start = end
                    found = end  # rescan from after this command
                    break
            return off, skipped
        if found is not None:
            pos = found
        elif len(block) <= BLOCK:
            break
        else:
            pos += BLOCK
    return None, skipped


def _mentions_select(fp: BinaryIO, start: int, end: int) -> bool:
    fp.seek(start)
    left = end - start
    tail = b""
    while left > 0:
        chunk = tail + fp.read(min(BLOCK, left))
        if not chunk[len(tail):]:
            break
        left -= len(chunk) - len(tail)
        if b"SELECT" in chunk.upper():
            return True
        tail = chunk[-5:]
    return False


def salvage(fp: BinaryIO, source: str, size: int,
            first: AofFramingError) -> Salvage:
    """Plan the salvage of the file ``fp`` (``size`` bytes, named ``source``) whose first
    damage is ``first`` (everything before ``first.ok_up_to`` is kept as it is)."""
    kept = [(0, first.ok_up_to)] if first.ok_up_to > 0 else []
    dropped: list[Dropped] = []
    warnings: list[str] = []
    err = first
    while True:
        bad = err.ok_up_to
        nxt, skipped = resync(fp, source, size, bad + 1, err.in_multi)
        end = size if nxt is None else nxt
        reason = f"{err.message} (at {err.offset})"
        if err.in_multi:
            reason += "; inside a MULTI block, dropped whole"
            if skipped:
                reason += f" with {skipped} command(s) after the damage"
        dropped.append(Dropped(bad, end, reason))
        if nxt is not None and _mentions_select(fp, bad, end):
            warnings.append(f"bytes {bad}..{end} mention SELECT: the commands after them "
                            "may belong to another database than the ones before")
        if nxt is None:
            break
        fp.seek(nxt)
        reader = RespReader(Input(fp, source, size=size, checksum=False, base=nxt),
                            framing_only=True)
        try:
            for _ in reader.batches():
                pass
        except AofFramingError as e:
            if e.ok_up_to > nxt:
                kept.append((nxt, e.ok_up_to))
            err = e
            continue
        kept.append((nxt, size))
        break
    return Salvage(_merge(kept), dropped, warnings)


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in ranges:
        if out and out[-1][1] == a:
            out[-1] = (out[-1][0], b)
        elif b > a:
            out.append((a, b))
    return out
