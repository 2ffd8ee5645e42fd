"""Streaming per-key estimation: one accumulator per key, fed the key's value events.

An accumulator keeps only what the cost needs (counts, sums of rounded allocations for
every encoding the key may end up in, the longest element, the current quicklist or
stream node), never the elements, so a key of any size costs constant memory. Which
encoding the loading server picks (FORMAT.md §10.6) is decided at the end, when the
counts are known.
"""

from __future__ import annotations

from rdbtools.events import (
    HashFields,
    KeyEnd,
    KeyStart,
    ListItems,
    SetMembers,
    StreamEntries,
    StreamGroup,
    StringValue,
    ValueEvent,
    ZSetMembers,
)
from rdbtools.memory._batch import hash_batch, list_batch, set_batch, zset_batch
from rdbtools.memory._costs import Costs
from rdbtools.memory._encodings import (
    HASH_MAX_ENTRIES,
    HASH_MAX_VALUE,
    LIST_NODE_MAX_BYTES,
    LP_OVERHEAD,
    SET_MAX_INTSET_ENTRIES,
    SET_MAX_LISTPACK_ENTRIES,
    SET_MAX_LISTPACK_VALUE,
    ZL_OVERHEAD,
    ZSET_MAX_ENTRIES,
    ZSET_MAX_VALUE,
)
from rdbtools.memory._key_costs import KeyCosts
from rdbtools.memory._streams import StreamSizer, rax_alloc, rax_nodes
from rdbtools.memory.module_costs import ModuleAcc
from rdbtools.memory.rows import MemoryRow


class Accumulator:
    """Base accumulator: element count and longest element."""

    __slots__ = ("c", "start", "elements", "largest")

    def __init__(self, c: Costs, start: KeyStart) -> None:
        self.c = c
        self.start = start
        self.elements = 0
        self.largest = 0

    def feed(self, ev: ValueEvent) -> None:  # pragma: no cover - overridden
        pass

    @property
    def row_type(self) -> str:
        """The type the key's memory row shows."""
        return self.start.type

    def result(self) -> tuple[str, int]:
        """(encoding, value size without key and main-dict entry)."""
        return "unknown", 0


class _StringAcc(Accumulator):
    """A string's length and its first 21 bytes (all of it when it may be an integer);
    ``KeyCosts.string`` costs it."""

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


class _ListAcc(Accumulator):
    """Quicklist nodes as in the file (types 14/18: one ``ListItems`` offset per node)
    or as pushes fill them (other sources); a plain listpack when it fits one node."""

    __slots__ = ("by_offset", "node_off", "st")

    def __init__(self, c: Costs, start: KeyStart) -> None:
        super().__init__(c, start)
        self.by_offset = start.encoding == "quicklist"
        self.node_off = -1
        empty = ZL_OVERHEAD if c.version < (7, 0) else LP_OVERHEAD
        self.st = [0, 0, empty, 0, 0, 0, 0, 0, 0, 0]  # _batch.LIST_STATE

    def feed(self, ev: ValueEvent) -> None:
        if type(ev) is not ListItems:
            return
        close = False
        if self.by_offset:
            if not ev.offset:
                # no byte offsets (a JSON Lines dump): fill nodes as pushes would
                self.by_offset = False
            elif ev.offset != self.node_off:
                close = True
                self.node_off = ev.offset
        c = self.c
        list_batch(ev.items, c.params, c.list_cfg[self.by_offset], close, self.st)

    def result(self) -> tuple[str, int]:
        c = self.c
        st = self.st
        list_batch((), c.params, c.list_cfg[self.by_offset], True, st)
        self.elements = st[0]
        self.largest = st[1]
        if (c.version >= (7, 2) and st[8] == 1 and st[2] <= LIST_NODE_MAX_BYTES
                and st[1] < c.list_cfg[0][2]):  # below plain_max
            return "listpack", c.robj + c.blob(st[2])
        return "quicklist", c.robj + c.quicklist + st[9]


class _SetAcc(Accumulator):
    __slots__ = ("st", "ht_len")

    def __init__(self, c: Costs, start: KeyStart) -> None:
        super().__init__(c, start)
        self.st = [0, 0, 1, 2, LP_OVERHEAD, 0]  # _batch.SET_STATE
        # Valkey 8: member count by length
        self.ht_len: dict[int, int] | None = {} if c.valkey8 else None

    def feed(self, ev: ValueEvent) -> None:
        if type(ev) is SetMembers:
            set_batch(ev.members, self.c.params, SET_MAX_LISTPACK_ENTRIES, self.ht_len,
                      self.st)

    def result(self) -> tuple[str, int]:
        c = self.c
        elements, largest, all_int, width, lp_size, ht = self.st
        self.elements = n = elements
        self.largest = largest
        t = self.start.rdb_type
        if all_int and n <= SET_MAX_INTSET_ENTRIES and t in (2, 11):
            return "intset", c.robj + c.blob(8 + n * width)
        if c.version >= (7, 2) and n <= SET_MAX_LISTPACK_ENTRIES and (
            t == 20 or (t in (2, 11) and largest <= SET_MAX_LISTPACK_VALUE)
        ):
            return "listpack", c.robj + c.blob(lp_size)
        if c.valkey_table:
            # hashtable.c holds each member's sds itself (set_batch adds no dictEntry)
            return "hashtable", c.robj + round(c.vk_table(n, 8)) + ht
        if self.ht_len is not None:
            # a member is alone in its bucket with probability (1 - 1/B)^(n-1)
            alone = (1 - 1 / c.buckets(n)) ** max(n - 1, 0)
            members = sum(k * c.valkey_set_member(ln, alone) for ln, k in self.ht_len.items())
            return "hashtable", c.robj + c.table(n) + round(members)
        # a set holding a non-integer starts as a dict before 7.2, and a replayed AOF
        # builds it by inserts
        grown = self.start.encoding == "replayed" and c.version < (7, 2) and not all_int
        return "hashtable", c.robj + c.table(n, grown=grown) + ht


class _ZSetAcc(Accumulator):
    __slots__ = ("st", "lens")

    def __init__(self, c: Costs, start: KeyStart) -> None:
        super().__init__(c, start)
        self.st = [0, 0, ZL_OVERHEAD if c.version < (7, 0) else LP_OVERHEAD, 0, 0]
        # Valkey 9.1: member count by length (a node's size depends on both)
        self.lens: dict[int, int] | None = {} if c.valkey_embval else None

    def feed(self, ev: ValueEvent) -> None:
        if type(ev) is ZSetMembers:
            assert isinstance(ev, ZSetMembers)
            c = self.c
            zset_batch(ev.members, c.params, ZSET_MAX_ENTRIES, c.version < (7, 0),
                       c.version >= (7, 2), self.st)
            lens = self.lens
            if lens is not None:
                for m, _ in ev.members:
                    n = len(m)
                    lens[n] = lens.get(n, 0) + 1

    def result(self) -> tuple[str, int]:
        c = self.c
        elements, largest, lp_size, _, ht = self.st
        self.elements = n = elements
        self.largest = largest
        compact = "listpack" if c.version >= (7, 0) else "ziplist"
        t = self.start.rdb_type
        if n <= ZSET_MAX_ENTRIES and (t in (12, 17) or largest <= ZSET_MAX_VALUE):
            return compact, c.robj + c.blob(lp_size)
        if self.lens is not None:
            # Valkey 9.1: sizeof(zset) 16 + zslGetAllocSize() 528 (the header node's
            # 32 levels inside the zskiplist) + the table + the nodes, elements inside
            nodes = sum(k * c.vk_skiplist_node(ln) for ln, k in self.lens.items())
            return "skiplist", c.robj + 16 + 528 + round(c.vk_table(n, 8) + nodes)
        if c.valkey_table:
            # Valkey 8.1-9.0: zset, zskiplist, header node, the table; per member its
            # sds (ht: no dictEntry) and node
            return "skiplist", (c.robj + 16 + 32 + c.skiplist_header()
                                + round(c.vk_table(n, 8) + n * c.skiplist_node()) + ht)
        if c.version < (5, 0):
            # 4.0 counts the zset struct, the dict's buckets and each member's sds,
            # dictEntry and node, not the dict, zskiplist or header node
            size = c.robj + 16 + c.ptr * c.buckets(n)
        else:
            size = c.robj + c.a(16) + c.a(32) + c.table(n) + c.skiplist_header()
        size += ht + round(n * c.skiplist_node())
        return "skiplist", size


class _HashAcc(Accumulator):
    __slots__ = ("st", "vk")

    def __init__(self, c: Costs, start: KeyStart) -> None:
        super().__init__(c, start)
        ttl = int(start.rdb_type in (24, 25, 22, 23))
        self.st = [0, 0, ttl, ZL_OVERHEAD if c.version < (7, 0) else LP_OVERHEAD, 0, 0]
        # Valkey 8.1+: [Σ entries, fields with a TTL]
        self.vk: list[int] | None = [0, 0] if c.valkey_table else None

    def feed(self, ev: ValueEvent) -> None:
        if type(ev) is HashFields:
            assert isinstance(ev, HashFields)
            c = self.c
            hash_batch(ev.fields, c.params, HASH_MAX_ENTRIES, c.version < (7, 0),
                       c.version >= (7, 4), self.st)
            vk = self.vk
            if vk is not None:
                entry = c.vk_hash_entry
                for f, v, exp in ev.fields:
                    vk[0] += entry(len(f), len(v), exp is not None)
                    if exp is not None:
                        vk[1] += 1

    def result(self) -> tuple[str, int]:
        c = self.c
        elements, largest, ttl, lp_size, _, ht = self.st
        self.elements = n = elements
        self.largest = largest
        t = self.start.rdb_type
        compact = "listpack" if c.version >= (7, 0) else "ziplist"
        vk = self.vk
        if vk is not None:
            # Valkey keeps a hash with field TTLs in its table, and the fields with a TTL
            # in a volatile set: none for one field, else a vector of pointers
            # (fitted: A(8 + 8 per field))
            if n <= HASH_MAX_ENTRIES and not vk[1] and (t in (13, 16, 25, 9)
                                                      or largest <= HASH_MAX_VALUE):
                return compact, c.robj + c.blob(lp_size)
            volatile = c.a(8 + 8 * vk[1]) if vk[1] > 1 else 0
            return "hashtable", c.robj + round(c.vk_table(n, 16)) + vk[0] + volatile
        if n <= HASH_MAX_ENTRIES and (t in (13, 16, 25, 9) or largest <= HASH_MAX_VALUE):
            if ttl and c.version >= (7, 4):
                return "listpackex", c.robj + c.a(32) + c.a(lp_size)
            return compact, c.robj + c.blob(lp_size)
        # before 7.0 the conversion from ziplist adds the fields one by one, without
        # sizing the table first: a replayed AOF leaves it as inserts grow it
        grown = self.start.encoding == "replayed" and c.version < (7, 0)
        return "hashtable", c.robj + c.table(n, grown=grown) + ht


class _StreamAcc(Accumulator):
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
        if c.valkey_table:
            # Valkey 8.1+: the radix trees as allocated (raxAllocSize)
            size = c.stream_cg + rax_alloc([p.id for p in g.pending], c.a)
            size += c.stream_nack * pel
            for cons in g.consumers:
                size += (c.stream_consumer + len(cons.name)
                         + rax_alloc(list(cons.pending), c.a))
            return size
        size = c.stream_cg + c.rax(pel, rax_nodes([p.id for p in g.pending]))
        size += c.stream_nack * pel
        for cons in g.consumers:
            n = len(cons.pending)
            size += c.stream_consumer + len(cons.name) + c.rax(n, rax_nodes(list(cons.pending)))
        return size

    def result(self) -> tuple[str, int]:
        c = self.c
        return "stream", c.robj + c.stream_struct + self.sizer.cost() + self.groups


_ACCS: dict[str, type[Accumulator] | type[ModuleAcc]] = {
    "string": _StringAcc,
    "list": _ListAcc,
    "set": _SetAcc,
    "zset": _ZSetAcc,
    "hash": _HashAcc,
    "stream": _StreamAcc,
    "module": ModuleAcc,
    "not-replayed": ModuleAcc,
}


class KeyEstimator:
    """The running estimate of one key: ``feed`` each value event, then ``finish``;
    ``key_costs`` is the model's (``MemoryModel.key_costs()``)."""

    __slots__ = ("key_costs", "start", "file", "_acc")

    def __init__(self, key_costs: KeyCosts, start: KeyStart, file: str = "") -> None:
        self.key_costs = key_costs
        self.start = start
        self.file = file
        self._acc = new_acc(key_costs.c, start)

    def feed(self, event: ValueEvent) -> None:
        """Account for one value event of the key."""
        self._acc.feed(event)

    def finish(self, end: KeyEnd) -> MemoryRow:
        """The key's row: encoding after a load, estimated memory, shape, attributes."""
        acc = self._acc
        s = self.start
        kc = self.key_costs
        expires = s.expire_ms is not None
        if isinstance(acc, _StringAcc):
            encoding, memory = kc.string(len(s.key), expires, acc.length, acc.head)
            elements = largest = acc.length  # bytes, as in `info`
        else:
            encoding, value = acc.result()
            memory = kc.total(len(s.key), expires, value, encoding, 0)
            elements, largest = acc.elements, acc.largest
        return MemoryRow(
            file=self.file,
            db=s.db,
            key=s.key,
            type=s.type if isinstance(acc, _StringAcc) else acc.row_type,
            encoding=encoding,
            memory=memory,
            size=end.size,
            elements=elements,
            largest_element=largest,
            expire_at_ms=s.expire_ms,
            idle=s.idle,
            freq=s.freq,
        )


def new_acc(c: Costs, start: KeyStart) -> Accumulator | ModuleAcc:
    """The accumulator for a key of ``start.type`` (strings: ``_StringAcc``, which only
    keeps the length and head that ``KeyCosts.string`` costs)."""
    return _ACCS.get(start.type, Accumulator)(c, start)


__all__ = ["Accumulator", "KeyEstimator", "new_acc"]
