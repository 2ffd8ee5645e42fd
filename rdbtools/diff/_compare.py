"""Two canonical values of one key (``_canon``) turned into ``Change`` records.

What is compared, and how (``docs/diff.md`` has the table of paths):

- the type, then the key's expiry (unless TTLs are ignored), then the value;
- strings and every element by their bytes; scores as doubles, ``-0`` apart from ``0``
  because ``ZSCORE`` prints them apart (``-0`` and ``0``);
- lists: the common prefix and suffix are skipped; the middle is reported as an edit
  script (``difflib``'s opcodes) when both middles together hold at most
  ``LIST_SCRIPT_LIMIT`` elements, else as one range;
- stream metadata, a group's ``entries_read`` and a consumer's active time are compared
  only when both files store them (older RDB versions do not: ``None`` means unknown).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from marshal import loads
from typing import Any

from rdbtools._spec import module_name
from rdbtools.diff._canon import KeyRow
from rdbtools.diff._change import Change, PathItem
from rdbtools.diff._json import compare_documents

LIST_SCRIPT_LIMIT = 256
"""Both changed middles of a list together at most this long: an edit script."""
_CHUNK = 4096

Emit = Callable[[Change], None]


@dataclass(frozen=True, slots=True)
class Options:
    """What not to compare: expiries (of keys and hash fields), and the stream times a
    server sets from its clock when it loads or replays (PEL delivery times, consumers'
    seen and active times)."""

    ignore_ttl: bool = False
    ignore_stream_times: bool = False


def sid(stream_id: Any) -> str:
    """A stream id ``(ms, seq)`` as Redis prints it: ``"ms-seq"``."""
    return f"{stream_id[0]}-{stream_id[1]}"


def same_score(x: float, y: float) -> bool:
    """Scores as ``ZSCORE`` shows them: equal doubles, with ``-0`` and ``0`` apart."""
    return x == y and (x != 0.0 or math.copysign(1.0, x) == math.copysign(1.0, y))


def compare_rows(a: KeyRow, b: KeyRow, opts: Options) -> list[Change]:
    """The changes from key row ``a`` to key row ``b`` (same db and key)."""
    db, key, ta, ea, va = a
    tb, eb, vb = b[2], b[3], b[4]
    out: list[Change] = []
    if ta != tb:
        out.append(Change(db, key, "type", (), ta, tb))
    if not opts.ignore_ttl and ea != eb:
        out.append(Change(db, key, "ttl", (), ea, eb))
    if ta == tb and va != vb:
        if ta == "string":
            out.append(Change(db, key, "value", (), va, vb))
        else:
            _VALUE[ta](out.append, db, key, loads(va), loads(vb), opts)
    return out


def _prefix(a: tuple[bytes, ...], b: tuple[bytes, ...]) -> int:
    n = min(len(a), len(b))
    p = 0
    while p < n and a[p : p + _CHUNK] == b[p : p + _CHUNK]:
        p += _CHUNK
    p = min(p, n)
    while p < n and a[p] == b[p]:
        p += 1
    return p


def _suffix(a: tuple[bytes, ...], b: tuple[bytes, ...], p: int) -> int:
    """The length of the common suffix of ``a`` and ``b`` that stays clear of the first
    ``p`` elements (the common prefix)."""
    la, lb = len(a), len(b)
    n = min(la, lb) - p
    s = 0
    while s + _CHUNK <= n and a[la - s - _CHUNK : la - s] == b[lb - s - _CHUNK : lb - s]:
        s += _CHUNK
    while s < n and a[la - 1 - s] == b[lb - 1 - s]:
        s += 1
    return s


def _list(emit: Emit, db: int, key: bytes, a: Any, b: Any, opts: Options) -> None:
    la, lb = len(a), len(b)
    p = _prefix(a, b)
    s = _suffix(a, b, p)
    end_a, end_b = la - s, lb - s
    if (end_a - p) + (end_b - p) > LIST_SCRIPT_LIMIT:
        emit(Change(db, key, "value", ("range", p, end_a, p, end_b), la, lb))
        return
    mid_a, mid_b = a[p:end_a], b[p:end_b]
    matcher = SequenceMatcher(None, mid_a, mid_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            emit(Change(db, key, "value", ("elements", p + i1, p + i2, p + j1, p + j2),
                        tuple(mid_a[i1:i2]), tuple(mid_b[j1:j2])))


def _set(emit: Emit, db: int, key: bytes, a: Any, b: Any, opts: Options) -> None:
    sa, sb = set(a), set(b)
    for m in sorted(sa - sb):
        emit(Change(db, key, "removed", ("member", m)))
    for m in sorted(sb - sa):
        emit(Change(db, key, "added", ("member", m)))


def _zset(emit: Emit, db: int, key: bytes, a: Any, b: Any, opts: Options) -> None:
    da, dbb = dict(a), dict(b)
    for m, score in a:
        other = dbb.get(m)
        if other is None:
            emit(Change(db, key, "removed", ("member", m), score, None))
        elif not same_score(score, other):
            emit(Change(db, key, "value", ("member", m), score, other))
    for m, score in b:
        if m not in da:
            emit(Change(db, key, "added", ("member", m), None, score))


def _hash(emit: Emit, db: int, key: bytes, a: Any, b: Any, opts: Options) -> None:
    dbb = {f: (v, t) for f, v, t in b}
    seen = set()
    for f, v, t in a:
        seen.add(f)
        other = dbb.get(f)
        if other is None:
            emit(Change(db, key, "removed", ("field", f), v, None))
            continue
        if v != other[0]:
            emit(Change(db, key, "value", ("field", f), v, other[0]))
        if not opts.ignore_ttl and t != other[1]:
            emit(Change(db, key, "ttl", ("field", f), t, other[1]))
    for f, v, _ in b:
        if f not in seen:
            emit(Change(db, key, "added", ("field", f), None, v))


_META = ("last_id", "first_id", "max_deleted_id", "entries_added")


def _keyed(emit: Emit, db: int, key: bytes, path: tuple[PathItem, ...], a: Any, b: Any,
           show: Callable[[Any], Any], name: Callable[[Any], PathItem],
           compare: Callable[[tuple[PathItem, ...], Any, Any], None] | None = None) -> None:
    """Items keyed by their first element: removed, added, and (``compare``) both."""
    da = {x[0]: x for x in a}
    dbb = {x[0]: x for x in b}
    for k, x in da.items():
        y = dbb.get(k)
        here = (*path, name(k))
        if y is None:
            emit(Change(db, key, "removed", here, show(x), None))
        elif x != y:
            if compare is None:
                emit(Change(db, key, "value", here, show(x), show(y)))
            else:
                compare(here, x, y)
    for k, y in dbb.items():
        if k not in da:
            emit(Change(db, key, "added", (*path, name(k)), None, show(y)))


def _stream(emit: Emit, db: int, key: bytes, a: Any, b: Any, opts: Options) -> None:
    entries_a, meta_a, groups_a, idmp_a = a
    entries_b, meta_b, groups_b, idmp_b = b

    def fields(entry: Any) -> Any:
        return entry[1]

    _keyed(emit, db, key, ("entry",), entries_a, entries_b, fields, sid)
    if meta_a is not None and meta_b is not None:
        for name, x, y in zip(_META, meta_a, meta_b):
            if x is not None and y is not None and x != y:
                shown = (x, y) if name == "entries_added" else (sid(x), sid(y))
                emit(Change(db, key, "value", ("meta", name), *shown))

    def group_summary(g: Any) -> Any:
        return (sid(g[1]), g[2], len(g[3]), len(g[4]))

    def pel_entry(p: Any) -> Any:
        return p[1:]

    def pel(path: tuple[PathItem, ...], x: Any, y: Any) -> None:
        if x[1] != y[1] or x[3] != y[3] or (x[2] != y[2] and not opts.ignore_stream_times):
            emit(Change(db, key, "value", path, pel_entry(x), pel_entry(y)))

    def consumer_summary(c: Any) -> Any:
        return (c[1], c[2], len(c[3]))

    def group(path: tuple[PathItem, ...], x: Any, y: Any) -> None:
        if x[1] != y[1]:
            emit(Change(db, key, "value", (*path, "last_delivered_id"), sid(x[1]), sid(y[1])))
        if x[2] is not None and y[2] is not None and x[2] != y[2]:
            emit(Change(db, key, "value", (*path, "entries_read"), x[2], y[2]))
        _keyed(emit, db, key, (*path, "pending"), x[3], y[3], pel_entry, sid, pel)
        _keyed(emit, db, key, (*path, "consumer"), x[4], y[4], consumer_summary,
               _identity, consumer)

    def consumer(path: tuple[PathItem, ...], x: Any, y: Any) -> None:
        if opts.ignore_stream_times:
            return
        if x[1] != y[1]:
            emit(Change(db, key, "value", (*path, "seen_time_ms"), x[1], y[1]))
        if x[2] is not None and y[2] is not None and x[2] != y[2]:
            emit(Change(db, key, "value", (*path, "active_time_ms"), x[2], y[2]))
        # its pending ids are the PEL entries it owns: compared there

    _keyed(emit, db, key, ("group",), groups_a, groups_b, group_summary, _identity, group)
    if idmp_a != idmp_b:
        emit(Change(db, key, "value", ("idmp",), idmp_a, idmp_b))


def _identity(x: Any) -> Any:
    return x


def _module(emit: Emit, db: int, key: bytes, a: Any, b: Any, opts: Options) -> None:
    """``(module_id, payload, decoded, document)``: two RedisJSON documents by path
    (whatever encoding version each file wrote them in), else the id and payload."""
    if a[2] and b[2]:
        compare_documents(emit, db, key, a[3], b[3])
        return
    if a[0] != b[0]:
        emit(Change(db, key, "value", ("module",), _module_text(a[0]), _module_text(b[0])))
    if a[1] != b[1]:
        emit(Change(db, key, "value", ("payload",), a[1], b[1]))


def _module_text(module_id: int) -> str:
    name, version = module_name(module_id)
    return f"{name}/{version}"


_VALUE: dict[str, Callable[[Emit, int, bytes, Any, Any, Options], None]] = {
    "list": _list,
    "set": _set,
    "zset": _zset,
    "hash": _hash,
    "stream": _stream,
    "module": _module,
}
