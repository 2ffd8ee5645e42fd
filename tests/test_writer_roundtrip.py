"""Property tests of the RDB writer: random datasets -> ``RdbWriter`` at every target
version (6..12 and Valkey) -> ``read_rdb`` give the same data back, minus exactly what the
``LossReport`` lists.

What a target cannot hold (the "documented losses"), and therefore what the loss report
must name, key by key:

- RDB < 9: stream keys (dropped); RDB < 8: module keys (dropped); empty collections
  (dropped at every version: servers never keep them);
- RDB < 12 except Valkey: hash field TTLs (the fields stay, their TTLs go);
- stream v1 (RDB 9): the entries-added counter and max-deleted id, group entries-read
  counters; stream v1/v2 (RDB 9, 10): consumer active times (when they differ from the
  seen time, which a loading server assumes);
- file level: function libraries before RDB 10, AUX fields before RDB 7.

Everything else must come back exactly: bytes of keys, values, members, fields; scores
(``-0.0``, subnormals and infinities included); TTLs; stream entries, metadata, groups,
PEL and consumers; functions, AUX fields; LRU idle / LFU freq at RDB >= 9.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass, field
from typing import Any

import pytest
from helpers import canon_record, compare

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rdbtools import read_rdb, records  # noqa: E402
from rdbtools.errors import WriteError  # noqa: E402
from rdbtools.events import (  # noqa: E402
    Aux,
    Function,
    HashFields,
    KeyEnd,
    KeyStart,
    ListItems,
    ModuleValue,
    ResizeDb,
    SelectDb,
    SetMembers,
    StreamConsumer,
    StreamEntries,
    StreamEntry,
    StreamGroup,
    StreamMeta,
    StreamPending,
    StringValue,
    ZSetMembers,
)
from rdbtools.rdb import _encoders as C  # noqa: E402
from rdbtools.rdb.targets import Thresholds  # noqa: E402
from rdbtools.rdb.writer import RdbWriter  # noqa: E402

VERSIONS: list[int | str] = [6, 7, 8, 9, 10, 11, 12, "valkey"]
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SMALL = Thresholds(
    hash_max_listpack_entries=4,
    hash_max_listpack_value=8,
    zset_max_listpack_entries=4,
    zset_max_listpack_value=8,
    set_max_intset_entries=4,
    set_max_listpack_entries=4,
    set_max_listpack_value=8,
    list_max_ziplist_entries=4,
    list_max_ziplist_value=8,
    list_max_listpack_bytes=64,
    stream_node_max_bytes=64,
    stream_node_max_entries=3,
)
"""Tiny limits: multi-node quicklists, PLAIN nodes (RDB 12: elements over 64 bytes),
hash tables, skiplists, multi-node streams, linked lists at RDB 6, all with few elements."""

# --------------------------------------------------------------------------- strategies

EDGE_INTS = [
    0, 1, -1, 12, 13, 127, 128, -128, -129, 255, 4095, 4096, -4096, -4097, 32767, 32768,
    -32768, -32769, 2**23 - 1, 2**23, -(2**23), -(2**23) - 1, 2**31 - 1, 2**31, -(2**31),
    -(2**31) - 1, 2**32, 2**63 - 1, -(2**63), 10**11, 10**12,
]  # fmt: skip
NOT_INTS = [
    b"", b"007", b"-0", b"+1", b" 1", b"1 ", b"1e5", b"0x10", b"1.0", b"9223372036854775808",
    b"-9223372036854775809", b"99999999999999999999", b"-",
]  # fmt: skip
BIG_SIZES = [20, 21, 44, 45, 63, 64, 65, 253, 254, 255, 4095, 4096, 8191, 8192, 8193, 9000,
             16383, 16384, 70000]  # fmt: skip


def _big(size: int, compressible: bool, seed: int) -> bytes:
    rng = random.Random(seed)
    if compressible:
        unit = rng.randbytes(rng.randint(1, 7))
        return (unit * (size // len(unit) + 1))[:size]
    return rng.randbytes(size)


small_bytes = st.one_of(
    st.binary(max_size=12),
    st.text(max_size=6).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from(EDGE_INTS).map(lambda i: b"%d" % i),
    st.sampled_from(NOT_INTS),
)
big_bytes = st.builds(_big, st.sampled_from(BIG_SIZES), st.booleans(), st.integers(0, 2**32))
element = st.one_of(small_bytes, small_bytes, small_bytes, big_bytes)

EDGE_SCORES = [
    math.inf, -math.inf, -0.0, 0.0, 5e-324, -5e-324, 1e300, 1.7976931348623157e308, 0.1,
    1 / 3, -2.5, 2.0**52, 2.0**52 + 1, 2.0**53, 4503599627370495.0, 4503599627370496.0,
    4611686018427387903.0, 4611686018427387904.0, 2.0**63, 1e-7, 1.5e-7, 123456789.125,
]  # fmt: skip
scores = st.one_of(
    st.sampled_from(EDGE_SCORES),
    st.floats(allow_nan=False),
    st.integers(-(2**53), 2**53).map(float),
)
ttls = st.one_of(
    st.none(),
    st.integers(1, 2**53),
    st.sampled_from([1, 2**31, 2**32, 4102444800000, 253402300799999, 2**62]),
)
field_ttls = st.one_of(st.none(), st.integers(1, 2**48 - 1), st.just(2**48 - 1))
key_names = st.one_of(
    st.binary(max_size=10),
    st.text(max_size=6).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from(EDGE_INTS).map(lambda i: b"%d" % i),
    st.sampled_from([b"", b"key:bin\x00\xff\xfe", "ключ:🔑".encode()]),
)
DBS = [0, 1, 2, 15, 63, 64, 300]


@dataclass
class Key:
    db: int
    key: bytes
    type: str
    value: Any
    expire_ms: int | None = None
    idle: int | None = None
    freq: int | None = None
    encoding: str = ""


@dataclass
class Dataset:
    keys: list[Key]
    functions: list[bytes] = field(default_factory=list)
    aux: list[tuple[bytes, bytes]] = field(default_factory=list)
    select_events: bool = True


@st.composite
def stream_ids(draw: Any, n: int) -> list[tuple[int, int]]:
    """``n`` strictly increasing ids, with same-ms runs, big jumps and big sequences."""
    ms = draw(st.sampled_from([0, 1, 1000, 1700000000000, 2**48, 2**63]))
    seq = draw(st.sampled_from([0, 1, 2**32, 2**63, 2**64 - 5]))
    ids = []
    for _ in range(n):
        ids.append((ms, seq))
        step = draw(st.sampled_from(["seq", "seq", "ms", "jump"]))
        if step == "seq" and seq < 2**64 - 4:
            seq += draw(st.integers(1, 3))
        else:
            ms += 1 if step == "ms" else draw(st.integers(2, 2**40))
            seq = draw(st.sampled_from([0, 0, 5, 2**63]))
        if ms >= 2**64 - 1:
            break
    return ids


def _id_le(draw: Any, limit: tuple[int, int]) -> tuple[int, int]:
    """An id <= ``limit``."""
    if limit == (0, 0) or draw(st.booleans()):
        return limit
    ms = draw(st.integers(0, limit[0]))
    seq = draw(st.integers(0, 2**64 - 1)) if ms < limit[0] else draw(st.integers(0, limit[1]))
    return ms, seq


@st.composite
def stream_value(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(0, 10))
    ids = draw(stream_ids(n))
    master = draw(st.lists(small_bytes, min_size=1, max_size=3, unique=True))
    entries = []
    for i in ids:
        if draw(st.booleans()):
            fields = [(f, draw(element)) for f in master]
        else:
            names = draw(st.lists(small_bytes, min_size=1, max_size=4, unique=True))
            fields = [(f, draw(small_bytes)) for f in names]
        entries.append(StreamEntry(i, tuple(fields)))
    last = ids[-1] if ids else (0, 0)
    if draw(st.booleans()) and last[0] < 2**64 - 3:
        last = (last[0] + draw(st.integers(0, 2)), draw(st.integers(last[1] + 1, 2**64 - 1)))
    if not ids and draw(st.booleans()):
        last = (draw(st.integers(0, 2**64 - 1)), draw(st.integers(0, 2**64 - 1)))
    max_deleted = _id_le(draw, last) if draw(st.booleans()) else (0, 0)
    added = len(ids) + draw(st.sampled_from([0, 0, 1, 7, 2**40]))
    groups = []
    for name in draw(st.lists(small_bytes, max_size=3, unique=True)):
        delivered = _id_le(draw, last)
        consumer_names = sorted(draw(st.lists(small_bytes, max_size=3, unique=True)))
        pel_ids = sorted(draw(st.sets(st.sampled_from(ids), max_size=len(ids)))) if ids else []
        if pel_ids and not consumer_names:
            consumer_names = [b"c"]
        owners: dict[bytes, list[tuple[int, int]]] = {c: [] for c in consumer_names}
        pending = []
        for pid in pel_ids:
            owner = draw(st.sampled_from(consumer_names))
            owners[owner].append(pid)
            pending.append(
                StreamPending(pid, owner, draw(st.integers(0, 2**62)), draw(st.integers(0, 2**40)))
            )
        consumers = []
        for cname in consumer_names:
            seen = draw(st.integers(0, 2**62))
            active = seen if draw(st.booleans()) else draw(st.integers(-1, 2**62))
            consumers.append(StreamConsumer(cname, seen, active, tuple(owners[cname])))
        read = draw(st.one_of(st.just(-1), st.integers(0, 2**62)))
        groups.append(StreamGroup(name, delivered, read, tuple(pending), tuple(consumers)))
    return {
        "entries": entries,
        "meta": StreamMeta(len(entries), last, ids[0] if ids else (0, 0), max_deleted, added),
        "groups": groups,
    }


def _module_payload(draw: Any) -> bytes:
    """A module-opcode stream (FORMAT.md §5.2) ending with EOF."""
    out = b""
    for op in draw(st.lists(st.sampled_from([1, 2, 3, 4, 5]), max_size=4)):
        if op in (1, 2):
            out += bytes((op,)) + C.enc_len(draw(st.integers(0, 2**64 - 1)))
        elif op == 3:
            out += b"\x03" + draw(st.binary(min_size=4, max_size=4))
        elif op == 4:
            out += b"\x04" + draw(st.binary(min_size=8, max_size=8))
        else:
            out += b"\x05" + C.enc_string(draw(small_bytes))
    return out + b"\x00"


# random opcode streams: not the names of types whose payloads are decoded (ReJSON-RL,
# RedisBloom's), whose own rules such payloads break (tests/test_module_types.py)
MODULE_NAMES = ["hellotype", "MyModule1", "timeserie", "abc_def-9"]


@st.composite
def key_value(draw: Any, db: int, key: bytes) -> Key:
    tp = draw(
        st.sampled_from(["string", "string", "list", "set", "zset", "hash", "stream", "module"])
    )
    empty = draw(st.integers(0, 30)) == 0  # now and then an empty collection
    enc = ""
    if tp == "string":
        value: Any = draw(element)
    elif tp == "list":
        value = [] if empty else draw(st.lists(element, min_size=1, max_size=12))
    elif tp == "set":
        pool = st.one_of(element, st.integers(-(2**63), 2**63 - 1).map(lambda i: b"%d" % i))
        value = [] if empty else draw(st.lists(pool, min_size=1, max_size=12, unique=True))
    elif tp == "zset":
        value = (
            []
            if empty
            else list(draw(st.dictionaries(element, scores, min_size=1, max_size=12)).items())
        )
    elif tp == "hash":
        fields = (
            {}
            if empty
            else draw(
                st.dictionaries(element, st.tuples(element, field_ttls), min_size=1, max_size=10)
            )
        )
        value = [(f, v, t) for f, (v, t) in fields.items()]
        enc = draw(st.sampled_from(["", "listpackex"]))
    elif tp == "stream":
        value = draw(stream_value())
    else:
        name = draw(st.sampled_from(MODULE_NAMES))
        ver = draw(st.integers(0, 1023))
        from rdbtools.ops.load import module_id

        value = ModuleValue(module_id(name, ver), name, ver, _module_payload(draw))
    idle = freq = None
    which = draw(st.sampled_from(["none", "none", "idle", "freq"]))
    if which == "idle":
        idle = draw(st.integers(0, 2**40))
    elif which == "freq":
        freq = draw(st.integers(0, 255))
    return Key(db, key, tp, value, draw(ttls), idle, freq, enc)


@st.composite
def datasets(draw: Any) -> Dataset:
    dbs = sorted(draw(st.sets(st.sampled_from(DBS), min_size=1, max_size=3)))
    keys: list[Key] = []
    for db in dbs:
        names = draw(st.lists(key_names, min_size=1, max_size=5, unique=True))
        for name in names:
            keys.append(draw(key_value(db, name)))
    functions = draw(st.lists(st.binary(min_size=1, max_size=40), max_size=2, unique=True))
    aux_names = st.sampled_from([b"lua", b"my-aux", b"repl-id", b"x\x00y", b"slot-info"])
    aux = draw(st.lists(st.tuples(aux_names, small_bytes), max_size=2, unique_by=lambda p: p[0]))
    return Dataset(keys, functions, aux, draw(st.booleans()))


# --------------------------------------------------------------------------- events


def _batches(items: list[Any], make: Any, n: int = 5) -> list[Any]:
    return [make(tuple(items[i : i + n])) for i in range(0, len(items), n)]


def key_events(k: Key) -> list[Any]:
    start = KeyStart(k.db, k.key, k.type, k.encoding, 0, k.expire_ms, k.idle, k.freq)
    if k.type == "string":
        values: list[Any] = [
            StringValue(k.value[i : i + 5000]) for i in range(0, max(len(k.value), 1), 5000)
        ]
    elif k.type == "list":
        values = _batches(k.value, ListItems)
    elif k.type == "set":
        values = _batches(k.value, SetMembers)
    elif k.type == "zset":
        values = _batches(k.value, ZSetMembers)
    elif k.type == "hash":
        values = _batches(k.value, HashFields)
    elif k.type == "stream":
        v = k.value
        values = [*_batches(v["entries"], StreamEntries), v["meta"], *v["groups"]]
    else:
        values = [k.value]
    return [start, *values, KeyEnd(k.key, 0, 0)]


def dataset_events(ds: Dataset) -> list[Any]:
    events: list[Any] = [Aux(n, v) for n, v in ds.aux]
    events += [Function(code) for code in ds.functions]
    db = None
    for k in ds.keys:
        if ds.select_events and k.db != db:
            events.append(SelectDb(k.db))
            n = sum(1 for x in ds.keys if x.db == k.db)
            events.append(ResizeDb(n, sum(1 for x in ds.keys if x.db == k.db and x.expire_ms)))
            db = k.db
        events += key_events(k)
    return events


# --------------------------------------------------------------------------- expectations


def _level(version: int | str) -> int:
    return 11 if version == "valkey" else int(version)


def _is_empty(k: Key) -> bool:
    return k.type in ("list", "set", "zset", "hash") and not k.value


def dropped(k: Key, version: int | str) -> bool:
    lvl = _level(version)
    return _is_empty(k) or (k.type == "stream" and lvl < 9) or (k.type == "module" and lvl < 8)


def lossy(k: Key, version: int | str) -> bool:
    """Whether the target cannot hold all of ``k`` (the loss report must name it)."""
    if dropped(k, version):
        return True
    lvl = _level(version)
    if k.type == "hash" and version != "valkey" and lvl < 12:
        return any(t is not None for _, _, t in k.value)
    if k.type == "stream":
        v = k.value
        meta: StreamMeta = v["meta"]
        groups: list[StreamGroup] = v["groups"]
        if lvl < 11 and any(
            c.active_time_ms is not None and c.active_time_ms != c.seen_time_ms
            for g in groups
            for c in g.consumers
        ):
            return True
        if lvl < 10:
            if meta.entries_added != meta.length or meta.max_deleted_id not in (None, (0, 0)):
                return True
            if any(g.entries_read is not None and g.entries_read != -1 for g in groups):
                return True
    return False


def expected_canon(k: Key, version: int | str) -> dict[str, Any]:
    """What reading the written key back must give (canonical form, helpers.canon_record)."""
    rec = next(iter(records(key_events(k))))
    out = canon_record(rec)
    lvl = _level(version)
    if k.type == "hash" and version != "valkey" and lvl < 12:
        out["field_expires"] = []
    if k.type == "stream":
        v = out["value"]
        if lvl < 10:
            v["first_id"] = v["max_deleted_id"] = v["entries_added"] = None
            for g in v["groups"].values():
                g["entries_read"] = None
        if lvl < 11:
            for g in v["groups"].values():
                for c in g["consumers"].values():
                    c["active_time_ms"] = None
    out["idle"] = k.idle if lvl >= 9 else None
    out["freq"] = k.freq if lvl >= 9 else None
    return out


def got_canon(rec: Any) -> dict[str, Any]:
    out = canon_record(rec)
    out["idle"] = rec.idle
    out["freq"] = rec.freq
    return out


def write(
    ds: Dataset, version: int | str, thresholds: Thresholds | None = None, strict: bool = False
) -> tuple[bytes, Any]:
    out = io.BytesIO()
    report = RdbWriter(out, version, thresholds=thresholds, strict=strict).write_all(
        dataset_events(ds)
    )
    return out.getvalue(), report


def check_roundtrip(ds: Dataset, version: int | str, thresholds: Thresholds | None) -> None:
    data, report = write(ds, version, thresholds)
    events = list(read_rdb(io.BytesIO(data)))
    header = events[0]
    assert header.magic == ("VALKEY" if version == "valkey" else "REDIS")
    assert header.version == (80 if version == "valkey" else version)
    assert events[-1].checksum_state == "ok"
    got = {(r.db, r.key): r for r in records(events)}
    problems: list[str] = []
    for k in ds.keys:
        label = f"v{version} db={k.db} key={k.key!r} ({k.type})"
        if dropped(k, version):
            if (k.db, k.key) in got:
                problems.append(f"{label}: should have been dropped")
            continue
        r = got.pop((k.db, k.key), None)
        if r is None:
            problems.append(f"{label}: missing")
            continue
        kp: list[str] = []
        compare(expected_canon(k, version), got_canon(r), "", kp, limit=6)
        problems += [f"{label}: {p}" for p in kp]
    problems += [f"v{version}: unexpected key {k!r}" for k in got]
    # the loss report names exactly the keys that changed
    want_lost = {(k.db, k.key) for k in ds.keys if lossy(k, version)}
    got_lost = {(x.db, x.key) for x in report.losses if x.key is not None}
    if want_lost != got_lost:
        problems.append(
            f"v{version}: loss report names {sorted(got_lost)}, the lossy keys are "
            f"{sorted(want_lost)}; report: {report.lines()}"
        )
    n_dropped = sum(1 for k in ds.keys if dropped(k, version))
    if report.dropped_keys != n_dropped or report.keys != len(ds.keys) - n_dropped:
        problems.append(
            f"v{version}: report says {report.keys} written / {report.dropped_keys} dropped, "
            f"want {len(ds.keys) - n_dropped} / {n_dropped}"
        )
    # file-level records
    lvl = _level(version)
    file_losses = [x.what for x in report.losses if x.key is None]
    codes = [bytes(ev.code) for ev in events if isinstance(ev, Function)]
    want_codes = ds.functions if lvl >= 10 else []
    if codes != want_codes:
        problems.append(f"v{version}: functions {codes!r}, want {want_codes!r}")
    aux = [(ev.name, ev.value) for ev in events if isinstance(ev, Aux)]
    want_aux = ds.aux if lvl >= 7 else []
    if [a for a in aux if a in ds.aux] != want_aux:
        problems.append(f"v{version}: aux {aux!r}, want {want_aux!r} among them")
    want_file_losses = (1 if ds.functions and lvl < 10 else 0) + (1 if ds.aux and lvl < 7 else 0)
    has_fn_loss = any("function" in w for w in file_losses)
    has_aux_loss = any("AUX" in w or "aux" in w for w in file_losses)
    if bool(ds.functions and lvl < 10) != has_fn_loss:
        problems.append(
            f"v{version}: functions dropped={bool(ds.functions and lvl < 10)}, "
            f"file-level losses {file_losses}"
        )
    if bool(ds.aux and lvl < 7) != has_aux_loss:
        problems.append(
            f"v{version}: AUX fields dropped={bool(ds.aux and lvl < 7)}, "
            f"file-level losses {file_losses}"
        )
    if not want_file_losses and file_losses:
        problems.append(f"v{version}: unexpected file-level losses {file_losses}")
    assert not problems, "\n".join(problems[:30])


# --------------------------------------------------------------------------- tests


@SETTINGS
@given(datasets())
def test_roundtrip_every_version(ds: Dataset) -> None:
    for version in VERSIONS:
        check_roundtrip(ds, version, None)


@SETTINGS
@given(datasets())
def test_roundtrip_small_thresholds(ds: Dataset) -> None:
    """Tiny encoding limits force multi-node quicklists, PLAIN nodes, hash tables,
    skiplists, linked lists and multi-node streams with a handful of elements."""
    for version in VERSIONS:
        check_roundtrip(ds, version, SMALL)


@SETTINGS
@given(datasets(), st.sampled_from(VERSIONS))
def test_strict_refuses_exactly_the_lossy_datasets(ds: Dataset, version: int | str) -> None:
    lvl = _level(version)
    lossy_any = (
        any(lossy(k, version) for k in ds.keys)
        or (bool(ds.functions) and lvl < 10)
        or (bool(ds.aux) and lvl < 7)
    )
    if lossy_any:
        with pytest.raises(WriteError):
            write(ds, version, strict=True)
    else:
        data, report = write(ds, version, strict=True)
        assert not report.losses
        assert list(read_rdb(io.BytesIO(data)))[-1].checksum_state == "ok"


def test_small_thresholds_reach_every_encoding() -> None:
    """The small thresholds do produce the multi-node and big encodings (a guard that
    the property test above exercises what it says)."""
    big = [b"%03d-" % i + b"x" * 30 for i in range(12)] + [b"y" * 100]
    ks = [
        Key(0, b"l", "list", big),
        Key(0, b"s", "set", [b"%d" % i for i in range(10)]),
        Key(0, b"z", "zset", [(b"m%d" % i, float(i)) for i in range(10)]),
        Key(0, b"h", "hash", [(b"f%d" % i, b"v", None) for i in range(10)]),
        Key(0, b"x", "stream", {
            "entries": [StreamEntry((1, i), ((b"f", b"v" * 20),)) for i in range(10)],
            "meta": StreamMeta(10, (1, 9), (1, 0), (0, 0), 10),
            "groups": [],
        }),
    ]  # fmt: skip
    encodings: dict[int | str, dict[bytes, tuple[str, int]]] = {}
    for version in (6, 9, 12):
        data, _ = write(Dataset(ks), version, SMALL)
        encodings[version] = {
            ev.key: (ev.encoding, ev.rdb_type)
            for ev in read_rdb(io.BytesIO(data))
            if isinstance(ev, KeyStart)
        }
    assert encodings[6][b"l"] == ("linkedlist", 1)
    assert encodings[9][b"l"][0] == "quicklist"
    assert encodings[12][b"s"] == ("hashtable", 2)
    assert encodings[12][b"z"] == ("skiplist", 5)
    assert encodings[6][b"z"] == ("skiplist", 3)
    assert encodings[12][b"h"] == ("hashtable", 4)
    # the RDB 12 list has PLAIN nodes (elements > 64 bytes) and several packed nodes
    data, _ = write(Dataset(ks[:1]), 12, SMALL)
    value = data[data.index(b"\x12\x01l") + 3 :]
    nodes = value[0]
    assert nodes > 3
    assert value[1] in (1, 2)
    # the stream has several nodes
    data, _ = write(Dataset(ks[4:]), 11, SMALL)
    assert data[data.index(b"\x15\x01x") + 3] >= 4


@pytest.mark.parametrize("version", [12, "valkey"])
def test_field_ttl_after_the_hash_went_to_a_hash_table(version: int | str) -> None:
    """A field TTL that arrives after the hash has already outgrown the listpack limits
    (a 65-byte field first) must still be written (type 24 / Valkey 22), not dropped."""
    k = Key(0, b"h", "hash", [(b"f" * 65, b"v", None), (b"g", b"w", 1700000000000)])
    data, report = write(Dataset([k]), version)
    (rec,) = records(read_rdb(io.BytesIO(data)))
    assert sorted(rec.value) == [(b"f" * 65, b"v", None), (b"g", b"w", 1700000000000)], (
        rec.encoding,
        rec.value,
        report.lines(),
    )
