"""The commands that rebuild one stream (``rewriteStreamObject`` in Redis ``aof.c``), for
``rdbtools.aof.writer``.

The server writes ``XADD`` per entry (``XADD key MAXLEN 0 0-1 x y`` for an empty stream),
``XSETID``, then per group ``XGROUP CREATE``, ``XGROUP CREATECONSUMER`` for a consumer
without pending entries and one ``XCLAIM ... JUSTID FORCE`` per pending entry.

One case the server's own rewrite loses: a pending entry whose stream entry was deleted
(``XDEL``, ``XTRIM``) after delivery. ``XCLAIM`` (6.2+, 7.0) skips ids that are not in
the stream, so the server's rewrite drops such entries from the PEL, while its RDB keeps
them. Here they are kept: such an id is added (``XADD key <id> x y``, in id order among
the entries) so that ``XCLAIM`` can take it, and removed after the groups: the ones
before the first entry (trimmed ones) with ``XTRIM key MINID <first id>`` (or ``MAXLEN
0`` when no entry is left), which leaves max-deleted-id alone as trimming does, the
others (deleted with ``XDEL``, so not above max-deleted-id) with ``XDEL``; ``XSETID``,
then written last, puts back the last id, entries-added and max-deleted-id.
Since the groups arrive after the entries, the ``XADD`` commands of a stream are held in
a spool (memory up to 8 MiB, then a temporary file) until the key ends.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

from rdbtools.aof._resp_out import resp_command, sid
from rdbtools.events import StreamEntries, StreamGroup, StreamId, StreamMeta
from rdbtools.spool import Spool

_HEAD = struct.Struct("<QQI")
XDEL_IDS_PER_CMD = 64


class StreamRewrite:
    """One stream key being rewritten: feed ``entries``, ``meta``, ``group`` events, then
    ``finish(emit, lose)`` writes its commands (``emit`` takes a whole RESP command)."""

    def __init__(self, key: bytes, level: int) -> None:
        self.key = key
        self.level = level
        self.spool = Spool()
        self.meta: StreamMeta | None = None
        self.groups: list[StreamGroup] = []

    def entries(self, ev: StreamEntries) -> None:
        for entry in ev.entries:
            args = [b"XADD", self.key, sid(entry.id)]
            for name, value in entry.fields:
                args += (bytes(name), bytes(value))
            cmd = resp_command(*args)
            self.spool.write(_HEAD.pack(entry.id[0], entry.id[1], len(cmd)) + cmd)

    def _spooled(self) -> Iterator[tuple[StreamId, bytes]]:
        if self.spool.file is None:
            data = memoryview(self.spool.buf)
            pos = 0
            while pos < len(data):
                ms, seq, n = _HEAD.unpack_from(data, pos)
                pos += _HEAD.size
                yield (ms, seq), bytes(data[pos:pos + n])
                pos += n
            return
        fp = self.spool.file
        fp.seek(0)
        while True:
            head = fp.read(_HEAD.size)
            if not head:
                return
            ms, seq, n = _HEAD.unpack(head)
            yield (ms, seq), fp.read(n)

    def finish(self, emit: Callable[[bytes], None], lose: Callable[[str], None]) -> None:
        try:
            self._finish(emit, lose)
        finally:
            self.spool.close()

    def _finish(self, emit: Callable[[bytes], None], lose: Callable[[str], None]) -> None:
        key = self.key
        pending = sorted({p.id for g in self.groups for p in g.pending})
        phantoms: list[StreamId] = []
        first: StreamId | None = None
        i = 0
        for eid, cmd in self._spooled():
            if first is None:
                first = eid
            while i < len(pending) and pending[i] <= eid:
                if pending[i] < eid:
                    phantoms.append(pending[i])
                    emit(resp_command(b"XADD", key, sid(pending[i]), b"x", b"y"))
                i += 1
            emit(cmd)
        for p in pending[i:]:
            phantoms.append(p)
            emit(resp_command(b"XADD", key, sid(p), b"x", b"y"))
        if first is None and not phantoms:
            emit(resp_command(b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"))
        if not phantoms:
            self._setid(emit)
        for g in self.groups:
            self._group(g, emit, lose)
        if first is None and phantoms:
            emit(resp_command(b"XTRIM", key, b"MAXLEN", b"0"))
        elif first is not None and phantoms and phantoms[0] < first:
            emit(resp_command(b"XTRIM", key, b"MINID", sid(first)))
        inner = [p for p in phantoms if first is not None and p > first]
        for n in range(0, len(inner), XDEL_IDS_PER_CMD):
            emit(resp_command(b"XDEL", key, *map(sid, inner[n:n + XDEL_IDS_PER_CMD])))
        if phantoms:
            self._setid(emit)

    def _setid(self, emit: Callable[[bytes], None]) -> None:
        meta = self.meta
        last = meta.last_id if meta is not None else (0, 0)
        args = [b"XSETID", self.key, sid(last)]
        if self.level >= 10:
            added = 0 if meta is None else (
                meta.entries_added if meta.entries_added is not None else meta.length)
            deleted = (0, 0) if meta is None or meta.max_deleted_id is None \
                else meta.max_deleted_id
            args += (b"ENTRIESADDED", b"%d" % added, b"MAXDELETEDID", sid(deleted))
        emit(resp_command(*args))

    def _group(self, group: StreamGroup, emit: Callable[[bytes], None],
               lose: Callable[[str], None]) -> None:
        key, name = self.key, bytes(group.name)
        args = [b"XGROUP", b"CREATE", key, name, sid(group.last_delivered_id)]
        if self.level >= 10:
            read = group.entries_read if group.entries_read is not None else -1
            args += (b"ENTRIESREAD", b"%d" % read)
        emit(resp_command(*args))
        delivery = {p.id: p for p in group.pending}
        claimed = 0
        for consumer in sorted(group.consumers, key=lambda c: bytes(c.name)):
            cname = bytes(consumer.name)
            if not consumer.pending:
                if self.level >= 9:
                    emit(resp_command(b"XGROUP", b"CREATECONSUMER", key, name, cname))
                else:
                    lose(f"consumer {cname!r} without pending entries dropped (no XGROUP "
                         "CREATECONSUMER before 6.2)")
                continue
            for pid in sorted(consumer.pending):
                entry = delivery.get(pid)
                if entry is None:
                    lose(f"pending entry {sid(pid).decode()} of consumer {cname!r} has no "
                         "delivery record: dropped")
                    continue
                claimed += 1
                emit(resp_command(b"XCLAIM", key, name, cname, b"0", sid(pid), b"TIME",
                                  b"%d" % entry.delivery_time_ms, b"RETRYCOUNT",
                                  b"%d" % entry.delivery_count, b"JUSTID", b"FORCE"))
        if claimed < len(group.pending):
            lose(f"{len(group.pending) - claimed} pending entries of group {name!r} that no "
                 "consumer owns dropped")
