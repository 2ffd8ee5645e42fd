"""Stream node listpacks rebuilt from live entries (FORMAT.md §4.8.1, §10.2).

A node listpack holds a master entry (``count deleted master_field_count fields… 0``)
and per entry ``flags ms_delta seq_delta [field_count] values… lp_count``; an entry whose
field names equal the master's is stored with SAMEFIELDS (values only). The sizer
rebuilds each node's byte size from the entries as they pass: from the node boundaries of
the file when the reader reports one ``StreamEntries`` batch per node, else by splitting
as ``XADD`` does ("node boundaries follow stream-node-max-bytes (default 4096) and
stream-node-max-entries (default 100)"). Entries deleted inside a node are not in the
event stream, so such nodes come out smaller than the server's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rdbtools.events import StreamEntries, StreamEntry
from rdbtools.memory._batch import lp_sum
from rdbtools.memory._encodings import (
    LP_OVERHEAD,
    STREAM_NODE_MAX_BYTES,
    STREAM_NODE_MAX_ENTRIES,
    lp_int_entry_size,
)

if TYPE_CHECKING:
    from rdbtools.memory._costs import Costs


class StreamSizer:
    """Node count and the sum of node allocations of one stream."""

    __slots__ = ("c", "by_offset", "offset", "open", "master_fields", "master_id",
                 "node_size", "node_count", "nodes", "alloc", "entries", "largest", "rax", "last")

    def __init__(self, c: Costs, *, by_offset: bool) -> None:
        self.c = c
        self.by_offset = by_offset
        self.offset = -1
        self.open = False
        self.master_fields: tuple[bytes, ...] = ()
        self.master_id = (0, 0)
        self.node_size = 0
        self.node_count = 0
        self.nodes = 0
        self.alloc = 0
        self.entries = 0
        self.largest = 0
        self.rax = RaxCounter(c.a if c.valkey_table else None)
        self.last = 0

    def _close(self) -> None:
        if not self.open:
            return
        size = self.node_size + lp_int_entry_size(self.node_count)
        self.alloc += self.c.a(size)
        self.last = size
        self.nodes += 1
        self.open = False

    def _start(self, e: StreamEntry) -> None:
        names = tuple(f for f, _ in e.fields)
        self.master_fields = names
        self.master_id = e.id
        self.rax.add(id_key(*e.id))
        # count (added at close), deleted 0, master_field_count, fields, terminator 0
        self.node_size = (LP_OVERHEAD + lp_int_entry_size(0) + lp_int_entry_size(len(names))
                          + lp_sum(names) + lp_int_entry_size(0))
        self.node_count = 0
        self.open = True

    def add_entries(self, ev: StreamEntries) -> None:
        if self.by_offset and not ev.offset:
            self.by_offset = False  # no byte offsets: split as XADD does
        if self.by_offset and ev.offset != self.offset:
            self._close()
            self.offset = ev.offset
        for e in ev.entries:
            data = 0
            for f, v in e.fields:
                data += len(f) + len(v)
                m = max(len(f), len(v))
                if m > self.largest:
                    self.largest = m
            if self.open and not self.by_offset and (
                self.node_size + data >= STREAM_NODE_MAX_BYTES
                or self.node_count >= STREAM_NODE_MAX_ENTRIES
            ):
                self._close()
            if not self.open:
                self._start(e)
            self._add(e)

    def _add(self, e: StreamEntry) -> None:
        fields = e.fields
        nf = len(fields)
        master = self.master_fields
        same = nf == len(master) and all(f == m for (f, _), m in zip(fields, master))
        eid, mid = e.id, self.master_id
        # flags: SAMEFIELDS (2) or 0, one byte and its backlen either way
        n = 2 + lp_int_entry_size(eid[0] - mid[0]) + lp_int_entry_size(eid[1] - mid[1])
        if same:
            n += lp_sum([v for _, v in fields]) + lp_int_entry_size(nf + 3)
        else:
            n += (lp_int_entry_size(nf) + lp_sum([x for fv in fields for x in fv])
                  + lp_int_entry_size(2 * nf + 4))
        self.node_size += n
        self.node_count += 1
        self.entries += 1

    def cost(self) -> int:
        """Σ A(node listpack) plus the radix tree of the nodes."""
        self._close()
        alloc = self.alloc
        if self.nodes and self.c.live and self.c.version >= (6, 2):
            # 6.2+ XADD opens a node with lpNew(stream-node-max-bytes) and shrinks it to
            # fit only when the next node opens: the server that wrote the file holds the
            # last node at that size (one that loads the file holds it exact)
            c = self.c
            alloc += c.a(max(self.last, STREAM_NODE_MAX_BYTES)) - c.a(self.last)
        if self.c.valkey_table:
            # Valkey 8.1+ counts what its radix trees really allocate (raxAllocSize)
            return alloc + self.rax.allocated()
        return alloc + self.c.rax(self.nodes, self.rax.count())


class RaxCounter:
    """Exact node count of a radix tree (``rax``) of equal-length keys added in
    ascending order, in memory proportional to the key length; with ``a`` (an
    allocator's rounding) also the sum of its nodes' allocations.

    rax compresses every chain of single-child, non-key trie nodes into one node, so its
    nodes are: the root, every trie node with ≠ 1 children (branches and key leaves), and
    every single-child node that hangs off a branch (the start of a compressed chain).
    A trie node is settled when the next key leaves its subtree; by then its parent's
    child count is known (the parent is settled too, or the new key branches at it).
    The nodes below a chain's start on the settled path are the rest of its chain.
    """

    __slots__ = ("keys", "nodes", "_prev", "_cnt", "a", "alloc")

    def __init__(self, a: Callable[[int], int] | None = None) -> None:
        self.keys = 0
        self.nodes = 0
        self._prev = b""
        self._cnt: list[int] = []
        self.a = a
        self.alloc = 0

    def _settle(self, depth: int, branch_at: int) -> int:
        """Settle the path's nodes below ``depth``; returns the singles left at its top
        that start no chain (only the root's chain has them)."""
        cnt = self._cnt
        a = self.a
        run = 0
        for j in range(len(cnt) - 1, depth, -1):
            parent_branch = j - 1 == branch_at or cnt[j - 1] >= 2
            if cnt[j] != 1:
                self.nodes += 1
                if a is not None:
                    self.alloc += a(rax_node_size(cnt[j], leaf=not cnt[j]))
                run = 0
            else:
                run += 1
                if parent_branch:
                    self.nodes += 1
                    if a is not None:
                        self.alloc += a(rax_node_size(run, compressed=True))
                    run = 0
        del cnt[depth + 1:]
        return run

    def add(self, key: bytes) -> None:
        """Add ``key`` (greater than the previous one, same length)."""
        if self.keys:
            prev = self._prev
            d = 0
            n = min(len(prev), len(key))
            while d < n and prev[d] == key[d]:
                d += 1
            if d == len(key):
                return  # duplicate
            self._settle(d, d)
            self._cnt[d] += 1
            self._cnt.extend([1] * (len(key) - d - 1))
            self._cnt.append(0)
        else:
            self._cnt = [1] * len(key) + [0]
        self._prev = key
        self.keys += 1

    def _finish(self) -> tuple[int, int]:
        """(node count, node allocations) with the whole path settled and the root."""
        if not self.keys:
            a = self.a
            return 1, a(rax_node_size(0)) if a is not None else 0
        cnt = list(self._cnt)
        nodes, alloc = self.nodes, self.alloc
        run = self._settle(0, -1)
        root = cnt[0]
        total, size = self.nodes + 1, self.alloc
        if self.a is not None:
            size += self.a(rax_node_size(run + 1, compressed=True) if root == 1
                           else rax_node_size(root))
        self.nodes, self.alloc, self._cnt = nodes, alloc, cnt
        return total, size

    def count(self) -> int:
        """The node count (1 for an empty tree: its root)."""
        return self._finish()[0]

    def allocated(self) -> int:
        """What Valkey's ``raxAllocSize`` reports: the allocations of the ``rax``
        struct (32 bytes) and of every node (needs ``a``)."""
        assert self.a is not None
        return self.a(RAX_STRUCT) + self._finish()[1]


RAX_STRUCT = 32
"""sizeof(rax): head, numele, numnodes, alloc_size."""


def rax_node_size(children: int, *, compressed: bool = False, leaf: bool = False) -> int:
    """``raxNewNode`` / ``raxCompressNode`` sizes: a 4-byte header, the edge bytes
    (``children`` of them, or a compressed chain of that many), padding to a pointer
    ("raxPadding"), one child pointer per edge (one for a compressed node) and a value
    pointer for a key (``leaf``: every key of a stream tree holds a value)."""
    pad = (8 - (children + 4) % 8) & 7
    ptrs = 1 if compressed else children
    return 4 + children + pad + 8 * ptrs + (8 if leaf else 0)


def id_key(ms: int, seq: int) -> bytes:
    """A stream id as the 16 big-endian bytes the server's radix trees use."""
    return (ms & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big") + (seq & 0xFFFFFFFFFFFFFFFF).to_bytes(
        8, "big")


def rax_nodes(ids: list[tuple[int, int]]) -> int:
    """Nodes of a radix tree holding these stream ids."""
    return _rax_of(ids, None).count()


def rax_alloc(ids: list[tuple[int, int]], a: Callable[[int], int]) -> int:
    """``raxAllocSize`` of a radix tree holding these stream ids (``a``: the
    allocator's rounding)."""
    return _rax_of(ids, a).allocated()


def _rax_of(ids: list[tuple[int, int]], a: Callable[[int], int] | None) -> RaxCounter:
    r = RaxCounter(a)
    for k in sorted(id_key(ms, seq) for ms, seq in ids):
        r.add(k)
    return r
