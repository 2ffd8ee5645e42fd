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
    HashFields,
    KeyEnd,
    KeyStart,
    ListItems,
    ModuleValue,
    SetMembers,
    StreamEntries,
    StreamGroup,
    StreamIdmp,
    StreamMeta,
    StringValue,
    ZSetMembers,
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


def canonical_rows(events: Iterable[Event], functions: dict[bytes, bytes],
                   skip: Callable[[bytes], bool] | None = None) -> Iterator[KeyRow]:
    """One ``KeyRow`` per key of ``events``; function libraries go into ``functions``
    (name -> code). One whole key is held at a time (the value and its packed form).
    A key for which ``skip(key)`` is true is passed over, its value never gathered."""
    skipping = False
    start: KeyStart | None = None
    parts: list[Any] = []
    meta: object = None
    groups: list[tuple[object, ...]] = []
    idmp: object = None
    module: object = None
    # the most frequent events first: a string key is KeyStart, StringValue, KeyEnd
    for ev in events:
        tp = type(ev)
        if skipping:
            skipping = tp is not KeyEnd
            continue
        if tp is KeyStart:
            if skip is not None and skip(ev.key):  # type: ignore[union-attr]
                skipping = True
                start = None
                continue
            start = ev  # type: ignore[assignment]
            parts = []
            meta = idmp = module = None
            if groups:
                groups = []
        elif tp is KeyEnd:
            if start is None:
                continue
            t = start.type
            value: Any
            if t == "string":  # kept as it is: bytes need no packing
                yield (start.db, start.key, t, start.expire_ms,
                       parts[0] if len(parts) == 1 else b"".join(parts))
                start = None
                continue
            elif t == "list":
                value = tuple(parts)
            elif t == "stream":
                value = (tuple(parts), meta, tuple(sorted(groups, key=_first)), idmp)
            elif t == "module":
                value = module
            elif t == "set":
                parts.sort()
                value = tuple(parts)
            else:
                # by name only: a damaged file may repeat a field, and its TTL can be None
                parts.sort(key=_first)
                value = tuple(parts)
            yield (start.db, start.key, t, start.expire_ms, _dumps(value))
            start = None
        elif tp is StringValue:
            parts.append(ev.data)  # type: ignore[union-attr]
        elif tp is HashFields:
            parts.extend(ev.fields)  # type: ignore[union-attr]
        elif tp is ListItems:
            parts.extend(ev.items)  # type: ignore[union-attr]
        elif tp is SetMembers:
            parts.extend(ev.members)  # type: ignore[union-attr]
        elif tp is ZSetMembers:
            parts.extend(ev.members)  # type: ignore[union-attr]
        elif tp is StreamEntries:
            parts.extend([(e.id, e.fields) for e in ev.entries])  # type: ignore[union-attr]
        elif tp is StreamMeta:
            assert isinstance(ev, StreamMeta)
            meta = (ev.last_id, ev.first_id, ev.max_deleted_id, ev.entries_added)
        elif tp is StreamGroup:
            groups.append(_group(ev))  # type: ignore[arg-type]
        elif tp is StreamIdmp:
            idmp = _idmp(ev)  # type: ignore[arg-type]
        elif tp is ModuleValue:
            assert isinstance(ev, ModuleValue)
            data = ev.decoded
            if data is not None and data.type == "json":  # compared as a document
                module = (ev.module_id & ~1023, b"", 1, data.document)
            else:
                module = (ev.module_id, ev.payload, 0, None)
        elif tp is Function:
            assert isinstance(ev, Function)
            functions[ev.library] = ev.code
