"""RESP framing and the commands that rebuild values on a server (FORMAT.md §8.1, §8.7),
each written once: ``rdbtools.aof.emitter`` (``rdbtool dump --resp``, the AOF writer)
and ``rdbtools.aof.stream_rewrite`` build their commands here.

A command is ``*<argc>\\r\\n`` then ``$<len>\\r\\n<bytes>\\r\\n`` per argument
(``resp_command``, in C when the extension is built). The forms are those of
``rewriteAppendOnlyFileRio`` (Redis ``aof.c``): ``RPUSH`` / ``SADD`` / ``ZADD`` / ``HMSET``
with at most ``AOF_REWRITE_ITEMS_PER_CMD`` (64) elements, scores as
``rioWriteBulkDouble`` prints them, stream ids as ``rioWriteBulkStreamID``, and
``rewriteStreamObject``'s ``XADD`` / ``XSETID`` / ``XGROUP`` / ``XCLAIM``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence

from rdbtools import _spec as S
from rdbtools._accel import speedups
from rdbtools.errors import WriteError, key_text
from rdbtools.events import StreamEntry, StreamGroup, StreamId, StreamMeta

ITEMS_PER_COMMAND = 64
"""Elements per RPUSH / SADD / ZADD / HMSET, as Redis's ``AOF_REWRITE_ITEMS_PER_CMD``."""

ADD_COMMANDS = {"list": b"RPUSH", "set": b"SADD", "zset": b"ZADD", "hash": b"HMSET"}
"""The command that adds elements to a key of each collection type."""

TTL_HASH_TYPES = frozenset({S.TYPE_HASH_METADATA_PRE_GA, S.TYPE_HASH_LISTPACK_EX_PRE_GA,
                            S.TYPE_HASH_METADATA, S.TYPE_HASH_LISTPACK_EX})
"""RDB types of a hash whose fields may have TTLs (7.4+)."""

Args = tuple[bytes, ...]


def _resp_command(*args: bytes) -> bytes:
    """``*<argc>\\r\\n`` then ``$<len>\\r\\n<bytes>\\r\\n`` per argument."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


resp_command: Callable[..., bytes] = speedups.resp if speedups else _resp_command
"""One RESP command from its arguments (the C extension's when it is built)."""


def command_size(args: tuple[bytes, ...]) -> int:
    """The size of ``args`` as a RESP command, without building it."""
    return len(b"*%d\r\n" % len(args)) + sum(len(b"$%d\r\n\r\n" % len(a)) + len(a)
                                              for a in args)


def sid(value: StreamId) -> bytes:
    """A stream id as ``rioWriteBulkStreamID`` writes it: ``<ms>-<seq>``."""
    return b"%d-%d" % value


def score_text(score: float, shortest: bool, key: bytes) -> bytes:
    """A score as ``rioWriteBulkDouble`` prints it: ``%.17g`` up to 7.0, the shortest text
    that reads back to the same double from 7.2 (``shortest``); ``inf`` / ``-inf``. A NaN,
    which no server accepts, is a ``WriteError`` naming ``key``."""
    if math.isnan(score):
        raise WriteError(f"key {key_text(key)}: a sorted-set score is NaN, which no server "
                         "accepts")
    if math.isinf(score):
        return b"inf" if score > 0 else b"-inf"
    return repr(score).encode("ascii") if shortest else b"%.17g" % score


def zadd_args(key: bytes, members: Iterable[tuple[bytes, float]], shortest: bool
              ) -> list[bytes]:
    """``score member ...`` of ``ZADD`` for ``members``."""
    return [x for member, score in members for x in (score_text(score, shortest, key), member)]


def add_commands(type: str, key: bytes, flat: Sequence[bytes], width: int) -> Iterator[Args]:
    """The ``RPUSH`` / ``SADD`` / ``ZADD`` / ``HMSET`` commands of a whole collection:
    ``flat`` is its elements' arguments in order, ``width`` arguments an element."""
    per = ITEMS_PER_COMMAND * width
    name = ADD_COMMANDS[type]
    for start in range(0, len(flat), per):
        yield (name, key, *flat[start:start + per])


def expire_command(key: bytes, expire_ms: int) -> Args:
    """A key TTL: ``PEXPIREAT key <unix ms>``."""
    return (b"PEXPIREAT", key, b"%d" % expire_ms)


def field_ttl_command(key: bytes, name: bytes, ttl_ms: int) -> Args:
    """A hash field TTL: ``HPEXPIREAT key <unix ms> FIELDS 1 <field>``."""
    return (b"HPEXPIREAT", key, b"%d" % ttl_ms, b"FIELDS", b"1", name)


# --------------------------------------------------------------------------- streams


def xadd(key: bytes, entry: StreamEntry) -> Args:
    """``XADD key <id> field value ...`` for one entry."""
    args = [b"XADD", key, sid(entry.id)]
    for name, value in entry.fields:
        args += (name, value)
    return tuple(args)


def empty_stream(key: bytes) -> Args:
    """What makes an empty stream: ``XADD key MAXLEN 0 0-1 x y``."""
    return (b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y")


def xsetid(key: bytes, meta: StreamMeta | None, level: int | None) -> Args:
    """``XSETID key <last id>``, with ``ENTRIESADDED n MAXDELETEDID id`` for RDB ``level``
    10+ (7.0+; what is unknown as the server has it: the length and ``0-0``); with
    ``level`` ``None`` those are written when ``meta`` holds them."""
    last = meta.last_id if meta is not None else (0, 0)
    args: Args = (b"XSETID", key, sid(last))
    if level is None:
        if meta is not None and meta.entries_added is not None \
                and meta.max_deleted_id is not None:
            args += (b"ENTRIESADDED", b"%d" % meta.entries_added,
                     b"MAXDELETEDID", sid(meta.max_deleted_id))
    elif level >= 10:
        added = 0 if meta is None else (
            meta.entries_added if meta.entries_added is not None else meta.length)
        deleted = (0, 0) if meta is None or meta.max_deleted_id is None \
            else meta.max_deleted_id
        args += (b"ENTRIESADDED", b"%d" % added, b"MAXDELETEDID", sid(deleted))
    return args


Lose = Callable[[str, str, int], None]
"""Told what could not be written: ``(kind, sentence, count)``; ``kind`` is a short
plural name to count under (``dump --resp``), ``sentence`` says it about this key."""


def group_commands(key: bytes, group: StreamGroup, level: int | None,
                   lose: Lose) -> Iterator[Args]:
    """One consumer group: ``XGROUP CREATE key group <id>`` (``ENTRIESREAD n`` for RDB
    ``level`` 10+, or, with ``level`` ``None``, when the group holds it), then per
    consumer ``XGROUP CREATECONSUMER`` (6.2+, one without pending entries) or one
    ``XCLAIM key group consumer 0 <id> TIME <ms> RETRYCOUNT <n> JUSTID FORCE`` per
    pending entry. With a ``level`` consumers and pending entries go in the server's
    (rax) order, ascending bytes and ids; with ``None`` in the order the group has."""
    name = group.name
    args: Args = (b"XGROUP", b"CREATE", key, name, sid(group.last_delivered_id))
    if level is None:
        if group.entries_read is not None:
            args += (b"ENTRIESREAD", b"%d" % group.entries_read)
    elif level >= 10:
        read = group.entries_read if group.entries_read is not None else -1
        args += (b"ENTRIESREAD", b"%d" % read)
    yield args
    delivery = {p.id: p for p in group.pending}
    claimed = 0
    consumers = group.consumers if level is None else \
        sorted(group.consumers, key=lambda c: bytes(c.name))
    for consumer in consumers:
        cname = consumer.name
        if not consumer.pending:
            if level is None or level >= 9:
                yield (b"XGROUP", b"CREATECONSUMER", key, name, cname)
            else:
                lose("consumers without pending entries",
                     f"consumer {bytes(cname)!r} without pending entries dropped (no XGROUP "
                     "CREATECONSUMER before 6.2)", 1)
            continue
        for pid in consumer.pending if level is None else sorted(consumer.pending):
            entry = delivery.get(pid)
            if entry is None:
                lose("pending entries without delivery data",
                     f"pending entry {sid(pid).decode()} of consumer {bytes(cname)!r} has no "
                     "delivery record: dropped", 1)
                continue
            claimed += 1
            yield (b"XCLAIM", key, name, cname, b"0", sid(pid),
                   b"TIME", b"%d" % entry.delivery_time_ms,
                   b"RETRYCOUNT", b"%d" % entry.delivery_count, b"JUSTID", b"FORCE")
    if claimed < len(group.pending):
        n = len(group.pending) - claimed
        lose("pending entries no consumer owns",
             f"{n} pending entries of group {bytes(name)!r} that no consumer owns dropped", n)
