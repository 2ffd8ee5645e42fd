"""A key's value in one canonical form, independent of how the file encoded it.

The reader already turns every encoding into the same values (an int-encoded ``"12"``,
an intset member ``12`` and a raw ``"12"`` are all ``b"12"``); this module removes what
is left of the file's choices — the order of unordered collections — and packs the value
with ``marshal``:

====== ========================================================================
type   canonical value
====== ========================================================================
string ``bytes`` (the pieces joined; not packed: the bytes are their own form)
list   ``tuple[bytes, ...]`` head to tail
set    ``tuple[bytes, ...]`` sorted
zset   ``tuple[(member, score), ...]`` sorted by member (a score stays a double:
       ``marshal`` keeps ``-0.0`` apart from ``0.0``, as ``ZSCORE`` prints them)
hash   ``tuple[(field, value, field_expire_ms | None), ...]`` sorted by field
stream ``(entries, meta, groups, idmp)``: entries ``((ms, seq), ((f, v), ...))``
       ascending; meta ``(last_id, first_id, max_deleted_id, entries_added)`` or
       ``None``; groups sorted by name, each ``(name, last_delivered_id,
       entries_read, pel, consumers)`` with the PEL ``(id, consumer, delivery_time_ms,
       delivery_count)`` sorted by id and consumers ``(name, seen_time_ms,
       active_time_ms, pending ids)`` sorted by name; idmp a tuple or ``None``
module ``(module_id, payload, 0, None)``; a RedisJSON document ``(module_id without its
       encoding version, b"", 1, document)``: compared by path (``_json``)
====== ========================================================================

Two keys of the same type hold the same value exactly when their packed forms are the
same bytes, so most keys are compared without unpacking. The packed form is also what
the spill files hold.
"""

from __future__ import annotations

import marshal
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from typing import Any

from rdbtools.events import (
    Event,
    Function,
    ModuleValue,
    RecordValue,
    StreamGroup,
    StreamIdmp,
    StreamValue,
    fold_keys,
)

KeyRow = tuple[int, bytes, str, "int | None", bytes]
"""``(db, key, type, expire_ms, packed canonical value)``."""

_dumps = marshal.dumps
_first = itemgetter(0)


def _group(g: StreamGroup) -> tuple[object, ...]:
    pel = tuple(sorted(((p.id, p.consumer, p.delivery_time_ms, p.delivery_count)
                        for p in g.pending), key=_first))
    consumers = tuple(sorted(((c.name, c.seen_time_ms, c.active_time_ms, tuple(sorted(c.pending)))
                              for c in g.consumers), key=_first))
    return (g.name, g.last_delivered_id, g.entries_read, pel, consumers)


def _idmp(ev: StreamIdmp) -> tuple[object, ...]:
    return (ev.duration, ev.max_entries, tuple(sorted(ev.producers, key=_first)), ev.iids_added,
            ev.iids_duplicates)


def _stream(v: StreamValue) -> tuple[Any, ...]:
    meta = v.meta
    return (tuple([(e.id, e.fields) for e in v.entries]),
            None if meta is None else (meta.last_id, meta.first_id, meta.max_deleted_id,
                                       meta.entries_added),
            tuple(sorted([_group(g) for g in v.groups], key=_first)),
            None if v.idmp is None else _idmp(v.idmp))


def _module(v: ModuleValue) -> tuple[Any, ...]:
    data = v.decoded
    if data is not None and data.type == "json":  # compared as a document
        return (v.module_id & ~1023, b"", 1, data.document)
    return (v.module_id, v.payload, 0, None)


def canonical(t: str, value: RecordValue) -> bytes:
    """The packed canonical form of a key of type ``t`` whose whole value (as
    ``KeyFolder`` folds it) is ``value``; a string is its bytes. Sorts ``value`` in
    place."""
    if t == "string":  # kept as it is: bytes need no packing
        assert isinstance(value, bytes)
        return value
    if t == "list":
        assert isinstance(value, list)
        return _dumps(tuple(value))
    if t == "stream":
        assert isinstance(value, StreamValue)
        return _dumps(_stream(value))
    if t == "module":
        return _dumps(_module(value) if isinstance(value, ModuleValue) else None)
    if not isinstance(value, list):  # a key replay did not compute carries no elements
        return _dumps(())
    if t == "set":
        value.sort()
    else:
        # by name only: a damaged file may repeat a field, and its TTL can be None
        value.sort(key=_first)
    return _dumps(tuple(value))


def canonical_rows(events: Iterable[Event], functions: dict[bytes, bytes],
                   skip: Callable[[bytes], bool] | None = None) -> Iterator[KeyRow]:
    """One ``KeyRow`` per key of ``events``; function libraries go into ``functions``
    (name -> code). One whole key is held at a time (the value and its packed form).
    A key for which ``skip(key)`` is true is passed over, its value never gathered."""

    def library(ev: Event) -> None:
        if isinstance(ev, Function):
            functions[ev.library] = ev.code

    for start, value, _ in fold_keys(events, library, skip):
        t = start.type
        yield (start.db, start.key, t, start.expire_ms, canonical(t, value))
