"""The reader against a live server: what a real ``redis-server`` holds, it SAVEs, and
``read_rdb`` reads back exactly that.

Uses the ``redis_server`` fixture (Debian's redis-server 7.0.15 in CI): a fixed dataset that
covers every type and the encodings that server chooses (including streams with consumer
groups and a PEL), then hypothesis-generated datasets.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import helpers
import pytest
from helpers import SKIP
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def _client(server: Any, db: int) -> Any:
    import redis

    return redis.Redis(host="127.0.0.1", port=server.port, db=db, socket_timeout=30)


def _sid(v: Any) -> tuple[int, int]:
    if isinstance(v, bytes):
        v = v.decode()
    return helpers.sid(v)


def server_state(server: Any, dbs: list[int]) -> dict[tuple[int, bytes], dict[str, Any]]:
    """Canonical form of every key the server holds (as ``helpers.canon_record`` makes)."""
    out: dict[tuple[int, bytes], dict[str, Any]] = {}
    for db in dbs:
        r = _client(server, db)
        for key in r.scan_iter(count=1000):
            t = r.type(key).decode()
            canon: dict[str, Any] = {"type": t, "field_expires": []}
            if t == "string":
                canon["value"] = r.get(key)
            elif t == "list":
                canon["value"] = r.lrange(key, 0, -1)
            elif t == "set":
                canon["value"] = sorted(r.smembers(key))
            elif t == "zset":
                canon["value"] = helpers._zset(r.zrange(key, 0, -1, withscores=True))
            elif t == "hash":
                canon["value"] = sorted(r.hgetall(key).items())
            elif t == "stream":
                canon["value"] = _stream_state(r, key)
            pexp = r.execute_command("PEXPIRETIME", key)
            canon["expire_ms"] = None if pexp < 0 else int(pexp)
            out[(db, key)] = canon
        r.close()
    return out


def _stream_state(r: Any, key: bytes) -> dict[str, Any]:
    info = r.xinfo_stream(key)
    groups: dict[bytes, Any] = {}
    for g in r.xinfo_groups(key):
        name = g["name"]
        pending = r.xpending_range(key, name, "-", "+", 100000)
        consumers = {}
        for c in r.xinfo_consumers(key, name):
            mine = r.xpending_range(key, name, "-", "+", 100000, consumername=c["name"])
            consumers[c["name"]] = {
                "seen_time_ms": SKIP,
                "active_time_ms": SKIP,
                "pending": sorted(_sid(p["message_id"]) for p in mine),
            }
        groups[name] = {
            "last_delivered_id": _sid(g["last-delivered-id"]),
            "entries_read": helpers._entries_read(g.get("entries-read")),
            "pending": sorted(
                (_sid(p["message_id"]), p["consumer"], SKIP, int(p["times_delivered"]))
                for p in pending
            ),
            "consumers": consumers,
        }
    entries = [(_sid(i), tuple(zip(f[::2], f[1::2]))) for i, f in _raw_xrange(r, key)]
    return {
        "entries": entries,
        "length": int(info["length"]),
        "last_id": _sid(info["last-generated-id"]),
        "first_id": _sid(info["recorded-first-entry-id"])
        if "recorded-first-entry-id" in info
        else SKIP,
        "max_deleted_id": _sid(info["max-deleted-entry-id"])
        if "max-deleted-entry-id" in info
        else SKIP,
        "entries_added": int(info["entries-added"]) if "entries-added" in info else SKIP,
        "groups": groups,
    }


def _raw_xrange(r: Any, key: bytes) -> list[tuple[bytes, list[bytes]]]:
    """XRANGE as the server sends it (redis-py folds the fields into a dict, which would
    hide duplicate field names)."""
    try:
        conn = r.connection_pool.get_connection()
    except TypeError:  # redis-py < 5.3 wants a command name
        conn = r.connection_pool.get_connection("XRANGE")
    try:
        conn.send_command("XRANGE", key, "-", "+")
        reply = conn.read_response()
    finally:
        r.connection_pool.release(conn)
    return [(i, list(f)) for i, f in reply]


def save_and_read(server: Any) -> tuple[helpers.ReadResult, Path]:
    server.client.save()
    path = server.rdb_path
    assert path.is_file(), f"no dump.rdb after SAVE in {server.dir}"
    return helpers.read_all(str(path)), path


def compare_with_server(server: Any, dbs: list[int]) -> list[str]:
    want = server_state(server, dbs)
    res, path = save_and_read(server)
    assert res.error is None, f"{path}: {res.error}"
    records = helpers.records_of(res.events)
    got, problems = helpers.library_keys(records)
    for k, w in want.items():
        g = got.get(k)
        if g is None:
            problems.append(f"db={k[0]} key={k[1]!r}: missing from the RDB")
            continue
        kp: list[str] = []
        helpers.compare(w, g, "", kp)
        problems += [f"db={k[0]} key={k[1]!r}: {p}" for p in kp]
    problems += [f"db={k[0]} key={k[1]!r}: not on the server" for k in got if k not in want]
    return problems


def fill_fixed(server: Any) -> None:
    r = server.client
    r.set("str:short", "hello")
    r.set("str:int", 12345)
    r.set("str:int64", -(2**63))
    r.set("str:bin", b"\x00\xff\r\n\xfe")
    r.set("str:lzf", "abcdefgh" * 4000)
    r.set(b"key:bin\x00\xff", "v")
    r.set("str:ttl", "t", px=10**9)
    r.execute_command("PEXPIREAT", "str:ttl", 4102444800123)
    r.rpush("list:small", "a", 1, -2, 300, 70000, 2**40, "b" * 70)
    r.rpush("list:large", *[f"item{i}" for i in range(2000)])
    r.rpush("list:big", "x" * 10000, "y")
    r.sadd("set:int", 1, 2, 3, 70000, 2**40)
    r.sadd("set:small", "a", "b", "c")
    r.sadd("set:large", *[f"m{i}" for i in range(1000)])
    r.zadd("zset:small", {"a": 1.5, "b": float("inf"), "c": float("-inf"), "d": -0.0, "e": 2**53})
    r.zadd("zset:large", {f"m{i}": i / 7 for i in range(500)})
    r.hset("hash:small", mapping={"f1": "v1", "f2": 2, "f3": ""})
    r.hset("hash:large", mapping={f"f{i}": f"v{i}" * (i % 5) for i in range(1000)})
    r.expire("hash:large", 10**6)
    for i in range(1, 30):
        r.xadd("stream:s", {"f": i, "g": "x" * (i % 3)}, id=f"{1000 + i}-{i % 4}")
    r.xadd("stream:s", {"other": "fields"}, id="2000-0")
    r.xdel("stream:s", "1002-2")
    r.xgroup_create("stream:s", "g1", id="0")
    r.xgroup_create("stream:s", "g2", id="$")
    r.xreadgroup("g1", "alice", {"stream:s": ">"}, count=5)
    r.xreadgroup("g1", "bob", {"stream:s": ">"}, count=3)
    r.xack("stream:s", "g1", "1003-3")
    r.xclaim("stream:s", "g1", "carol", 0, ["1004-0"])
    r.xgroup_createconsumer("stream:s", "g2", "idle")
    top = 2**64 - 1  # ids near the top: deltas from the node's master id wrap mod 2^64
    r.xadd("stream:max", {"a": 1}, id=f"{top - 1}-{top - 3}")
    r.xadd("stream:max", {"a": 2}, id=f"{top}-0")
    r.xadd("stream:max", {"b": 3}, id=f"{top}-{top}")
    r.xadd("stream:empty", {"a": 1}, id="5-5")
    r.xdel("stream:empty", "5-5")
    r1 = _client(server, 1)
    r1.set("str:short", "db1")
    r1.rpush("list:small", "db1")
    r1.close()
    r15 = _client(server, 15)
    r15.hset("h", "f", "v")
    r15.close()


def test_fixed_dataset_round_trip(redis_server: Any) -> None:
    fill_fixed(redis_server)
    problems = compare_with_server(redis_server, [0, 1, 15])
    assert not problems, "\n".join(problems[:40])


def test_rdb_file_facts(redis_server: Any) -> None:
    from rdbtools.events import Aux, End, Header

    redis_server.client.set("k", "v")
    res, path = save_and_read(redis_server)
    assert res.error is None, res.error
    header = res.events[0]
    assert isinstance(header, Header) and header.magic == "REDIS"
    assert header.version == int(path.read_bytes()[5:9])
    aux = {bytes(e.name): bytes(e.value) for e in res.events if isinstance(e, Aux)}
    version = redis_server.version or ""
    assert aux.get(b"redis-ver", aux.get(b"valkey-ver")) == version.encode(), aux
    end = res.events[-1]
    assert isinstance(end, End) and end.checksum_state == "ok"
    assert end.offset + 9 == path.stat().st_size


_bytes = st.binary(min_size=0, max_size=40)
_member = st.one_of(_bytes, st.integers(-(2**63), 2**63 - 1).map(lambda i: str(i).encode()))
_value = st.one_of(
    st.tuples(st.just("string"), st.one_of(_member, st.binary(min_size=100, max_size=3000))),
    st.tuples(st.just("list"), st.lists(_member, min_size=1, max_size=300)),
    st.tuples(st.just("set"), st.lists(_member, min_size=1, max_size=300, unique=True)),
    st.tuples(
        st.just("zset"),
        st.dictionaries(
            _member,
            st.floats(allow_nan=False, width=64) | st.integers(-(2**53), 2**53),
            min_size=1,
            max_size=200,
        ),
    ),
    st.tuples(st.just("hash"), st.dictionaries(_member, _member, min_size=1, max_size=200)),
    st.tuples(
        st.just("stream"),
        st.tuples(
            st.lists(
                st.tuples(
                    st.integers(0, 3),  # ms step
                    st.lists(st.tuples(_member, _member), min_size=1, max_size=6),
                ),
                min_size=1,
                max_size=250,
            ),
            st.lists(st.integers(0, 300), max_size=20),  # entries to delete (by index)
            st.lists(st.tuples(st.integers(0, 2), st.integers(1, 50)), max_size=6),  # reads
        ),
    ),
)


def _write_stream(p: Any, key: bytes, value: Any) -> None:
    entries, deletes, reads = value
    ids = []
    ms = 1
    for i, (step, fields) in enumerate(entries):
        ms += step
        eid = f"{ms}-{i}"
        ids.append(eid)
        p.execute_command("XADD", key, eid, *[x for pair in fields for x in pair])
    for d in deletes:
        if d < len(ids):
            p.xdel(key, ids[d])
    if reads:
        p.xgroup_create(key, "g", id="0")
        for consumer, count in reads:
            p.xreadgroup("g", f"c{consumer}", {key: ">"}, count=count)


@settings(
    max_examples=int(os.environ.get("RDBTOOLS_LIVE_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(
    st.dictionaries(
        st.binary(min_size=1, max_size=24),
        st.tuples(_value, st.booleans()),
        min_size=1,
        max_size=12,
    )
)
def test_random_datasets_round_trip(redis_server: Any, dataset: dict[bytes, Any]) -> None:
    r = redis_server.client
    r.flushall()
    p = r.pipeline(transaction=False)
    for key, ((kind, value), ttl) in dataset.items():
        if kind == "string":
            p.set(key, value)
        elif kind == "list":
            p.rpush(key, *value)
        elif kind == "set":
            p.sadd(key, *value)
        elif kind == "zset":
            p.zadd(key, value)
        elif kind == "hash":
            p.hset(key, mapping=value)
        else:
            _write_stream(p, key, value)
        if ttl:
            p.pexpireat(key, 4102444800000 + len(key))
    p.execute()
    problems = compare_with_server(redis_server, [0])
    assert not problems, "\n".join(problems[:40])


def test_plain_quicklist_node(redis_server_factory: Any) -> None:
    """A quicklist PLAIN node (7.0+: an element above the packed threshold)."""
    with redis_server_factory("--enable-debug-command", "yes") as server:
        r = server.client
        if int((server.version or "0").split(".")[0]) < 7:
            pytest.skip(f"redis-server {server.version} has no PLAIN quicklist nodes")
        r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1000")
        r.rpush("list:plain", "a", "b" * 3000, "c", "d" * 1500)
        problems = compare_with_server(server, [0])
        assert not problems, "\n".join(problems[:40])
        res = helpers.read_case.__wrapped__(server.rdb_path)
        enc = [e.encoding for e in helpers.records_of(res.events)]
        assert enc == ["quicklist"], enc
