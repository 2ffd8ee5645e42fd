"""RDB key events (of a preamble, a base, a ``RESTORE`` payload) folded into the ``Obj``
values replay keeps."""

from __future__ import annotations

from collections import deque
from typing import Any

from rdbtools.events import (
    Event,
    HashFields,
    KeyStart,
    ListItems,
    ModuleValue,
    SetMembers,
    StreamEntries,
    StreamGroup,
    StreamMeta,
    StringValue,
    ZSetMembers,
)
from rdbtools.replay.keyspace import Obj
from rdbtools.replay.stream import Consumer, Group, Pending, Stream


class Loader:
    """Folds RDB key events (a preamble, a base, a RESTORE payload) into ``Obj``s."""

    def __init__(self) -> None:
        self.start: KeyStart | None = None
        self.obj: Obj | None = None

    def begin(self, ev: KeyStart) -> None:
        t = ev.type
        value: Any
        if t == "string":
            value = b""
        elif t == "list":
            value = deque()
        elif t == "set":
            value = set()
        elif t in ("zset", "hash"):
            value = {}
        elif t == "stream":
            value = Stream()
            value.entries_added = -1
        else:
            value = None
        self.start = ev
        self.obj = Obj(t, value, ev.expire_ms)

    def feed(self, ev: Event) -> None:
        o = self.obj
        assert o is not None
        if isinstance(ev, StringValue):
            o.value += bytes(ev.data)
        elif isinstance(ev, ListItems):
            o.value.extend(bytes(x) for x in ev.items)
        elif isinstance(ev, SetMembers):
            o.value.update(bytes(x) for x in ev.members)
        elif isinstance(ev, ZSetMembers):
            for m, sc in ev.members:
                o.value[bytes(m)] = float(sc)
        elif isinstance(ev, HashFields):
            for f, v, ttl in ev.fields:
                o.value[bytes(f)] = (bytes(v), ttl)
        elif isinstance(ev, StreamEntries):
            for e in ev.entries:
                o.value.entries[tuple(e.id)] = tuple((bytes(f), bytes(v)) for f, v in e.fields)
        elif isinstance(ev, StreamMeta):
            st: Stream = o.value
            st.last_id = ev.last_id
            if ev.max_deleted_id is not None:
                st.max_deleted_id = ev.max_deleted_id
            st.entries_added = ev.entries_added if ev.entries_added is not None else ev.length
        elif isinstance(ev, StreamGroup):
            g = Group(tuple(ev.last_delivered_id),  # type: ignore[arg-type]
                      ev.entries_read if ev.entries_read is not None else -1)
            for p in ev.pending:
                g.pel[tuple(p.id)] = Pending(p.consumer, p.delivery_time_ms,  # type: ignore
                                             p.delivery_count)
            for c in ev.consumers:
                g.consumers[bytes(c.name)] = Consumer(
                    c.seen_time_ms, c.active_time_ms if c.active_time_ms is not None else -1,
                    {tuple(i) for i in c.pending})  # type: ignore[misc]
            o.value.groups[bytes(ev.name)] = g
        elif isinstance(ev, ModuleValue):
            o.value = ev

    def end(self) -> tuple[KeyStart, Obj]:
        assert self.start is not None and self.obj is not None
        o = self.obj
        if o.type == "stream" and o.value.entries_added < 0:
            o.value.entries_added = len(o.value.entries)
        out = (self.start, o)
        self.start = self.obj = None
        return out
