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
