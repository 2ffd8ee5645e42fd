"""Per-key value encoders for the RDB writer: each takes a key's value events and picks
the encoding the target version's server would (FORMAT.md §4.11, §9), writing the value
bytes into a ``Spool`` so that a key of any size streams through.

An encoder's ``finish()`` returns ``(type_byte, head, spool, tail)``: the value is
``head + spool bytes + tail`` (``head`` carries counts that are only known at the end).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter
from struct import Struct
from typing import BinaryIO, cast

from rdbtools import _spec as S
from rdbtools._buffer import Input
from rdbtools.errors import ParseError, WriteError, key_text
from rdbtools.events import (
    Event,
    HashFields,
    KeyStart,
    ListItems,
    ModuleValue,
    SetMembers,
    StringValue,
    ZSetMembers,
)
from rdbtools.rdb import _encoders as C
from rdbtools.rdb._values import skip_module_opcodes
from rdbtools.rdb.targets import Target, Thresholds
from rdbtools.spool import Spool

_LE64S = Struct("<q").pack
_LE64U = Struct("<Q").pack
_LE_DOUBLE = Struct("<d").pack
_PACKED_NODE = bytes((S.QUICKLIST_NODE_PACKED,))
_BY_SCORE = itemgetter(1, 0)
_NO_SPOOL = Spool(0)
"""The spool of a string key in one piece: never written to (``StringEncoder`` makes a
spool of its own before writing), so closing it is a no-op."""

class EmptyKey(Exception):
    """The key holds no element: servers refuse (or skip) empty collections."""


Loss = Callable[[str], None]
"""Reports one loss for the current key (may raise ``WriteError`` in strict mode)."""
Finished = tuple[int, bytes, Spool, bytes]


class KeyEncoder:
    """Base: collects a key's events; subclasses encode."""

    def __init__(self, start: KeyStart, target: Target, th: Thresholds, loss: Loss) -> None:
        self.start = start
        self.target = target
        self.th = th
        self.loss = loss
        self.spool = Spool()
        self.compress = th.rdbcompression

    def add(self, ev: Event) -> None:
        raise WriteError(f"unexpected {type(ev).__name__} in a {self.start.type} key",
                         )

    def finish(self) -> Finished:
        raise NotImplementedError

    def fail(self, message: str) -> WriteError:
        return WriteError(f"{message} (key {key_text(self.start.key)})")


# --------------------------------------------------------------------------- strings


class StringEncoder(KeyEncoder):
    """Type 0: one rdb-string (INT / LZF choices as ``rdbSaveRawString``); a string too big
    for memory is written plain."""

    def __init__(self, start: KeyStart, target: Target, th: Thresholds, loss: Loss) -> None:
        # no KeyEncoder.__init__: most strings come in one piece, kept aside in ``first``,
        # and never need a spool of their own
        self.start = start
        self.target = target
        self.th = th
        self.loss = loss
        self.spool = _NO_SPOOL
        self.compress = th.rdbcompression
        self.first: bytes | None = None

    def add(self, ev: Event) -> None:
        if type(ev) is not StringValue:
            super().add(ev)
            return
        if self.spool is _NO_SPOOL:
            if self.first is None:
                self.first = ev.data
                return
            self.spool = Spool()
            self.spool.write(self.first)
            self.first = None
        self.spool.write(ev.data)

    def finish(self) -> Finished:
        if self.spool is _NO_SPOOL:
            data = self.first if self.first is not None else b""
            return S.TYPE_STRING, C.enc_string(data, self.compress), self.spool, b""
        if self.spool.spilled:
            return S.TYPE_STRING, C.enc_len(self.spool.size), self.spool, b""
        data = self.spool.getvalue()
        self.spool.close()
        return S.TYPE_STRING, C.enc_string(data, self.compress), self.spool, b""


# --------------------------------------------------------------------------- lists


def _list_plain_min(level: int, limit: int) -> int | None:
    """Smallest list element that takes a PLAIN quicklist node: 7.4+ anything above the
    node size limit, 7.0 / 7.2 only elements of 1 GiB and more, none before."""
    return limit + 1 if level >= 12 else 1 << 30 if level >= 10 else None


def _fits_one_ziplist(items: Sequence[bytes], limit: int) -> bool:
    """Whether an empty ziplist node takes every element of ``items`` whatever they hold:
    an entry is at most its length + 10 bytes (``ListEncoder._add_ziplist_run``)."""
    return 11 + sum(map(len, items)) + 10 * len(items) <= limit


class ListEncoder(KeyEncoder):
    """RDB 6: ziplist (10) while small, else linked list (1). RDB 7-9: quicklist (14) of
    ziplists. RDB 10+: quicklist 2 (18) of listpacks, PLAIN nodes for big elements. A
    node takes elements while its estimated size stays within the node limit, as the
    server's ``_quicklistNodeAllowInsert`` decides for elements pushed one by one."""

    def __init__(self, start: KeyStart, target: Target, th: Thresholds, loss: Loss) -> None:
        super().__init__(start, target, th, loss)
        self.count = 0
        self.nodes = 0
        self.node: list[bytes] = []
        """Ziplist nodes: the elements; listpack nodes: runs of encoded entries."""
        self.node_count = 0
        self.node_size = 0
        self.prev_entry = 0
        self.node_blob: bytes | None = None
        """A ziplist node's blob when ``_add_ziplist_run`` filled it."""
        self.linked = False
        self.small: list[bytes] | None = [] if not self.target.has_quicklist else None
        self.quicklist = self.target.has_quicklist
        self.listpacks = self.target.has_listpacks
        self.limit = self.th.list_max_listpack_bytes
        self.first_node_free = self.target.level >= 11
        self.plain_min = _list_plain_min(self.target.level, self.limit)

    def add(self, ev: Event) -> None:
        if type(ev) is not ListItems:
            super().add(ev)
            return
        items = ev.items
        if self.listpacks:
            self._add_listpack_run(items)
            return
        if self.quicklist and self._add_ziplist_run(items):
            return
        for item in items:
            self.count += 1
            if self.linked:
                self.spool.write(C.enc_string(item, self.compress))
            elif self.small is not None:
                self._add_unquicklisted(item)
            else:
                self._add_ziplist_node(item)

    def _add_listpack_run(self, items: tuple[bytes, ...]) -> None:
        """Add a batch to listpack nodes: runs of elements that go into the current node
        at once (``lp_fill``), an element that needs a new node or a PLAIN one through
        ``_add_listpack_node``."""
        i = 0
        k = len(items)
        while i < k:
            overhead = 0 if self.first_node_free and self.nodes == 0 else 8
            run, j, self.node_size = C.lp_fill(items, i, self.node_count, self.node_size,
                                               self.limit, overhead, self.plain_min)
            if j > i:
                self.node.append(run)
                self.node_count += j - i
                self.count += j - i
                i = j
                continue
            self.count += 1
            self._add_listpack_node(items[i])
            i += 1

    def _add_ziplist_run(self, items: tuple[bytes, ...]) -> bool:
        """Fill an empty ziplist node with a whole batch at once when no element of it
        could close the node: an entry (previous-length field included) is at most its
        length + 10 bytes, as is ``_add_ziplist_node``'s overhead, so ``11 + sum(len +
        10) <= limit`` keeps every per-element test false. The node's size and last
        entry's size are then read off its blob (``zlbytes``, ``zltail``)."""
        k = len(items)
        if self.node or not k or not _fits_one_ziplist(items, self.limit):
            return False
        blob = C.ziplist(items)
        self.node = list(items)
        self.node_count = k
        self.node_size = len(blob)
        self.prev_entry = len(blob) - 1 - int.from_bytes(blob[4:8], "little")
        self.node_blob = blob
        self.count += k
        return True

    def _add_unquicklisted(self, item: bytes) -> None:
        small = self.small
        assert small is not None
        if (len(small) < self.th.list_max_ziplist_entries
                and len(item) <= self.th.list_max_ziplist_value):
            small.append(item)
            return
        self.spool.write(C.enc_strings(small, self.compress))
        self.small = None
        self.spool.write(C.enc_string(item, self.compress))
        self.linked = True

    def _add_ziplist_node(self, item: bytes) -> None:
        n = len(item)
        overhead = (1 if n < 254 else 5) + (1 if n < 64 else 2 if n < 16384 else 5)
        if self.node and self.node_size + n + overhead > self.th.list_max_listpack_bytes:
            self._close_node()
        if not self.node:
            self.node_size = 11
            self.prev_entry = 0
        entry = (1 if self.prev_entry < 254 else 5) + len(C.zl_encoding(item))
        self.node.append(item)
        self.node_blob = None
        self.node_count += 1
        self.node_size += entry
        self.prev_entry = entry

    def _add_listpack_node(self, item: bytes) -> None:
        n = len(item)
        if self.plain_min is not None and n >= self.plain_min:
            self._close_node()
            self.spool.write(C.enc_len(S.QUICKLIST_NODE_PLAIN)
                             + C.enc_string(item, self.compress))
            self.nodes += 1
            return
        # 7.2+ keeps a short list as one listpack and converts it when an element would
        # take it past the limit: no per-element overhead for that first node.
        overhead = 0 if self.first_node_free and self.nodes == 0 else 8
        if self.node and self.node_size + n + overhead > self.limit:
            self._close_node()
        if not self.node:
            self.node_size = 7
        entry = C.lp_entry(item)
        self.node.append(entry)
        self.node_count += 1
        self.node_size += len(entry)

    def _close_node(self) -> None:
        if not self.node:
            return
        if self.listpacks:
            blob = C.listpack_from_encoded(b"".join(self.node), self.node_count)
            self.spool.write(_PACKED_NODE + C.enc_string(blob, self.compress))
        else:
            blob = self.node_blob if self.node_blob is not None else C.ziplist(self.node)
            self.spool.write(C.enc_string(blob, self.compress))
            self.node_blob = None
        self.nodes += 1
        self.node = []
        self.node_count = 0

    def finish(self) -> Finished:
        if self.count == 0:
            raise EmptyKey
        if self.small is not None:
            blob = C.enc_string(C.ziplist(self.small), self.compress)
            return S.TYPE_LIST_ZIPLIST, blob, self.spool, b""
        if self.linked:
            return S.TYPE_LIST, C.enc_len(self.count), self.spool, b""
        self._close_node()
        tp = S.TYPE_LIST_QUICKLIST_2 if self.listpacks else S.TYPE_LIST_QUICKLIST
        return tp, C.enc_len(self.nodes), self.spool, b""


# --------------------------------------------------------------------------- sets


class SetEncoder(KeyEncoder):
    """Intset (11) when every member is a canonical int64 and there are at most
    ``set-max-intset-entries``; RDB 11+: listpack (20) within the listpack limits; else
    hash table (2)."""

    def __init__(self, start: KeyStart, target: Target, th: Thresholds, loss: Loss) -> None:
        super().__init__(start, target, th, loss)
        self.small: list[bytes] | None = []
        self.count = 0
        self.ints = True
        self.longest = 0
        self.cap = max(self.th.set_max_intset_entries,
                       self.th.set_max_listpack_entries if self.target.has_set_listpack else 0)

    def add(self, ev: Event) -> None:
        if not isinstance(ev, SetMembers):
            super().add(ev)
            return
        members = ev.members
        for i, m in enumerate(members):
            if self.small is None:
                # a hash table from here on: the rest of the batch at once
                rest = members[i:]
                self.count += len(rest)
                self.spool.write(C.enc_strings(rest, self.compress))
                return
            self.count += 1
            self.small.append(m)
            if self.ints and C.canonical_int(m) is None:
                self.ints = False
            self.longest = max(self.longest, len(m))
            if not self._compact_possible():
                self.spool.write(C.enc_strings(self.small, self.compress))
                self.small = None

    def _compact_possible(self) -> bool:
        n = self.count
        if self.ints and n <= self.th.set_max_intset_entries:
            return True
        return (self.target.has_set_listpack and n <= self.th.set_max_listpack_entries
                and self.longest <= self.th.set_max_listpack_value)

    def finish(self) -> Finished:
        if self.count == 0:
            raise EmptyKey
        comp = self.compress
        if self.small is not None:
            if self.ints and self.count <= self.th.set_max_intset_entries:
                blob = C.intset([int(m) for m in self.small])
                return S.TYPE_SET_INTSET, C.enc_string(blob, comp), self.spool, b""
            if self.target.has_set_listpack:
                blob = C.listpack(self.small)
                return S.TYPE_SET_LISTPACK, C.enc_string(blob, comp), self.spool, b""
            for e in self.small:
                self.spool.write(C.enc_string(e, comp))
        return S.TYPE_SET, C.enc_len(self.count), self.spool, b""


# --------------------------------------------------------------------------- sorted sets


def _score_text(level: int) -> Callable[[float], bytes]:
    return C.score_72 if level >= 11 else C.score_70 if level >= 10 else C.score_pre70


def _zset_compact(members: Sequence[tuple[bytes, float]], target: Target, comp: bool
                  ) -> tuple[int, bytes]:
    """A sorted set as one listpack (RDB 10+) or ziplist, sorted by score then member,
    as an rdb-string: its type byte and value bytes."""
    text = _score_text(target.level)
    flat = [x for m, score in sorted(members, key=_BY_SCORE) for x in (m, text(score))]
    if target.has_listpacks:
        return S.TYPE_ZSET_LISTPACK, C.enc_string(C.listpack(flat), comp)
    return S.TYPE_ZSET_ZIPLIST, C.enc_string(C.ziplist(flat), comp)


def _string_double(x: float) -> bytes:
    """Type-3 score: 253 NaN, 254 +inf, 255 -inf, else a length byte and the text
    (integral values within +-2**52 as integers, else ``%.17g``)."""
    if math.isinf(x):
        return b"\xfe" if x > 0 else b"\xff"
    if x == 0 and math.copysign(1.0, x) < 0:
        return b"\x02-0"  # kept, as score_70 keeps it (the 3.x server itself wrote "0")
    if -4503599627370495 < x < 4503599627370496 and x == int(x):
        text = b"%d" % int(x)
    else:
        text = b"%.17g" % x
    return bytes((len(text),)) + text


class ZSetEncoder(KeyEncoder):
    """Listpack (17, RDB 10+) or ziplist (12) sorted by score then member while within the
    listpack limits; else skiplist: binary scores (5, RDB 8+) or string scores (3)."""

    def __init__(self, start: KeyStart, target: Target, th: Thresholds, loss: Loss) -> None:
        super().__init__(start, target, th, loss)
        self.small: list[tuple[bytes, float]] | None = []
        self.count = 0

    def add(self, ev: Event) -> None:
        if not isinstance(ev, ZSetMembers):
            super().add(ev)
            return
        members = ev.members
        for i, (m, score) in enumerate(members):
            if self.small is None:
                # a skiplist from here on: the rest of the batch at once
                self._write_members(members[i:] if i else members)
                return
            if math.isnan(score):
                raise self.fail(f"sorted-set member {m!r} has a NaN score")
            self.count += 1
            self.small.append((m, score))
            if (self.count > self.th.zset_max_listpack_entries
                    or len(m) > self.th.zset_max_listpack_value):
                small, self.small = self.small, None
                self.count -= len(small)
                self._write_members(small)

    def _write_members(self, members: Sequence[tuple[bytes, float]]) -> None:
        """Skiplist members: the rdb-string member, then the score (binary, or as text)."""
        for m, score in members:
            if math.isnan(score):
                raise self.fail(f"sorted-set member {m!r} has a NaN score")
        comp = self.compress
        score_bytes = _LE_DOUBLE if self.target.has_binary_zset else _string_double
        self.count += len(members)
        self.spool.write(b"".join([C.enc_string(m, comp) + score_bytes(s) for m, s in members]))

    def finish(self) -> Finished:
        if self.count == 0:
            raise EmptyKey
        if self.small is not None:
            tp, head = _zset_compact(self.small, self.target, self.compress)
            return tp, head, self.spool, b""
        tp = S.TYPE_ZSET_2 if self.target.has_binary_zset else S.TYPE_ZSET
        return tp, C.enc_len(self.count), self.spool, b""


# --------------------------------------------------------------------------- hashes


def _hash_compact(flat: list[bytes], target: Target, comp: bool) -> tuple[int, bytes]:
    """A hash's ``f v`` sequence as one listpack (RDB 10+) or ziplist, as an rdb-string:
    its type byte and value bytes."""
    if target.has_listpacks:
        return S.TYPE_HASH_LISTPACK, C.enc_string(C.listpack(flat), comp)
    return S.TYPE_HASH_ZIPLIST, C.enc_string(C.ziplist(flat), comp)


class HashEncoder(KeyEncoder):
    """Listpack (16, RDB 10+) or ziplist (13) within the limits, else hash table (4).
    Field TTLs: RDB 12 listpack-ex (25) or hash with metadata (24); Valkey HASH_2 (22);
    older targets drop them (reported). A big hash streams through the spool as plain
    field/value pairs with its TTLs kept aside; if it has any, the spool is rewritten
    at the end into the layout with a TTL per field."""

    def __init__(self, start: KeyStart, target: Target, th: Thresholds, loss: Loss) -> None:
        super().__init__(start, target, th, loss)
        self.small: list[tuple[bytes, bytes, int | None]] | None = []
        self.count = 0
        self.ttls = False
        self.dropped_ttls = 0
        self.big_ttls: dict[int, int] = {}

    def add(self, ev: Event) -> None:
        if not isinstance(ev, HashFields):
            super().add(ev)
            return
        comp = self.compress
        fields = ev.fields
        for i, (f, v, ttl) in enumerate(fields):
            if self.small is None:
                # a hash table from here on: the rest of the batch at once
                self._add_big(fields[i:] if i else fields)
                return
            if ttl is not None:
                if not self.target.has_field_ttls:
                    self.dropped_ttls += 1
                    ttl = None
                else:
                    self.ttls = True
            self.count += 1
            self.small.append((f, v, ttl))
            if (self.count > self.th.hash_max_listpack_entries
                    or len(f) > self.th.hash_max_listpack_value
                    or len(v) > self.th.hash_max_listpack_value):
                for j, (_, _, tt) in enumerate(self.small):
                    if tt is not None:
                        self.big_ttls[j] = tt
                self.spool.write(C.enc_strings([x for ff, vv, _ in self.small
                                                for x in (ff, vv)], comp))
                self.small = None

    def _add_big(self, fields: tuple[tuple[bytes, bytes, int | None], ...]) -> None:
        """Fields of a hash already past the listpack limits: ``f v`` pairs to the
        spool, TTLs kept aside by field index."""
        base = self.count
        keep = self.target.has_field_ttls
        for j, (_, _, ttl) in enumerate(fields):
            if ttl is not None:
                if keep:
                    self.ttls = True
                    self.big_ttls[base + j] = ttl
                else:
                    self.dropped_ttls += 1
        self.count += len(fields)
        self.spool.write(C.enc_strings([x for f, v, _ in fields for x in (f, v)],
                                       self.compress))

    def _big_with_ttls(self) -> Finished:
        """Rewrite the spooled ``f v`` pairs as type 24 (``<len ttl> f v``, ttl relative to
        the earliest expiry) or Valkey type 22 (``f v <i64 expiry>``)."""
        min_expire = min(self.big_ttls.values())
        out = Spool()
        inp = Input(cast(BinaryIO, _ChunkFile(self.spool.chunks())), "spool", checksum=False)
        valkey = self.target.valkey
        for i in range(self.count):
            inp.set_mark()
            inp.read_string()
            inp.read_string()
            pair = inp.since_mark()
            t = self.big_ttls.get(i)
            if valkey:
                out.write(pair + _LE64S(-1 if t is None else t))
            else:
                out.write(C.enc_len(0 if t is None else t - min_expire + 1) + pair)
        self.spool.close()
        self.spool = out
        if valkey:
            return S.TYPE_VALKEY_HASH_2, C.enc_len(self.count), out, b""
        return S.TYPE_HASH_METADATA, _LE64U(min_expire) + C.enc_len(self.count), out, b""

    def _fits_listpack(self, fields: list[tuple[bytes, bytes, int | None]]) -> bool:
        lim = self.th.hash_max_listpack_value
        return len(fields) <= self.th.hash_max_listpack_entries and all(
            len(f) <= lim and len(v) <= lim for f, v, _ in fields)

    def finish(self) -> Finished:
        if self.count == 0:
            raise EmptyKey
        if self.dropped_ttls:
            self.loss(f"{self.dropped_ttls} field TTL(s) dropped: RDB {self.target.version} "
                      "has no hash field expiry")
        comp = self.compress
        fields = self.small
        if fields is None:
            if self.big_ttls:
                return self._big_with_ttls()
            return S.TYPE_HASH, C.enc_len(self.count), self.spool, b""
        want_ex = self.ttls or (self.start.encoding == "listpackex"
                                and self.target.has_field_ttls and not self.target.valkey)
        if want_ex and self.target.valkey:
            return self._valkey_hash2(fields)
        if want_ex:
            return self._redis_field_ttls(fields)
        if self._fits_listpack(fields):
            tp, head = _hash_compact([x for f, v, _ in fields for x in (f, v)], self.target,
                                     comp)
            return tp, head, self.spool, b""
        for f, v, _ in fields:
            self.spool.write(C.enc_string(f, comp) + C.enc_string(v, comp))
        return S.TYPE_HASH, C.enc_len(self.count), self.spool, b""

    def _redis_field_ttls(self, fields: list[tuple[bytes, bytes, int | None]]) -> Finished:
        """Type 25: ``<u64 minExpire> <listpack f, v, expire_at>`` with TTL'd fields first
        by ascending expiry; type 24: ``<u64 minExpire> <len N> {<len ttl> f v}`` with
        ``ttl = expire - minExpire + 1`` (0 = none)."""
        comp = self.compress
        expiries = [t for _, _, t in fields if t is not None]
        min_expire = min(expiries) if expiries else 0
        if self._fits_listpack(fields):
            timed = sorted((p for p in fields if p[2] is not None), key=lambda p: p[2] or 0)
            ordered = timed + [p for p in fields if p[2] is None]
            flat = [x for f, v, t in ordered for x in (f, v, b"%d" % (t or 0))]
            head = _LE64U(min_expire) + C.enc_string(C.listpack(flat), comp)
            return S.TYPE_HASH_LISTPACK_EX, head, self.spool, b""
        for f, v, t in fields:
            rel = 0 if t is None else t - min_expire + 1
            self.spool.write(C.enc_len(rel) + C.enc_string(f, comp) + C.enc_string(v, comp))
        return S.TYPE_HASH_METADATA, _LE64U(min_expire) + C.enc_len(len(fields)), self.spool, b""

    def _valkey_hash2(self, fields: list[tuple[bytes, bytes, int | None]]) -> Finished:
        """Valkey type 22: ``<len N> {f v <i64 expiry, -1 = none>}``."""
        comp = self.compress
        for f, v, t in fields:
            self.spool.write(C.enc_string(f, comp) + C.enc_string(v, comp)
                             + _LE64S(-1 if t is None else t))
        return S.TYPE_VALKEY_HASH_2, C.enc_len(len(fields)), self.spool, b""


class _ChunkFile:
    """A readable file over an iterator of byte chunks (a spool read back)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.rest = b""

    def read(self, n: int = -1) -> bytes:
        while len(self.rest) < n or n < 0:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.rest += chunk
        out, self.rest = (self.rest, b"") if n < 0 else (self.rest[:n], self.rest[n:])
        return out


# --------------------------------------------------------------------------- one batch

Whole = Callable[[KeyStart, Event, Target, Thresholds], "tuple[int, bytes] | None"]
"""For a key whose value arrives in one event: its type byte and value bytes as its
encoder would write them, or ``None`` where the encoder must decide (too big, TTLs,
anything lossy or wrong)."""

_ONE_NODE = C.enc_len_py(1)


def whole_string(ks: KeyStart, ev: Event, target: Target, th: Thresholds
                 ) -> tuple[int, bytes] | None:
    """A string in one piece (``StringEncoder``)."""
    if type(ev) is not StringValue:
        return None
    return S.TYPE_STRING, C.enc_string(ev.data, th.rdbcompression)


def whole_list(ks: KeyStart, ev: Event, target: Target, th: Thresholds
               ) -> tuple[int, bytes] | None:
    """A list of one quicklist node (``ListEncoder``): a listpack that ``lp_fill`` fills
    with every element (RDB 10+), a ziplist that ``_add_ziplist_run`` takes whole (RDB
    7-9)."""
    if type(ev) is not ListItems or not target.has_quicklist or not ev.items:
        return None
    items = ev.items
    k = len(items)
    limit = th.list_max_listpack_bytes
    if target.has_listpacks:
        level = target.level
        run, taken, _ = C.lp_fill(items, 0, 0, 0, limit, 0 if level >= 11 else 8,
                                  _list_plain_min(level, limit))
        if taken < k:
            return None
        blob = C.listpack_from_encoded(run, k)
        return (S.TYPE_LIST_QUICKLIST_2,
                _ONE_NODE + _PACKED_NODE + C.enc_string(blob, th.rdbcompression))
    if not _fits_one_ziplist(items, limit):
        return None
    return S.TYPE_LIST_QUICKLIST, _ONE_NODE + C.enc_string(C.ziplist(items), th.rdbcompression)


def whole_hash(ks: KeyStart, ev: Event, target: Target, th: Thresholds
               ) -> tuple[int, bytes] | None:
    """A hash within the listpack limits, without field TTLs (``HashEncoder``)."""
    if type(ev) is not HashFields or ks.encoding == "listpackex":
        return None
    fields = ev.fields
    if not 0 < len(fields) <= th.hash_max_listpack_entries:
        return None
    lim = th.hash_max_listpack_value
    flat: list[bytes] = []
    for f, v, ttl in fields:
        if ttl is not None or len(f) > lim or len(v) > lim:
            return None
        flat += (f, v)
    return _hash_compact(flat, target, th.rdbcompression)


def whole_zset(ks: KeyStart, ev: Event, target: Target, th: Thresholds
               ) -> tuple[int, bytes] | None:
    """A sorted set within the listpack limits, without NaN scores (``ZSetEncoder``)."""
    if type(ev) is not ZSetMembers:
        return None
    members = ev.members
    if not 0 < len(members) <= th.zset_max_listpack_entries:
        return None
    lim = th.zset_max_listpack_value
    for m, score in members:
        if len(m) > lim or math.isnan(score):
            return None
    return _zset_compact(members, target, th.rdbcompression)


WHOLE: dict[str, Whole] = {"string": whole_string, "list": whole_list, "hash": whole_hash,
                           "zset": whole_zset}


# --------------------------------------------------------------------------- modules


def check_module_payload(payload: bytes, fail: Callable[[str], WriteError]) -> None:
    """A module payload must be one whole module-opcode stream (FORMAT.md §5.2), or the
    file would not load."""
    inp = Input(io.BytesIO(payload), "payload", size=len(payload), checksum=False)
    try:
        skip_module_opcodes(inp)
    except ParseError as exc:
        raise fail(f"module payload is not a module-opcode stream: {exc.message}") from None
    if inp.tell() != len(payload):
        raise fail(f"module payload has {len(payload) - inp.tell()} bytes after its EOF opcode")


class ModuleEncoder(KeyEncoder):
    """Type 7: the module id and its opcode stream, copied byte for byte."""

    def __init__(self, start: KeyStart, target: Target, th: Thresholds, loss: Loss) -> None:
        super().__init__(start, target, th, loss)
        self.value: ModuleValue | None = None

    def add(self, ev: Event) -> None:
        if not isinstance(ev, ModuleValue):
            super().add(ev)
            return
        self.value = ev

    def finish(self) -> Finished:
        if self.value is None:
            raise self.fail("a module key without its value")
        check_module_payload(self.value.payload, self.fail)
        self.spool.write(self.value.payload)
        return S.TYPE_MODULE_2, C.enc_len(self.value.module_id), self.spool, b""
