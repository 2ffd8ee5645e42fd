"""The fast path of the RESP parser: take the commands of a window of lines without
looking at each byte, then verify them all at once (see ``rdbtools.aof.resp``).

Two walks over the same lines:

* ``walk_full`` keeps every command (its arguments as a tuple and its byte offset);
* ``walk_framing`` only counts them (``aoftool check``): it verifies the framing of the
  same bytes and tracks the same state, but builds no argument tuples, no per-command
  offsets and no batch per SELECT / MULTI / EXEC, which makes it about a third faster.

When the verification fails, the first differing byte of the expected and the actual
``$`` lines names the first command at fault. ``walk_full`` then stops at it (the
commands before it are kept and the state before it is rebuilt); ``walk_framing`` leaves
that to the reader.

``walk_full`` has a C twin (``aof_walk_full`` in ``rdbtools/_speedups/aof_walk.c``), used
when the extension is built: it verifies each command as it takes it and so stops at the
first one at fault without walking past it. ``walk_full_py`` is the reference; both return the same
``Walk`` and leave the same ``State``.

Both stop at the first line they cannot take (not a canonical ``*<n>`` count, not an
annotation they can skip, a SELECT / MULTI / EXEC the exact parser must judge, a command
not complete in the window). They never raise: the exact parser reads what they stop at.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from itertools import accumulate, chain

from rdbtools._accel import speedups
from rdbtools.aof._exact import ANNOTATION_MAX
from rdbtools.aof._lines import Lines
from rdbtools.aof.commands import command_size

MAX_FAST_ARGC = 4096
"""Commands with more arguments are read by the exact parser."""
ANNOTATION_FAST_MAX = ANNOTATION_MAX - 2
SELECT_FAST_DIGITS = 18
"""A SELECT whose database number has more digits is read by the exact parser."""

STARS = {b"*%d" % n: n for n in range(1, MAX_FAST_ARGC + 1)}
OTHER, SELECT, MULTI, EXEC = 0, 1, 2, 3
SPECIAL = {b"SELECT": SELECT, b"MULTI": MULTI, b"EXEC": EXEC}
KINDS: dict[bytes, int] = dict(SPECIAL)
_KINDS_MAX = 4096

END, ANOMALY, CUT = 0, 1, 2
"""Why a walk stopped: the window's complete lines are used up (or the next command is
not complete in it); a line for the exact parser; a ``#TS:`` beyond the limit."""


PAYLOAD = 4
"""``walk_framing`` only: a RESTORE, whose payload ``aoftool check`` decodes (the exact
parser reads it)."""
PAYLOADS = {b"RESTORE": PAYLOAD, b"RESTORE-ASKING": PAYLOAD}
_FRAMING_KINDS: dict[bytes, int] = {**SPECIAL, **PAYLOADS}


def framing_kind_of(name: bytes) -> int:
    """``kind_of``, or ``PAYLOAD`` for a RESTORE."""
    kind = _FRAMING_KINDS.get(name)
    if kind is None:
        kind = kind_of(name)
        if kind == OTHER and len(name) <= 14:
            kind = PAYLOADS.get(name.upper(), OTHER)
        if len(_FRAMING_KINDS) < _KINDS_MAX:
            _FRAMING_KINDS[name] = kind
    return kind


def kind_of(name: bytes) -> int:
    """``OTHER``, or which of SELECT / MULTI / EXEC ``name`` is (case-insensitive)."""
    kind = KINDS.get(name)
    if kind is None:
        kind = SPECIAL.get(name.upper(), OTHER) if len(name) <= 6 else OTHER
        if len(KINDS) < _KINDS_MAX:
            KINDS[name] = kind
    return kind


class Batch:
    """Consecutive commands of one file with the same ``db`` and ``timestamp``.

    ``count`` commands. From ``walk_full`` (and from the exact parser) also ``args[i]``,
    its offset ``offsets[i]``, and ``end`` where the last one ends; from ``walk_framing``
    (``aoftool check``) the lists are empty and ``end`` is 0.
    """

    __slots__ = ("db", "timestamp", "offsets", "args", "count", "end")

    def __init__(self, db: int, timestamp: int | None) -> None:
        self.db = db
        self.timestamp = timestamp
        self.offsets: list[int] = []
        self.args: list[tuple[bytes, ...]] = []
        self.count = 0
        self.end = 0

    def sizes(self) -> list[int]:
        """The size in bytes of each command (``walk_full`` batches)."""
        offs = self.offsets
        return [b - a for a, b in zip(offs, [*offs[1:], self.end])]


class State:
    """What the parser carries from command to command."""

    __slots__ = ("db", "timestamp", "multi_at", "limit", "annotations")

    def __init__(self, db: int, timestamp: int | None, limit: int | None) -> None:
        self.db = db
        self.timestamp = timestamp
        self.multi_at = -1
        self.limit = limit
        self.annotations = 0


class Walk:
    """The result of a walk: where (line ``stop``) and why it stopped, the batches, and
    per batch the ``multi_at`` it started with (to go back to a verified command)."""

    __slots__ = ("start", "stop", "why", "batches", "multis", "verified", "ns", "anns",
                 "specials", "start_db")

    def __init__(self, start: int, stop: int, why: int, batches: list[Batch],
                 multis: list[int]) -> None:
        self.start = start
        self.stop = stop
        self.why = why
        self.batches = batches
        self.multis = multis
        self.verified: int | None = None
        """``None`` when every command verified, else the index of the first that did
        not. ``walk_full``: the walk stopped at it (``stop`` is its line, ``why`` is
        ``ANOMALY``, the batches end before it, the state is the one before it);
        ``walk_framing``: the batches hold it and everything after it."""
        self.ns: list[int] = []
        """``walk_framing``: the argument count of each command."""
        self.anns: list[int] = []
        """``walk_framing``: for each annotation line, how many commands precede it."""
        self.specials: list[tuple[int, int, int]] = []
        """``walk_framing``: ``(command index, SELECT, db)``, ``(index, MULTI, line)``,
        ``(index, EXEC, 0)`` for each such command."""
        self.start_db = 0

    def line_of(self, c: int) -> int:
        """``walk_framing``: the line where command ``c`` starts."""
        return self.start + sum(self.ns[:c]) * 2 + c + bisect.bisect_right(self.anns, c)


def walk_full(window: Lines, i: int, st: State) -> Walk:
    """Take commands from line ``i`` of ``window`` with their arguments and offsets,
    updating ``st``: ``aof_walk_full`` of the C extension when it is built, else
    ``walk_full_py`` (the same result)."""
    cum = window.cum()
    if _c_walk_full is not None:
        walk: Walk = _c_walk_full(window.list, window.nl, window.wbase + cum[i] + 2 * i, i,
                                  st, Batch, Walk, MAX_FAST_ARGC, ANNOTATION_FAST_MAX)
        return walk
    return walk_full_py(window.tuple(), window.nl, cum, window.wbase, i, st)


_c_walk_full = speedups.aof_walk_full if speedups else None


def walk_full_py(lines: tuple[bytes, ...], nl: int, cum: Sequence[int], wbase: int, i: int,
                 st: State) -> Walk:
    """Take commands from line ``i`` (of ``nl`` complete lines; line ``k`` starts at
    ``wbase + cum[k] + 2k``) with their arguments and offsets, updating ``st``.

    A command is a ``*<n>`` line from ``STARS`` and ``2n`` lines (FORMAT.md §8.1); a
    ``#`` line is an annotation, ``#TS:<digits>`` sets the timestamp (§8.3). The walk
    stops at the first other line, at a SELECT / MULTI / EXEC the exact parser must judge,
    at a command not complete in the window, at a ``#TS:`` beyond ``st.limit`` (``CUT``)
    and at the first command whose ``$`` lines are not the canonical ``$%d`` of the
    lengths of its arguments (``Walk.verified``)."""
    stars = STARS.get
    kinds = KINDS.get
    db, ts, multi_at, limit = st.db, st.timestamp, st.multi_at, st.limit
    annotations = st.annotations
    start = i
    batch = Batch(db, ts)
    batches = [batch]
    multis = [multi_at]
    oapp, aapp = batch.offsets.append, batch.args.append
    heads: list[bytes] = []
    hext = heads.extend
    why = END
    endj = i
    while i < nl:
        n = stars(lines[i])
        if n is not None:
            j = i + 1 + n + n
            if j > nl:
                break
            args = lines[i + 2:j:2]
            kind = kinds(args[0])
            if kind is None:
                kind = kind_of(args[0])
            if kind:
                if kind == SELECT:
                    if (n != 2 or not args[1].isdigit()
                            or len(args[1]) > SELECT_FAST_DIGITS):
                        why = ANOMALY
                        break
                    db = int(args[1])
                elif kind == MULTI:
                    if multi_at >= 0:
                        why = ANOMALY
                        break
                    multi_at = wbase + cum[i] + i + i
                elif multi_at < 0:  # EXEC outside MULTI
                    why = ANOMALY
                    break
                else:
                    multi_at = -1
                hext(lines[i + 1:j:2])
                oapp(wbase + cum[i] + i + i)
                aapp(args)
                batch.end = wbase + cum[j] + j + j
                batch = Batch(db, ts)
                batches.append(batch)
                multis.append(multi_at)
                oapp, aapp = batch.offsets.append, batch.args.append
                i = endj = j
                continue
            hext(lines[i + 1:j:2])
            oapp(wbase + cum[i] + i + i)
            aapp(args)
            i = endj = j
            continue
        h = lines[i]
        if h[:1] == b"#" and len(h) <= ANNOTATION_FAST_MAX and b"\n" not in h:
            if h[:4] == b"#TS:":
                if h[4:].isdigit():
                    t = int(h[4:])
                    if limit is not None and t > limit:
                        why = CUT
                        break
                    if t != ts:
                        if batch.args:
                            batch.end = wbase + cum[endj] + endj + endj
                        ts = t
                        batch = Batch(db, ts)
                        batches.append(batch)
                        multis.append(multi_at)
                        oapp, aapp = batch.offsets.append, batch.args.append
                elif limit is not None:
                    why = ANOMALY
                    break
            st.annotations += 1
            i += 1
            continue
        why = ANOMALY
        break
    if batch.args:
        batch.end = wbase + cum[endj] + endj + endj
    for b in batches:
        b.count = len(b.args)
    st.db, st.timestamp, st.multi_at = db, ts, multi_at
    walk = Walk(start, i, why, batches, multis)
    lengths = tuple(map(len, chain.from_iterable(chain.from_iterable(
        b.args for b in batches))))
    walk.verified = first_unverified(heads, lengths, lambda: [
        len(a) for b in batches for a in b.args])
    if walk.verified is not None:
        _stop_at_unverified(walk, walk.verified, st, annotations,
                            lambda off: bisect.bisect_left(
                                range(nl + 1), off - wbase, key=lambda x: cum[x] + 2 * x))
    return walk


def _stop_at_unverified(walk: Walk, bad: int, st: State, annotations: int,
                        line_of: Callable[[int], int]) -> None:
    """Cut ``walk`` before its command ``bad`` (``line_of``: the line that starts at a
    byte offset) and put ``st`` back to the state before that command."""
    batches, seen = walk.batches, 0
    for n, b in enumerate(batches):
        if seen + b.count > bad:
            keep = bad - seen
            walk.stop, walk.why = line_of(b.offsets[keep]), ANOMALY
            b.end = b.offsets[keep - 1] + command_size(b.args[keep - 1]) if keep else 0
            del b.offsets[keep:], b.args[keep:], batches[n + 1:], walk.multis[n + 1:]
            b.count = keep
            st.db, st.timestamp, st.multi_at = b.db, b.timestamp, walk.multis[n]
            taken = sum(len(a) * 2 + 1 for c in batches for a in c.args)
            st.annotations = annotations + walk.stop - walk.start - taken
            return
        seen += b.count
    raise AssertionError("unverified command index out of range")


def walk_framing(window: Lines, i: int, st: State) -> Walk:
    """Like ``walk_full`` but only counting, from line ``i`` of ``window``.

    Batches are cut only where the timestamp changes; their ``db`` is the database at
    their start and their ``end`` is not computed (0). SELECT / MULTI / EXEC are noted in
    ``Walk.specials`` instead, so that the state before any command can be rebuilt."""
    lines, nl = window.list, window.nl
    stars = STARS.get
    kinds = _FRAMING_KINDS.get
    db, ts, limit = st.db, st.timestamp, st.limit
    walk = Walk(i, i, END, [], [st.multi_at])
    walk.start_db = db
    batch = Batch(db, ts)
    batches = walk.batches
    batches.append(batch)
    body: list[bytes] = []
    bext = body.extend
    ns: list[int] = []
    napp = ns.append
    anns: list[int] = []
    specials: list[tuple[int, int, int]] = []
    in_multi = st.multi_at >= 0
    multi_line = -1  # line of a MULTI opened in this walk
    why = END
    first = 0  # index in ns of the current batch's first command
    while i < nl:
        n = stars(lines[i])
        if n is not None:
            j = i + 1 + n + n
            if j > nl:
                break
            name = lines[i + 2]
            kind = kinds(name)
            if kind is None:
                kind = framing_kind_of(name)
            if kind:
                if kind == PAYLOAD:
                    why = ANOMALY
                    break
                if kind == SELECT:
                    if (n != 2 or not lines[i + 4].isdigit()
                            or len(lines[i + 4]) > SELECT_FAST_DIGITS):
                        why = ANOMALY
                        break
                    db = int(lines[i + 4])
                    specials.append((len(ns), SELECT, db))
                elif kind == MULTI:
                    if in_multi:
                        why = ANOMALY
                        break
                    in_multi = True
                    multi_line = i
                    specials.append((len(ns), MULTI, i))
                elif not in_multi:  # EXEC outside MULTI
                    why = ANOMALY
                    break
                else:
                    in_multi = False
                    multi_line = -1
                    specials.append((len(ns), EXEC, 0))
            bext(lines[i + 1:j])
            napp(n)
            i = j
            continue
        h = lines[i]
        if h[:1] == b"#" and len(h) <= ANNOTATION_FAST_MAX and b"\n" not in h:
            if h[:4] == b"#TS:":
                if h[4:].isdigit():
                    t = int(h[4:])
                    if limit is not None and t > limit:
                        why = CUT
                        break
                    if t != ts:
                        if len(ns) > first:
                            batch.count = len(ns) - first
                            first = len(ns)
                        ts = t
                        batch = Batch(db, ts)
                        batches.append(batch)
                elif limit is not None:
                    why = ANOMALY
                    break
            anns.append(len(ns))
            st.annotations += 1
            i += 1
            continue
        why = ANOMALY
        break
    if len(ns) > first:
        batch.count = len(ns) - first
    st.db, st.timestamp = db, ts
    if not in_multi:
        st.multi_at = -1
    elif multi_line >= 0:
        st.multi_at = window.offset(multi_line)
    walk.stop, walk.why = i, why
    walk.verified = first_unverified(body[0::2], tuple(map(len, body[1::2])),
                                     lambda: ns)
    if walk.verified is not None:
        walk.ns, walk.anns, walk.specials = ns, anns, specials
    return walk


def first_unverified(heads: list[bytes], lengths: tuple[int, ...],
                     argcs: Callable[[], list[int]]) -> int | None:
    """``None`` when every ``$`` line in ``heads`` is the canonical ``$%d`` of the
    argument length it precedes (one formatting and one comparison in C); else the index
    of the first command at fault, found from the first differing byte (``argcs()``:
    the argument count of each command)."""
    if not lengths:
        return None
    want = (b"$%d\r\n" * len(lengths)) % lengths
    got = b"\r\n".join(heads) + b"\r\n"
    if want == got:
        return None
    n = min(len(want), len(got))
    x = int.from_bytes(want[:n], "big") ^ int.from_bytes(got[:n], "big")
    d = n if x == 0 else n - 1 - (x.bit_length() - 1) // 8
    arg = want.count(b"\r\n", 0, d)  # the first ``$`` line at fault
    return bisect.bisect_right(list(accumulate(argcs())), arg)
