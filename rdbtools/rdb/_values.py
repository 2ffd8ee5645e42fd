"""One reader per RDB value type (FORMAT.md §4, §5), dispatched by type byte.

Each reader is a generator: it yields the key's ``KeyStart`` (once it knows the
encoding and, where the file states it, the element count), then bounded batches of
value events. The caller (``rdb.reader``) yields ``KeyEnd`` and attaches the key and the
offset to any error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from struct import Struct
from typing import Any

from rdbtools import _spec as S
from rdbtools._buffer import Input
from rdbtools._make import (
    HashFields,
    ListItems,
    SetMembers,
    StreamEntries,
    StringValue,
    ZSetMembers,
)
from rdbtools._make import KeyStart as _KeyStart
from rdbtools._make import StreamEntry as _StreamEntry
from rdbtools.errors import CorruptInput, ParseError, UnsupportedType
from rdbtools.events import (
    Event,
    KeyStart,
    ModuleValue,
    StreamConsumer,
    StreamEntry,
    StreamGroup,
    StreamId,
    StreamIdmp,
    StreamMeta,
    StreamPending,
)
from rdbtools.rdb import _encodings as E
from rdbtools.rdb.module_types import decode as decode_module

BATCH = 1024
"""Most items in one value event."""
STRING_PIECE = 1 << 20
"""A plain string value longer than this arrives in pieces of this size."""

_LE64S = Struct("<q").unpack_from
_LE64U = Struct("<Q").unpack_from
_LE_DOUBLE = Struct("<d").unpack_from
_BE_ID = Struct(">QQ").unpack_from
_U64 = 1 << 64


class KeyCtx:
    """What the reader knows of the key being read."""

    __slots__ = ("db", "key", "rdb_type", "expire_ms", "idle", "freq", "offset", "valkey")

    def __init__(self, db: int, key: bytes, rdb_type: int, expire_ms: int | None,
                 idle: int | None, freq: int | None, offset: int, valkey: bool) -> None:
        self.db = db
        self.key = key
        self.rdb_type = rdb_type
        self.expire_ms = expire_ms
        self.idle = idle
        self.freq = freq
        self.offset = offset
        self.valkey = valkey

    def start(self, type_: str, encoding: str, length: int | None) -> KeyStart:
        ks: KeyStart = _KeyStart(self.db, self.key, type_, encoding, self.rdb_type,
                                 self.expire_ms, self.idle, self.freq, length, self.offset)
        return ks


Reader = Callable[[Input, KeyCtx], Iterator[Event]]


# --------------------------------------------------------------------------- strings


def read_string(inp: Input, k: KeyCtx) -> Iterator[Event]:
    """Type 0: one rdb-string; a long plain one is yielded in pieces."""
    at = inp.tell()
    n = inp.string_length()
    if n is None:
        first = inp.peek_byte()
        data = inp.read_string()
        yield k.start("string", "lzf" if first == 0xC3 else "int", len(data))
        # an inflated LZF string goes on in pieces too, so no consumer holds a copy of
        # the whole (it may be ~100 times its compressed size)
        for i in range(0, len(data), STRING_PIECE):
            yield StringValue(data[i : i + STRING_PIECE], at)
        return
    yield k.start("string", "raw", n)
    if n <= STRING_PIECE:
        yield StringValue(inp.read(n, "a string value"), at)
        return
    while n:
        piece = min(n, STRING_PIECE)
        at = inp.tell()
        yield StringValue(inp.read(piece, "a string value"), at)
        n -= piece


# --------------------------------------------------------------------------- plain collections


def _counted_strings(inp: Input, count: int, make: Callable[..., Event]) -> Iterator[Event]:
    read = inp.read_strings
    while count:
        at = inp.tell()
        n = min(count, BATCH)
        yield make(tuple(read(n)), at)
        count -= n


def read_list(inp: Input, k: KeyCtx) -> Iterator[Event]:
    """Type 1: ``<len N> <string>*N``, head to tail."""
    count = inp.read_len()
    yield k.start("list", "linkedlist", count)
    yield from _counted_strings(inp, count, ListItems)


def read_set(inp: Input, k: KeyCtx) -> Iterator[Event]:
    """Type 2: ``<len N> <string>*N``."""
    count = inp.read_len()
    yield k.start("set", "hashtable", count)
    yield from _counted_strings(inp, count, SetMembers)


def _string_double(inp: Input) -> float:
    """Old string double (FORMAT.md §2.4): length byte; 253 NaN, 254 +inf, 255 -inf;
    else that many ASCII bytes of a decimal float."""
    n = inp.read(1, "a score")[0]
    if n == 253:
        return float("nan")
    if n == 254:
        return float("inf")
    if n == 255:
        return float("-inf")
    text = inp.read(n, "a score")
    try:
        return float(text)
    except ValueError:
        raise inp.error(CorruptInput, f"bad score text {text!r}") from None


def read_zset(inp: Input, k: KeyCtx) -> Iterator[Event]:
    """Types 3 and 5: ``<len N> { <string member> <score> }*N``; type 3 scores are string
    doubles, type 5 scores 8-byte LE binary doubles."""
    count = inp.read_len()
    yield k.start("zset", "skiplist", count)
    read = inp.read_string
    binary = k.rdb_type == S.TYPE_ZSET_2
    while count:
        at = inp.tell()
        n = min(count, BATCH)
        if binary:
            batch = inp.read_zset2_members(n)
        else:
            batch = [(read(), _string_double(inp)) for _ in range(n)]
        yield ZSetMembers(tuple(batch), at)
        count -= n


def read_hash(inp: Input, k: KeyCtx) -> Iterator[Event]:
    """Type 4: ``<len N> { <string field> <string value> }*N``."""
    count = inp.read_len()
    yield k.start("hash", "hashtable", count)
    while count:
        at = inp.tell()
        n = min(count, BATCH)
        flat = inp.read_strings(2 * n)
        it = iter(flat)
        yield HashFields(tuple([(f, v, None) for f, v in zip(it, it)]), at)
        count -= n


# --------------------------------------------------------------------------- blob types


Runs = Callable[[bytes], tuple[int, Iterator[list[Any]]]]


def _runs(inp: Input, runs: Runs, what: str) -> tuple[int, int, Iterator[list[Any]]]:
    """Read one rdb-string blob, check all of it and count its elements (errors located
    at its start); returns (offset, count, runs of elements). Elements are made a run at
    a time, so a blob of millions of tiny elements never exists as millions of objects."""
    at = inp.tell()
    data = inp.read_string()
    try:
        count, it = runs(data)
    except ParseError as exc:
        exc.message = f"{what}: {exc.message}"
        raise exc.located(inp.source, at, None) from None
    return at, count, it


def _even(count: int, what: str, k: int = 2) -> int:
    if count % k:
        raise CorruptInput(f"{what} holds {count} entries, not a multiple of {k}")
    return count // k


def read_list_blob(inp: Input, k: KeyCtx) -> Iterator[Event]:
    """Type 10: one ziplist of list elements."""
    at, count, runs = _runs(inp, E.ziplist_runs, "list ziplist")
    yield k.start("list", "ziplist", count)
    for run in runs:
        yield ListItems(tuple(run), at)


def read_quicklist(inp: Input, k: KeyCtx) -> Iterator[Event]:
    """Type 14: ``<len nodes> <ziplist>*nodes``; type 18: ``<len nodes> { <len container>
    <string data> }*nodes`` with container 2 PACKED (a listpack) or 1 PLAIN (one
    element)."""
    nodes = inp.read_len()
    yield k.start("list", "quicklist", None)
    v2 = k.rdb_type == S.TYPE_LIST_QUICKLIST_2
    for _ in range(nodes):
        if v2:
            container = inp.read_len()
            if container == S.QUICKLIST_NODE_PLAIN:
                at = inp.tell()
                yield ListItems((inp.read_string(),), at)
                continue
            if container != S.QUICKLIST_NODE_PACKED:
                raise inp.error(CorruptInput, f"bad quicklist node container {container}")
            at, _, runs = _runs(inp, E.listpack_runs, "quicklist node listpack")
        else:
            at, _, runs = _runs(inp, E.ziplist_runs, "quicklist node ziplist")
        for run in runs:
            yield ListItems(tuple(run), at)


def read_intset(inp: Input, k: KeyCtx) -> Iterator[Event]:
    """Type 11: one intset."""
    at, count, runs = _runs(inp, E.intset_runs, "intset")
    yield k.start("set", "intset", count)
    for run in runs:
        yield SetMembers(tuple(run), at)


def read_set_listpack(inp: Input, k: KeyCtx) -> Iterator[Event]:
    """Type 20: one listpack of set members."""
    at, count, runs = _runs(inp, E.listpack_runs, "set listpack")
    yield k.start("set", "listpack", count)
    for run in runs:
        yield SetMembers(tuple(run), at)


def _scores(pairs: list[tuple[bytes, bytes]]) -> list[tuple[bytes, float]]:
    try:
        return [(m, float(s)) for m, s in pairs]
    except ValueError:
        bad = next(s for _, s in pairs if not _is_float(s))
        raise CorruptInput(f"bad score {bad!r} in a compact sorted set") from None


def _is_float(s: bytes) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def read_zset_blob(inp: Input, k: KeyCtx) -> Iterator[Event]:
    """Types 12 (ziplist) and 17 (listpack): member, score, member, score ... where a
    score is an integer entry or decimal text."""
    if k.rdb_type == S.TYPE_ZSET_ZIPLIST:
        (at, count, runs), enc = _runs(inp, E.ziplist_runs, "zset ziplist"), "ziplist"
    else:
        (at, count, runs), enc = _runs(inp, E.listpack_runs, "zset listpack"), "listpack"
    yield k.start("zset", enc, _even(count, "a sorted-set blob"))
    for run in runs:
        it = iter(run)
        yield ZSetMembers(tuple(_scores(list(zip(it, it)))), at)


def read_hash_blob(inp: Input, k: KeyCtx) -> Iterator[Event]:
    """Types 9 (zipmap), 13 (ziplist) and 16 (listpack): field, value, field, value ..."""
    if k.rdb_type == S.TYPE_HASH_ZIPMAP:
        (at, pairs, runs), enc = _runs(inp, E.zipmap_runs, "zipmap"), "zipmap"
    else:
        if k.rdb_type == S.TYPE_HASH_ZIPLIST:
            (at, count, runs), enc = _runs(inp, E.ziplist_runs, "hash ziplist"), "ziplist"
        else:
            (at, count, runs), enc = _runs(inp, E.listpack_runs, "hash listpack"), "listpack"
        pairs = _even(count, "a hash blob")
    yield k.start("hash", enc, pairs)
    for run in runs:
        it = iter(run)
        yield HashFields(tuple([(f, v, None) for f, v in zip(it, it)]), at)


# --------------------------------------------------------------------------- field TTLs


def read_hash_metadata(inp: Input, k: KeyCtx) -> Iterator[Event]:
    """Type 24: ``<u64 LE minExpire> <len N> { <len ttl> <field> <value> }*N``, a field
    expiring at ``ttl + minExpire - 1`` (ttl 0: no expiry). Type 22 in Redis-magic files
    (7.4 release candidates): the same without ``minExpire``, ``ttl`` absolute."""
    pre_ga = k.rdb_type == S.TYPE_HASH_METADATA_PRE_GA
    min_expire = 0 if pre_ga else _LE64U(inp.read(8, "a hash min-expire"))[0]
    count = inp.read_len()
    yield k.start("hash", "hashtable", count)
    read, read_len = inp.read_string, inp.read_len
    while count:
        at = inp.tell()
        n = min(count, BATCH)
        batch = []
        for _ in range(n):
            ttl = read_len()
            field = read()
            value = read()
            expire = None if ttl == 0 else ttl if pre_ga else ttl + min_expire - 1
            batch.append((field, value, expire))
        yield HashFields(tuple(batch), at)
        count -= n


def read_valkey_hash2(inp: Input, k: KeyCtx) -> Iterator[Event]:
    """Valkey type 22 HASH_2: ``<len N> { <field> <value> <i64 LE expiry_ms> }*N``,
    -1 = no expiry, other negative values corrupt."""
    count = inp.read_len()
    yield k.start("hash", "hashtable", count)
    read = inp.read_string
    while count:
        at = inp.tell()
        n = min(count, BATCH)
        batch = []
        for _ in range(n):
            field = read()
            value = read()
            expire = _LE64S(inp.read(8, "a field expiry"))[0]
            if expire < -1:
                raise inp.error(CorruptInput, f"negative field expiry {expire}")
            batch.append((field, value, None if expire == -1 else expire))
        yield HashFields(tuple(batch), at)
        count -= n


def read_hash_listpack_ex(inp: Input, k: KeyCtx) -> Iterator[Event]:
    """Type 25: ``<u64 LE minExpire> <listpack of field, value, expire_at triplets>``
    (expire_at an integer entry, 0 = none); type 23 (7.4 release candidates): the same
    without ``minExpire``."""
    if k.rdb_type == S.TYPE_HASH_LISTPACK_EX:
        inp.read(8, "a hash min-expire")
    at, count, runs = _runs(inp, lambda b: E.listpack_runs(b, run=3 * 341), "hash listpack-ex")
    n = count // 3
    if count % 3:
        raise inp.error(CorruptInput, f"hash listpack-ex holds {count} entries, "
                        "not a multiple of 3", at)
    yield k.start("hash", "listpackex", n)
    for run in runs:
        fields = []
        for i in range(0, len(run), 3):
            try:
                expire = int(run[i + 2])
            except ValueError:
                raise inp.error(CorruptInput, f"field expiry {run[i + 2]!r} is not an integer",
                                at) from None
            fields.append((run[i], run[i + 1], expire or None))
        yield HashFields(tuple(fields), at)


# --------------------------------------------------------------------------- streams


def _stream_id(inp: Input) -> StreamId:
    return inp.read_len(), inp.read_len()


def _raw_id(inp: Input) -> StreamId:
    ms, seq = _BE_ID(inp.read(16, "a stream id"))
    return int(ms), int(seq)


def _node_int(x: bytes | int, i: int, what: str) -> int:
    """Item ``i`` of a stream node as an integer: an integer entry, or a string entry
    holding canonical decimal text (``lpGetIntegerIfValid``)."""
    if isinstance(x, int):
        return x
    try:
        v = int(x)
    except ValueError:
        v = None
    if v is None or b"%d" % v != x:
        raise CorruptInput(f"stream node {what} {x!r} (item {i}) is not an integer")
    return v


def _node_count(x: bytes | int, i: int, what: str, per: int, count: int) -> int:
    """A count at item ``i`` (of ``count``) of things taking ``per`` items each, which
    must fit in what remains of the node."""
    v = _node_int(x, i, what)
    if v < 0 or v > (count - i - 1) // per:
        raise CorruptInput(f"stream node {what} {v} (item {i}) does not fit the "
                           f"{count - i - 1} items that follow")
    return v


def _text(x: bytes | int) -> bytes:
    return x if isinstance(x, bytes) else b"%d" % x


class _Window:
    """Items ``off .. off + len(items)`` of a node whose runs arrive one at a time
    (``E.listpack_runs``); ``count`` items in all."""

    __slots__ = ("items", "off", "runs", "count")

    def __init__(self, count: int, runs: Iterator[list[bytes | int]]) -> None:
        self.items: list[bytes | int] = []
        self.off = 0
        self.runs = runs
        self.count = count

    def span(self, a: int, b: int, what: str) -> list[bytes | int]:
        """Items ``a .. b`` (those before ``a`` are not needed again)."""
        if b > self.count:
            raise CorruptInput(f"stream node ends before its {what} (item {self.count})")
        items = self.items
        if self.off + len(items) < b:
            del items[: a - self.off]
            self.off = a
            while self.off + len(items) < b:
                run = next(self.runs, None)
                if run is None:
                    raise CorruptInput(f"stream node ends before its {what}")
                items += run
        return items[a - self.off : b - self.off]


def _stream_node(key: bytes, items: list[bytes | int]) -> list[StreamEntry]:
    """All the entries of a stream node (see ``_stream_node_runs``)."""
    return [e for run in _stream_node_runs(key, len(items), iter([items])) for e in run]


def _stream_node_runs(key: bytes, count: int, runs: Iterator[list[bytes | int]]
                      ) -> Iterator[list[StreamEntry]]:
    """Decode a stream node listpack of ``count`` items given in ``runs`` (FORMAT.md
    §4.8.1): master entry ``count deleted n_fields field*n 0``, then per entry ``flags
    ms_delta seq_delta [n_fields] values lp_count``; flag 1 = deleted, flag 2 = same
    fields as the master entry. Yields the live entries, at most ``BATCH`` at a time.

    Every count is checked against what remains of the node, as the server's
    ``streamValidateListpackIntegrity`` does: no count is negative or larger than the
    items left, the node holds exactly ``count + deleted`` entries, and each entry's
    ``lp_count`` is ``n + 3`` (same fields, ``n`` values) or ``2n + 4`` (``n`` pairs).
    Work and memory are therefore bounded by the items of the node and one run."""
    if len(key) != 16:
        raise CorruptInput(f"stream node key of {len(key)} bytes, not 16")
    if not count:
        raise CorruptInput("empty stream node listpack")
    base_ms, base_seq = _BE_ID(key)
    w = _Window(count, runs)
    head = w.span(0, 3, "master entry")
    live = _node_count(head[0], 0, "entry count", 4, count)
    deleted = _node_count(head[1], 1, "deleted count", 4, count)
    n_master = _node_count(head[2], 2, "master field count", 1, count)
    master = [_text(x) for x in w.span(3, 3 + n_master, "master fields")]
    i = 3 + n_master
    if _node_int(w.span(i, i + 1, "master terminator")[0], i, "master terminator") != 0:
        raise CorruptInput("stream master entry is not terminated by 0")
    i += 1
    if live + deleted > (count - i) // 4:
        raise CorruptInput(f"stream node claims {live} + {deleted} entries in "
                           f"{count - i} items")
    out: list[StreamEntry] = []
    span, to_int = w.span, _node_int
    for _ in range(live + deleted):
        # flags ms_delta seq_delta, then (same fields) the values and lp_count, else the
        # field count: one window read for the usual entry
        e = span(i, max(i + 4, min(i + 4 + n_master, count)), "entry")
        x = e[0]
        flags = x if x.__class__ is int else to_int(x, i, "entry flags")
        x = e[1]
        ms_delta = x if x.__class__ is int else to_int(x, i + 1, "entry ms delta")
        x = e[2]
        seq_delta = x if x.__class__ is int else to_int(x, i + 2, "entry seq delta")
        if flags & 2:
            n = n_master
            if len(e) < n + 4:
                raise CorruptInput(f"stream node ends before its entry values (item {count})")
            fields = tuple(zip(master, [v if v.__class__ is bytes else b"%d" % v  # type: ignore[str-format]
                                        for v in e[3 : 3 + n]]))
            x = e[3 + n]
            want = n + 3
            i += 3 + n
        else:
            n = _node_count(e[3], i + 3, "entry field count", 2, count)
            f = span(i + 4, i + 5 + 2 * n, "entry fields")
            it = iter([v if v.__class__ is bytes else b"%d" % v  # type: ignore[str-format]
                       for v in f[: 2 * n]])
            fields = tuple(zip(it, it))
            x = f[2 * n]
            want = 2 * n + 4
            i += 4 + 2 * n
        lp_count = x if x.__class__ is int else to_int(x, i, "entry lp-count")
        if lp_count != want:
            raise CorruptInput(f"stream entry lp-count {lp_count} (item {i}), not {want}")
        i += 1
        if not flags & 1:
            out.append(_StreamEntry(((base_ms + ms_delta) % _U64, (base_seq + seq_delta) % _U64),
                                    fields))
            if len(out) == BATCH:
                yield out
                out = []
    if i != count:
        raise CorruptInput(f"stream node holds {count - i} items past its last entry")
    if out:
        yield out


def read_stream(inp: Input, k: KeyCtx) -> Iterator[Event]:
    """Types 15, 19, 21, 26: node listpacks, then length and ids, then consumer groups
    (FORMAT.md §4.8); type 26 adds the idempotent-producer block (§4.13)."""
    version = {S.TYPE_STREAM_LISTPACKS: 1, S.TYPE_STREAM_LISTPACKS_2: 2,
               S.TYPE_STREAM_LISTPACKS_3: 3, S.TYPE_STREAM_LISTPACKS_4: 4}[k.rdb_type]
    nodes = inp.read_len()
    yield k.start("stream", "stream", None)
    for _ in range(nodes):
        node_key = inp.read_string()
        at = inp.tell()
        data = inp.read_string()
        try:
            count, runs = E.listpack_runs(data, ints=True)
            for entries in _stream_node_runs(node_key, count, runs):
                yield StreamEntries(tuple(entries), at)
        except ParseError as exc:
            raise exc.located(inp.source, at, None) from None
    at = inp.tell()
    length = inp.read_len()
    last_id = _stream_id(inp)
    first_id = max_deleted = entries_added = None
    if version >= 2:
        first_id = _stream_id(inp)
        max_deleted = _stream_id(inp)
        entries_added = inp.read_len()
    yield StreamMeta(length, last_id, first_id, max_deleted, entries_added, at)
    for _ in range(inp.read_len()):
        yield _stream_group(inp, version)
    if version >= 4:
        yield _stream_idmp(inp)


def _stream_group(inp: Input, version: int) -> StreamGroup:
    at = inp.tell()
    name = inp.read_string()
    last_delivered = _stream_id(inp)
    entries_read = None
    if version >= 2:
        entries_read = inp.read_len()
        if entries_read >= 1 << 63:
            entries_read -= _U64
    pel = []
    for _ in range(inp.read_len()):
        eid = _raw_id(inp)
        delivery_time = _LE64S(inp.read(8, "a delivery time"))[0]
        pel.append((eid, delivery_time, inp.read_len()))
    owner: dict[StreamId, bytes] = {}
    consumers = []
    for _ in range(inp.read_len()):
        cname = inp.read_string()
        seen = _LE64S(inp.read(8, "a consumer seen time"))[0]
        active = _LE64S(inp.read(8, "a consumer active time"))[0] if version >= 3 else None
        ids = tuple(_raw_id(inp) for _ in range(inp.read_len()))
        for eid in ids:
            owner[eid] = cname
        consumers.append(StreamConsumer(cname, seen, active, ids))
    pending = tuple(StreamPending(eid, owner.get(eid), t, c) for eid, t, c in pel)
    return StreamGroup(name, last_delivered, entries_read, pending, tuple(consumers), at)


def _stream_idmp(inp: Input) -> StreamIdmp:
    """Stream v4 idempotent-producer block: ``<len duration> <len max_entries> <len P>
    { <string pid> <len N> { <string iid> <len ms> <len seq> }*N }*P <len iids_added>
    <len iids_duplicates>``."""
    at = inp.tell()
    duration = inp.read_len()
    max_entries = inp.read_len()
    producers = []
    for _ in range(inp.read_len()):
        pid = inp.read_string()
        entries = tuple((inp.read_string(), _stream_id(inp)) for _ in range(inp.read_len()))
        producers.append((pid, entries))
    added = inp.read_len()
    duplicates = inp.read_len()
    return StreamIdmp(duration, max_entries, tuple(producers), added, duplicates, at)


# --------------------------------------------------------------------------- modules


def skip_module_opcodes(inp: Input) -> None:
    """Walk a module-opcode stream up to and including its EOF opcode 0 (FORMAT.md §5.2):
    1 SINT / 2 UINT a length; 3 FLOAT 4 bytes; 4 DOUBLE 8 bytes; 5 STRING an rdb-string."""
    while True:
        op = inp.read_len()
        if op == S.MODULE_OP_EOF:
            return
        if op in (S.MODULE_OP_SINT, S.MODULE_OP_UINT):
            inp.read_len()
        elif op == S.MODULE_OP_FLOAT:
            inp.read(4, "a module float")
        elif op == S.MODULE_OP_DOUBLE:
            inp.read(8, "a module double")
        elif op == S.MODULE_OP_STRING:
            inp.read_string()
        else:
            raise inp.error(CorruptInput, f"bad module opcode {op}")


def _hellotype_pre_ga(inp: Input) -> None:
    """The pre-GA payload of Redis's example module ``hellotype``: a count, then that
    many integers, all as plain lengths (no opcodes)."""
    for _ in range(inp.read_len()):
        inp.read_len()


PRE_GA_MODULES: dict[str, Callable[[Input], None]] = {"hellotype": _hellotype_pre_ga}
"""Type-6 values carry no opcodes, so only modules whose save format is known here can
be walked past."""


def read_module(inp: Input, k: KeyCtx) -> Iterator[Event]:
    """Types 7 (``<len module_id> <module-opcode stream>``) and 6 (4.0 release candidates:
    the id, then a payload only the module knows)."""
    module_id = inp.read_len()
    name, version = S.module_name(module_id)
    yield k.start("module", "module", None)
    at = inp.tell()
    inp.set_mark()
    try:
        if k.rdb_type == S.TYPE_MODULE_2:
            skip_module_opcodes(inp)
        elif name in PRE_GA_MODULES:
            PRE_GA_MODULES[name](inp)
        else:
            raise inp.error(UnsupportedType, f"pre-release module value (type 6) of module "
                            f"{name!r}: its layout is known only to the module")
        payload = inp.since_mark()
    finally:
        inp.mark = -1
    data = decode_module(name, version, payload, at) if k.rdb_type == S.TYPE_MODULE_2 else None
    yield ModuleValue(module_id, name, version, payload, at, data)


def readers(valkey: bool) -> dict[int, Reader]:
    """The dispatch table for a file of the given magic flavour (FORMAT.md §4.0: byte 22
    is Valkey's HASH_2 in Valkey-magic files, Redis 7.4-RC hash metadata otherwise)."""
    table: dict[int, Reader] = {
        S.TYPE_STRING: read_string,
        S.TYPE_LIST: read_list,
        S.TYPE_SET: read_set,
        S.TYPE_ZSET: read_zset,
        S.TYPE_HASH: read_hash,
        S.TYPE_ZSET_2: read_zset,
        S.TYPE_MODULE_PRE_GA: read_module,
        S.TYPE_MODULE_2: read_module,
        S.TYPE_HASH_ZIPMAP: read_hash_blob,
        S.TYPE_LIST_ZIPLIST: read_list_blob,
        S.TYPE_SET_INTSET: read_intset,
        S.TYPE_ZSET_ZIPLIST: read_zset_blob,
        S.TYPE_HASH_ZIPLIST: read_hash_blob,
        S.TYPE_LIST_QUICKLIST: read_quicklist,
        S.TYPE_STREAM_LISTPACKS: read_stream,
        S.TYPE_HASH_LISTPACK: read_hash_blob,
        S.TYPE_ZSET_LISTPACK: read_zset_blob,
        S.TYPE_LIST_QUICKLIST_2: read_quicklist,
        S.TYPE_STREAM_LISTPACKS_2: read_stream,
        S.TYPE_SET_LISTPACK: read_set_listpack,
        S.TYPE_STREAM_LISTPACKS_3: read_stream,
        S.TYPE_HASH_METADATA: read_hash_metadata,
        S.TYPE_HASH_LISTPACK_EX: read_hash_listpack_ex,
        S.TYPE_STREAM_LISTPACKS_4: read_stream,
    }
    if valkey:
        table[S.TYPE_VALKEY_HASH_2] = read_valkey_hash2
    else:
        table[S.TYPE_HASH_METADATA_PRE_GA] = read_hash_metadata
        table[S.TYPE_HASH_LISTPACK_EX_PRE_GA] = read_hash_listpack_ex
    return table
