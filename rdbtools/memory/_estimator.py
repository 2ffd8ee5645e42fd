"""Streaming per-key estimation: one accumulator per key, fed the key's value events.

An accumulator keeps only what the cost needs (counts, sums of rounded allocations for
every encoding the key may end up in, the longest element, the current quicklist or
stream node), never the elements, so a key of any size costs constant memory. Which
encoding the loading server picks (FORMAT.md §10.6) is decided at the end, when the
counts are known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdbtools.events import (
    HashFields,
    KeyEnd,
    KeyStart,
    ListItems,
    ModuleValue,
    SetMembers,
    StreamEntries,
    StreamGroup,
    StringValue,
    ValueEvent,
    ZSetMembers,
)
from rdbtools.memory._encodings import (
    HASH_MAX_ENTRIES,
    HASH_MAX_VALUE,
    LIST_NODE_MAX_BYTES,
    SET_MAX_INTSET_ENTRIES,
    SET_MAX_LISTPACK_ENTRIES,
    SET_MAX_LISTPACK_VALUE,
    ZSET_MAX_ENTRIES,
    ZSET_MAX_VALUE,
    BlobSizer,
    canonical_int,
    intset_width,
    lp_int_entry_size,
    score_text,
)
from rdbtools.memory._streams import StreamSizer, rax_nodes
from rdbtools.memory.rows import MemoryRow

if TYPE_CHECKING:
    from rdbtools.memory._costs import Costs
    from rdbtools.memory.model import MemoryModel


class _Acc:
    """Base accumulator: element count and longest element."""

    __slots__ = ("c", "start", "elements", "largest")

    def __init__(self, c: Costs, start: KeyStart) -> None:
        self.c = c
        self.start = start
        self.elements = 0
        self.largest = 0

    def feed(self, ev: ValueEvent) -> None:  # pragma: no cover - overridden
        pass

    def result(self) -> tuple[str, int]:
        """(encoding, value size without key and main-dict entry)."""
        return "unknown", 0


class _StringAcc(_Acc):
    __slots__ = ("length", "head")

    def __init__(self, c: Costs, start: KeyStart) -> None:
        super().__init__(c, start)
        self.length = 0
        self.head = b""

    def feed(self, ev: ValueEvent) -> None:
        if type(ev) is StringValue:
            if self.length < 21:
                self.head = (self.head + ev.data)[:21]
            self.length += len(ev.data)

    def result(self) -> tuple[str, int]:
        c = self.c
        self.elements = 1
        self.largest = self.length
        n = self.length
        # §10.6: "canonical integer text of ≤ 20 chars that fits a signed 64-bit long → int"
        if n <= 20 and canonical_int(self.head) is not None:
            return "int", c.robj
        if n <= c.embstr_max:
            return "embstr", c.embstr(n)
        return "raw", c.raw(n)


class _ListAcc(_Acc):
    """Quicklist nodes as in the file (types 14/18: one ``ListItems`` offset per node)
    or as pushes fill them (other sources); a plain listpack when it fits one node."""

    __slots__ = ("by_offset", "ziplist", "node", "node_off", "nodes", "nodes_cost",
                 "whole", "plain_max")

    def __init__(self, c: Costs, start: KeyStart) -> None:
        super().__init__(c, start)
        self.by_offset = start.encoding == "quicklist"
        self.ziplist = c.version < (7, 0)
        self.node: BlobSizer | None = None
        self.node_off = -1
        self.nodes = 0
        self.nodes_cost = 0
        self.whole = BlobSizer(self.ziplist)
        # 7.4+: "PLAIN for any element larger than the node size limit"; 7.0/7.2 only for
        # elements ≥ 1 GiB
        self.plain_max = LIST_NODE_MAX_BYTES if c.version >= (7, 4) else 1 << 30

    def _close(self) -> None:
        if self.node is not None and self.node.count:
            self.nodes += 1
            self.nodes_cost += self.c.quicklist_node + self.c.blob(self.node.size)
        self.node = None

    def _plain(self, n: int) -> None:
        self._close()
        self.nodes += 1
        self.nodes_cost += self.c.quicklist_node + self.c.a(n)

    def feed(self, ev: ValueEvent) -> None:
        if type(ev) is not ListItems:
            return
        if self.by_offset and not ev.offset:
            # no byte offsets (a JSON Lines dump): fill nodes as pushes would
            self.by_offset = False
        if self.by_offset and ev.offset != self.node_off:
            self._close()
            self.node_off = ev.offset
        for e in ev.items:
            n = len(e)
            self.elements += 1
            if n > self.largest:
                self.largest = n
            if self.whole.count < 0xFFFF:
                self.whole.add(e)
            if n >= self.plain_max:
                self._plain(n)
                continue
            node = self.node
            if node is None:
                node = self.node = BlobSizer(self.ziplist)
            elif not self.by_offset and node.size + n + 8 > LIST_NODE_MAX_BYTES:
                # _quicklistNodeAllowInsert: new_sz = node->sz + sz + overhead ≤ 8 KiB
                self._close()
                node = self.node = BlobSizer(self.ziplist)
            node.add(e)

    def result(self) -> tuple[str, int]:
        c = self.c
        self._close()
        if (c.version >= (7, 2) and self.nodes == 1
                and self.whole.size <= LIST_NODE_MAX_BYTES and self.largest < self.plain_max):
            return "listpack", c.robj + c.blob(self.whole.size)
        return "quicklist", c.robj + c.quicklist + self.nodes_cost


class _SetAcc(_Acc):
    __slots__ = ("all_int", "width", "lp", "ht", "ht_len")

    def __init__(self, c: Costs, start: KeyStart) -> None:
        super().__init__(c, start)
        self.all_int = True
        self.width = 2
        self.lp = BlobSizer(False)
        self.ht = 0
        self.ht_len: dict[int, int] = {}  # Valkey 8: member count by length

    def feed(self, ev: ValueEvent) -> None:
        if type(ev) is not SetMembers:
            return
        c = self.c
        for m in ev.members:
            n = len(m)
            self.elements += 1
            if n > self.largest:
                self.largest = n
            if self.all_int:
                v = canonical_int(m)
                if v is None:
                    self.all_int = False
                else:
                    w = intset_width(v)
                    if w > self.width:
                        self.width = w
            if self.elements <= SET_MAX_LISTPACK_ENTRIES:
                self.lp.add(m)
            if c.valkey8:
                self.ht_len[n] = self.ht_len.get(n, 0) + 1
            else:
                self.ht += c.dict_entry + c.sds(n)

    def result(self) -> tuple[str, int]:
        c = self.c
        n = self.elements
        t = self.start.rdb_type
        if self.all_int and n <= SET_MAX_INTSET_ENTRIES and t in (2, 11):
            return "intset", c.robj + c.blob(8 + n * self.width)
        if c.version >= (7, 2) and n <= SET_MAX_LISTPACK_ENTRIES and (
            t == 20 or (t in (2, 11) and self.largest <= SET_MAX_LISTPACK_VALUE)
        ):
            return "listpack", c.robj + c.blob(self.lp.size)
        if c.valkey8:
            # a member is alone in its bucket with probability (1 - 1/B)^(n-1)
            alone = (1 - 1 / c.buckets(n)) ** max(n - 1, 0)
            members = sum(k * c.valkey_set_member(ln, alone) for ln, k in self.ht_len.items())
            return "hashtable", c.robj + c.table(n) + round(members)
        # a set holding a non-integer starts as a dict before 7.2, and a replayed AOF
        # builds it by inserts
        grown = self.start.encoding == "replayed" and c.version < (7, 2) and not self.all_int
        return "hashtable", c.robj + c.table(n, grown=grown) + self.ht


class _ZSetAcc(_Acc):
    __slots__ = ("lp", "ht")

    def __init__(self, c: Costs, start: KeyStart) -> None:
        super().__init__(c, start)
        self.lp = BlobSizer(c.version < (7, 0))
        self.ht = 0

    def feed(self, ev: ValueEvent) -> None:
        if type(ev) is not ZSetMembers:
            return
        c = self.c
        shortest = c.version >= (7, 2)
        for m, score in ev.members:
            n = len(m)
            self.elements += 1
            if n > self.largest:
                self.largest = n
            if self.elements <= ZSET_MAX_ENTRIES:
                self.lp.add(m)
                self.lp.add(score_text(score, shortest))
            self.ht += c.sds(n) + c.dict_entry

    def result(self) -> tuple[str, int]:
        c = self.c
        n = self.elements
        compact = "listpack" if c.version >= (7, 0) else "ziplist"
        t = self.start.rdb_type
        if n <= ZSET_MAX_ENTRIES and (t in (12, 17) or self.largest <= ZSET_MAX_VALUE):
            return compact, c.robj + c.blob(self.lp.size)
        if c.version < (5, 0):
            # 4.0 counts the zset struct, the dict's buckets and each member's sds,
            # dictEntry and node, not the dict, zskiplist or header node
            size = c.robj + 16 + c.ptr * c.buckets(n)
        else:
            size = c.robj + c.a(16) + c.a(32) + c.table(n) + c.skiplist_header()
        size += self.ht + round(n * c.skiplist_node())
        return "skiplist", size


class _HashAcc(_Acc):
    __slots__ = ("lp", "ht", "ttl")

    def __init__(self, c: Costs, start: KeyStart) -> None:
        super().__init__(c, start)
        self.lp = BlobSizer(c.version < (7, 0))
        self.ht = 0
        self.ttl = start.rdb_type in (24, 25, 22, 23)

    def feed(self, ev: ValueEvent) -> None:
        if type(ev) is not HashFields:
            return
        c = self.c
        for f, v, exp in ev.fields:
            self.elements += 1
            n = max(len(f), len(v))
            if n > self.largest:
                self.largest = n
            if exp is not None:
                self.ttl = True
            if self.elements <= HASH_MAX_ENTRIES:
                self.lp.add(f)
                self.lp.add(v)
                if self.ttl or exp is not None:
                    self.lp.add_sized(lp_int_entry_size(exp or 0))
            self.ht += c.dict_entry + c.hash_field(len(f), exp is not None) + c.sds(len(v))

    def result(self) -> tuple[str, int]:
        c = self.c
        n = self.elements
        t = self.start.rdb_type
        compact = "listpack" if c.version >= (7, 0) else "ziplist"
        if n <= HASH_MAX_ENTRIES and (t in (13, 16, 25, 9) or self.largest <= HASH_MAX_VALUE):
            if self.ttl and c.version >= (7, 4):
                return "listpackex", c.robj + c.a(32) + c.a(self.lp.size)
            return compact, c.robj + c.blob(self.lp.size)
        # before 7.0 the conversion from ziplist adds the fields one by one, without
        # sizing the table first: a replayed AOF leaves it as inserts grow it
        grown = self.start.encoding == "replayed" and c.version < (7, 0)
        return "hashtable", c.robj + c.table(n, grown=grown) + self.ht


class _StreamAcc(_Acc):
    __slots__ = ("sizer", "groups")

    def __init__(self, c: Costs, start: KeyStart) -> None:
        super().__init__(c, start)
        self.sizer = StreamSizer(c, by_offset=start.encoding == "stream")
        self.groups = 0

    def feed(self, ev: ValueEvent) -> None:
        tp = type(ev)
        if tp is StreamEntries:
            assert isinstance(ev, StreamEntries)
            self.sizer.add_entries(ev)
            self.elements = self.sizer.entries
            self.largest = max(self.largest, self.sizer.largest)
        elif tp is StreamGroup:
            assert isinstance(ev, StreamGroup)
            self.groups += self._group(ev)

    def _group(self, g: StreamGroup) -> int:
        c = self.c
        pel = len(g.pending)
        size = c.stream_cg + c.rax(pel, rax_nodes([p.id for p in g.pending]))
        size += c.stream_nack * pel
        for cons in g.consumers:
            n = len(cons.pending)
            size += c.stream_consumer + len(cons.name) + c.rax(n, rax_nodes(list(cons.pending)))
        return size

    def result(self) -> tuple[str, int]:
        c = self.c
        return "stream", c.robj + c.stream_struct + self.sizer.cost() + self.groups


class _ModuleAcc(_Acc):
    """Module values: the server asks the module's ``mem_usage`` callback, which a file
    cannot answer; the estimate is the robj and the serialized payload (a lower bound for
    most modules)."""

    __slots__ = ("payload",)

    def __init__(self, c: Costs, start: KeyStart) -> None:
        super().__init__(c, start)
        self.payload = 0

    def feed(self, ev: ValueEvent) -> None:
        if type(ev) is ModuleValue:
            assert isinstance(ev, ModuleValue)
            self.payload += len(ev.payload)
            self.elements = 1
            self.largest = self.payload

    def result(self) -> tuple[str, int]:
        c = self.c
        return "module", (c.robj + c.a(self.payload)) if self.payload else c.robj


_ACCS: dict[str, type[_Acc]] = {
    "string": _StringAcc,
    "list": _ListAcc,
    "set": _SetAcc,
    "zset": _ZSetAcc,
    "hash": _HashAcc,
    "stream": _StreamAcc,
    "module": _ModuleAcc,
}


class KeyEstimator:
    """The running estimate of one key: ``feed`` each value event, then ``finish``."""

    __slots__ = ("model", "start", "file", "_acc")

    def __init__(self, model: MemoryModel, start: KeyStart, file: str = "") -> None:
        self.model = model
        self.start = start
        self.file = file
        acc = _ACCS.get(start.type, _Acc)
        self._acc = acc(model.costs, start)

    def feed(self, event: ValueEvent) -> None:
        """Account for one value event of the key."""
        self._acc.feed(event)

    def finish(self, end: KeyEnd) -> MemoryRow:
        """The key's row: encoding after a load, estimated memory, shape, attributes."""
        acc = self._acc
        encoding, value = acc.result()
        s = self.start
        length = acc.length if isinstance(acc, _StringAcc) else 0
        memory = self.model.key_overhead(s, value, encoding, length)
        return MemoryRow(
            file=self.file,
            db=s.db,
            key=s.key,
            type=s.type,
            encoding=encoding,
            memory=memory,
            size=end.size,
            elements=acc.elements,
            largest_element=acc.largest,
            expire_at_ms=s.expire_ms,
            idle=s.idle,
            freq=s.freq,
        )


__all__ = ["KeyEstimator"]
