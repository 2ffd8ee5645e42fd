"""Per-version struct sizes and the allocation arithmetic of ``MEMORY USAGE``
(FORMAT.md §10.1–§10.3).

Each server version differs in a few struct sizes and in how it counts an sds: 4.0 and
5.0 count the sds header, its logical allocation and the NUL (``sdsAllocSize``), 6.0 and
later the allocator's size of the block (``sdsZmallocSize``). ``Costs`` gathers these
for one model; the estimators only call its methods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rdbtools.memory._encodings import LIST_NODE_MAX_BYTES, sds_header
from rdbtools.memory._jemalloc import ALLOCATORS, Allocator

# skiplist levels: "random, P(level ≥ k+1 | ≥ k) = 1/4, max 32" (§10.2)
ZSKIPLIST_P = 0.25


# Valkey's hashtable.c (64-bit): "buckets of 64 bytes (one cache line)", "up to 7
# entries per bucket", "BUCKET_FACTOR 5, BUCKET_DIVISOR 32"; sizeof(hashtable) 72
VK_BUCKET = 64
VK_SLOTS = 7
VK_BUCKET_FACTOR = 5
VK_BUCKET_DIVISOR = 32
VK_TABLE = 72


def vk_children(n: int, buckets: int) -> float:
    """Expected child buckets of ``n`` keys hashed into ``buckets`` buckets: a chain
    of k > 7 keys needs ceil((k − 7) / 6) children (a chained bucket gives one slot to
    the child pointer); k is Poisson(n / buckets)."""
    if n <= VK_SLOTS or not buckets:
        return 0.0
    lam = n / buckets
    p = math.exp(-lam)
    total = 0.0
    k = 0
    top = int(lam + 12 * math.sqrt(lam) + 30)
    while k < top:
        k += 1
        p *= lam / k
        if k > VK_SLOTS:
            total += p * -(-(k - VK_SLOTS) // (VK_SLOTS - 1))
    return buckets * total


def _level_distribution(max_level: int) -> tuple[float, ...]:
    probs = []
    rest = 1.0
    for _ in range(max_level - 1):
        p = rest * (1 - ZSKIPLIST_P)
        probs.append(p)
        rest -= p
    probs.append(rest)
    return tuple(probs)


@dataclass(frozen=True, slots=True)
class Costs:
    """The sizes one server version uses. ``version`` is ``(major, minor)`` of the
    Redis code base (Valkey 7.2/8.x descend from Redis 7.2); ``valkey`` is the Valkey
    ``(major, minor)``, ``(0, 0)`` for Redis; ``live``: the state of the server that
    wrote the file (else of one restarted from it)."""

    version: tuple[int, int]
    valkey: tuple[int, int]
    allocator: Allocator
    bits: int = 64
    live: bool = True
    params: tuple[int, int, int, int] = field(init=False, repr=False, compare=False)
    """What the per-batch accounting needs (``rdbtools.memory._batch.Params``)."""
    list_cfg: tuple[tuple[int, int, int, int, int, int], ...] = field(
        init=False, repr=False, compare=False)
    _vk_nodes: dict[int, float] = field(init=False, repr=False, compare=False)
    """``rdbtools.memory._batch.ListCfg`` of a list filled by pushes ([0]) and of one
    whose nodes are the file's ([1])."""

    def __post_init__(self) -> None:
        # Valkey 8.1+ tables hold the element itself: no dictEntry per element
        entry = 0 if self.valkey >= (8, 1) else self.dict_entry
        params = (ALLOCATORS.index(self.allocator.name), int(self.version < (3, 2)),
                  int(self.rounded_sds), entry)
        object.__setattr__(self, "params", params)
        # 7.4+: "PLAIN for any element larger than the node size limit"; 7.0/7.2 only
        # for elements ≥ 1 GiB
        plain_max = LIST_NODE_MAX_BYTES if self.version >= (7, 4) else 1 << 30
        cfg = [(int(self.version < (7, 0)), by_offset, plain_max, LIST_NODE_MAX_BYTES,
                self.quicklist_node, int(self.version >= (7, 0))) for by_offset in (0, 1)]
        object.__setattr__(self, "list_cfg", tuple(cfg))
        object.__setattr__(self, "_vk_nodes", {})

    @property
    def valkey8(self) -> bool:
        """Valkey 8.0: sets keep a member alone in its bucket without a dictEntry and
        embed it in the entry otherwise."""
        return (8, 0) <= self.valkey < (8, 1)

    @property
    def valkey_table(self) -> bool:
        """Valkey 8.1+: sets, hashes and sorted sets (and the keyspace) live in
        ``hashtable.c``'s bucketed table, keys embedded in the value object."""
        return self.valkey >= (8, 1)

    @property
    def valkey_embval(self) -> bool:
        """Valkey 9.1+: an embedded string value needs no value pointer ("``val_ptr``:
        not always present", ``hasembval``) and skiplist nodes embed their element."""
        return self.valkey >= (9, 1)

    def valkey_set_member(self, n: int, alone: float) -> float:
        """Valkey 8.0 set member of ``n`` bytes: its sds when ``alone`` in its bucket,
        else an entry of next pointer, header-size byte and the sds (measured)."""
        sds = self.a(sds_header(n) + n + 1)
        entry = self.a(8 + 1 + sds_header(n) + n + 1)
        return alone * sds + (1 - alone) * entry

    @staticmethod
    def vk_buckets(n: int) -> int:
        """Valkey's ``hashtable`` buckets for ``n`` entries: "NUM_BUCKETS =
        ceil(NUM_ENTRIES * BUCKET_FACTOR / BUCKET_DIVISOR)" (5 / 32 on 64-bit), rounded
        up to a power of two; none for an empty table."""
        if n <= 0:
            return 0
        want = (n * VK_BUCKET_FACTOR - 1) // VK_BUCKET_DIVISOR + 1
        b = 1
        while b < want:
            b <<= 1
        return b

    def vk_table(self, n: int, meta: int, *, grown: bool | None = None) -> float:
        """``hashtableMemUsage``: "sizeof(hashtable) + metasize + sizeof(bucket) *
        num_buckets", the buckets counting the child buckets of full chains ("if a
        bucket is full, the last entry is replaced by a pointer to a separately
        allocated child bucket"). Keys spread over the buckets at random: the child
        buckets are their expected number (``vk_children``). ``meta``: the table's
        metadata (fitted: 8 for sets and sorted sets, 16 for hashes).

        ``grown`` (default: the live state) is a table built by inserts: it doubles
        when an insert finds it full (7 per bucket) and moves one bucket of the old
        table per insert after that, so for the B/2 inserts after a doubling both
        tables are there. A loading server sizes the table for the stated length."""
        b = self.vk_buckets(n)
        size = VK_TABLE + meta + VK_BUCKET * (b + vk_children(n, b))
        if grown is None:
            grown = self.live
        old = b // 2
        if grown and old and n - (VK_SLOTS * old + 1) < old:
            size += VK_BUCKET * old
        return size

    def vk_hash_entry(self, f: int, v: int, ttl: bool) -> int:
        """A Valkey 8.1+ hash entry (``hashTypeEntry``) of an ``f``-byte field and a
        ``v``-byte value (fitted on 9.1.2, libc): field (sds, 1-byte header below 32
        bytes) and value (sdshdr8 or wider) in one allocation when they take ≤ 128
        bytes, else the field beside a value pointer plus the value's own sds; a field
        with a TTL takes 9 bytes more (its expire time and a byte)."""
        fs = sds_header(f) + f + 1
        vs = max(3, sds_header(v)) + v + 1
        extra = 9 if ttl else 0
        if fs + vs <= 128:
            return self.a(fs + vs + extra)
        return self.a(8 + max(3, sds_header(f)) + f + 1 + extra) + self.a(vs)

    def vk_skiplist_node(self, n: int) -> float:
        """Valkey 9.1 skiplist node with its element embedded: "score, backward
        pointer, level-0 ... level-N, sds-header-size, element-sds", expected over the
        random level as ``skiplist_node`` is."""
        got = self._vk_nodes.get(n)
        if got is None:
            ele = 1 + sds_header(n) + n + 1
            dist = _level_distribution(self.zskiplist_max_level)
            got = self._vk_nodes[n] = sum(p * self.a(16 + 16 * (k + 1) + ele)
                                          for k, p in enumerate(dist))
        return got

    # ---------------------------------------------------------------- basics

    @property
    def ptr(self) -> int:
        return self.bits // 8

    def a(self, n: int) -> int:
        """A(n): the allocator's size for an ``n``-byte request."""
        return self.allocator.size(n)

    @property
    def robj(self) -> int:
        """sizeof(robj): 4 bits of type/encoding + 24 bits lru + refcount + ptr."""
        return 8 + self.ptr

    @property
    def dict_entry(self) -> int:
        return 3 * self.ptr

    @property
    def dict_struct(self) -> int:
        """D = sizeof(dict): 96 (≤ 6.2) / 56 (7.0+) on 64-bit."""
        return 56 if self.version >= (7, 0) else 96

    @property
    def rounded_sds(self) -> bool:
        """Whether sds sizes are the allocator's (6.0+) or the logical ones (4.0, 5.0)."""
        return self.version >= (6, 0)

    def sds(self, n: int) -> int:
        """S(len): the size ``MEMORY USAGE`` counts for an sds of ``n`` bytes built by the
        loader (no free space)."""
        req = sds_header(n, old=self.version < (3, 2)) + n + 1
        return self.a(req) if self.rounded_sds else req

    def key(self, n: int) -> int:
        """The key's share before Redis 8 / Valkey 8: 4.0 counted the sds of the command
        argument (an embstr-style sdshdr8 for ≤ 44 bytes), 5.0 the key's logical sds size,
        6.0+ its allocation."""
        if self.version < (5, 0) and n <= 44:
            return 3 + n + 1
        return self.sds(n)

    def blob(self, n: int) -> int:
        """A listpack / ziplist / intset blob of ``n`` bytes: its allocation (7.0+), or
        its own length (``ziplistBlobLen`` / ``intsetBlobLen``) before 7.0."""
        return self.a(n) if self.version >= (7, 0) else n

    # ---------------------------------------------------------------- strings

    @property
    def embstr_max(self) -> int:
        return 44 if self.version >= (3, 2) else 39

    def embstr(self, n: int) -> int:
        """An embstr: robj and sdshdr8 in one allocation, A(16 + 3 + len + 1) (7.0+);
        before 7.0 robj + len + 2, unrounded (measured on 4.0 to 6.2)."""
        if self.version < (7, 0):
            return self.robj + n + 2
        return self.a(self.robj + 3 + n + 1)

    def raw(self, n: int) -> int:
        return self.robj + self.sds(n)

    # ---------------------------------------------------------------- hash tables

    @staticmethod
    def buckets(n: int) -> int:
        """B: "the next power of two ≥ N (minimum 4)" — the table ``dictExpand`` makes
        for the length the RDB states."""
        b = 4
        while b < n:
            b <<= 1
        return b

    @staticmethod
    def grown_buckets(n: int) -> int:
        """B of a dict built by ``n`` single inserts from empty (how a server replaying
        an AOF builds it): the table doubles when it is full, then moves one non-empty
        bucket of the old table per insert, so right after a doubling both tables are
        counted until the ≈ (1 − 1/e)·P non-empty old buckets have moved."""
        if n <= 4:
            return 4
        p = 4
        while p * 2 < n:
            p <<= 1
        # the table is 2p since the insert that found p entries; n - p - 1 steps since
        steps = n - p - 1
        if steps < 0.632 * p:
            return 2 * p + p
        return 2 * p

    def table(self, n: int, *, grown: bool = False) -> int:
        """A dict of ``n`` entries without its elements: D + 8·B (``grown``: built by
        inserts, else sized by ``dictExpand`` to the stated length as a loader does)."""
        b = self.grown_buckets(n) if grown else self.buckets(n)
        return self.dict_struct + self.ptr * b

    # ---------------------------------------------------------------- lists

    @property
    def quicklist(self) -> int:
        return 40

    @property
    def quicklist_node(self) -> int:
        """N_node = 40 (7.0+) or 32 (3.2–6.2)."""
        return 40 if self.version >= (7, 0) else 32

    # ---------------------------------------------------------------- zsets

    @property
    def zskiplist_max_level(self) -> int:
        """32 levels, 64 in the 5.0 series."""
        return 64 if self.version[0] == 5 else 32

    def skiplist_header(self) -> int:
        """The header node has every level: A(24 + 16·max_level)."""
        return self.a(24 + 16 * self.zskiplist_max_level)

    def skiplist_node(self) -> float:
        """Expected allocation of a skiplist node, ``Σ P(level=k)·A(24 + 16·k)``: the
        estimate must not depend on the random levels the server drew."""
        dist = _level_distribution(self.zskiplist_max_level)
        return sum(p * self.a(24 + 16 * (k + 1)) for k, p in enumerate(dist))

    # ---------------------------------------------------------------- streams

    @property
    def stream_struct(self) -> int:
        """St = sizeof(stream): 40 (5.0–6.2) / 80 (7.0+); 5.0 and 6.0 leave it out."""
        if self.version < (6, 2):
            return 0
        return 80 if self.version >= (7, 0) else 40

    @property
    def stream_cg(self) -> int:
        """G = sizeof(streamCG): 32 (5.0–6.2) / 40 (7.0+)."""
        return 40 if self.version >= (7, 0) else 32

    @property
    def stream_consumer(self) -> int:
        """C = sizeof(streamConsumer): 24 (≤ 7.0) / 32 (7.2+)."""
        return 32 if self.version >= (7, 2) else 24

    stream_nack = 24

    @staticmethod
    def rax(elements: int, nodes: int) -> int:
        """R: the server's own radix-tree estimate ``16·numele + (4 + 8·30)·numnodes``."""
        return 16 * elements + 244 * nodes
