"""Replay refuses what the server refuses: a command whose arguments the server answers
with an error changes nothing (the server logs it and goes on loading), and is counted
in ``Replayer.errors``. Each case is an AOF written here; the live test loads the same
file into redis-server 7.0.15 and compares every key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers_server import start_redis_server

from rdbtools.aof import read_aof
from rdbtools.events import KeyStart, StringValue, records
from rdbtools.ops.aof_rewrite import aof_rewrite
from rdbtools.rdb.payload import encode_payload
from rdbtools.rdb.reader import read_rdb
from rdbtools.replay import Replayer, replay

U64 = 2**64 - 1


def resp(*args: Any) -> bytes:
    parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


PAYLOAD = encode_payload(KeyStart(0, b"r", "string", "raw", 0, None, None, None),
                         [StringValue(b"v")], 10)

# (setup commands, the command the server refuses, the error-counter name)
REFUSED: dict[str, tuple[list[tuple[Any, ...]], tuple[Any, ...], str]] = {
    "set-ex-overflow": ([], ("SET", "b", "v", "EX", "9999999999999999"), "SET"),
    "set-ex-overflow-with-now": ([], ("SET", "b", "v", "EX", "9223372036854775"), "SET"),
    "set-px-zero": ([], ("SET", "b", "v", "PX", "0"), "SET"),
    "set-nx-xx": ([], ("SET", "b", "v", "NX", "XX"), "SET"),
    "set-ex-and-px": ([], ("SET", "b", "v", "EX", "10", "PX", "10"), "SET"),
    "set-keepttl-ex": ([], ("SET", "b", "v", "KEEPTTL", "EX", "10"), "SET"),
    "setex-negative": ([], ("SETEX", "b", "-5", "v"), "SETEX"),
    "psetex-overflow": ([], ("PSETEX", "b", "9223372036854775807", "v"), "PSETEX"),
    "getex-persist-ex": ([("SET", "b", "v", "PX", "100000000")],
                         ("GETEX", "b", "PERSIST", "EX", "5"), "GETEX"),
    "expire-overflow": ([("SET", "b", "v")], ("EXPIRE", "b", "9223372036854776"), "EXPIRE"),
    "pexpire-overflow": ([("SET", "b", "v")], ("PEXPIRE", "b", "9223372036854775807"),
                         "PEXPIRE"),
    "expire-nx-gt": ([("SET", "b", "v")], ("EXPIRE", "b", "100", "NX", "GT"), "EXPIRE"),
    "expire-bad-flag": ([("SET", "b", "v")], ("EXPIRE", "b", "100", "SOON"), "EXPIRE"),
    "xtrim-maxlen-negative": ([("XADD", "s", "1-1", "f", "v"), ("XADD", "s", "2-1", "f", "v")],
                              ("XTRIM", "s", "MAXLEN", "-1"), "XTRIM"),
    "xtrim-no-strategy": ([("XADD", "s", "1-1", "f", "v")], ("XTRIM", "s", "LIMIT", "5"),
                          "XTRIM"),
    "xtrim-both": ([("XADD", "s", "1-1", "f", "v")],
                   ("XTRIM", "s", "MAXLEN", "0", "MINID", "5"), "XTRIM"),
    "xadd-maxlen-negative": ([("XADD", "s", "1-1", "f", "v")],
                             ("XADD", "s", "MAXLEN", "-1", "*", "f", "v"), "XADD"),
    "xadd-after-max-id": ([("XADD", "m", f"{U64}-{U64}", "f", "v")], ("XADD", "m", "*", "f", "v"),
                          "XADD"),
    "xadd-seq-after-max": ([("XADD", "m", f"5-{U64}", "f", "v")], ("XADD", "m", "5-*", "f", "v"),
                           "XADD"),
    "xadd-ms-only-not-above": ([("XADD", "m", "5-3", "f", "v")], ("XADD", "m", "5", "f", "v"),
                               "XADD"),
    "restore-negative-ttl": ([], ("RESTORE", "r", "-5", PAYLOAD), "RESTORE"),
    "restore-freq-256": ([], ("RESTORE", "r", "0", PAYLOAD, "FREQ", "256"), "RESTORE"),
    "restore-idletime-negative": ([], ("RESTORE", "r", "0", PAYLOAD, "IDLETIME", "-1"),
                                  "RESTORE"),
    "copy-db-99999": ([("SET", "a", "1")], ("COPY", "a", "c", "DB", "99999"), "COPY"),
    "copy-db-2^64": ([("SET", "a", "1")], ("COPY", "a", "c", "DB", str(2**64)), "COPY"),
    "move-db-16": ([("SET", "a", "1")], ("MOVE", "a", "16"), "MOVE"),
    "swapdb-16": ([("SET", "a", "1")], ("SWAPDB", "0", "16"), "SWAPDB"),
    "xgroup-entriesread-negative": ([("XADD", "s", "1-1", "f", "v")],
                                    ("XGROUP", "CREATE", "s", "g", "$", "ENTRIESREAD", "-99"),
                                    "XGROUP"),
    "xgroup-setid-entriesread": ([("XADD", "s", "1-1", "f", "v"),
                                  ("XGROUP", "CREATE", "s", "g", "$")],
                                 ("XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "-2"),
                                 "XGROUP"),
    "xsetid-entries-added-negative": ([("XADD", "s", "1-1", "f", "v")],
                                      ("XSETID", "s", "5-0", "ENTRIESADDED", "-3"), "XSETID"),
    "xsetid-maxdeleted-above": ([("XADD", "s", "1-1", "f", "v")],
                                ("XSETID", "s", "5-0", "MAXDELETEDID", "6-0"), "XSETID"),
    "setrange-negative": ([], ("SETRANGE", "k", "-1", "x"), "SETRANGE"),
}


def _aof(tmp_path: Path, commands: list[tuple[Any, ...]]) -> Path:
    path = tmp_path / "appendonly.aof"
    # a server's AOF starts with the SELECT of its first command's database
    path.write_bytes(b"".join(resp(*c) for c in [("SELECT", "0"), *commands]))
    return path


def _keyspace(events: Any) -> dict[tuple[int, bytes], Any]:
    out: dict[tuple[int, bytes], Any] = {}
    for rec in records(events):
        value = rec.value
        if rec.type == "stream":
            value = ([(e.id, e.fields) for e in value.entries], value.meta.last_id,
                     value.meta.entries_added,
                     sorted((g.name, g.last_delivered_id, g.entries_read)
                            for g in value.groups))
        expire = rec.expire_ms is not None
        out[(rec.db, rec.key)] = (rec.type, value, expire)
    return out


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_command_changes_nothing(name: str, tmp_path: Path) -> None:
    setup, refused, counter = REFUSED[name]
    before = _keyspace(replay(read_aof(str(_aof(tmp_path, setup)))))
    r = Replayer(now_ms=1_700_000_000_000)
    after = _keyspace(replay(read_aof(str(_aof(tmp_path, [*setup, refused]))), replayer=r))
    assert after == before
    assert r.errors == {counter: 1}


def test_accepted_extremes_still_apply(tmp_path: Path) -> None:
    """The edges of each range: what the server takes, replay takes."""
    r = Replayer(now_ms=1_700_000_000_000)
    commands = [
        ("SET", "a", "v", "EXAT", str(2**63 // 1000)),
        ("SET", "b", "v", "EX", "10", "EX", "20"),  # the same kind twice: the last wins
        ("EXPIRE", "a", "-5"),  # a negative EXPIRE is allowed (the key is then expired)
        ("XADD", "s", f"{U64 - 1}-{U64 - 1}", "f", "v"),
        ("XADD", "s", f"{U64 - 1}-*", "f", "v"),  # (2^64-2)-(2^64-1)
        ("XADD", "s", "*", "f", "v"),  # (2^64-1)-0: the clock is behind, the next ms
        ("XGROUP", "CREATE", "s", "g", "$", "ENTRIESREAD", "-1"),
        ("XTRIM", "s", "MAXLEN", "0"),
        ("COPY", "b", "c", "DB", "15"),
        ("SELECT", "40"), ("SET", "in40", "1"),
        ("COPY", "in40", "x", "DB", "39"),  # 41 databases since SELECT 40
    ]
    keys = _keyspace(replay(read_aof(str(_aof(tmp_path, commands))), replayer=r))
    assert r.errors == {}
    assert keys[(0, b"s")][1][1] == (U64, 0)
    assert keys[(0, b"s")][1][0] == []
    assert keys[(0, b"s")][1][3] == [(b"g", (U64, 0), -1)]
    assert (15, b"c") in keys and (40, b"in40") in keys and (39, b"x") in keys
    assert r.databases == 41


@pytest.mark.parametrize("number", [str(2**64), str(2**31), str(2**31 - 1), "01"])
def test_refused_select_keeps_the_database(number: str, tmp_path: Path) -> None:
    commands = [("SELECT", "3"), ("SET", "a", "1"), ("SELECT", number), ("SET", "b", "1"),
                ("MULTI",), ("SET", "c", "1"), ("EXEC",), ("SELECT", "2"), ("SET", "d", "1")]
    r = Replayer()
    keys = _keyspace(replay(read_aof(str(_aof(tmp_path, commands))), replayer=r))
    assert sorted(keys) == [(2, b"d"), (3, b"a"), (3, b"b"), (3, b"c")]
    assert r.errors == {"SELECT": 1}


def test_rewrite_to_rdb_after_a_select_beyond_int64(tmp_path: Path) -> None:
    src = _aof(tmp_path, [("SET", "a", "1"), ("SELECT", str(2**64)), ("SET", "b", "2")])
    out = tmp_path / "out.rdb"
    report = aof_rewrite(str(src), output=str(out), format="rdb")
    assert report.replay_errors == {"SELECT": 1}
    got = {(x.db, x.key): x.value for x in records(read_rdb(str(out)))}
    assert got == {(0, b"a"): b"1", (0, b"b"): b"2"}


@pytest.mark.live
def test_live_server_loads_the_same_keyspace(tmp_path: Path) -> None:
    """Every case of ``REFUSED`` in one AOF (each in a database of its own, emptied
    first), then a refused SELECT: redis-server 7.0.15 loads it (logging one line per
    refused command) and saves; its RDB holds what replay builds, and replay counts as
    many refused commands as the server logged."""
    commands: list[tuple[Any, ...]] = []
    for i, name in enumerate(sorted(REFUSED)):
        setup, refused, _ = REFUSED[name]
        commands += [("SELECT", str(i % 16)), ("FLUSHDB",), *setup, refused]
    commands += [("SELECT", "3"), ("SET", "sel", "1"), ("SELECT", str(2**64)),
                 ("SET", "sel-after", "1"), ("SELECT", "0"), ("SET", "end", "1")]
    data = b"".join(resp(*c) for c in commands)
    directory = tmp_path / "server"
    directory.mkdir()
    (directory / "appendonly.aof").write_bytes(data)  # the server moves it into its dir
    with start_redis_server(directory, "--appendonly", "yes", "--appendfilename",
                            "appendonly.aof") as server:
        server.client.save()
        log = server.log()
    served = _keyspace(read_rdb(str(directory / "dump.rdb")))
    r = Replayer()
    replayed = _keyspace(replay(read_aof(str(_aof(tmp_path, commands))), replayer=r))
    assert replayed == served
    assert (3, b"sel-after") in served
    refused_on_load = log.count("sending an error to its AOF-loading-client")
    assert refused_on_load == len(REFUSED) + 1
    assert sum(r.errors.values()) == refused_on_load


def test_check_replay_lists_the_refused_commands(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from rdbtools.cli.aoftool import main as aoftool

    commands: list[tuple[Any, ...]] = [("SET", "a", "1")]
    for name in sorted(REFUSED):
        setup, refused, _ = REFUSED[name]
        commands += [("FLUSHALL",), *setup, refused]
    commands += [("FROBNICATE", "x")]
    path = _aof(tmp_path, commands)
    r = CliRunner().invoke(aoftool, ["check", str(path), "--replay"], catch_exceptions=False)
    out = r.stdout_bytes.decode()
    assert r.exit_code == 0, r.stderr_bytes
    assert f"  replay      {len(REFUSED)} command(s) the server refuses on load" in out
    assert "    appendonly.aof@" in out and ": COPY: DB index is out of range" in out
    assert f"    ... {len(REFUSED) - 10} more" in out
    assert "  replay      1 command(s) replay does not know: FROBNICATE x1" in out
    plain = CliRunner().invoke(aoftool, ["check", str(path)], catch_exceptions=False)
    assert "  replay  " not in plain.stdout_bytes.decode()
    sound = _aof(tmp_path, [("SET", "a", "1")])
    r = CliRunner().invoke(aoftool, ["check", str(sound), "--replay"], catch_exceptions=False)
    assert "  replay      every command applies\n" in r.stdout_bytes.decode()
    r = CliRunner().invoke(aoftool, ["check", "-", "--replay"], input=b"")
    assert r.exit_code == 2


@pytest.mark.parametrize("command", [
    ("HPEXPIREAT", "h", str(2**46), "FIELDS", "1", "f"),  # beyond HFE_MAX_ABS_TIME_MSEC
    ("HEXPIRE", "h", "-1", "FIELDS", "1", "f"),
    ("HEXPIRE", "h", str(2**46 // 1000 + 1), "FIELDS", "1", "f"),
])
def test_hash_field_expiry_beyond_what_7_4_takes(command: tuple[Any, ...],
                                                 tmp_path: Path) -> None:
    """Redis 7.4's ``hexpireGenericCommand`` limits (not in the 7.0 live test: 7.0 has no
    such command)."""
    ok = [("HSET", "h", "f", "v"), ("HPEXPIREAT", "h", str(2**46 - 1), "FIELDS", "1", "f")]
    r = Replayer(now_ms=1_700_000_000_000)
    keys = _keyspace(replay(read_aof(str(_aof(tmp_path, [*ok, command]))), replayer=r))
    assert keys[(0, b"h")][1] == [(b"f", b"v", 2**46 - 1)]
    assert sum(r.errors.values()) == 1


# --------------------------------------------------------------------------- random, live

NUMBERS = ["-1", "0", "1", "5", "15", "16", "-9223372036854775808", "9223372036854775807",
           "9223372036854775808", "18446744073709551616", "2147483647", "2147483648",
           "-2147483649", "99999999999999999999999", "abc", "01", "", "9223372036854775",
           "9223372036854776", "1-1", "5-5", f"{U64}-{U64}"]
"""Arguments at and beyond the edges of every range the server checks."""
TEMPLATES: list[tuple[Any, ...]] = [
    ("SET", "k", "v", "EX", None), ("SET", "k", "v", "PXAT", None), ("SET", "k", "v", None, "XX"),
    ("EXPIRE", "k", None), ("PEXPIREAT", "k", None), ("EXPIREAT", "k", None, "GT"),
    ("EXPIRE", "k", "100", None), ("GETEX", "k", "EXAT", None), ("SETEX", "k", None, "v"),
    ("PSETEX", "k", None, "v"), ("XADD", "s", "MAXLEN", None, "9-*", "f", "v"),
    ("XADD", "s", None, "f", "v"), ("XADD", "s", "MINID", None, "LIMIT", "0", "8-*", "f", "v"),
    ("XTRIM", "s", "MINID", None), ("XTRIM", "s", "MAXLEN", None),
    ("XTRIM", "s", "MAXLEN", "=", None, "LIMIT", "5"),
    ("XGROUP", "CREATE", "s", "g", "$", "ENTRIESREAD", None), ("XGROUP", "SETID", "s", "g", None),
    ("XSETID", "s", None), ("XSETID", "s", f"{U64}-0", "ENTRIESADDED", None),
    ("XSETID", "s", f"{U64}-0", "MAXDELETEDID", None),
    ("XCLAIM", "s", "g", "c", "0", "1-1", "RETRYCOUNT", None, "FORCE"),
    ("COPY", "k", "k2", "DB", None), ("COPY", "k", "k3", "DB", None, "REPLACE"),
    ("MOVE", "k", None), ("SWAPDB", "0", None), ("SELECT", None), ("SETRANGE", "k2", None, "x"),
    ("RESTORE", "r", None, b"x"), ("INCRBY", "n", None), ("LPOP", "l", None),
    ("RPUSH", "l", "a", "b", "c"), ("SET", "k", "v"), ("XADD", "s", "1-1", "f", "v"),
]
"""Commands with one argument (``None``) drawn from ``NUMBERS``. Left out: ``XADD *``
(its id is the server's clock) and ``~`` trims (the server trims whole radix-tree nodes:
an AOF the server writes has exact trims only)."""
FLOATS = ["-inf", "+inf", "nan", "1.5", "1e308", "1e400", "1e-400", "-0", "0x10", "0x1p-2",
          " 5", "l2", "z2"]
"""Float arguments: hexadecimal, overflowing, underflowing, with a leading space."""
TEMPLATES_MORE: list[tuple[Any, ...]] = [
    ("RPUSH", "l", "a", "b", "c"), ("LSET", "l", None, "x"), ("LTRIM", "l", None, "2"),
    ("LTRIM", "l", "0", None), ("LREM", "l", None, "a"), ("LINSERT", "l", "BEFORE", "a", None),
    ("LPOP", "l", None), ("RPOP", "l", None), ("LMOVE", "l", "l2", "LEFT", "RIGHT"),
    ("ZADD", "z", None, "m"), ("ZADD", "z", "NX", "XX", None, "m"),
    ("ZADD", "z", "GT", "LT", "1", "m"),
    ("ZADD", "z", "INCR", None, "m"), ("ZINCRBY", "z", None, "m"),
    ("ZREMRANGEBYRANK", "z", None, "-1"), ("ZREMRANGEBYSCORE", "z", None, "+inf"),
    ("ZPOPMIN", "z", None), ("ZRANGESTORE", "z2", "z", "0", None),
    ("ZRANGESTORE", "z2", "z", "0", "-1", "BYSCORE", "LIMIT", "0", None),
    ("HSET", "h", "f", "1"), ("HINCRBY", "h", "f", None), ("HINCRBYFLOAT", "h", "f", None),
    ("HSETNX", "h", None, "v"), ("INCRBYFLOAT", "n", None), ("INCR", "n"), ("DECRBY", "n", None),
    ("SET", "n", None), ("SETBIT", "b", None, "1"), ("SETBIT", "b", "7", None),
    ("BITFIELD", "b", "SET", "u8", None, "5"), ("BITFIELD", "b", "INCRBY", "i5", "0", None),
    ("SADD", "st", "a", "b", "c"), ("SREM", "st", None), ("SMOVE", "st", "st2", None),
    ("SINTERSTORE", "st3", "st", "st2"), ("GEOADD", "g", None, "10", "m"),
    ("GEOADD", "g", "10", None, "m"), ("EXPIRE", "l", None), ("PERSIST", "l"),
    ("RENAME", "l", None), ("RENAMENX", "z", None), ("COPY", "h", "h2", "DB", None),
    ("SELECT", None), ("MOVE", "h", None),
]
"""Lists, sorted sets, hashes, numbers, bits, sets and geo with the same edge values and
``FLOATS``."""
STREAM_VALUES = ["-1", "0", "1", "2", "3", "1-1", "2-1", "3-0", "3-1", "5-5", "g", "c", "0-0",
                 "-", "+", "(1-1", "$", ">", f"{U64}-{U64}", "9223372036854775808", "abc", ""]
TEMPLATES_STREAM: list[tuple[Any, ...]] = [
    ("XADD", "s", None, "f", "v"), ("XADD", "s", "MAXLEN", None, "1-*", "f", "v"),
    ("XDEL", "s", None), ("XDEL", "s", "1-1", None), ("XGROUP", "CREATE", "s", None, "0"),
    ("XGROUP", "CREATE", "s", "g", None),
    ("XGROUP", "CREATE", "s", "g", "0", "MKSTREAM", "ENTRIESREAD", None),
    ("XGROUP", "SETID", "s", "g", None), ("XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", None),
    ("XGROUP", "DESTROY", "s", None), ("XGROUP", "CREATECONSUMER", "s", "g", None),
    ("XGROUP", "DELCONSUMER", "s", "g", None),
    ("XREADGROUP", "GROUP", "g", "c", "COUNT", None, "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g", None, "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", None), ("XACK", "s", "g", None),
    ("XCLAIM", "s", "g", "c2", "0", None, "JUSTID"),
    ("XCLAIM", "s", "g", "c2", "0", "1-1", "FORCE", "RETRYCOUNT", None),
    ("XCLAIM", "s", "g", "c", "0", "2-1", "LASTID", None),
    ("XAUTOCLAIM", "s", "g", "c3", "0", None),
    ("XAUTOCLAIM", "s", "g", "c3", "0", "0", "COUNT", None), ("XSETID", "s", None),
    ("XTRIM", "s", "MINID", None), ("DEL", "s"), ("XADD", "s", "1-1", "a", "b"),
    ("XADD", "s", "2-1", "a", "b"), ("XADD", "s", "3-1", "a", "b"),
]
"""Consumer groups. ``XADD s 0-0`` on a missing key is left out: replay creates the
empty stream, as the 5.0 servers that wrote it (an empty stream's rewrite) did, where
7.0 refuses it."""


def random_aof(seed: int, n: int, templates: list[tuple[Any, ...]],
               values: list[str]) -> bytes:
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        t = rng.choice(templates)
        v = rng.choice(values)
        if t[0] in ("SETRANGE", "SETBIT", "BITFIELD") and v.lstrip("-").isdigit() and \
                abs(int(v)) > 10**6:
            v = "5"  # not a 512 MB string
        if t[0] == "XADD" and v == "0-0":
            v = "0-1"
        if t[0] == "SELECT" and not (v.isdigit() and (int(v) < 16 or int(v) >= 2**31 - 1
                                                      or v.startswith("0"))):
            v = "3"  # a database the 16-database server has, or one no server has
        out.append(resp(*[v if x is None else x for x in t]))
    return b"".join(out)


def _lasting(events: Any, after_ms: int) -> dict[tuple[int, bytes], Any]:
    """``_keyspace`` without the keys whose TTL ends before ``after_ms`` (the server
    and replay set relative TTLs from their own clocks, seconds apart)."""
    keys = {}
    for rec in records(events):
        if rec.expire_ms is not None and rec.expire_ms <= after_ms:
            continue
        value = rec.value
        if rec.type == "stream":
            value = ([(e.id, e.fields) for e in value.entries], value.meta.last_id,
                     value.meta.entries_added, value.meta.max_deleted_id,
                     sorted((g.name, g.last_delivered_id, g.entries_read,
                             [(p.id, p.consumer, p.delivery_count) for p in g.pending])
                            for g in value.groups))
        elif rec.type in ("set", "zset", "hash"):
            value = sorted(value, key=repr)
        keys[(rec.db, rec.key)] = (rec.type, value, rec.expire_ms is not None)
    return keys


@pytest.mark.live
@pytest.mark.parametrize(("seed", "kind"), [(1, "keys"), (2, "keys"), (3, "more"), (4, "more"),
                                            (5, "stream"), (6, "stream")])
def test_live_random_hostile_arguments(seed: int, kind: str, tmp_path: Path) -> None:
    """2000 commands with arguments at and beyond every edge: the server refuses as
    many as replay does, and holds the same keys (those not expiring within the hour)."""
    import time

    templates, values = {"keys": (TEMPLATES, NUMBERS),
                         "more": (TEMPLATES_MORE, NUMBERS + FLOATS),
                         "stream": (TEMPLATES_STREAM, STREAM_VALUES)}[kind]
    data = random_aof(seed, 2000, templates, values)
    directory = tmp_path / "server"
    directory.mkdir()
    (directory / "appendonly.aof").write_bytes(data)
    copy = tmp_path / "copy.aof"
    copy.write_bytes(data)
    with start_redis_server(directory, "--appendonly", "yes", "--appendfilename",
                            "appendonly.aof") as server:
        server.client.save()
        log = server.log()
    r = Replayer()
    replayed = list(replay(read_aof(str(copy)), replayer=r))
    after = int(time.time() * 1000) + 3_600_000
    assert _lasting(replayed, after) == _lasting(read_rdb(str(directory / "dump.rdb")), after)
    assert sum(r.errors.values()) == log.count("sending an error to its AOF-loading-client")
    assert sum(r.errors.values()) > 500
    report = aof_rewrite(str(copy), output=str(tmp_path / "out.rdb"), format="rdb")
    assert report.replay_errors == dict(r.errors)


@pytest.mark.parametrize(("text", "value"), [
    (b"0x10", 16.0), (b"-0x1.8p1", -3.0), (b"inf", float("inf")), (b"-Infinity", float("-inf")),
    (b"1e308", 1e308), (b"1e-310", 1e-310), (b"1e400", None), (b"1e-400", None), (b"nan", None),
    (b" 5", None), (b"5 ", None), (b"1_0", None), (b"0x", None), (b"", None),
])
def test_float_arguments_as_strtod_reads_them(text: bytes, value: float | None) -> None:
    from rdbtools.replay.args import CmdError, parse_float

    if value is None:
        with pytest.raises(CmdError):
            parse_float(text)
    else:
        assert parse_float(text) == value


@pytest.mark.parametrize(("text", "bound"), [
    (b"", (0.0, False)), (b"(", (0.0, True)), (b" 5", (5.0, False)),
    (b"(1e400", (float("inf"), True)),
    (b"1e-400", (0.0, False)), (b"0x10", (16.0, False)), (b"nan", None), (b"5 ", None),
])
def test_score_bounds_as_zslparserange_reads_them(text: bytes,
                                                  bound: tuple[float, bool] | None) -> None:
    from rdbtools.replay.args import CmdError, parse_score_bound

    if bound is None:
        with pytest.raises(CmdError):
            parse_score_bound(text)
    else:
        assert parse_score_bound(text) == bound
