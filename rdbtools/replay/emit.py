"""The replayed keyspace as RDB-style events: per key ``KeyStart`` (``encoding="replayed"``),
value batches of at most ``BATCH`` items, ``KeyEnd(key, 0, 0)``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from operator import itemgetter
from typing import Any

from rdbtools import _make as M
from rdbtools.events import Event, ModuleValue, NotReplayed
from rdbtools.replay.keyspace import Obj

BATCH = 512
RDB_TYPES = {"string": 0, "list": 1, "set": 2, "zset": 5, "hash": 4, "stream": 21}


def _chunks(items: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    it = iter(items)
    while chunk := tuple(islice(it, BATCH)):
        yield chunk


BY_SCORE = itemgetter(1, 0)


def zset_order(v: dict[bytes, float], listpack_zero: bool) -> list[tuple[bytes, float]]:
    """``(member, score)`` by score then member; with ``listpack_zero`` a -0 score of a
    set small enough for a listpack is 0, as a 7.0+ server stores it."""
    items = sorted(v.items(), key=BY_SCORE)
    if listpack_zero and len(items) <= 128 and all(len(m) <= 64 for m in v):
        items = [(m, 0.0 if s == 0 else s) for m, s in items]
    return items


def key_events(db: int, key: bytes, o: Obj, listpack_zero: bool) -> Iterator[Event]:
    """One key as events (built with the fast constructors of ``rdbtools._make``: all
    fields, positionally)."""
    t = o.type
    v = o.value
    if t == "not-replayed":
        yield M.KeyStart(db, key, t, "replayed", 0, None, None, None, None, 0)
        yield NotReplayed(tuple(v.commands), 0)
        yield M.KeyEnd(key, 0, 0, 0)
        return
    if t == "module":
        assert isinstance(v, ModuleValue)
        yield M.KeyStart(db, key, "module", "replayed", 7, o.expire, None, None, None, 0)
        yield v
        yield M.KeyEnd(key, 0, 0, 0)
        return
    if t == "string":
        yield M.KeyStart(db, key, t, "replayed", 0, o.expire, None, None, None, 0)
        yield M.StringValue(v, 0)
        yield M.KeyEnd(key, 0, 0, 0)
        return
    rdb_type = RDB_TYPES[t]
    if t == "hash" and any(ttl is not None for _, ttl in v.values()):
        rdb_type = 24
    length = None if t == "stream" else len(v)
    yield M.KeyStart(db, key, t, "replayed", rdb_type, o.expire, None, None, length, 0)
    if t == "list":
        if len(v) <= BATCH:
            yield M.ListItems(tuple(v), 0)
        else:
            for c in _chunks(v):
                yield M.ListItems(c, 0)
    elif t == "set":
        for c in _chunks(sorted(v)):
            yield M.SetMembers(c, 0)
    elif t == "zset":
        for c in _chunks(zset_order(v, listpack_zero)):
            yield M.ZSetMembers(c, 0)
    elif t == "hash":
        for c in _chunks([(f, x, ttl) for f, (x, ttl) in sorted(v.items())]):
            yield M.HashFields(c, 0)
    elif t == "stream":
        for c in _chunks(v.entry_events()):
            yield M.StreamEntries(c, 0)
        yield v.meta()
        yield from v.group_events()
    yield M.KeyEnd(key, 0, 0, 0)
