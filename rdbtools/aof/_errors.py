"""Errors of the AOF reader.

Damage in the RESP framing of an AOF is reported as ``AofTruncated`` (the input ends
inside a command, or inside a MULTI/EXEC block) or ``AofCorrupt`` (a byte the format does
not allow). Both are the package's ``TruncatedInput`` / ``CorruptInput`` and carry what
``aoftool check`` and ``aoftool fix`` need besides ``source`` and ``offset``:

* ``ok_up_to``: the offset, in ``source``, of the end of the last complete command that
  is not inside an open MULTI — the position ``redis-check-aof`` reports as ``ok_up_to``
  and truncates to with ``--fix`` (FORMAT.md §8.6);
* ``in_multi``: whether the damage is inside an open MULTI (``ok_up_to`` is then where
  that MULTI starts);
* ``last_file``: whether ``source`` is the last file of the AOF (only the last file may
  be truncated; set by ``rdbtools.aof.reader``).
"""

from __future__ import annotations

from rdbtools.errors import CorruptInput, ParseError, RdbToolsError, TruncatedInput


class AofFramingError(ParseError):
    """Damage in the RESP framing: the base of ``AofTruncated`` and ``AofCorrupt``
    (for ``except`` clauses), with ``ok_up_to``, ``in_multi`` and ``last_file``."""

    def __init__(self, message: str, *, source: str | None, offset: int | None,
                 ok_up_to: int, in_multi: bool = False) -> None:
        super().__init__(message, source=source, offset=offset)
        self.ok_up_to = ok_up_to
        self.in_multi = in_multi
        self.last_file = True


class AofTruncated(AofFramingError, TruncatedInput):
    """The AOF ends inside a command, or inside a MULTI block (no EXEC)."""


class AofCorrupt(AofFramingError, CorruptInput):
    """A line or a byte of the AOF that the RESP framing does not allow."""


def ok_up_to(err: ParseError) -> int | None:
    """``err.ok_up_to`` for a framing error, else ``None`` (e.g. a damaged RDB preamble,
    which truncation cannot repair)."""
    if isinstance(err, AofFramingError):
        return err.ok_up_to
    return None


class AofTimestampError(RdbToolsError):
    """``--truncate-to-timestamp`` cannot be applied (the annotation is in a file that is
    not the last one, or nothing precedes it), as ``redis-check-aof`` refuses too."""

    exit_code = 1


MAX_TIMESTAMP = 253402300799
"""The last second of the year 9999. The server writes ``#TS:<time(NULL)>``; an
annotation beyond this is not a time any clock wrote: it is reported and left out of
timelines (the server itself skips every annotation when it loads)."""


def timestamp_note(path: str, count: int, first: int, offset: int | None) -> str:
    """The one-line report of ``count`` ``#TS:`` annotations of ``path`` beyond
    ``MAX_TIMESTAMP``, the first of which holds ``first`` (before the command at
    ``offset`` when known)."""
    digits = str(first)
    shown = digits if len(digits) <= 24 else f"{digits[:12]}... ({len(digits)} digits)"
    before = f" (before the command at offset {offset})" if offset is not None else ""
    return (f"{path}: #TS:{shown}{before} is not a time (beyond the year 9999): "
            f"{count} such annotation(s) left out of the timestamps")
