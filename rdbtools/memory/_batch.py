"""Per-batch element accounting of the memory estimator (FORMAT.md §4.A–§4.C, §10.2–§10.4).

Each function takes one batch of a key's elements (the tuple of a ``ListItems``,
``SetMembers``, ``ZSetMembers`` or ``HashFields`` event), the model's parameters
(``Costs.params``: allocator, sds header rule, dictEntry size) and the accumulator's
state, a list of ints it updates in place: counts, the longest element, running
listpack/ziplist sizes, sums of rounded allocations. The ``*_py`` functions are the
reference; the C extension has a twin of each (``rdbtools._speedups.mem_*``) giving the
same state for the same input, used when it is built (tests/test_memory_speedups.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rdbtools._accel import speedups
from rdbtools.memory._encodings import (
    LP_OVERHEAD,
    ZL_OVERHEAD,
    canonical_int,
    intset_width,
    lp_entry_size,
    lp_int_entry_size,
    score_text,
    sds_header,
    zl_entry_size,
)
from rdbtools.memory._jemalloc import jemalloc_size, libc_size

Params = tuple[int, int, int, int]
"""``(allocator, sds_old, sds_rounded, dict_entry)``: allocator 0 (jemalloc, 8-byte
quantum), 1 (jemalloc, 16-byte quantum) or 2 (glibc); sds_old: 8-byte sds headers (before
3.2); sds_rounded: an sds counts as its allocation (6.0+), else header + len + 1;
dict_entry: sizeof(dictEntry)."""

ListCfg = tuple[int, int, int, int, int, int]
"""``(ziplist, by_offset, plain_max, node_max, node_struct, blob_rounded)`` of a list."""

# state layouts (indexes into the state lists)
SET_STATE = ("elements", "largest", "all_int", "width", "lp_size", "ht")
ZSET_STATE = ("elements", "largest", "lp_size", "lp_prev", "ht")
HASH_STATE = ("elements", "largest", "ttl", "lp_size", "lp_prev", "ht")
LIST_STATE = ("elements", "largest", "whole_size", "whole_count", "whole_prev",
              "node_open", "node_size", "node_prev", "nodes", "nodes_cost")


_SIZERS: dict[Params, tuple[Callable[[int], int], Callable[[int], int]]] = {}


def _sizers(p: Params) -> tuple[Callable[[int], int], Callable[[int], int]]:
    """The allocator's rounding ``a(n)`` and ``sds(n)`` for these parameters."""
    got = _SIZERS.get(p)
    if got is None:
        got = _SIZERS[p] = _make_sizers(p)
    return got


def _make_sizers(p: Params) -> tuple[Callable[[int], int], Callable[[int], int]]:
    kind, old, rounded, _ = p
    if kind == 2:
        a = libc_size
    else:
        quantum = 16 if kind == 1 else 8

        def a(n: int) -> int:
            return jemalloc_size(n, quantum)

    def sds(n: int) -> int:
        req = sds_header(n, old=bool(old)) + n + 1
        return a(req) if rounded else req

    return a, sds


def _blob_add(ziplist: int, size: int, prev: int, e: bytes) -> tuple[int, int]:
    """Append ``e`` to a listpack/ziplist of ``size`` bytes whose last entry took
    ``prev`` bytes: "a ziplist entry's prevlen field is 1 byte when the previous entry
    is < 254 bytes, else 5"."""
    if ziplist:
        n = zl_entry_size(e) + (1 if prev < 254 else 5)
        return size + n, n
    return size + lp_entry_size(e), prev


def set_batch_py(members: Sequence[bytes], p: Params, lp_max: int,
                 hist: dict[int, int] | None, st: list[int]) -> None:
    """Set members: ``st`` = ``SET_STATE``; whether all are integers and the intset
    width they need, the listpack of the first ``lp_max``, and Σ (dictEntry + sds) —
    or, with ``hist`` (Valkey 8), the member count per length instead."""
    _, sds = _sizers(p)
    dict_entry = p[3]
    elements, largest, all_int, width, lp_size, ht = st
    for m in members:
        n = len(m)
        elements += 1
        if n > largest:
            largest = n
        if all_int:
            v = canonical_int(m)
            if v is None:
                all_int = 0
            else:
                w = intset_width(v)
                if w > width:
                    width = w
        if elements <= lp_max:
            lp_size += lp_entry_size(m)
        if hist is not None:
            hist[n] = hist.get(n, 0) + 1
        else:
            ht += dict_entry + sds(n)
    st[:] = [elements, largest, all_int, width, lp_size, ht]


def zset_batch_py(members: Sequence[tuple[bytes, float]], p: Params, lp_max: int,
                  ziplist: bool, shortest: bool, st: list[int]) -> None:
    """Sorted-set members: ``st`` = ``ZSET_STATE``; the listpack/ziplist of the first
    ``lp_max`` (member, then score as ``score_text``) and Σ (sds + dictEntry)."""
    _, sds = _sizers(p)
    dict_entry = p[3]
    elements, largest, lp_size, lp_prev, ht = st
    for m, score in members:
        n = len(m)
        elements += 1
        if n > largest:
            largest = n
        if elements <= lp_max:
            lp_size, lp_prev = _blob_add(ziplist, lp_size, lp_prev, m)
            lp_size, lp_prev = _blob_add(ziplist, lp_size, lp_prev, score_text(score, shortest))
        ht += sds(n) + dict_entry
    st[:] = [elements, largest, lp_size, lp_prev, ht]


def hash_field_py(p: Params, mstr: bool, n: int, ttl: bool) -> int:
    """A hash-table field: an sds, or from 7.4 an "mstr": "header 1 byte (len < 32), 3
    (< 256), 3 (< 65536), 9 (larger) + len + 1, plus 2 + 16 bytes when the field carries
    a TTL; allocated size class of that" (§10.2)."""
    a, sds = _sizers(p)
    if not mstr:
        return sds(n)
    hdr = 1 if n < 32 else 3 if n < 65536 else 9
    return a(hdr + n + 1 + (18 if ttl else 0))


def hash_batch_py(fields: Sequence[tuple[bytes, bytes, int | None]], p: Params, lp_max: int,
                  ziplist: bool, mstr: bool, st: list[int]) -> None:
    """Hash fields: ``st`` = ``HASH_STATE``; whether any field has a TTL, the
    listpack/ziplist of the first ``lp_max`` (field, value, and the TTL as an integer
    entry once any field has one) and Σ (dictEntry + field + value sds)."""
    _, sds = _sizers(p)
    dict_entry = p[3]
    elements, largest, ttl, lp_size, lp_prev, ht = st
    for f, v, exp in fields:
        elements += 1
        n = max(len(f), len(v))
        if n > largest:
            largest = n
        if exp is not None:
            ttl = 1
        if elements <= lp_max:
            lp_size, lp_prev = _blob_add(ziplist, lp_size, lp_prev, f)
            lp_size, lp_prev = _blob_add(ziplist, lp_size, lp_prev, v)
            if ttl:
                lp_size += lp_int_entry_size(exp or 0)
        ht += dict_entry + hash_field_py(p, mstr, len(f), exp is not None) + sds(len(v))
    st[:] = [elements, largest, ttl, lp_size, lp_prev, ht]


def list_batch_py(items: Sequence[bytes], p: Params, cfg: ListCfg, close_first: bool,
                  st: list[int]) -> None:
    """List elements: ``st`` = ``LIST_STATE``. Quicklist nodes fill as
    ``_quicklistNodeAllowInsert`` allows ("new_sz = node->sz + sz + overhead ≤ 8 KiB"), or
    one node per batch when ``by_offset`` (the file's own nodes); an element of at least
    ``plain_max`` bytes is a PLAIN node; a closed node costs ``node_struct`` plus its blob
    (allocated when ``blob_rounded``, 7.0+). The whole list is also sized as one blob of
    its first 65535 elements. ``close_first`` closes the open node before the batch."""
    a, _ = _sizers(p)
    ziplist, by_offset, plain_max, node_max, node_struct, rounded = cfg
    empty = ZL_OVERHEAD if ziplist else LP_OVERHEAD
    (elements, largest, whole_size, whole_count, whole_prev,
     node_open, node_size, node_prev, nodes, nodes_cost) = st

    if close_first and node_open:
        nodes += 1
        nodes_cost += node_struct + (a(node_size) if rounded else node_size)
    if close_first:
        node_open = node_size = node_prev = 0
    for e in items:
        n = len(e)
        elements += 1
        if n > largest:
            largest = n
        if whole_count < 0xFFFF:
            whole_size, whole_prev = _blob_add(ziplist, whole_size, whole_prev, e)
            whole_count += 1
        if n >= plain_max:
            if node_open:
                nodes += 1
                nodes_cost += node_struct + (a(node_size) if rounded else node_size)
            node_open = node_size = node_prev = 0
            nodes += 1
            nodes_cost += node_struct + a(n)
            continue
        if not node_open:
            node_open, node_size, node_prev = 1, empty, 0
        elif not by_offset and node_size + n + 8 > node_max:
            nodes += 1
            nodes_cost += node_struct + (a(node_size) if rounded else node_size)
            node_open, node_size, node_prev = 1, empty, 0
        node_size, node_prev = _blob_add(ziplist, node_size, node_prev, e)
    st[:] = [elements, largest, whole_size, whole_count, whole_prev,
             node_open, node_size, node_prev, nodes, nodes_cost]


def lp_sum_py(items: Sequence[bytes]) -> int:
    """The listpack bytes of these elements' entries."""
    return sum(lp_entry_size(e) for e in items)


def is_int_py(s: bytes) -> bool:
    """Whether ``s`` is a canonical int64 decimal (``string2ll``)."""
    return canonical_int(s) is not None


set_batch: Callable[[Sequence[bytes], Params, int, dict[int, int] | None, list[int]], None] = (
    speedups.mem_set if speedups else set_batch_py)
zset_batch: Callable[[Sequence[tuple[bytes, float]], Params, int, bool, bool, list[int]], None] = (
    speedups.mem_zset if speedups else zset_batch_py)
hash_batch: Callable[
    [Sequence[tuple[bytes, bytes, int | None]], Params, int, bool, bool, list[int]], None] = (
    speedups.mem_hash if speedups else hash_batch_py)
list_batch: Callable[[Sequence[bytes], Params, ListCfg, bool, list[int]], None] = (
    speedups.mem_list if speedups else list_batch_py)
lp_sum: Callable[[Sequence[bytes]], int] = speedups.mem_lp_sum if speedups else lp_sum_py
is_int: Callable[[bytes], bool] = speedups.mem_int if speedups else is_int_py
