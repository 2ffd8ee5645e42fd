"""RDB key events (of a preamble, a base, a ``RESTORE`` payload) folded into the ``Obj``
values replay keeps: the whole value ``KeyFolder`` folds, in replay's mutable form."""

from __future__ import annotations

from collections import deque
from typing import Any, cast

from rdbtools.events import (
    Event,
    KeyFolder,
    KeyStart,
    ModuleValue,
    RecordValue,
    StreamGroup,
    StreamId,
    StreamValue,
)
from rdbtools.replay.keyspace import Obj
from rdbtools.replay.stream import Consumer, Group, Pending, Stream


def _sid(i: StreamId) -> StreamId:
    return (i[0], i[1])


def _group(ev: StreamGroup) -> Group:
    g = Group(_sid(ev.last_delivered_id), ev.entries_read if ev.entries_read is not None else -1)
    for p in ev.pending:
        g.pel[_sid(p.id)] = Pending(p.consumer, p.delivery_time_ms, p.delivery_count)
    for c in ev.consumers:
        g.consumers[bytes(c.name)] = Consumer(
            c.seen_time_ms, c.active_time_ms if c.active_time_ms is not None else -1,
            {_sid(i) for i in c.pending})
    return g


def _stream(v: StreamValue) -> Stream:
    st = Stream()
    for e in v.entries:
        st.entries[_sid(e.id)] = tuple((bytes(f), bytes(x)) for f, x in e.fields)
    meta = v.meta
    st.entries_added = -1
    if meta is not None:
        st.last_id = meta.last_id
        if meta.max_deleted_id is not None:
            st.max_deleted_id = meta.max_deleted_id
        st.entries_added = meta.entries_added if meta.entries_added is not None else meta.length
    if st.entries_added < 0:
        st.entries_added = len(st.entries)
    for g in v.groups:
        st.groups[bytes(g.name)] = _group(g)
    return st


def replay_value(t: str, value: RecordValue) -> Any:
    """``value``, a key of type ``t`` as ``KeyFolder`` folds it, in the mutable form
    ``Obj.value`` holds (``None`` for a type replay does not model)."""
    if t == "string":
        assert isinstance(value, bytes)
        return value
    if t == "list":
        return deque([bytes(x) for x in cast("list[bytes]", value)])
    if t == "set":
        return {bytes(x) for x in cast("list[bytes]", value)}
    if t == "zset":
        return {bytes(m): float(sc) for m, sc in cast("list[tuple[bytes, float]]", value)}
    if t == "hash":
        return {bytes(f): (bytes(v), ttl)
                for f, v, ttl in cast("list[tuple[bytes, bytes, int | None]]", value)}
    if t == "stream":
        assert isinstance(value, StreamValue)
        return _stream(value)
    return value if isinstance(value, ModuleValue) else None


class Loader:
    """Folds RDB key events (a preamble, a base, a RESTORE payload) into ``Obj``s:
    ``begin(KeyStart)``, ``feed()`` each event up to the ``KeyEnd``, ``end()``."""

    def __init__(self) -> None:
        self._folder = KeyFolder()

    def begin(self, ev: KeyStart) -> None:
        self._folder.begin(ev)

    def feed(self, ev: Event) -> None:
        self._folder.feed(ev)

    def end(self) -> tuple[KeyStart, Obj]:
        start = self._folder.start
        assert start is not None
        obj = Obj(start.type, replay_value(start.type, self._folder.end()), start.expire_ms)
        return start, obj
