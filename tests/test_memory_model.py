"""The memory model (``rdbtools.memory``) against ``MEMORY USAGE key SAMPLES 0`` of the real
servers that wrote the fixtures, plus unit tests of its arithmetic.

Per version folder (4.0 on, every folder of ``fixtures/`` and ``../shared/fixtures/`` whose
truths have ``memory_usage``): every RDB fixture and every AOF fixture's replayed keyspace
is estimated and compared key by key. The bar: at least 95% of the keys within ±10%, the
sum over all keys within ±5%. Run with ``-rA`` to see each folder's figures and worst
keys; ``python tests/test_memory_model.py`` prints the accuracy table of
``docs/memory-model.md``.
"""

from __future__ import annotations

import json
import os
import sys
import tracemalloc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import FIXTURES, REPO, tb  # noqa: E402

from rdbtools.aof import read_aof  # noqa: E402
from rdbtools.events import (  # noqa: E402
    Aux,
    Event,
    HashFields,
    KeyEnd,
    KeyStart,
    ListItems,
    SetMembers,
    StreamConsumer,
    StreamEntries,
    StreamEntry,
    StreamGroup,
    StreamPending,
    StringValue,
    ZSetMembers,
)
from rdbtools.memory._encodings import canonical_int, lp_entry_size, zl_entry_size  # noqa: E402
from rdbtools.memory._jemalloc import jemalloc_size, libc_size  # noqa: E402
from rdbtools.memory._streams import RaxCounter, id_key, rax_alloc, rax_nodes  # noqa: E402
from rdbtools.memory.estimate import rows_from_events  # noqa: E402
from rdbtools.memory.model import MemoryModel, choose_model, explain_model  # noqa: E402
from rdbtools.memory.rows import MemoryRow  # noqa: E402
from rdbtools.memory.server import (  # noqa: E402
    ServerFactsError,
    facts_from_info,
    jemalloc_quantum,
)
from rdbtools.rdb.reader import read_rdb  # noqa: E402
from rdbtools.replay import replay  # noqa: E402

SHARED = REPO.parent / "shared" / "fixtures"
WITHIN = 0.10  # a key is "close" within ±10%
SHARE = 0.95  # of the keys of a folder
SUM_WITHIN = 0.05  # the sum over all keys of a folder


# --------------------------------------------------------------------------- fixtures


def _folders() -> list[Path]:
    """Version folders with ``memory_usage`` values: ``fixtures/`` first, then any folder
    only ``../shared/fixtures/`` has."""
    seen: dict[str, Path] = {}
    for base in (FIXTURES, SHARED):
        if not base.is_dir():
            continue
        for d in sorted(base.iterdir()):
            if d.is_dir() and d.name != "external" and d.name not in seen and _has_usage(d):
                seen[d.name] = d
    return [seen[k] for k in sorted(seen)]


def _has_usage(folder: Path) -> bool:
    for t in sorted(folder.glob("*.truth.json")):
        if any(k.get("memory_usage") is not None for k in _truth(t)["keys"]):
            return True
    return False


_TRUTHS: dict[Path, dict[str, Any]] = {}


def _truth(path: Path) -> dict[str, Any]:
    """A truth file, with the ``memory_usage`` of its ``<fixture>.memory.json`` (kept
    apart for Valkey 8.1+ fixtures) merged into its keys."""
    t = _TRUTHS.get(path)
    if t is None:
        with open(path, encoding="utf-8") as fh:
            t = _TRUTHS[path] = json.load(fh)
        usage = path.with_name(path.name.removesuffix(".truth.json") + ".memory.json")
        if usage.is_file():
            with open(usage, encoding="utf-8") as fh:
                extra = {(int(k["db"]), tb(k["key"])): k["memory_usage"]
                         for k in json.load(fh)["keys"]}
            for k in t["keys"]:
                got = extra.get((int(k["db"]), tb(k["key"])))
                if got is not None:
                    k["memory_usage"] = got
    return t


def _server(truth: dict[str, Any]) -> tuple[str, str, bool]:
    """(version text, allocator, cluster) of the server that wrote a fixture, as its
    truth records it: an AOF without an RDB part has no AUX to say it, and the
    allocator's quantum and cluster mode (7.0/7.2) are not in any file."""
    srv = truth["server"]
    info = srv["info_server"]
    if srv.get("flavor") == "valkey" or "valkey_version" in info:
        version = "valkey-" + info["valkey_version"]
    else:
        version = info["redis_version"]
    if srv["info_memory"].get("mem_allocator") == "libc":
        allocator = "libc"
    elif str(srv["binary"]).startswith("/usr/"):
        allocator = "jemalloc-q16"  # a distribution package: system jemalloc, 16-byte quantum
    else:
        allocator = "jemalloc"
    return version, allocator, info.get("redis_mode") == "cluster"


def _aof_path(folder: Path) -> Path:
    d = folder / "appendonlydir"
    return d if d.is_dir() else folder / "appendonly.aof"


@dataclass(frozen=True)
class Compared:
    fixture: str
    row: MemoryRow
    want: int
    want_encoding: str

    @property
    def error(self) -> float:
        return (self.row.memory - self.want) / self.want if self.want else 0.0


def compare_folder(folder: Path) -> list[Compared]:
    """Every key with a ``memory_usage`` in the folder's fixtures, estimated."""
    out: list[Compared] = []
    for tpath in sorted(folder.glob("*.truth.json")):
        truth = _truth(tpath)
        name = tpath.name[: -len(".truth.json")]
        want = {(int(k["db"]), tb(k["key"])): k for k in truth["keys"]
                if k.get("memory_usage") is not None}
        if not want:
            continue
        version, allocator, cluster = _server(truth)
        if truth["kind"] == "rdb":
            rows = rows_from_events(read_rdb(folder / f"{name}.rdb"), file=name,
                                    allocator=allocator, cluster=cluster)
        else:
            events = replay(read_aof(str(_aof_path(folder / name))))
            rows = rows_from_events(events, file=name, version=version, allocator=allocator,
                                    cluster=cluster)
        got = 0
        for row in rows:
            k = want.get((row.db, row.key))
            if k is None:
                continue
            got += 1
            out.append(Compared(name, row, int(k["memory_usage"]), str(k["encoding"])))
        assert got == len(want), f"{folder.name}/{name}: {len(want) - got} keys not estimated"
    return out


@dataclass(frozen=True)
class Accuracy:
    folder: str
    keys: int
    within: float
    sum_error: float
    worst: list[Compared]
    rdb_keys: int
    rdb_within: float
    rdb_sum_error: float

    def line(self) -> str:
        w = self.worst[0] if self.worst else None
        worst = (f"`{w.row.key.decode('utf-8', 'replace')}` ({w.fixture}) {w.row.memory} vs "
                 f"{w.want} ({100 * w.error:+.0f}%)") if w else "-"
        return (f"| {self.folder} | {self.keys} | {100 * self.within:.1f}% | "
                f"{100 * self.sum_error:+.2f}% | {self.rdb_keys} | "
                f"{100 * self.rdb_within:.1f}% | {100 * self.rdb_sum_error:+.2f}% | {worst} |")


def _share(rows: list[Compared]) -> tuple[float, float]:
    if not rows:
        return 0.0, 0.0
    close = sum(abs(c.error) <= WITHIN for c in rows)
    total_got = sum(c.row.memory for c in rows)
    total_want = sum(c.want for c in rows)
    return close / len(rows), (total_got - total_want) / total_want if total_want else 0.0


def accuracy(folder: Path, worst: int = 10) -> Accuracy:
    rows = compare_folder(folder)
    rdb = [c for c in rows if not c.fixture.startswith("aof-")]
    within, sum_error = _share(rows)
    rdb_within, rdb_sum_error = _share(rdb)
    ranked = sorted(rows, key=lambda c: (-abs(c.error), c.fixture, c.row.key))
    return Accuracy(folder.name, len(rows), within, sum_error, ranked[:worst],
                    len(rdb), rdb_within, rdb_sum_error)


def _report(a: Accuracy) -> str:
    lines = [f"{a.folder}: {a.keys} keys, {100 * a.within:.1f}% within ±10%, "
             f"sum {100 * a.sum_error:+.2f}%; worst:"]
    for c in a.worst:
        lines.append(f"  {c.fixture:45} db{c.row.db} {c.row.key!r:36} {c.row.type:6} "
                     f"{c.row.encoding:10} (server {c.want_encoding:10}) estimate "
                     f"{c.row.memory} server {c.want} ({100 * c.error:+.1f}%)")
    return "\n".join(lines)


FOLDERS = _folders()


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_accuracy_per_version(folder: Path) -> None:
    a = accuracy(folder)
    report = _report(a)
    print(report)
    assert a.keys > 0
    assert a.within >= SHARE, report
    assert abs(a.sum_error) <= SUM_WITHIN, report


def test_folders_found() -> None:
    names = {f.name for f in FOLDERS}
    assert {"4.0.14", "7.0.15", "7.4.1"} <= names, names
    # 3.2 predates MEMORY USAGE: its truths have no values and it has no folder here
    assert not any(n.startswith("3.") for n in names)


def test_deterministic() -> None:
    """Same file, same numbers (skiplist levels are expectations, not draws)."""
    path = FIXTURES / "7.0.15" / "small-encodings.rdb"
    one = list(rows_from_events(read_rdb(path), file="a"))
    two = list(rows_from_events(read_rdb(path), file="a"))
    assert one == two
    assert any(r.encoding == "skiplist" for r in one)


def test_rows_shape_rdb() -> None:
    path = FIXTURES / "7.4.1" / "small-encodings.rdb"
    truth = _truth(FIXTURES / "7.4.1" / "small-encodings.truth.json")
    rows = {(r.db, r.key): r for r in rows_from_events(read_rdb(path), file="x.rdb")}
    ends: dict[tuple[int, bytes], int] = {}
    db = 0
    for ev in read_rdb(path):
        if isinstance(ev, KeyStart):
            db = ev.db
        elif isinstance(ev, KeyEnd):
            ends[(db, ev.key)] = ev.size
    assert len(rows) == len(truth["keys"])
    for k in truth["keys"]:
        r = rows[(int(k["db"]), tb(k["key"]))]
        assert r.file == "x.rdb"
        assert r.type == k["type"]
        # after a reload APPEND/SETRANGE strings come back embstr (fixtures README)
        if k["key"] not in ("str:append", "str:setrange"):
            assert r.encoding == k["encoding"], (k["key"], r.encoding, k["encoding"])
        assert r.size == ends[(r.db, r.key)] > 0
        assert (r.expire_at_ms is None) == (k["expire_at_ms"] is None)
    assert rows[(0, b"list:large")].elements == len(
        next(k for k in truth["keys"] if k["key"] == "list:large")["value"])
    assert rows[(0, b"str:len64")].largest_element == 64


def test_rows_aof_size_zero() -> None:
    """Replayed AOF keys have no record: ``size`` is the 0 replay gives."""
    folder = FIXTURES / "7.0.15" / "aof-multipart-preamble-yes-writes"
    rows = list(rows_from_events(replay(read_aof(str(_aof_path(folder)))), file="aof",
                                 version="7.0"))
    assert rows and all(r.size == 0 for r in rows)
    assert all(r.memory > 0 for r in rows)


def test_rows_without_offsets() -> None:
    """Events without byte offsets (a JSON Lines dump) get quicklist and stream nodes
    split as pushes and XADD split them; the estimates stay close to the RDB's."""
    path = FIXTURES / "7.0.15" / "small-encodings.rdb"

    def no_offsets(events: Iterable[Event]) -> Iterator[Event]:
        for ev in events:
            yield replace(ev, offset=0) if isinstance(ev, (ListItems, StreamEntries)) else ev

    rdb = {(r.db, r.key): r for r in rows_from_events(read_rdb(path), file="a")}
    flat = {(r.db, r.key): r for r in rows_from_events(no_offsets(read_rdb(path)), file="a")}
    assert rdb.keys() == flat.keys()
    lists = [k for k, r in rdb.items() if r.type in ("list", "stream")]
    assert len(lists) > 5
    for k in lists:
        assert flat[k].encoding == rdb[k].encoding
        assert abs(flat[k].memory - rdb[k].memory) <= 0.06 * rdb[k].memory, k


def test_model_from_aux_and_overrides() -> None:
    assert choose_model({b"redis-ver": b"7.0.15", b"redis-bits": b"64"}).name == \
        "redis-7.0/jemalloc/64"
    assert choose_model({b"valkey-ver": b"8.0.1"}).name == "valkey-8.0/jemalloc/64"
    assert choose_model({b"redis-ver": b"7.0.15"}, version="6.2",
                        allocator="libc").name == "redis-6.2/libc/64"
    assert choose_model({}, version="valkey-8.1").embedded_keys == "object"
    assert choose_model({}).name == "redis-7.2/jemalloc/64"
    assert choose_model({b"redis-ver": b"3.2.13"}).allocator == "jemalloc-q16"
    assert choose_model({b"redis-ver": b"7.2.4", b"redis-bits": b"32"}).bits == 32
    assert choose_model({b"valkey-ver": b"8.0.1", b"slot-info": b"1,1,0"}).name == \
        "valkey-8.0/jemalloc/64/cluster"
    assert choose_model({b"redis-ver": b"7.0.15"}, cluster=True).cluster_overhead == 16
    with pytest.raises(ValueError, match="allocator"):
        choose_model({}, allocator="tcmalloc")
    with pytest.raises(ValueError, match="version"):
        choose_model({}, version="latest")


def test_rows_choose_model_from_aux() -> None:
    key = b"s:int-0123456789"  # its sds is an 18-byte request: 24 or 32 by quantum
    evs: list[Event] = [Aux(b"redis-ver", b"7.0.15"), *_key(key, "string",
                                                            [StringValue(b"12345")])]
    row = next(rows_from_events(evs, file="f"))
    assert row.memory == 24 + 24 + 16
    row = next(rows_from_events(evs, file="f", allocator="jemalloc-q16"))
    assert row.memory == 32 + 24 + 16


# --------------------------------------------------------------------------- arithmetic


def test_jemalloc_classes() -> None:
    """§10.4's class list, 8-byte quantum, and the 16-byte quantum variant."""
    classes = [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
               448, 512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096,
               5120, 6144, 7168, 8192, 10240, 12288, 14336, 16384]
    got = sorted({jemalloc_size(n) for n in range(1, 16385)})
    assert got == classes
    assert [jemalloc_size(n, 16) for n in (1, 8, 9, 17, 33, 120, 129)] == \
        [8, 8, 16, 32, 48, 128, 160]
    assert jemalloc_size(1 << 20) == 1 << 20
    assert jemalloc_size((1 << 20) + 1) == (1 << 20) + (1 << 18)
    assert [libc_size(n) for n in (1, 24, 25, 40, 41)] == [24, 24, 40, 40, 56]


def test_blob_entry_sizes() -> None:
    """§4.B / §4.A: the §4.12 listpack (`a b 1 2 300 -5 70000`, 28 bytes)."""
    items = [b"a", b"b", b"1", b"2", b"300", b"-5", b"70000"]
    assert 7 + sum(lp_entry_size(e) for e in items) == 28
    assert [zl_entry_size(e) for e in (b"7", b"-100", b"300", b"70000", b"x" * 64)] == \
        [1, 2, 3, 4, 66]
    assert [canonical_int(s) for s in (b"0", b"-0", b"007", b"+1", b"-12",
                                       b"9223372036854775808")] == [0, None, None, None, -12,
                                                                    None]


def test_rax_counter() -> None:
    assert rax_nodes([]) == 1
    assert rax_nodes([(10, 1)]) == 2  # stream:basic: 1 key, 2 nodes
    # seven ids that differ in the last byte: prefix, branch, seven leaves
    assert rax_nodes([(10, s) for s in range(3, 10)]) == 9
    # three node keys far apart (stream:big in 7.0.15: 3 keys, 8 nodes)
    assert rax_nodes([(1795741020675, 0), (1795741020780, 0), (1795741020890, 0)]) == 8
    r = RaxCounter()
    for s in range(300):
        r.add(id_key(5, s))
    assert r.keys == 300 and r.count() == r.count()


def _key(key: bytes, type_: str, values: Iterable[Any], *, rdb_type: int = 0,
         encoding: str = "raw", expire: int | None = None) -> Iterator[Event]:
    yield KeyStart(0, key, type_, encoding, rdb_type, expire)
    yield from values
    yield KeyEnd(key, 0, 0)


def _one(model: MemoryModel, events: Iterable[Event]) -> MemoryRow:
    rows = list(rows_from_events(events, file="t", model=model))
    assert len(rows) == 1
    return rows[0]


Q16_70 = MemoryModel("redis", (7, 0, 15), "jemalloc-q16")
Q8_74 = MemoryModel("redis", (7, 4, 1), "jemalloc")


@pytest.mark.parametrize(("model", "key", "type_", "rdb_type", "values", "want"), [
    # FORMAT.md §10.5, verified on real servers
    (Q16_70, b"s:str", "string", 0, [StringValue(b"hello")], 64),
    (Q16_70, b"s:long", "string", 0, [StringValue(b"a" * 100)], 160),
    (Q16_70, b"s:int", "string", 0, [StringValue(b"12345")], 48),
    (Q16_70, b"h:small", "hash", 16, [HashFields(((b"f1", b"v1", None), (b"f2", b"2", None)))],
     88),
    (Q16_70, b"l:small", "list", 18, [ListItems((b"a", b"b", b"1", b"2", b"300", b"-5",
                                                 b"70000"), 100)], 168),
    (Q16_70, b"st:str", "set", 2, [SetMembers((b"a", b"b", b"c"))], 232),
    (Q16_70, b"h:big", "hash", 4, [HashFields(tuple((b"f%03d" % i, b"v", None)
                                                    for i in range(600)))], None),
    (Q8_74, b"st:int", "set", 11, [SetMembers((b"1", b"2", b"3", b"100000"))], 72),
    (Q8_74, b"k40", "string", 0, [StringValue(b"x" * 40)], 96),
    (Q8_74, b"k45", "string", 0, [StringValue(b"x" * 45)], 104),
])
def test_verified_examples(model: MemoryModel, key: bytes, type_: str, rdb_type: int,
                           values: list[Event], want: int | None) -> None:
    enc = "quicklist" if rdb_type == 18 else "raw"
    row = _one(model, _key(key, type_, values, rdb_type=rdb_type, encoding=enc))
    if want is None:
        # h:big: "8 + 24 + 16 + 56 + 8·1024 + 600·(8+8+24)" with 4-byte fields (A=8)
        want = 8 + 24 + 16 + 56 + 8 * 1024 + 600 * (8 + 8 + 24)
    assert row.memory == want


def test_encoding_prediction() -> None:
    """§10.6 per version."""
    m70 = MemoryModel("redis", (7, 0, 0))
    m72 = MemoryModel("redis", (7, 2, 0))
    m62 = MemoryModel("redis", (6, 2, 0))
    small = [ListItems((b"a", b"b"), 10)]
    assert _one(m70, _key(b"l", "list", small, rdb_type=18, encoding="quicklist")).encoding \
        == "quicklist"
    assert _one(m72, _key(b"l", "list", small, rdb_type=18, encoding="quicklist")).encoding \
        == "listpack"
    two_nodes = [ListItems((b"a",), 10), ListItems((b"b",), 20)]
    assert _one(m72, _key(b"l", "list", two_nodes, rdb_type=18,
                          encoding="quicklist")).encoding == "quicklist"
    # sets: intset, then listpack (7.2+), then hashtable
    ints = [SetMembers((b"1", b"2"))]
    words = [SetMembers((b"a", b"b"))]
    many = [SetMembers(tuple(b"%d" % i for i in range(600)))]
    assert _one(m72, _key(b"s", "set", ints, rdb_type=2)).encoding == "intset"
    assert _one(m72, _key(b"s", "set", words, rdb_type=2)).encoding == "listpack"
    assert _one(m70, _key(b"s", "set", words, rdb_type=2)).encoding == "hashtable"
    assert _one(m72, _key(b"s", "set", many, rdb_type=11)).encoding == "hashtable"
    # zsets: a skiplist in the file becomes a listpack when small; long members stay
    z = [ZSetMembers(((b"a", 1.0), (b"b", 2.5)))]
    zl = [ZSetMembers(((b"a" * 65, 1.0),))]
    assert _one(m72, _key(b"z", "zset", z, rdb_type=5)).encoding == "listpack"
    assert _one(m62, _key(b"z", "zset", z, rdb_type=5)).encoding == "ziplist"
    assert _one(m72, _key(b"z", "zset", zl, rdb_type=5)).encoding == "skiplist"
    # hashes: listpackex with field TTLs on 7.4
    h = [HashFields(((b"f", b"v", 1_800_000_000_000), (b"g", b"w", None)))]
    assert _one(Q8_74, _key(b"h", "hash", h, rdb_type=25)).encoding == "listpackex"
    assert _one(m72, _key(b"h", "hash", [HashFields(((b"f", b"v" * 65, None),))],
                          rdb_type=4)).encoding == "hashtable"
    # strings
    assert _one(m72, _key(b"s", "string", [StringValue(b"-0")])).encoding == "embstr"
    assert _one(m72, _key(b"s", "string", [StringValue(b"-9223372036854775808")])).encoding \
        == "int"


def test_stream_groups_counted() -> None:
    entries = StreamEntries(tuple(StreamEntry((100, i), ((b"f", b"v%d" % i),))
                                  for i in range(5)), 40)
    cons = StreamConsumer(b"alice", 0, 0, ((100, 1), (100, 2)))
    group = StreamGroup(b"g", (100, 2), 2, (StreamPending((100, 1), b"alice", 0, 1),
                                            StreamPending((100, 2), b"alice", 0, 1)), (cons,))
    m = MemoryModel("redis", (7, 2, 0))
    bare = _one(m, _key(b"st", "stream", [entries], rdb_type=21, encoding="stream"))
    full = _one(m, _key(b"st", "stream", [entries, group], rdb_type=21, encoding="stream"))
    # streamCG 40 + PEL rax (2 ids: prefix, branch, 2 leaves = 4 nodes) + 2 NACKs +
    # consumer 32 + name + its rax
    assert full.memory - bare.memory == 40 + (32 + 4 * 244) + 48 + 32 + 5 + (32 + 4 * 244)
    assert bare.elements == 5 and bare.encoding == "stream"


def test_big_key_bounded_memory() -> None:
    """A 400 000-element list costs the estimator constant memory: the batches are
    made on the fly and dropped; the accumulator keeps counts and one node."""
    m = MemoryModel("redis", (7, 2, 0))
    est = m.estimator(KeyStart(0, b"big", "list", "quicklist", 18))
    tracemalloc.start()
    try:
        for node in range(400):
            batch = ListItems(tuple(b"element-%07d" % (node * 1000 + i) for i in range(1000)),
                              node)
            est.feed(batch)
            del batch
            if node == 10:
                base = tracemalloc.get_traced_memory()[0]
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - base < 64 * 1024
    row = est.finish(KeyEnd(b"big", 123, 0))
    assert row.elements == 400_000 and row.size == 123 and row.encoding == "quicklist"
    assert row.memory > 400_000 * 16


# --------------------------------------------------------------------------- server facts


_JEMALLOC_STATS = """___ Begin jemalloc statistics ___
Version: "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c"
Quantum size: 16
Page size: 4096
bins:           size ind    allocated      nmalloc (#/sec)
                   8   0         5600          700     700
                  16   1       190400        11900   11900
                  32   2       160000         5300    5300
"""


def test_facts_from_info() -> None:
    server = {"redis_version": "7.0.15", "arch_bits": 64}
    f = facts_from_info(server, {"mem_allocator": "jemalloc-5.3.0"}, {"cluster_enabled": 0},
                        _JEMALLOC_STATS, source="redis://h:1")
    assert (f.server, f.version, f.allocator, f.quantum, f.cluster, f.bits) == (
        "redis", "7.0.15", "jemalloc-q16", 16, False, 64)
    # without the "Quantum size" line the bins table says it: 8 16 24 is an 8-byte quantum
    bins = _JEMALLOC_STATS.replace("Quantum size: 16\n", "").replace(
        "  32   2 ", "  24   2 ")
    assert jemalloc_quantum(bins) == 8
    f = facts_from_info(server, {"mem_allocator": "jemalloc-5.3.0"}, {"cluster_enabled": 1},
                        bins, source="s")
    assert (f.allocator, f.cluster) == ("jemalloc", True)
    vk = facts_from_info({"redis_version": "7.2.4", "valkey_version": "9.1.2",
                          "arch_bits": 32}, {"mem_allocator": "libc"}, {},
                         "Stats not supported for the current allocator", source="s")
    assert (vk.server, vk.model_version, vk.allocator, vk.quantum, vk.bits) == (
        "valkey", "valkey-9.1.2", "libc", None, 32)
    with pytest.raises(ServerFactsError, match="tcmalloc"):
        facts_from_info(server, {"mem_allocator": "tcmalloc"}, {}, "", source="s")
    with pytest.raises(ServerFactsError, match="version"):
        facts_from_info({}, {"mem_allocator": "libc"}, {}, "", source="s")


def test_explain_model_sources() -> None:
    aux = {b"redis-ver": b"6.2.14"}
    c = explain_model(aux)
    assert (c.version_from, c.allocator_from, c.assumed) == ("file", "assumed", True)
    assert explain_model({}).version_from == "default"
    facts = facts_from_info({"redis_version": "7.0.15", "arch_bits": 64},
                            {"mem_allocator": "jemalloc-5.3.0"}, {"cluster_enabled": 1},
                            _JEMALLOC_STATS, source="redis://h:1")
    c = explain_model(aux, server=facts, state="loaded")
    assert c.model == MemoryModel("redis", (7, 0, 15), "jemalloc-q16", 64, True, "loaded")
    assert (c.version_from, c.allocator_from, c.assumed) == ("server", "server", False)
    assert "from redis://h:1: redis 7.0.15, jemalloc-5.3.0 (quantum 16)" in c.describe()
    c = explain_model(aux, server=facts, version="7.2", allocator="libc")
    assert (c.model.version, c.model.allocator, c.version_from, c.allocator_from) == (
        (7, 2, 0), "libc", "option", "option")
    with pytest.raises(ValueError, match="state"):
        explain_model(aux, state="warm")


# --------------------------------------------------------------------------- radix trees


def _rax_alloc_by_trie(keys: list[bytes], a: Any) -> int:
    """raxAllocSize rebuilt from an explicit trie: a dict per node, compressed chains
    found by walking it (an implementation apart from RaxCounter's streaming one)."""
    root: dict[int, Any] = {}
    for k in keys:
        node = root
        for byte in k:
            node = node.setdefault(byte, {})

    def pad(n: int) -> int:
        return (8 - (n + 4) % 8) & 7

    def size(node: dict[int, Any]) -> int:
        if not node:  # a key: header, padding, value pointer
            return a(4 + pad(0) + 8)
        if len(node) == 1:
            chain = 0
            while len(node) == 1:
                chain += 1
                (node,) = node.values()
            return a(4 + chain + pad(chain) + 8) + size(node)
        return a(4 + len(node) + pad(len(node)) + 8 * len(node)) + sum(
            size(child) for child in node.values())

    return a(32) + (size(root) if keys else a(4 + pad(0)))


@pytest.mark.parametrize("seed", range(6))
def test_rax_allocation_matches_an_explicit_trie(seed: int) -> None:
    import random

    rnd = random.Random(seed)
    ids = sorted({(rnd.choice([1, 2, 1000, 1_700_000_000_000 + rnd.randrange(10**6)]),
                   rnd.randrange(4 if seed % 2 else 300)) for _ in range(rnd.randrange(0, 400))})
    keys = [id_key(*i) for i in ids]
    for a in (libc_size, jemalloc_size):
        assert rax_alloc(ids, a) == _rax_alloc_by_trie(keys, a), (seed, a)
    assert RaxCounter(libc_size).allocated() == libc_size(32) + libc_size(8)


# --------------------------------------------------------------------------- Valkey tables


def test_valkey_hashtable_sizing() -> None:
    c = MemoryModel("valkey", (9, 1, 2), "libc", state="loaded").costs
    # "NUM_BUCKETS = ceil(NUM_ENTRIES * 5 / 32)", a power of two; none when empty
    assert [c.vk_buckets(n) for n in (0, 1, 6, 7, 13, 224, 225, 1000)] == [
        0, 1, 1, 2, 4, 64, 64, 256]
    # no child buckets while no bucket can be full; more as the fill grows
    assert (c.vk_table(6, 8), c.vk_table(7, 8)) == (72 + 8 + 64, 72 + 8 + 128)
    assert c.vk_table(50, 8) > 72 + 8 + 64 * 8
    # a live table that has just doubled still holds its old buckets
    live = MemoryModel("valkey", (9, 1, 2), "libc").costs
    assert live.vk_table(225, 8) - c.vk_table(225, 8) == 64 * 32
    assert live.vk_table(200, 8) == c.vk_table(200, 8)


def main() -> None:
    """Print the accuracy table of ``docs/memory-model.md``."""
    print("| folder | keys | within ±10% | sum error | RDB keys | RDB within ±10% | RDB sum error"
          " | worst key (fixture): estimate vs server |")
    print("|---|---|---|---|---|---|---|---|")
    for folder in FOLDERS:
        print(accuracy(folder, worst=1).line())
    if os.environ.get("RDBTOOLS_MEMORY_WORST"):
        for folder in FOLDERS:
            print(_report(accuracy(folder)))


if __name__ == "__main__":
    main()
