"""The stream encoder of the RDB writer (FORMAT.md §4.8): entries are packed into node
listpacks as ``XADD`` fills them (a new node once the node holds
``stream-node-max-entries`` entries or would reach ``stream-node-max-bytes``), then the
metadata and consumer groups in the layout of the target's stream version."""

from __future__ import annotations

from struct import Struct

from rdbtools import _spec as S
from rdbtools.events import (
    Event,
    KeyStart,
    StreamEntries,
    StreamEntry,
    StreamGroup,
    StreamId,
    StreamIdmp,
    StreamMeta,
)
from rdbtools.rdb import _encoders as C
from rdbtools.rdb._keyenc import Finished, KeyEncoder, Loss
from rdbtools.rdb.targets import Target, Thresholds

_BE_ID = Struct(">QQ").pack
_LE64S = Struct("<q").pack
_U64 = 1 << 64
_SAMEFIELDS = b"2"
"""Entry flags as listpack text: STREAM_ITEM_FLAG_SAMEFIELDS (the master's fields) ..."""
_NO_FLAGS = b"0"
"""... or none (the entry lists its own fields)."""
_LP_ZERO = C.lp_entry_py(b"0")
_STREAM_TYPES = {1: S.TYPE_STREAM_LISTPACKS, 2: S.TYPE_STREAM_LISTPACKS_2,
                 3: S.TYPE_STREAM_LISTPACKS_3}


def _id(i: StreamId) -> bytes:
    return C.enc_len(i[0]) + C.enc_len(i[1])


class StreamEncoder(KeyEncoder):
    """Types 15 (RDB 9), 19 (RDB 10) and 21 (RDB 11+, Valkey)."""

    def __init__(self, start: KeyStart, target: Target, th: Thresholds, loss: Loss) -> None:
        super().__init__(start, target, th, loss)
        self.nodes = 0
        self.master: StreamId = (0, 0)
        self.master_fields: tuple[bytes, ...] = ()
        self.node: list[bytes] = []
        """Runs of encoded listpack entries: the master entry, then one run per entry."""
        self.node_entries = 0
        self.node_bytes = 0
        self.max_bytes = self.th.stream_node_max_bytes or (1 << 30)
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
        eid = entry.id
        last = self.last
        if last is not None and eid <= last:
            raise self.fail(f"stream id {eid[0]}-{eid[1]} does not follow "
                            f"{last[0]}-{last[1]}")
        pairs = entry.fields
        fields = tuple([f for f, _ in pairs])
        values = [v for _, v in pairs]
        size = sum(map(len, fields)) + sum(map(len, values))
        # the server's test (streamAppendItem): lpBytes(node) + field and value bytes >=
        # stream-node-max-bytes, or live + deleted entries >= stream-node-max-entries;
        # 0 means no limit (bytes: the 1 GiB listpack cap)
        max_bytes = self.max_bytes
        max_entries = self.th.stream_node_max_entries
        count = self.node_count
        lp_bytes = self.node_bytes + (2 if count < 128 else len(C.lp_int_entry(count)))
        if self.node and (lp_bytes + size >= max_bytes
                          or (max_entries and count >= max_entries)):
            self._close_node()
        if not self.node:
            self.master = eid
            self.master_fields = fields
            # the master entry: field count, the fields, a 0 terminator
            head = C.lp_entries([b"%d" % len(fields), *fields, b"0"])
            self.node = [head]
            self.node_entries = len(fields) + 2
            # header and end byte, the deleted counter (0: 2 bytes) and the master entry;
            # the live counter's size is added at the test above
            self.node_bytes = 7 + 2 + len(head)
        master = self.master
        ms = (eid[0] - master[0]) % _U64
        seq = (eid[1] - master[1]) % _U64
        ms = ms - _U64 if ms >= 1 << 63 else ms
        seq = seq - _U64 if seq >= 1 << 63 else seq
        k = len(fields)
        if fields == self.master_fields:
            run = C.lp_entries([_SAMEFIELDS, b"%d" % ms, b"%d" % seq, *values,
                                b"%d" % (k + 3)])
            self.node_entries += k + 4
        else:
            flat = [x for pair in pairs for x in pair]
            run = C.lp_entries([_NO_FLAGS, b"%d" % ms, b"%d" % seq, b"%d" % k, *flat,
                                b"%d" % (2 * k + 4)])
            self.node_entries += 2 * k + 5
        self.node.append(run)
        self.node_bytes += len(run)
        self.node_count += 1
        self.length += 1
        if self.first is None:
            self.first = eid
        self.last = eid

    def _close_node(self) -> None:
        if not self.node:
            return
        # the live and deleted (0) entry counters, then the master entry and the entries
        body = C.lp_int_entry(self.node_count) + _LP_ZERO + b"".join(self.node)
        blob = C.listpack_from_encoded(body, self.node_entries + 2)
        comp = self.compress
        self.spool.write(C.enc_string(_BE_ID(*self.master), comp) + C.enc_string(blob, comp))
        self.nodes += 1
        self.node = []
        self.node_count = 0
        self.node_entries = 0

    def finish(self) -> Finished:
        self._close_node()
        version = self.target.stream_version
        meta = self.meta
        last = meta.last_id if meta is not None else self.last or (0, 0)
        if self.last is not None and last < self.last:
            raise self.fail("stream last id is before its last entry")
        if version >= 2:
            first = self.first or (0, 0)
            max_deleted = meta.max_deleted_id if meta and meta.max_deleted_id else (0, 0)
            added = (meta.entries_added if meta and meta.entries_added is not None
                     else self.length)
            tail = [C.enc_lens((self.length, *last, *first, *max_deleted, added,
                                len(self.groups)))]
        else:
            if meta is not None and (meta.entries_added not in (None, self.length)
                                     or meta.max_deleted_id not in (None, (0, 0))):
                self.loss("stream entries-added counter and max deleted id dropped: stream v1")
            tail = [C.enc_lens((self.length, *last, len(self.groups)))]
        for g in self.groups:
            tail.append(self._group(g, version, last))
        if self.idmp is not None:
            self.loss("stream idempotent-producer state dropped: needs RDB 13")
        tp = _STREAM_TYPES[version]
        return tp, C.enc_len(self.nodes), self.spool, b"".join(tail)

    def _group(self, g: StreamGroup, version: int, last: StreamId) -> bytes:
        comp = self.compress
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
