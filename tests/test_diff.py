"""``rdbtools.ops.diff``: the semantic diff of two snapshots.

- the same data written by different servers (RDB 8 ... 11, Valkey), by the project's
  writer at different versions, and an AOF against the RDB a real server wrote of it,
  differs in nothing;
- a dataset mutated in known ways gives back exactly those changes, in memory and
  through the spill files (a tiny budget), with ``keys_only`` and ``ignore_ttl``;
- what the comparison rules decide: ``-0`` vs ``0``, stream fields older versions do
  not store, module payloads, function libraries, list edit scripts and ranges.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
import shutil
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st

from rdbtools import read_rdb, records
from rdbtools.diff import _spill
from rdbtools.diff._compare import LIST_SCRIPT_LIMIT
from rdbtools.events import (
    Event,
    Function,
    HashFields,
    KeyEnd,
    KeyStart,
    ListItems,
    ModuleValue,
    Record,
    SetMembers,
    StreamEntries,
    StreamGroup,
    StreamIdmp,
    StreamValue,
    StringValue,
    ZSetMembers,
)
from rdbtools.ops.convert import convert
from rdbtools.ops.diff import Change, DiffSummary, collect, diff_events, diff_files
from rdbtools.ops.filters import KeyFilter
from rdbtools.rdb.writer import RdbWriter

FE = FIXTURES / "7.4.1" / "small-encodings.rdb"
SMALL_70 = FIXTURES / "7.0.15" / "small-encodings.rdb"


def run(a: Any, b: Any, **kw: Any) -> tuple[list[Change], DiffSummary]:
    if isinstance(a, (str, Path)):
        return collect(diff_files(str(a), str(b), **kw))
    return collect(diff_events(a, b, **kw))


def converted(path: Path, version: int | str) -> bytes:
    out = io.BytesIO()
    convert(read_rdb(str(path)), out, version=version)
    return out.getvalue()


def events_of(data: bytes) -> Iterator[Event]:
    return read_rdb(io.BytesIO(data))


def encodings(data: bytes) -> dict[tuple[int, bytes], str]:
    return {(e.db, e.key): e.encoding for e in events_of(data) if isinstance(e, KeyStart)}


# --------------------------------------------------------------------------- no difference


SAME_DATA = sorted(
    p for p in FIXTURES.glob("*/*.rdb")
    if p.name in ("lfu.rdb", "lru.rdb", "cluster.rdb")
    and not p.parent.name.startswith(("3.", "4."))
)


@pytest.mark.parametrize("path", SAME_DATA, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_same_data_written_by_other_servers(path: Path) -> None:
    """The lfu / lru / cluster fixtures of Redis 5.0 to 8.0 and Valkey hold the same keys
    (the truths have the same DEBUG DIGEST) in files of RDB 9 to 12."""
    reference = FIXTURES / "7.0.15" / "lfu.rdb"
    changes, summary = run(reference, path)
    assert changes == []
    assert summary == DiffSummary(keys_equal=16)
    assert not summary.differ


def test_same_data_set_is_not_empty() -> None:
    assert len(SAME_DATA) >= 15
    assert {p.read_bytes()[:9] for p in SAME_DATA} >= {b"REDIS0009", b"REDIS0010", b"REDIS0011",
                                                        b"REDIS0012"}


@pytest.mark.parametrize("version", ["5.0.14", "6.2.14"])
def test_converted_to_9_and_to_12(version: str) -> None:
    src = FIXTURES / version / "small-encodings.rdb"
    v9, v12 = converted(src, 9), converted(src, 12)
    enc9, enc12 = encodings(v9), encodings(v12)
    assert enc9.keys() == enc12.keys()
    assert sum(enc9[k] != enc12[k] for k in enc9) >= 10, "the two files use other encodings"
    changes, summary = run(events_of(v9), events_of(v12))
    assert changes == []
    assert summary.keys_equal == len(enc9) and not summary.differ
    for data in (v9, v12):
        changes, _ = run(read_rdb(str(src)), events_of(data))
        assert changes == []


@pytest.mark.parametrize("target", [10, 11, 12, "valkey"])
def test_fixture_against_its_own_conversion(target: int | str) -> None:
    changes, summary = run(read_rdb(str(SMALL_70)), events_of(converted(SMALL_70, target)))
    assert changes == []
    assert summary.keys_equal == 109 and summary.functions_equal == 2


def test_conversion_losses_are_exactly_what_the_diff_shows() -> None:
    """7.4 -> RDB 11 drops every hash field TTL; -> RDB 9 also drops the functions (and
    the stream counters RDB 9 cannot store, which are then unknown, not different)."""
    field_ttls = {
        Change(r.db, r.key, "ttl", ("field", f), t, None)
        for r in records(read_rdb(str(FE))) if r.type == "hash"
        for f, _, t in r.value  # type: ignore[misc, union-attr]
        if t is not None
    }
    assert len(field_ttls) == 50
    changes, summary = run(read_rdb(str(FE)), events_of(converted(FE, 11)))
    assert set(changes) == field_ttls and len(changes) == len(field_ttls)
    assert summary.keys_changed == 4
    changes, _ = run(read_rdb(str(FE)), events_of(converted(FE, 11)), ignore_ttl=True)
    assert changes == []
    changes, _ = run(read_rdb(str(FE)), events_of(converted(FE, 9)))
    libraries = {Change(None, name, "removed", ("library",), code, None)
                 for name, code in _functions(read_rdb(str(FE))).items()}
    assert len(libraries) == 2
    assert set(changes) == field_ttls | libraries


def _functions(events: Iterable[Event]) -> dict[bytes, bytes]:
    return {e.code.split(b"name=")[1].split()[0]: e.code for e in events
            if isinstance(e, Function)}


# --------------------------------------------------------------------------- AOF vs RDB

AOF_70 = sorted(p for p in (FIXTURES / "7.0.15").glob("aof-*") if p.is_dir())


@pytest.mark.parametrize("fixture", AOF_70, ids=lambda p: p.name)
def test_aof_against_the_rdb_the_server_wrote(fixture: Path, tmp_path: Path,
                                              redis_server_factory: Any) -> None:
    """redis-server 7.0.15 loads the 7.0.15 AOF fixture and SAVEs it: the AOF (replayed)
    and that RDB hold the same keys. The times a server takes from its clock while it
    replays (consumers' seen times, ...) are the only differences allowed.

    Fixture TTLs run out as days pass, so every side is read at one moment: the server's
    own clock after SAVE. A key whose TTL ends after that moment cannot have been dropped
    by the server; both files and the truth are read as of then (``no_expired``)."""
    import helpers_server
    from helpers import load_truth, tb

    binary = helpers_server.find_redis_server()
    version = helpers_server.server_version(binary) if binary else None
    if version is not None and int(version.split(".")[0]) < 7:
        pytest.skip(f"redis-server {version} cannot load a 7.0 multi-part AOF")
    truth = load_truth(fixture.parent / f"{fixture.name}.truth.json")
    server_dir = tmp_path / "redis-0"
    shutil.copytree(fixture / "appendonlydir", server_dir / "appendonlydir")
    for root, dirs, files in os.walk(server_dir):
        for name in dirs + files:
            os.chmod(os.path.join(root, name), 0o755)
    with redis_server_factory("--appendonly", "yes", "--appenddirname", "appendonlydir") as srv:
        srv.client.save()
        seconds, micros = srv.client.time()
        now = seconds * 1000 + micros // 1000
        rdb = srv.rdb_path
        assert rdb.exists()
        alive = KeyFilter(no_expired=True, now_ms=now)
        truth_keys = {(k["db"], tb(k["key"])) for k in truth["keys"]
                      if k["expire_at_ms"] is None or k["expire_at_ms"] > now}
        saved = {(r.db, r.key) for r in records(read_rdb(str(rdb)))
                 if r.expire_ms is None or r.expire_ms > now}
        assert saved == truth_keys
        changes, summary = run(fixture / "appendonlydir", rdb, ignore_stream_times=True,
                               key_filter=alive)
        assert changes == []
        assert summary.keys_equal == len(truth_keys)
        assert summary.functions_equal == len(truth["functions"] or [])
        changes, _ = run(fixture / "appendonlydir", rdb, key_filter=alive)
        assert {c.path[-1] for c in changes} <= {"seen_time_ms", "active_time_ms"}
        assert all(c.path[0] == "group" and c.change == "value" for c in changes)


def test_bullmq_aof_against_the_rdb_the_server_wrote(tmp_path: Path,
                                                    redis_server_factory: Any) -> None:
    """The BullMQ multi-part AOF (a real client's workload), replayed, holds what
    redis-server 7.0.15 holds after loading it, both read at the server's clock after
    SAVE (its lock keys' TTLs pass quickly)."""
    from helpers import EXTERNAL

    aof = EXTERNAL.parent / "bullmq-7.0.15" / "appendonlydir"
    if not aof.is_dir():
        pytest.skip(f"{aof} is absent")
    shutil.copytree(aof, tmp_path / "redis-0" / "appendonlydir")
    for root, dirs, files in os.walk(tmp_path / "redis-0"):
        for name in dirs + files:
            os.chmod(os.path.join(root, name), 0o755)
    with redis_server_factory("--appendonly", "yes", "--appenddirname", "appendonlydir") as srv:
        srv.client.save()
        seconds, micros = srv.client.time()
        alive = KeyFilter(no_expired=True, now_ms=seconds * 1000 + micros // 1000)
        changes, summary = run(aof, srv.rdb_path, ignore_stream_times=True, key_filter=alive)
        assert changes == []
        assert summary.keys_equal > 1000


# --------------------------------------------------------------------------- mutations


def value_events(r: Record) -> list[Event]:
    v: Any = r.value
    if r.type == "string":
        return [StringValue(v)]
    if r.type == "list":
        return [ListItems(tuple(v))]
    if r.type == "set":
        return [SetMembers(tuple(v))]
    if r.type == "zset":
        return [ZSetMembers(tuple(v))]
    if r.type == "hash":
        return [HashFields(tuple(v))]
    if r.type == "stream":
        out: list[Event] = [StreamEntries(v.entries)]
        if v.meta is not None:
            out.append(dataclasses.replace(v.meta, length=len(v.entries)))
        out.extend(v.groups)
        return out
    raise AssertionError(r.type)


def write_records(recs: Iterable[Record], functions: Iterable[bytes]) -> bytes:
    out = io.BytesIO()
    w = RdbWriter(out, 12)
    for code in functions:
        w.write(Function(code))
    for r in recs:
        w.write(KeyStart(r.db, r.key, r.type, "", 0, expire_ms=r.expire_ms))
        for ev in value_events(r):
            w.write(ev)
        w.write(KeyEnd(r.key, 0, 0))
    w.close()
    return out.getvalue()


def _ch(key: bytes, change: str, path: tuple[Any, ...] = (), a: Any = None, b: Any = None,
        db: int | None = 0) -> Change:
    return Change(db, key, change, path, a, b)


@pytest.fixture(scope="module")
def mutated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, set[Change]]:
    """The 7.4.1 fixture rewritten by RdbWriter as it is (A) and with known changes (B),
    and the set of changes expected from A to B."""
    base = tmp_path_factory.mktemp("mutated")
    recs = {(r.db, r.key): r for r in records(read_rdb(str(FE)))}
    funcs = _functions(read_rdb(str(FE)))
    (base / "a.rdb").write_bytes(write_records(recs.values(), funcs.values()))
    want: set[Change] = set()
    new = dict(recs)

    def put(r: Record, **changes: Any) -> None:
        new[(r.db, r.key)] = dataclasses.replace(r, **changes)

    # keys: removed, added, type, TTL set and removed, string value
    del new[(0, b"str:short")]
    want.add(_ch(b"str:short", "removed", a="string"))
    put(Record(15, b"new:key", "string", "", b"fresh"))
    want.add(_ch(b"new:key", "added", b="string", db=15))
    small = recs[(0, b"list:small")]
    put(small, type="set", value=sorted(set(small.value)))  # type: ignore[arg-type]
    want.add(_ch(b"list:small", "type", a="list", b="set"))
    put(recs[(0, b"str:len63")], expire_ms=4102444800000)
    want.add(_ch(b"str:len63", "ttl", a=None, b=4102444800000))
    px = recs[(0, b"ttl:px")]
    put(px, expire_ms=None)
    want.add(_ch(b"ttl:px", "ttl", a=px.expire_ms, b=None))
    put(recs[(0, b"str:empty")], value=b"now set")
    want.add(_ch(b"str:empty", "value", a=b"", b=b"now set"))
    # hash fields: removed, added, changed, field TTL set and removed
    h: list[Any] = [x for x in recs[(0, b"hash:small")].value if x[0] != b"f1"]  # type: ignore[union-attr]
    h = [(f, b"54321" if f == b"int" else v, t) for f, v, t in h] + [(b"newf", b"nv", None)]
    put(recs[(0, b"hash:small")], value=h)
    want |= {_ch(b"hash:small", "removed", ("field", b"f1"), a=b"v1"),
             _ch(b"hash:small", "added", ("field", b"newf"), b=b"nv"),
             _ch(b"hash:small", "value", ("field", b"int"), a=b"12345", b=b"54321")}
    fe = recs[(0, b"hash:fe:small")]
    put(fe, value=[(f, v, 4102444800000 if f == b"f0" else None if f == b"f2" else t)
                   for f, v, t in fe.value])  # type: ignore[misc, union-attr]
    want |= {_ch(b"hash:fe:small", "ttl", ("field", b"f0"), a=None, b=4102444800000),
             _ch(b"hash:fe:small", "ttl", ("field", b"f2"), a=4102444800123, b=None)}
    # set members
    s = recs[(0, b"set:small")]
    put(s, value=[m for m in s.value if m != b"apple"] + [b"durian"])  # type: ignore[union-attr]
    want |= {_ch(b"set:small", "removed", ("member", b"apple")),
             _ch(b"set:small", "added", ("member", b"durian"))}
    # sorted-set members: score changed, removed, added, 0 -> -0
    z = recs[(0, b"zset:small")]
    zv: list[Any] = [(m, 7.5 if m == b"m5" else -0.0 if m == b"m0" else sc)
                     for m, sc in z.value if m != b"m11"]  # type: ignore[misc, union-attr]
    put(z, value=zv + [(b"mnew", 0.5)])
    want |= {_ch(b"zset:small", "value", ("member", b"m5"), a=-2.25, b=7.5),
             _ch(b"zset:small", "value", ("member", b"m0"), a=0.0, b=-0.0),
             _ch(b"zset:small", "removed", ("member", b"m11"), a=-math.inf),
             _ch(b"zset:small", "added", ("member", b"mnew"), b=0.5)}
    # lists: an edit script, a long changed middle, an append
    lg: list[bytes] = list(recs[(0, b"list:large")].value)  # type: ignore[arg-type]
    old5 = lg[5]
    lg[5] = b"replaced"
    lg[100:100] = [b"ins1", b"ins2"]
    put(recs[(0, b"list:large")], value=lg)
    want |= {_ch(b"list:large", "value", ("elements", 5, 6, 5, 6), a=(old5,), b=(b"replaced",)),
             _ch(b"list:large", "value", ("elements", 100, 100, 100, 102), a=(),
                 b=(b"ins1", b"ins2"))}
    comp: list[bytes] = list(recs[(0, b"list:compressible")].value)  # type: ignore[arg-type]
    comp[10:390] = [b"x%d" % i for i in range(380)]
    put(recs[(0, b"list:compressible")], value=comp)
    want.add(_ch(b"list:compressible", "value", ("range", 10, 390, 10, 390), a=400, b=400))
    ints: list[bytes] = list(recs[(0, b"list:ints")].value)  # type: ignore[arg-type]
    put(recs[(0, b"list:ints")], value=[*ints, b"999"])
    want.add(_ch(b"list:ints", "value", ("elements", 42, 42, 42, 43), a=(), b=(b"999",)))
    # stream: entries removed / added / changed, metadata, groups, PEL
    st = recs[(0, b"stream:groups")]
    sv = st.value
    assert isinstance(sv, StreamValue) and sv.meta is not None
    by_id = {e.id: e for e in sv.entries}
    entries = [e for e in sv.entries if e.id != (10, 10)]
    entries = [dataclasses.replace(e, fields=((b"job", b"changed"),)) if e.id == (10, 11)
               else e for e in entries]
    entries.append(dataclasses.replace(entries[0], id=(10, 2), fields=((b"job", b"back"),)))
    entries.sort(key=lambda e: e.id)
    g1, g2, g3 = sv.groups
    carol = next(p for p in g1.pending if p.id == (10, 6))
    g1_new = dataclasses.replace(
        g1, last_delivered_id=(10, 12), pending=tuple(p for p in g1.pending if p.id != (10, 6)),
        consumers=tuple(dataclasses.replace(c, pending=tuple(i for i in c.pending if i != (10, 6)))
                        for c in g1.consumers))
    g4 = StreamGroup(b"g4", (0, 0), 0, (), ())
    meta = dataclasses.replace(sv.meta, entries_added=30)
    put(st, value=StreamValue(tuple(entries), meta, (g1_new, g2, g4)))
    want |= {
        _ch(b"stream:groups", "removed", ("entry", "10-10"), a=by_id[(10, 10)].fields),
        _ch(b"stream:groups", "value", ("entry", "10-11"), a=by_id[(10, 11)].fields,
            b=((b"job", b"changed"),)),
        _ch(b"stream:groups", "added", ("entry", "10-2"), b=((b"job", b"back"),)),
        _ch(b"stream:groups", "value", ("meta", "entries_added"), a=23, b=30),
        _ch(b"stream:groups", "value", ("group", b"g1", "last_delivered_id"), a="10-9",
            b="10-12"),
        _ch(b"stream:groups", "removed", ("group", b"g1", "pending", "10-6"),
            a=(b"carol", carol.delivery_time_ms, carol.delivery_count)),
        _ch(b"stream:groups", "removed", ("group", b"g3"),
            a=(f"{g3.last_delivered_id[0]}-{g3.last_delivered_id[1]}", g3.entries_read, 0, 0)),
        _ch(b"stream:groups", "added", ("group", b"g4"), b=("0-0", 0, 0, 0)),
    }
    # functions: one removed, one changed
    names = sorted(funcs)
    new_funcs = {names[0]: funcs[names[0]] + b"\n-- changed\n"}
    want |= {Change(None, names[1], "removed", ("library",), funcs[names[1]], None),
             Change(None, names[0], "value", ("library",), funcs[names[0]],
                    new_funcs[names[0]])}
    (base / "b.rdb").write_bytes(write_records(new.values(), new_funcs.values()))
    return base / "a.rdb", base / "b.rdb", want


def test_mutations_come_back_exactly(mutated: tuple[Path, Path, set[Change]]) -> None:
    a, b, want = mutated
    changes, summary = run(a, b)
    assert len(changes) == len(set(changes))
    assert set(changes) - want == set()
    assert want - set(changes) == set()
    assert not summary.spilled
    keys = {(c.db, c.key) for c in want if c.db is not None}
    assert summary.keys_changed + summary.only_a + summary.only_b == len(keys)
    assert (summary.only_a, summary.only_b) == (1, 1)
    assert summary.functions_changed == 2
    zero = next(c for c in changes if c.path == ("member", b"m0"))
    assert math.copysign(1.0, zero.b) < 0  # type: ignore[arg-type]
    # the same files in the other order: every change mirrored
    back, _ = run(b, a)
    mirror = {"added": "removed", "removed": "added"}
    assert {(c.db, c.key, mirror.get(c.change, c.change), c.path, c.b, c.a)
            for c in changes} == {(c.db, c.key, c.change, c.path, c.a, c.b) for c in back
                                  if not (c.path and c.path[0] == "elements")} | {
        (c.db, c.key, c.change, c.path[:1] + (c.path[3], c.path[4], c.path[1], c.path[2]),
         c.a, c.b) for c in back if c.path and c.path[0] == "elements"}


@pytest.mark.parametrize("budget", [4000, 50_000])
def test_mutations_through_the_spill_files(mutated: tuple[Path, Path, set[Change]],
                                           budget: int, tmp_path: Path) -> None:
    a, b, want = mutated
    changes, summary = run(a, b, memory_budget=budget, tmpdir=str(tmp_path))
    assert summary.spilled
    assert set(changes) == want and len(changes) == len(want)
    assert list(tmp_path.iterdir()) == [], "the spill directory is removed"


def test_keys_only_and_ignore_ttl(mutated: tuple[Path, Path, set[Change]]) -> None:
    a, b, want = mutated
    changes, summary = run(a, b, keys_only=True)
    keys = {(c.db, c.key) for c in want}
    assert {(c.db, c.key) for c in changes} == keys and len(changes) == len(keys)
    kinds = {c.key: c.change for c in changes}
    assert kinds[b"str:short"] == "removed" and kinds[b"new:key"] == "added"
    assert kinds[b"list:small"] == "type" and kinds[b"str:len63"] == "ttl"
    assert kinds[b"hash:small"] == "value" and kinds[b"str:empty"] == "value"
    assert all(c.path == () and c.a is None and c.b is None for c in changes)
    assert {c.change for c in changes if c.db is None} == {"value", "removed"}
    changes, _ = run(a, b, ignore_ttl=True)
    assert set(changes) == {c for c in want if c.change != "ttl"}


def test_spill_cleanup_when_input_fails(tmp_path: Path) -> None:
    data = SMALL_70.read_bytes()
    cut = tmp_path / "cut.rdb"
    cut.write_bytes(data[:60000])
    spill = tmp_path / "spill"
    spill.mkdir()
    from rdbtools.errors import ParseError

    with pytest.raises(ParseError):
        run(SMALL_70, cut, memory_budget=1000, tmpdir=str(spill))
    assert list(spill.iterdir()) == []
    gen = diff_files(str(SMALL_70), str(FE), memory_budget=1000, tmpdir=str(spill))
    next(gen)
    assert len(list(spill.iterdir())) == 1
    gen.close()  # what Ctrl-C does to the CLI's loop
    assert list(spill.iterdir()) == []


def test_partition_split_keeps_every_key() -> None:
    """A partition that outgrows the budget is split again; keys neither vanish nor
    repeat."""
    rows_a = [(0, b"k%d" % i, "string", None, b"v%d" % i) for i in range(300)]
    rows_b = [(0, b"k%d" % i, "string", None, b"v%d" % i) for i in range(100, 400)]
    join = _spill.Join(rows_a, rows_b, budget=3000, partitions=2)
    pairs = list(join.pairs())
    assert join.spilled
    assert len(pairs) == 400
    both = [p for p in pairs if p[0] is not None and p[1] is not None]
    assert len(both) == 200 and all(x == y for x, y in both)
    assert sorted(p[0][1] for p in pairs if p[1] is None) == sorted(  # type: ignore[index]
        b"k%d" % i for i in range(100))


# --------------------------------------------------------------------------- rules


def key(name: bytes, type_: str, *values: Event, expire: int | None = None,
        db: int = 0) -> list[Event]:
    return [KeyStart(db, name, type_, "", 0, expire_ms=expire), *values, KeyEnd(name, 0, 0)]


def test_scores_negative_zero_and_encodings() -> None:
    a = key(b"z", "zset", ZSetMembers(((b"x", 0.0), (b"y", 1.0))))
    b = key(b"z", "zset", ZSetMembers(((b"y", 1.0),)), ZSetMembers(((b"x", -0.0),)))
    changes, _ = run(a, b)
    assert len(changes) == 1 and changes[0].path == ("member", b"x")
    same = key(b"z", "zset", ZSetMembers(((b"y", 1.0), (b"x", 0.0))))
    assert run(a, same)[0] == []


def test_strings_in_pieces_and_unordered_collections_are_equal() -> None:
    a = [*key(b"s", "string", StringValue(b"12")),
         *key(b"set", "set", SetMembers((b"1", b"2", b"3"))),
         *key(b"h", "hash", HashFields(((b"a", b"1", None), (b"b", b"2", 5))))]
    b = [*key(b"h", "hash", HashFields(((b"b", b"2", 5),)), HashFields(((b"a", b"1", None),))),
         *key(b"set", "set", SetMembers((b"3",)), SetMembers((b"2", b"1"))),
         *key(b"s", "string", StringValue(b"1"), StringValue(b"2"))]
    changes, summary = run(a, b)
    assert changes == [] and summary.keys_equal == 3


def test_stream_fields_an_older_version_lacks_are_not_compared() -> None:
    from rdbtools.events import StreamConsumer, StreamMeta

    entries = StreamEntries((dataclasses.replace(_entry(1)),))
    g_new = StreamGroup(b"g", (1, 0), 1, (), (StreamConsumer(b"c", 100, 90, ()),))
    g_old = StreamGroup(b"g", (1, 0), None, (), (StreamConsumer(b"c", 100, None, ()),))
    a = key(b"st", "stream", entries, StreamMeta(1, (1, 0), (1, 0), (0, 0), 1), g_new)
    b = key(b"st", "stream", entries, StreamMeta(1, (1, 0)), g_old)
    changes, summary = run(a, b)
    assert changes == [] and summary.keys_equal == 1
    g_seen = StreamGroup(b"g", (1, 0), 1, (), (StreamConsumer(b"c", 200, 90, ()),))
    c = key(b"st", "stream", entries, StreamMeta(1, (1, 0), (1, 0), (0, 0), 1), g_seen)
    changes, _ = run(a, c)
    assert changes == [Change(0, b"st", "value", ("group", b"g", "consumer", b"c",
                                                  "seen_time_ms"), 100, 200)]
    assert run(a, c, ignore_stream_times=True)[0] == []


def _entry(n: int) -> Any:
    from rdbtools.events import StreamEntry

    return StreamEntry((n, 0), ((b"f", b"%d" % n),))


def test_modules_and_idmp() -> None:
    a = key(b"m", "module", ModuleValue(0x1234 << 10 | 1, "x", 1, b"\x02\x01\x00"))
    b = key(b"m", "module", ModuleValue(0x1234 << 10 | 1, "x", 1, b"\x02\x02\x00"))
    changes, _ = run(a, b)
    assert changes == [Change(0, b"m", "value", ("payload",), b"\x02\x01\x00", b"\x02\x02\x00")]
    c = key(b"m", "module", ModuleValue(0x1234 << 10 | 2, "x", 2, b"\x02\x01\x00"))
    changes, _ = run(a, c)
    assert [x.path for x in changes] == [("module",)]
    assert changes[0].a != changes[0].b
    i1 = key(b"s", "stream", StreamEntries(()), StreamIdmp(10, 5, (), 1, 0))
    i2 = key(b"s", "stream", StreamEntries(()), StreamIdmp(10, 5, (), 2, 0))
    changes, _ = run(i1, i2)
    assert [x.path for x in changes] == [("idmp",)]


def test_list_edit_script_and_range() -> None:
    base = tuple(b"e%d" % i for i in range(1000))
    edited = base[:10] + (b"new",) + base[12:]
    changes, _ = run(key(b"l", "list", ListItems(base)), key(b"l", "list", ListItems(edited)))
    assert changes == [Change(0, b"l", "value", ("elements", 10, 12, 10, 11),
                              (b"e10", b"e11"), (b"new",))]
    far = base[:3] + tuple(reversed(base[3:-3])) + base[-3:]
    assert len(base) - 6 > LIST_SCRIPT_LIMIT
    changes, _ = run(key(b"l", "list", ListItems(base)), key(b"l", "list", ListItems(far)))
    assert changes == [Change(0, b"l", "value", ("range", 3, 997, 3, 997), 1000, 1000)]
    shorter = base[:500]
    changes, _ = run(key(b"l", "list", ListItems(base)), key(b"l", "list", ListItems(shorter)))
    assert changes == [Change(0, b"l", "value", ("range", 500, 1000, 500, 500), 1000, 500)]


def test_type_change_and_ttl_and_filters() -> None:
    a = [*key(b"k", "string", StringValue(b"1"), expire=100),
         *key(b"gone", "string", StringValue(b"x"), expire=50)]
    b = key(b"k", "list", ListItems((b"1",)), expire=200)
    changes, summary = run(a, b)
    assert changes == [Change(0, b"k", "type", (), "string", "list"),
                       Change(0, b"k", "ttl", (), 100, 200),
                       Change(0, b"gone", "removed", (), "string", None)]
    assert (summary.keys_changed, summary.only_a) == (1, 1)
    from rdbtools.ops.filters import filter_events

    kf = KeyFilter(no_expired=True, now_ms=60)
    changes, _ = run(filter_events(a, kf), filter_events(b, kf))
    assert [c.change for c in changes] == ["type", "ttl"]


# --------------------------------------------------------------------------- properties

_element = st.one_of(st.binary(max_size=24),
                     st.integers(-(2**63), 2**63 - 1).map(lambda i: b"%d" % i))
_values = {
    "string": _element,
    "list": st.lists(_element, min_size=1, max_size=40),
    "set": st.sets(_element, min_size=1, max_size=40).map(sorted),
    "zset": st.dictionaries(_element, st.floats(allow_nan=False), min_size=1,
                            max_size=40).map(lambda d: sorted(d.items())),
    "hash": st.dictionaries(_element, _element, min_size=1, max_size=40).map(
        lambda d: [(f, v, None) for f, v in sorted(d.items())]),
}
_record = st.sampled_from(sorted(_values)).flatmap(
    lambda t: st.tuples(st.just(t), _values[t],
                        st.one_of(st.none(), st.integers(1, 2**48))))
_dataset = st.dictionaries(st.tuples(st.integers(0, 2), st.binary(min_size=1, max_size=12)),
                           _record, min_size=1, max_size=25)


def _write(data: dict[Any, Any], order: int = 1) -> bytes:
    """``data`` as an RDB 12 file, keys sorted (``order`` -1: in reverse)."""
    recs = [Record(db, key, t, "", v, expire_ms=e)
            for (db, key), (t, v, e) in sorted(data.items())[::order]]
    return write_records(recs, [])


@settings(max_examples=40, deadline=None)
@given(data=_dataset, pick=st.integers(0, 10**6), op=st.sampled_from(["drop", "ttl", "value"]),
       budget=st.sampled_from([1 << 30, 300]))
def test_random_datasets(data: dict[Any, Any], pick: int, op: str, budget: int) -> None:
    """Random data written as RDB 9 and as RDB 12 (other encodings, other key order) is
    equal; one change to it is found, alone, in memory and through the spill files."""
    out9 = io.BytesIO()
    convert(events_of(_write(data)), out9, version=9)
    changes, summary = run(events_of(out9.getvalue()), events_of(_write(data, -1)),
                           memory_budget=budget)
    assert changes == [] and summary.keys_equal == len(data)
    (db, key), (t, v, e) = sorted(data.items())[pick % len(data)]
    other = dict(data)
    if op == "drop":
        del other[(db, key)]
        want = Change(db, key, "removed", (), t, None)
    elif op == "ttl":
        other[(db, key)] = (t, v, None if e else 5)
        want = Change(db, key, "ttl", (), e, None if e else 5)
    elif t == "string":
        other[(db, key)] = (t, v + b"!", e)
        want = Change(db, key, "value", (), v, v + b"!")
    else:
        other[(db, key)] = ("string", b"was a " + t.encode(), e)
        want = Change(db, key, "type", (), t, "string")
    changes, summary = run(events_of(out9.getvalue()), events_of(_write(other)),
                           memory_budget=budget)
    assert changes == [want]
    assert summary.differ


def _apply(a: list[bytes], changes: list[Change], b_len: int) -> list[bytes]:
    """Apply list changes (edit-script steps or a range) to ``a``; a range can only be
    checked around its ends, so its middle is taken as unknown (``None``)."""
    out: list[Any] = list(a)
    for c in sorted(changes, key=lambda c: -int(c.path[1])):  # type: ignore[arg-type]
        _, i1, i2, j1, j2 = c.path
        if c.path[0] == "elements":
            assert tuple(out[i1:i2]) == c.a  # type: ignore[misc]
            out[i1:i2] = list(c.b)  # type: ignore[call-overload, misc]
        else:
            assert (c.a, c.b) == (len(a), b_len)
            out[i1:i2] = [None] * (int(j2) - int(j1))  # type: ignore[misc]
    return out


@settings(max_examples=60, deadline=None)
@given(a=st.lists(st.sampled_from([b"x", b"y", b"z"]), max_size=300),
       b=st.lists(st.sampled_from([b"x", b"y", b"z"]), max_size=300),
       pad=st.sampled_from([0, 4095, 4096, 9000]))
def test_list_changes_rebuild_b(a: list[bytes], b: list[bytes], pad: int) -> None:
    """Applying the reported list changes to A gives B (long common runs around them,
    across the chunk size, included)."""
    head = [b"h%d" % i for i in range(pad)]
    tail = [b"t%d" % i for i in range(pad // 2)]
    la, lb = head + a + tail, head + b + tail
    changes, _ = run(key(b"l", "list", ListItems(tuple(la))),
                     key(b"l", "list", ListItems(tuple(lb))))
    if la == lb:
        assert changes == []
        return
    rebuilt = _apply(la, changes, len(lb))
    assert len(rebuilt) == len(lb)
    assert all(x is None or x == y for x, y in zip(rebuilt, lb))
    ranges = [c for c in changes if c.path[0] == "range"]
    assert len(ranges) <= 1 and (not ranges or len(changes) == 1)
    if ranges:
        _, p, end_a, _, end_b = ranges[0].path
        assert la[:p] == lb[:p] and la[end_a:] == lb[end_b:]  # type: ignore[misc]
        assert la[p] != lb[p] or p == min(len(la), len(lb))  # type: ignore[index]


def test_int_encoded_string_equals_raw_and_old_scores_equal_binary() -> None:
    """Hand-made one-key files: ``12`` as RDB INT8 and as raw text; a sorted-set score
    ``1`` stored as text (type 3, RDB 7) and as a binary double (type 5, RDB 8)."""
    from helpers import rdb_string, tiny_rdb

    as_int = tiny_rdb(b"REDIS0009", 0, b"k", b"\xc0\x0c")
    as_text = tiny_rdb(b"REDIS0009", 0, b"k", rdb_string(b"12"))
    assert run(events_of(as_int), events_of(as_text))[0] == []
    other = tiny_rdb(b"REDIS0009", 0, b"k", rdb_string(b"012"))
    assert run(events_of(as_int), events_of(other))[0] == [
        Change(0, b"k", "value", (), b"12", b"012")]
    text_score = tiny_rdb(b"REDIS0007", 3, b"z", b"\x01" + rdb_string(b"m") + b"\x011")
    binary_score = tiny_rdb(b"REDIS0008", 5, b"z",
                            b"\x01" + rdb_string(b"m") + struct.pack("<d", 1.0))
    assert run(events_of(text_score), events_of(binary_score))[0] == []
