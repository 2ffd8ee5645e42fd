"""The commands that rebuild one stream (``rewriteStreamObject`` in Redis ``aof.c``), for
``rdbtools.aof.emitter`` (the commands themselves are built by ``rdbtools.aof.commands``).

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

from rdbtools.aof.commands import (
    Lose,
    empty_stream,
    group_commands,
    resp_command,
    sid,
    xadd,
    xsetid,
)
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
            cmd = resp_command(*xadd(self.key, entry))
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

    def finish(self, emit: Callable[[bytes], None], lose: Lose) -> None:
        try:
            self._finish(emit, lose)
        finally:
            self.spool.close()

    def _finish(self, emit: Callable[[bytes], None], lose: Lose) -> None:
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
            emit(resp_command(*empty_stream(key)))
        if not phantoms:
            emit(resp_command(*xsetid(key, self.meta, self.level)))
        for g in self.groups:
            for args in group_commands(key, g, self.level, lose):
                emit(resp_command(*args))
        if first is None and phantoms:
            emit(resp_command(b"XTRIM", key, b"MAXLEN", b"0"))
        elif first is not None and phantoms and phantoms[0] < first:
            emit(resp_command(b"XTRIM", key, b"MINID", sid(first)))
        inner = [p for p in phantoms if first is not None and p > first]
        for n in range(0, len(inner), XDEL_IDS_PER_CMD):
            emit(resp_command(b"XDEL", key, *map(sid, inner[n:n + XDEL_IDS_PER_CMD])))
        if phantoms:
            emit(resp_command(*xsetid(key, self.meta, self.level)))
