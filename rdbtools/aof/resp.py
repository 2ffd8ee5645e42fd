"""Streaming RESP parser for AOF command streams (FORMAT.md §8.1, §8.3, §8.6).

``RespReader(inp)`` reads the commands of one AOF file (or of the tail after an RDB
preamble) from an ``Input`` and yields them as ``Batch`` objects — consecutive commands
that share a database and a ``#TS:`` timestamp, with their exact byte offsets —
or, through ``commands()``, as ``Command`` events. It tracks:

* ``SELECT <db>``: the database of the following commands (``Command.db`` of a SELECT
  is the database it was issued in);
* ``#...`` annotation lines (skipped; ``#TS:<unix seconds>`` sets the timestamp of the
  commands after it);
* ``MULTI`` / ``EXEC`` nesting, as ``redis-check-aof`` does: a MULTI inside a MULTI, an
  EXEC outside one, and the end of the input inside one are errors.

Errors are ``AofTruncated`` / ``AofCorrupt`` with ``ok_up_to`` (``rdbtools.aof._errors``).

How it is fast: a window of the input (1 MiB) is split on ``\\r\\n`` in one C call; a
command is then a header line ``*<n>`` followed by ``2n`` lines, taken by slicing. The
guess is verified for the whole window at once: the ``$<len>`` lines must equal the
canonical ``$%d`` of the lengths of the arguments they precede (one ``%`` formatting and
one comparison in C), and the ``*<n>`` lines are looked up in a table of canonical
counts. An argument that holds ``\\r\\n``, a non-canonical line, a command larger than the
window or any damage fails the check at that command: the commands before it are kept,
that one item is read by the exact parser (``rdbtools.aof._exact``), and the window goes
on after it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from rdbtools._buffer import Input
from rdbtools.aof import _exact
from rdbtools.aof._lines import Lines
from rdbtools.aof._walk import (
    ANOMALY,
    CUT,
    END,
    EXEC,
    MULTI,
    PAYLOAD,
    SELECT,
    Batch,
    State,
    Walk,
    framing_kind_of,
    kind_of,
    walk_framing,
    walk_full,
)
from rdbtools.aof.commands import command_size
from rdbtools.errors import AofCorrupt, AofTruncated, ParseError
from rdbtools.events import Command

__all__ = ["Batch", "RespReader", "command_size"]

WINDOW = 1 << 20
"""Bytes split into lines at once."""

_TS = re.compile(rb"#TS:([0-9]+)\r")


def batch_commands(batch: Batch) -> Iterator[Command]:
    """The ``Command`` events of a batch (one with arguments)."""
    db, ts = batch.db, batch.timestamp
    for off, args in zip(batch.offsets, batch.args):
        yield Command(db, args, off, ts)


class RespReader:
    """Reads the RESP commands of one file from ``inp`` (positioned where they start).

    ``db`` and ``timestamp`` are the state to start with (a file starts in database 0;
    the timestamp carries over from the previous file). With ``timestamp_limit`` the
    reader stops at the first ``#TS:`` annotation later than it and sets ``cut_at`` to
    where that annotation starts (or to the start of an open MULTI before it:
    ``--truncate-to-timestamp``). With ``framing_only`` the batches carry counts but no
    arguments or offsets (``aoftool check``). Iterate once.
    """

    def __init__(self, inp: Input, *, db: int = 0, timestamp: int | None = None,
                 timestamp_limit: int | None = None, framing_only: bool = False) -> None:
        self.input = inp
        self.state = State(db, timestamp, timestamp_limit)
        self.framing_only = framing_only
        self.cut_at: int | None = None
        self.stop_at: int | None = None
        """When set, ``batches()`` returns at the first item boundary at or after this
        offset (and may be called again to go on)."""

    @property
    def db(self) -> int:
        return self.state.db

    @property
    def timestamp(self) -> int | None:
        return self.state.timestamp

    @property
    def annotations(self) -> int:
        return self.state.annotations

    # ------------------------------------------------------------------ public

    def commands(self) -> Iterator[Command]:
        """The commands as ``Command`` events."""
        for batch in self.batches():
            yield from batch_commands(batch)

    def batches(self) -> Iterator[Batch]:
        """The commands, in batches (see ``Batch``), to the end of the input (or to
        ``stop_at``)."""
        inp = self.input
        while self.cut_at is None:
            avail = len(inp.buf) - inp.pos
            if avail < WINDOW and not inp.eof:
                avail = inp._fill(WINDOW)  # noqa: SLF001 - the buffer's refill
            if avail <= 0:
                break
            size = WINDOW
            if self.stop_at is not None:
                size = min(size, self.stop_at - inp.tell())
                if size <= 0:
                    return
            yield from self._window(inp.eof and avail <= size, size)
        multi_at = self.state.multi_at
        if multi_at >= 0 and self.cut_at is None:
            raise AofTruncated(
                f"Reached EOF before reading EXEC for MULTI (at {multi_at:#x})",
                source=inp.source, offset=inp.tell(), ok_up_to=multi_at, in_multi=True)

    # ------------------------------------------------------------------ windows

    def _window(self, last: bool, size: int) -> Iterator[Batch]:
        """Parse the next window of input, at most ``size`` bytes (``last``: it reaches
        the end of the input)."""
        inp = self.input
        lines = Lines(inp.buf[inp.pos:inp.pos + size], inp.tell())
        nl = lines.nl
        i = 0
        while True:
            start = i
            walk = self._walk(lines, i)
            i, why = walk.stop, walk.why
            if walk.verified is not None and self.framing_only:
                i, why = self._keep(walk, lines), ANOMALY
            for b in walk.batches:
                if b.count:
                    yield b
            if why == CUT:
                multi_at = self.state.multi_at
                self.cut_at = multi_at if multi_at >= 0 else lines.offset(i)
                inp.pos = lines.offset(i) - inp.base
                return
            if why == END and ((i == nl and not lines.list[nl]) or i > start
                               or (i == nl and not last and i > 0)):
                # the window is used up, or the next command is not complete in it
                inp.pos = lines.offset(i) - inp.base
                return
            # one item for the exact parser: damage, an argument holding \r\n, a command
            # larger than the window, a non-canonical line, the end of the input ...
            at = lines.offset(i)
            inp.pos = at - inp.base
            one = self._exact_item()
            if one is not None:
                yield one
            if self.cut_at is not None:
                return
            k = lines.line_after(i, at, inp.tell())
            if k is None:
                return  # past the window's complete lines: a new window from here
            i = k

    def _walk(self, lines: Lines, i: int) -> Walk:
        if self.framing_only:
            return walk_framing(lines, i, self.state)
        return walk_full(lines, i, self.state)

    def _keep(self, walk: Walk, lines: Lines) -> int:
        """Keep the commands of a framing ``walk`` before the first unverified one, go
        back to the state before it, and return the index of its line (``walk_full``
        stops there itself)."""
        bad = walk.verified
        assert bad is not None
        batches = walk.batches
        seen = 0
        for n, b in enumerate(batches):
            if seen + b.count > bad:
                self._state_before(walk, bad, b.timestamp, lines)
                del batches[n + 1:]
                b.count = bad - seen
                return walk.line_of(bad)
            seen += b.count
        raise AssertionError("unverified command index out of range")

    def _state_before(self, walk: Walk, bad: int, ts: int | None, lines: Lines) -> None:
        """The state before command ``bad`` of a framing walk: the walk's start state,
        the SELECT / MULTI / EXEC before that command, and the annotations before its
        line only."""
        st = self.state
        st.db, st.timestamp, st.multi_at = walk.start_db, ts, walk.multis[0]
        st.annotations -= len(walk.anns) - bisect.bisect_right(walk.anns, bad)
        multi_line = -1
        for index, kind, value in walk.specials:
            if index >= bad:
                break
            if kind == SELECT:
                st.db = value
            elif kind == MULTI:
                multi_line = value
            else:
                st.multi_at = multi_line = -1
        if multi_line >= 0:
            st.multi_at = lines.offset(multi_line)

    # ------------------------------------------------------------------ exact items

    def _exact_item(self) -> Batch | None:
        """Read one item with the exact parser; a command comes back as a batch of one."""
        inp = self.input
        at = inp.tell()
        first = inp.peek_byte()
        if first is None:
            return None
        try:
            if first == 0x23:  # '#'
                line = _exact.read_annotation(inp)
                self.state.annotations += 1
                self._annotation(line, at)
                return None
            if first != 0x2A:  # '*'
                raise _exact.format_error(first, at)
            args = _exact.read_command(inp)
        except _exact.Damage as d:
            raise self._damage(d.message, d.offset, d.truncated, at) from None
        batch = Batch(self.state.db, self.state.timestamp)
        batch.offsets.append(at)
        batch.args.append(args)
        batch.count = 1
        batch.end = inp.tell()
        self._special(args, at)
        if self.framing_only and framing_kind_of(args[0]) == PAYLOAD:
            self._check_payload(args, at)
        return batch

    def _check_payload(self, args: tuple[bytes, ...], at: int) -> None:
        """``RESTORE key ttl payload ...``: decode the payload as the server would before
        running the command; damage in it is damage of the AOF (its checksum, version
        and every count and length of the value)."""
        if len(args) < 4:
            return  # the server refuses the command itself: replay counts it
        from rdbtools.rdb.payload import decode_payload

        try:
            for _ in decode_payload(args[3], args[1], source=self.input.source):
                pass
        except ParseError as exc:
            exc.message = f"RESTORE payload: {exc.message}"
            exc.source, exc.offset, exc.key = self.input.source, at, args[1]
            raise

    def _annotation(self, line: bytes, at: int) -> None:
        """``#TS:<digits>\\r``: the timestamp of the commands after it. Any other
        annotation is skipped; a malformed ``#TS:`` too, except with a limit, where
        ``redis-check-aof`` refuses it as well."""
        if not line.startswith(b"#TS:"):
            return
        st = self.state
        m = _TS.match(line)
        if m is None:
            if st.limit is not None:
                raise self._damage(f"Invalid timestamp annotation {line[:40]!r}", at,
                                   False, at)
            return
        t = int(m.group(1))
        if st.limit is not None and t > st.limit:
            self.cut_at = st.multi_at if st.multi_at >= 0 else at
            self.input.pos = at - self.input.base
            return
        st.timestamp = t

    def _special(self, args: tuple[bytes, ...], at: int) -> None:
        kind = kind_of(args[0])
        st = self.state
        if kind == SELECT:
            if len(args) != 2 or not args[1].isdigit():
                shown = b" ".join(args[1:])[:40]
                raise self._damage(f"SELECT needs one database number, got {shown!r}", at,
                                   False, at)
            st.db = int(args[1])
        elif kind == MULTI:
            if st.multi_at >= 0:
                raise self._damage(f"Unexpected MULTI (inside the MULTI at "
                                   f"{st.multi_at:#x})", at, False, at)
            st.multi_at = at
        elif kind == EXEC:
            if st.multi_at < 0:
                raise self._damage("Unexpected EXEC (no MULTI before it)", at, False, at)
            st.multi_at = -1

    def _damage(self, message: str, offset: int, truncated: bool,
                item_at: int) -> AofTruncated | AofCorrupt:
        multi_at = self.state.multi_at
        in_multi = multi_at >= 0
        cls = AofTruncated if truncated else AofCorrupt
        return cls(message, source=self.input.source, offset=offset,
                   ok_up_to=multi_at if in_multi else item_at, in_multi=in_multi)
