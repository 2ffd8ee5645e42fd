"""The stream encoder of the RDB writer (FORMAT.md §4.8): entries are packed into node
listpacks as ``XADD`` fills them (a new node once the node holds
``stream-node-max-entries`` entries or would reach ``stream-node-max-bytes``), then the
metadata and consumer groups in the layout of the target's stream version."""

from __future__ import annotations

from struct import Struct

from rdbtools import _spec as S
from rdbtools.events import (
    Event,
    StreamEntries,
    StreamEntry,
    StreamGroup,
    StreamId,
    StreamIdmp,
    StreamMeta,
)
from rdbtools.rdb import _encoders as C
from rdbtools.rdb._keyenc import Finished, KeyEncoder

_BE_ID = Struct(">QQ").pack
_LE64S = Struct("<q").pack
_U64 = 1 << 64

_FLAG_SAMEFIELDS = 2


def _id(i: StreamId) -> bytes:
    return C.enc_len(i[0]) + C.enc_len(i[1])


class StreamEncoder(KeyEncoder):
    """Types 15 (RDB 9), 19 (RDB 10) and 21 (RDB 11+, Valkey)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.nodes = 0
        self.master: StreamId = (0, 0)
        self.master_fields: tuple[bytes, ...] = ()
        self.node: list[bytes] = []
        self.node_bytes = 0
        self.node_count = 0
        self.length = 0
        self.first: StreamId | None = None
        self.last: StreamId | None = None
        self.meta: StreamMeta | None = None
        self.groups: list[StreamGroup] = []
        self.idmp: StreamIdmp | None = None

    def add(self, ev: Event) -> None:
        if isinstance(ev, StreamEntries):
            for entry in ev.entries:
                self._append(entry)
        elif isinstance(ev, StreamMeta):
            self.meta = ev
        elif isinstance(ev, StreamGroup):
            self.groups.append(ev)
        elif isinstance(ev, StreamIdmp):
            self.idmp = ev
        else:
            super().add(ev)

    def _append(self, entry: StreamEntry) -> None:
        if self.last is not None and entry.id <= self.last:
            raise self.fail(f"stream id {entry.id[0]}-{entry.id[1]} does not follow "
                            f"{self.last[0]}-{self.last[1]}")
        size = sum(len(f) + len(v) for f, v in entry.fields)
        # the server's test (streamAppendItem): lpBytes(node) + field and value bytes >=
        # stream-node-max-bytes, or live + deleted entries >= stream-node-max-entries;
        # 0 means no limit (bytes: the 1 GiB listpack cap)
        max_bytes = self.th.stream_node_max_bytes or (1 << 30)
        max_entries = self.th.stream_node_max_entries
        lp_bytes = self.node_bytes + len(C.lp_int_entry(self.node_count))
        if self.node and (lp_bytes + size >= max_bytes
                          or (max_entries and self.node_count >= max_entries)):
            self._close_node()
        fields = tuple(f for f, _ in entry.fields)
        if not self.node:
            self.master = entry.id
            self.master_fields = fields
            head = [C.lp_int_entry(len(fields))] + [C.lp_entry(f) for f in fields]
            head.append(C.lp_int_entry(0))
            self.node = head
            # header and end byte, the deleted counter (0: 2 bytes) and the master entry;
            # the live counter's size is added at the test above
            self.node_bytes = 7 + 2 + sum(map(len, head))
        ms = (entry.id[0] - self.master[0]) % _U64
        seq = (entry.id[1] - self.master[1]) % _U64
        ms = ms - _U64 if ms >= 1 << 63 else ms
        seq = seq - _U64 if seq >= 1 << 63 else seq
        same = fields == self.master_fields
        parts = [C.lp_int_entry(_FLAG_SAMEFIELDS if same else 0), C.lp_int_entry(ms),
                 C.lp_int_entry(seq)]
        if same:
            parts += [C.lp_entry(v) for _, v in entry.fields]
            lp_count = len(fields) + 3
        else:
            parts.append(C.lp_int_entry(len(fields)))
            for f, v in entry.fields:
                parts += (C.lp_entry(f), C.lp_entry(v))
            lp_count = 2 * len(fields) + 4
        parts.append(C.lp_int_entry(lp_count))
        self.node += parts
        self.node_bytes += sum(map(len, parts))
        self.node_count += 1
        self.length += 1
        if self.first is None:
            self.first = entry.id
        self.last = entry.id

    def _close_node(self) -> None:
        if not self.node:
            return
        entries = [C.lp_int_entry(self.node_count), C.lp_int_entry(0)] + self.node
        blob = C.listpack_from_encoded(b"".join(entries), len(entries))
        comp = self.th.rdbcompression
        self.spool.write(C.enc_string(_BE_ID(*self.master), comp) + C.enc_string(blob, comp))
        self.nodes += 1
        self.node = []
        self.node_count = 0

    def finish(self) -> Finished:
        self._close_node()
        version = self.target.stream_version
        meta = self.meta
        last = meta.last_id if meta is not None else self.last or (0, 0)
        if self.last is not None and last < self.last:
            raise self.fail("stream last id is before its last entry")
        tail = [C.enc_len(self.length), _id(last)]
        if version >= 2:
            first = self.first or (0, 0)
            max_deleted = meta.max_deleted_id if meta and meta.max_deleted_id else (0, 0)
            added = (meta.entries_added if meta and meta.entries_added is not None
                     else self.length)
            tail += [_id(first), _id(max_deleted), C.enc_len(added)]
        elif meta is not None and (meta.entries_added not in (None, self.length)
                                   or meta.max_deleted_id not in (None, (0, 0))):
            self.loss("stream entries-added counter and max deleted id dropped: stream v1")
        tail.append(C.enc_len(len(self.groups)))
        for g in self.groups:
            tail.append(self._group(g, version, last))
        if self.idmp is not None:
            self.loss("stream idempotent-producer state dropped: needs RDB 13")
        tp = {1: S.TYPE_STREAM_LISTPACKS, 2: S.TYPE_STREAM_LISTPACKS_2,
              3: S.TYPE_STREAM_LISTPACKS_3}[version]
        return tp, C.enc_len(self.nodes), self.spool, b"".join(tail)

    def _group(self, g: StreamGroup, version: int, last: StreamId) -> bytes:
        comp = self.th.rdbcompression
        out = [C.enc_string(g.name, comp), _id(g.last_delivered_id)]
        if version >= 2:
            read = g.entries_read if g.entries_read is not None else self._estimate_read(
                g.last_delivered_id, last)
            out.append(C.enc_len(read % _U64))
        elif g.entries_read is not None and g.entries_read >= 0:
            self.loss(f"group {g.name!r} entries-read counter dropped: stream v1")
        out.append(C.enc_len(len(g.pending)))
        for p in g.pending:
            out.append(_BE_ID(*p.id) + _LE64S(p.delivery_time_ms) + C.enc_len(p.delivery_count))
        out.append(C.enc_len(len(g.consumers)))
        dropped_active = False
        for c in g.consumers:
            out.append(C.enc_string(c.name, comp) + _LE64S(c.seen_time_ms))
            if version >= 3:
                active = c.active_time_ms if c.active_time_ms is not None else c.seen_time_ms
                out.append(_LE64S(active))
            elif c.active_time_ms is not None and c.active_time_ms != c.seen_time_ms:
                dropped_active = True
            out.append(C.enc_len(len(c.pending)) + b"".join(_BE_ID(*i) for i in c.pending))
        if dropped_active:
            self.loss(f"group {g.name!r} consumer active times dropped: stream v{version}")
        return b"".join(out)

    def _estimate_read(self, delivered: StreamId, last: StreamId) -> int:
        """What a server loading a stream without ``entries_read`` assumes
        (``streamEstimateDistanceFromFirstEverEntry``): 0 for an empty history or an id
        before the first entry, the entries-added counter at the last id, else unknown
        (-1)."""
        if self.length == 0 or delivered == last:
            return self.length
        if self.first is not None and delivered < self.first:
            return 0
        return -1
