"""``aoftool rewrite`` against Debian's ``/usr/bin/redis-server`` 7.0.15: the rewrite of
an AOF, in each format, loads into the server with the same ``DEBUG DIGEST`` (keys,
values, TTLs), key counts, function libraries and stream groups (PEL included) as the
original AOF loaded the same way, both servers running side by side.

Inputs: every 7.0.15 AOF fixture, and AOFs made here by driving a live server with
``appendonly yes`` through a seeded random workload (strings, lists, sets, sorted sets,
hashes, streams with consumer groups, expires, deletes, overwrites, two databases, a
``BGREWRITEAOF`` half way so that the AOF has a base and an incr file).

``aof`` and ``preamble`` outputs are loaded as the server expects them: the multi-part
directory rewritten in place (``appendonlydir/`` with its manifest); ``rdb`` output as
``dbfilename``. Skipped with the reason shown when no server is there, failed when
``CI=true``.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from helpers_server import as_dict, raw
from test_aof_support import REDIS_SERVER, aof_fixtures, copy_tree, server_available

from rdbtools.ops.aof_rewrite import aof_rewrite

FORMATS = ("aof", "preamble", "rdb")
FIXTURES_70 = [f for f in aof_fixtures() if f.id.startswith("7.0.15/")]


def _need_server() -> None:
    why = server_available()
    if why is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {why}", pytrace=False)
        pytest.skip(why)


@contextmanager
def serve(directory: Path, *, aof: bool) -> Iterator[Any]:
    """A server on ``directory``: ``appendonly yes`` (it loads ``appendonlydir/``) or
    ``appendonly no`` with ``dbfilename dump.rdb``."""
    from helpers_server import start_redis_server

    args = ["--enable-debug-command", "local", "--appendonly", "yes" if aof else "no"]
    with start_redis_server(directory, *args, binary=REDIS_SERVER) as server:
        yield server




def state(client: Any) -> dict[str, Any]:
    """What is compared: the digest, keys per database, function code, and per stream
    its ids, counters and groups (consumer seen / active times left out: XCLAIM sets
    them to the time of the call, as in the server's own rewrite)."""
    import redis

    out: dict[str, Any] = {
        "digest": raw(client, "DEBUG", "DIGEST"),
        "keyspace": {db: v["keys"] for db, v in client.info("keyspace").items()},
        "expires": {db: v["expires"] for db, v in client.info("keyspace").items()},
        "functions": sorted(as_dict(lib)[b"library_code"]
                            for lib in raw(client, "FUNCTION", "LIST", "WITHCODE")),
    }
    kw = client.connection_pool.connection_kwargs
    streams = {}
    for name in client.info("keyspace"):
        db = int(name[2:])
        c = redis.Redis(host=kw["host"], port=kw["port"], db=db, protocol=2)
        for key in c.scan_iter(_type="stream"):
            info = as_dict(raw(c, "XINFO", "STREAM", key, "FULL"))
            groups = []
            for g in info[b"groups"]:
                gd = as_dict(g)
                consumers = sorted((cd[b"name"], [p[0] for p in cd[b"pending"]])
                                   for cd in map(as_dict, gd[b"consumers"]))
                groups.append((gd[b"name"], gd[b"last-delivered-id"], gd[b"entries-read"],
                               sorted(map(tuple, gd[b"pending"])), consumers))
            streams[(db, key)] = (info[b"last-generated-id"], info[b"entries-added"],
                                  info[b"max-deleted-entry-id"], info[b"length"],
                                  sorted(groups))
        c.close()
    out["streams"] = streams
    return out


def _layouts(tmp: Path, source: Path) -> dict[str, tuple[Path, bool]]:
    """The original and its three rewrites, each in a server directory:
    ``name -> (directory, loaded as AOF)``."""
    out = {}
    orig = tmp / "original"
    orig.mkdir()
    copy_tree(source, orig / "appendonlydir")
    out["original"] = (orig, True)
    for fmt in FORMATS:
        d = tmp / fmt
        d.mkdir()
        if fmt == "rdb":
            report = aof_rewrite(str(source), output=str(d / "dump.rdb"), format="rdb")
            out[fmt] = (d, False)
        else:
            copy = copy_tree(source, d / "appendonlydir")
            report = aof_rewrite(str(copy), format=fmt)
            names = sorted(os.listdir(copy))
            assert len(names) == 3 and names[-1] == "appendonly.aof.manifest", names
            out[fmt] = (d, True)
        assert report.losses == (), report.losses
        assert report.keys > 0
    return out


def assert_same_when_loaded(tmp: Path, source: Path) -> dict[str, Any]:
    layouts = _layouts(tmp, source)
    with ExitStack() as stack:
        servers = {name: stack.enter_context(serve(d, aof=aof))
                   for name, (d, aof) in layouts.items()}
        states = {name: state(s.client) for name, s in servers.items()}
    want = states.pop("original")
    assert want["keyspace"], "the original loaded no keys"
    for name, got in states.items():
        for what in want:
            assert got[what] == want[what], f"{name}: {what} differs"
    return want


@pytest.mark.parametrize("fx", [pytest.param(f, id=f.id) for f in FIXTURES_70])
def test_fixture_rewrites_load_with_the_same_digest(fx: Any, tmp_path: Path) -> None:
    _need_server()
    assert_same_when_loaded(tmp_path, fx.path)


# --------------------------------------------------------------------------- workload


_FAMILY = {"str": (*range(0, 6), 49, 52), "list": (*range(6, 14), 46),
           "set": (*range(14, 19), 47), "zset": (*range(19, 24), 48), "hash": range(24, 29),
           "stream": (*range(29, 38), 44, 45, 51), "any": (*range(38, 44), 50)}
OPS = 53


def _workload(rng: random.Random, clients: list[Any], n: int) -> None:
    """``n`` seeded random writes, pipelined, some in MULTI blocks. Each operation works
    on keys of its own family (10 per type); one in twenty picks a key of any family
    (overwrites, WRONGTYPE errors: the AOF holds only what succeeded)."""
    pools = {f: [f"{f}:{i}" for i in range(10)] for f in _FAMILY}
    every = [k for pool in pools.values() for k in pool]
    now_ms = int(time.time() * 1000)
    members = [f"m{i}" for i in range(30)] + ["", "x" * 70, "\r\n\x00\xff"]
    groups = ["g1", "g2"]
    done = 0
    while done < n:
        c = rng.choice(clients)
        pipe = c.pipeline(transaction=rng.random() < 0.1)
        for _ in range(50):
            op = rng.randrange(OPS)
            family = next(f for f, ops in _FAMILY.items() if op in ops)
            pool = every if family == "any" or rng.random() < 0.05 else pools[family]
            k = rng.choice(pool)
            m = rng.choice(members)
            r = rng.random()
            _one(pipe, op, k, m, r, rng, pool, groups, now_ms)
            done += 1
        pipe.execute(raise_on_error=False)


def _one(pipe: Any, op: int, k: str, m: str, r: float, rng: random.Random, keys: list[str],
         groups: list[str], now_ms: int) -> None:
    members = [f"m{i}" for i in range(30)] + ["", "x" * 70]
    if op == 0:
        pipe.set(k, m * rng.randrange(1, 4))
    elif op == 1:
        pipe.set(k, rng.randrange(-1000, 1000), ex=rng.randrange(5000, 90000))
    elif op == 2:
        pipe.append(k, m)
    elif op == 3:
        pipe.incrby(k, rng.randrange(-5, 50))
    elif op == 4:
        pipe.incrbyfloat(k, rng.choice([0.5, -1.25, 3e-3]))
    elif op == 5:
        pipe.setrange(k, rng.randrange(0, 10), m)
    elif op == 6:
        pipe.rpush(k, *rng.sample(members, rng.randrange(1, 6)))
    elif op == 7:
        pipe.lpush(k, *([m] * rng.randrange(1, 90)))
    elif op == 8:
        pipe.lpop(k, rng.randrange(1, 3) if r < 0.5 else None)
    elif op == 9:
        pipe.rpop(k)
    elif op == 10:
        pipe.lrem(k, rng.randrange(-2, 3), m)
    elif op == 11:
        pipe.ltrim(k, rng.randrange(0, 3), rng.randrange(-5, 60))
    elif op == 12:
        pipe.linsert(k, "BEFORE" if r < 0.5 else "AFTER", m, "ins")
    elif op == 13:
        pipe.lmove(k, rng.choice(keys), "LEFT", "RIGHT")
    elif op == 14:
        pipe.sadd(k, *rng.sample(members, rng.randrange(1, 8)))
    elif op == 15:
        pipe.sadd(k, *[str(rng.randrange(-100, 10**6)) for _ in range(5)])
    elif op == 16:
        pipe.srem(k, m)
    elif op == 17:
        pipe.spop(k, rng.randrange(1, 3) if r < 0.5 else None)
    elif op == 18:
        pipe.smove(k, rng.choice(keys), m)
    elif op == 19:
        pipe.zadd(k, {x: rng.choice([1.5, -2, 0, 1e300, float("inf"), rng.random()])
                      for x in rng.sample(members, rng.randrange(1, 6))})
    elif op == 20:
        pipe.zincrby(k, rng.randrange(-3, 4), m)
    elif op == 21:
        pipe.zrem(k, m)
    elif op == 22:
        pipe.zpopmin(k, rng.randrange(1, 3))
    elif op == 23:
        pipe.zremrangebyscore(k, "-inf", r)
    elif op == 24:
        pipe.hset(k, mapping={x: rng.randrange(100) for x in
                              rng.sample(members, rng.randrange(1, 7))})
    elif op == 25:
        pipe.hdel(k, m)
    elif op == 26:
        pipe.hincrby(k, m, rng.randrange(-9, 9))
    elif op == 27:
        pipe.hincrbyfloat(k, m, 1.5)
    elif op == 28:
        pipe.hsetnx(k, m, "nx")
    elif op == 29:
        pipe.xadd(k, {"f": m, "n": str(rng.randrange(99))},
                  maxlen=rng.choice([None, 5, 50]), approximate=False)
    elif op == 30:
        pipe.xadd(k, {"f": m}, id=f"{now_ms + rng.randrange(10**6)}-{rng.randrange(5)}")
    elif op == 31:
        pipe.execute_command("XDEL", k, f"{now_ms + rng.randrange(10**6)}-0")
    elif op == 32:
        pipe.xtrim(k, maxlen=rng.randrange(0, 10), approximate=False)
    elif op == 33:
        pipe.xgroup_create(k, rng.choice(groups), id=rng.choice(["0", "$"]), mkstream=r < 0.5)
    elif op in (34, 35):
        pipe.xreadgroup(rng.choice(groups), f"c{rng.randrange(3)}", {k: ">"},
                        count=rng.randrange(1, 4))
    elif op == 36:
        pipe.execute_command("XAUTOCLAIM", k, rng.choice(groups), f"c{rng.randrange(3)}", 0,
                             "0-0", "COUNT", 2)
    elif op == 37:
        pipe.xgroup_createconsumer(k, rng.choice(groups), f"c{rng.randrange(5)}")
    elif op == 38:
        pipe.expire(k, rng.randrange(3600, 86400))
    elif op == 39:
        pipe.pexpireat(k, now_ms + rng.randrange(10**7, 10**9))
    elif op == 40:
        pipe.persist(k)
    elif op == 41:
        pipe.delete(k, rng.choice(keys))
    elif op == 42:
        pipe.rename(k, rng.choice(keys))
    elif op == 43:
        pipe.mset({k: m, rng.choice(keys): "mset"})
    elif op == 44:
        pipe.execute_command("XGROUP", "SETID", k, rng.choice(groups), rng.choice(["0", "$"]))
    elif op == 45:
        pipe.execute_command("XGROUP", "DELCONSUMER", k, rng.choice(groups),
                             f"c{rng.randrange(3)}")
    elif op == 46:
        pipe.lset(k, rng.randrange(-3, 3), m)
    elif op == 47:
        pipe.sunionstore(k, rng.choice(keys), rng.choice(keys))
    elif op == 48:
        pipe.zunionstore(k, [rng.choice(keys), rng.choice(keys)],
                         aggregate=rng.choice(["SUM", "MIN", "MAX"]))
    elif op == 49:
        pipe.getex(k, ex=rng.randrange(5000, 9000)) if r < 0.5 else pipe.getex(k, persist=True)
    elif op == 50:
        pipe.copy(k, rng.choice(keys), replace=r < 0.5)
    elif op == 51:
        if r < 0.2:
            pipe.xgroup_destroy(k, rng.choice(groups))
    else:
        pipe.set(k, m, keepttl=True, get=r < 0.5)


PEL_KEYS = ("pel:mid", "pel:head", "pel:all")


def _pending_of_deleted(c: Any, tag: str) -> None:
    """Streams whose PEL holds entries that were deleted (XDEL in the middle, XTRIM at
    the head, all of them): the server's own rewrite would lose those PEL entries."""
    for key, drop in ((f"pel:mid:{tag}", ("XDEL", "1-2")),
                      (f"pel:head:{tag}", ("XTRIM", "MAXLEN", "1")),
                      (f"pel:all:{tag}", ("XTRIM", "MAXLEN", "0"))):
        for n in (1, 2, 3):
            c.xadd(key, {"n": n}, id=f"1-{n}")
        c.xgroup_create(key, "g", id="0")
        c.xreadgroup("g", "alice", {key: ">"})
        c.execute_command(drop[0], key, *drop[1:])


def _server_aof(tmp: Path, seed: int, preamble: bool) -> Path:
    """Drive a live server through the workload; return a copy of its appendonlydir."""
    import redis
    from helpers_server import start_redis_server

    d = tmp / "live"
    args = ["--appendonly", "yes", "--appendfsync", "no", "--aof-use-rdb-preamble",
            "yes" if preamble else "no", "--aof-timestamp-enabled",
            "no" if preamble else "yes"]
    rng = random.Random(seed)
    with start_redis_server(d, *args, binary=REDIS_SERVER) as server:
        kw = server.client.connection_pool.connection_kwargs
        clients = [redis.Redis(host=kw["host"], port=kw["port"], db=db) for db in (0, 0, 1)]
        raw(server.client, "FUNCTION", "LOAD",
            "#!lua name=wl\nredis.register_function('wlf', function() return 1 end)")
        if preamble:
            # in an RDB base; a RESP base would be the server's own rewrite, which loses
            # these PEL entries
            _pending_of_deleted(server.client, "base")
        _workload(rng, clients, 10_000)
        server.client.bgrewriteaof()
        deadline = time.monotonic() + 30
        while server.client.info("persistence")["aof_rewrite_in_progress"] or \
                server.client.info("persistence")["aof_rewrite_scheduled"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        _pending_of_deleted(server.client, "incr")
        _workload(rng, clients, 10_000)
        for c in clients:
            c.close()
        server.client.shutdown(nosave=True)
    src = tmp / "input"
    shutil.copytree(d / "appendonlydir", src)
    return src


@pytest.mark.parametrize("seed,preamble", [(1, True), (2, False), (3, True)])
def test_random_workload_rewrites_load_with_the_same_digest(seed: int, preamble: bool,
                                                            tmp_path: Path) -> None:
    _need_server()
    src = _server_aof(tmp_path, seed, preamble)
    names = sorted(os.listdir(src))
    assert any(".base." in n for n in names) and any(".incr." in n for n in names), names
    want = assert_same_when_loaded(tmp_path, src)
    assert want["streams"], "the workload made no stream"
    tags = ("base", "incr") if preamble else ("incr",)
    pel = {k: want["streams"][(0, f"{k}:{t}".encode())][4][0][3] for k in PEL_KEYS for t in tags}
    assert all(len(p) == 3 for p in pel.values()), pel
    assert any(g for *_, g in want["streams"].values()), "no consumer group survived"
