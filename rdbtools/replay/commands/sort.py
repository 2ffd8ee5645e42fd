"""``SORT ... STORE`` for ``rdbtools.replay``, as ``sortCommandGeneric`` computes the
stored list.

Rules implemented: ``BY`` without ``*`` means "do not sort" (a set is then sorted
``ALPHA`` anyway when storing, so the result is deterministic); numeric sorting parses
each weight with ``strtod`` (a missing ``BY`` key weighs 0, an unparsable weight is an
error), ties compared as binary strings; ``ALPHA`` with ``STORE`` compares binary
strings (no locale), a missing ``BY`` key sorts first; ``LIMIT`` is clamped as the server
clamps it; ``GET #`` is the element, ``GET pattern`` reads a string key or
``key->field`` of a hash, and a missing one stores an empty string. Elements that
compare equal (``ALPHA`` with missing ``BY`` keys) keep their order under the server's
stable ``qsort``; with ``BY`` and a ``LIMIT`` that is not the whole range the server's
partial ``pqsort`` decides, and is reproduced. The order a set or a sorted set starts
in is its hash table's (random hash seed): equal elements of those may land elsewhere
on the server, which does not reproduce itself there either.
"""

from __future__ import annotations

import functools
import math
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rdbtools.replay.args import CmdError, parse_int, pqsort
from rdbtools.replay.commands.zsets import zsorted
from rdbtools.replay.keyspace import Obj

if TYPE_CHECKING:
    from rdbtools.replay.keyspace import Handler, Keyspace

Lookup = Callable[[bytes, bytes | None], bytes | None]
"""``lookup(key, field)``: a string value (``field`` None) or a hash field, else None."""


@dataclass(frozen=True, slots=True)
class SortArgs:
    desc: bool
    alpha: bool
    by: bytes | None
    dontsort: bool
    limit: tuple[int, int] | None
    gets: tuple[bytes, ...]
    store: bytes | None


def parse(args: list[bytes]) -> SortArgs:
    """Options after the source key."""
    desc = alpha = dontsort = False
    by: bytes | None = None
    limit: tuple[int, int] | None = None
    gets: list[bytes] = []
    store: bytes | None = None
    i = 0
    while i < len(args):
        opt = args[i].upper()
        left = len(args) - i - 1
        if opt == b"ASC":
            desc = False
        elif opt == b"DESC":
            desc = True
        elif opt == b"ALPHA":
            alpha = True
        elif opt == b"LIMIT" and left >= 2:
            limit = (parse_int(args[i + 1]), parse_int(args[i + 2]))
            i += 2
        elif opt == b"STORE" and left >= 1:
            store = args[i + 1]
            i += 1
        elif opt == b"BY" and left >= 1:
            by = args[i + 1]
            if b"*" not in by:
                dontsort = True
            i += 1
        elif opt == b"GET" and left >= 1:
            gets.append(args[i + 1])
            i += 1
        else:
            raise CmdError("syntax error")
        i += 1
    return SortArgs(desc, alpha, by, dontsort, limit, tuple(gets), store)


def by_pattern(pattern: bytes, subst: bytes, lookup: Lookup) -> bytes | None:
    """``lookupKeyByPattern``: ``#`` is the element; else the first ``*`` is replaced by
    it (no ``*``: nothing), and a ``->field`` after the ``*`` reads a hash field."""
    if pattern == b"#":
        return subst
    star = pattern.find(b"*")
    if star < 0:
        return None
    field: bytes | None = None
    arrow = pattern.find(b"->", star + 1)
    keypat = pattern
    if arrow >= 0 and arrow + 2 < len(pattern):
        field = pattern[arrow + 2 :]
        keypat = pattern[:arrow]
    return lookup(keypat[:star] + subst + keypat[star + 1 :], field)


_STRTOD = re.compile(rb"[ \t\n\v\f\r]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
                     rb"|inf(?:inity)?|nan(?:\([0-9a-zA-Z_]*\))?)\Z", re.IGNORECASE)


def strtod(b: bytes) -> float:
    """``strtod`` with the checks of ``SORT``: the whole string, no ``ERANGE``, not NaN.
    The empty string parses as 0 (``strtod`` consumes nothing and stops at the end)."""
    if b == b"":
        return 0.0
    if b"0x" in b.lower():
        text = b.decode("latin-1").strip(" \t\n\v\f\r")
        try:
            v = float.fromhex(text)
        except ValueError:
            raise CmdError("One or more scores can't be converted into double") from None
    else:
        if not _STRTOD.match(b):
            raise CmdError("One or more scores can't be converted into double")
        text = b.decode("latin-1").strip(" \t\n\v\f\r")
        v = float(text.split("(")[0])
    if math.isnan(v):
        raise CmdError("One or more scores can't be converted into double")
    low = text.lower().lstrip("+-")
    if math.isinf(v) and not low.startswith("inf"):
        raise CmdError("One or more scores can't be converted into double")  # ERANGE
    if v == 0.0 and any(c in "123456789" for c in low.split("e")[0]):
        raise CmdError("One or more scores can't be converted into double")  # underflow
    if v != 0.0 and abs(v) < 2.2250738585072014e-308:
        raise CmdError("One or more scores can't be converted into double")  # subnormal
    return v


def sort_store(kind: str, elements: list[bytes], s: SortArgs, lookup: Lookup) -> list[bytes]:
    """The list ``SORT`` stores. ``elements``: the list in order, the set's members, or
    the sorted set's members in score order (``kind``: list, set, zset)."""
    dontsort = s.dontsort
    alpha = s.alpha
    by = s.by
    if dontsort and kind == "set":
        dontsort, alpha, by = False, True, None
    n = len(elements)
    start, end = 0, n - 1
    if s.limit is not None:
        start = max(0, s.limit[0])
        end = n - 1 if s.limit[1] < 0 else start + s.limit[1] - 1
    if start >= n:
        start, end = n - 1, n - 2
    end = min(end, n - 1)
    items = list(elements)
    if dontsort:
        if s.desc and kind in ("list", "zset"):
            items.reverse()
    else:
        weights: list[float | bytes | None] = []
        for e in items:
            w = by_pattern(by, e, lookup) if by is not None else e
            if alpha:
                weights.append(w if by is not None else None)
            else:
                weights.append(0.0 if w is None else strtod(w))

        def cmp(i: int, j: int) -> int:
            a, b = items[i], items[j]
            if not alpha:
                wa, wb = weights[i], weights[j]
                assert isinstance(wa, float) and isinstance(wb, float)
                c = (wa > wb) - (wa < wb)
                if c == 0:
                    c = (a > b) - (a < b)
            elif by is not None:
                wa, wb = weights[i], weights[j]
                if wa is None or wb is None:
                    c = 0 if wa is wb else (-1 if wa is None else 1)
                else:
                    assert isinstance(wa, bytes) and isinstance(wb, bytes)
                    c = (wa > wb) - (wa < wb)
            else:
                c = (a > b) - (a < b)
            return -c if s.desc else c

        if by is not None and (start != 0 or end != n - 1):
            order = pqsort(n, cmp, start, end)
        else:  # glibc's qsort: a merge sort, stable
            order = sorted(range(n), key=functools.cmp_to_key(cmp))
        items = [items[i] for i in order]
    out: list[bytes] = []
    for e in items[start : end + 1] if end >= start else []:
        if not s.gets:
            out.append(e)
            continue
        for g in s.gets:
            v = by_pattern(g, e, lookup)
            out.append(b"" if v is None else v)
    return out


# ---------------------------------------------------------------- handlers


def _sort(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    """Only ``SORT ... STORE dest`` writes."""
    args = parse(a[1:])
    if args.store is None:
        return
    o = r.db(db).get(a[0])
    kind = "list" if o is None else o.type
    elements: list[bytes]
    if o is None:
        elements = []
    elif o.type in ("list", "set"):
        elements = list(o.value)
    elif o.type == "zset":
        elements = [m for m, _ in zsorted(o.value)]
    else:
        raise CmdError("WRONGTYPE Operation against a key holding the wrong kind of value")

    def lookup(key: bytes, fld: bytes | None) -> bytes | None:
        x = r.db(db).get(key)
        if x is None:
            return None
        if fld is None:
            return bytes(x.value) if x.type == "string" else None
        if x.type != "hash" or fld not in x.value:
            return None
        return bytes(x.value[fld][0])

    out = sort_store(kind, elements, args, lookup)
    if out:
        r.put(db, args.store, Obj("list", deque(out)))
    else:
        r.delete(db, args.store)


COMMANDS: dict[bytes, Handler] = {
    b"SORT": _sort,
}
