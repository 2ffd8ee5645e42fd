"""``rdbtools.replay``: every AOF fixture replays to its truth; unit tests of semantics."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import SKIP, canon_record, compare_functions, compare_keys, tb
from test_aof_support import AofFixture, aof_fixtures

from rdbtools.aof import read_aof
from rdbtools.errors import UnsupportedType
from rdbtools.events import Command, Event, Function, KeyStart, Record, records
from rdbtools.replay import Replayer, replay
from rdbtools.replay.args import format_ld_human, incr_long_double, parse_long_double

FIXTURES = [pytest.param(f, id=f.id) for f in aof_fixtures()]


def _truth_view(truth: dict[str, Any]) -> dict[str, Any]:
    """The truth with ``reload_check.reloaded_records`` in place of the live records they
    describe (what a server rebuilds from the file)."""
    reloaded = {
        (int(r["db"]), tb(r["key"])): r
        for r in (truth.get("reload_check") or {}).get("reloaded_records") or []
    }
    keys = []
    for rec in truth.get("keys") or []:
        k = (int(rec["db"]), tb(rec["key"]))
        keys.append(reloaded.pop(k, rec))
    keys.extend(reloaded.values())
    return {**truth, "keys": keys}


def _skip_consumer_times(rec: dict[str, Any]) -> None:
    """Consumer seen/active times are the server's clock at load time: not in the AOF."""
    if rec["type"] != "stream":
        return
    for g in rec["value"]["groups"].values():
        for c in g["consumers"].values():
            if c["active_time_ms"] not in (-1, None):
                c["active_time_ms"] = SKIP
            c["seen_time_ms"] = SKIP


@pytest.mark.parametrize("fx", FIXTURES)
def test_replay_fixture(fx: AofFixture) -> None:
    truth = _truth_view(fx.truth)
    events = list(replay(read_aof(str(fx.path))))
    recs = list(records(events))
    got: dict[tuple[int, bytes], dict[str, Any]] = {}
    for r in recs:
        assert (r.db, r.key) not in got
        c = canon_record(r)
        _skip_consumer_times(c)
        got[(r.db, r.key)] = c
    assert [(r.db, r.key) for r in recs] == sorted((r.db, r.key) for r in recs)
    problems = compare_keys(truth, got, external=False, source="replay")
    problems += compare_functions(truth, events)
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- units


def run(*cmds: tuple[bytes | str, ...] | Command, now_ms: int = 1_000_000,
        skip_unknown: bool = False) -> tuple[dict[tuple[int, bytes], Record], Replayer]:
    evs: list[Event] = []
    for c in cmds:
        if isinstance(c, Command):
            evs.append(c)
        else:
            evs.append(Command(0, tuple(x.encode() if isinstance(x, str) else x for x in c)))
    r = Replayer(skip_unknown=skip_unknown, now_ms=now_ms)
    out = {(rec.db, rec.key): rec for rec in records(replay(evs, replayer=r))}
    return out, r


def val(cmds: list[tuple[str, ...]], key: str = "k", db: int = 0) -> Any:
    out, _ = run(*cmds)
    rec = out.get((db, key.encode()))
    return None if rec is None else rec.value


def test_linsert() -> None:
    v = val([("RPUSH", "k", "a", "b", "b"), ("LINSERT", "k", "BEFORE", "b", "x"),
             ("LINSERT", "k", "AFTER", "b", "y"), ("LINSERT", "k", "AFTER", "zz", "q")])
    assert v == [b"a", b"x", b"b", b"y", b"b"]


def test_ltrim_negative_and_lrem() -> None:
    base = [("RPUSH", "k", *"abcdefg")]
    assert val([*base, ("LTRIM", "k", "-3", "-1")]) == [b"e", b"f", b"g"]
    assert val([*base, ("LTRIM", "k", "1", "-2")]) == [b"b", b"c", b"d", b"e", b"f"]
    assert val([*base, ("LTRIM", "k", "-100", "1")]) == [b"a", b"b"]
    assert val([*base, ("LTRIM", "k", "5", "2")]) is None  # empty list: key removed
    v = val([("RPUSH", "k", "x", "a", "x", "b", "x"), ("LREM", "k", "-2", "x")])
    assert v == [b"x", b"a", b"b"]
    assert val([("RPUSH", "k", "a", "b"), ("LMOVE", "k", "k", "LEFT", "RIGHT")]) == [b"b", b"a"]


def test_zadd_flags() -> None:
    base = [("ZADD", "k", "5", "a", "5", "b")]
    z = dict(val([*base, ("ZADD", "k", "GT", "3", "a", "7", "b", "1", "c")]))
    assert z == {b"a": 5.0, b"b": 7.0, b"c": 1.0}
    z = dict(val([*base, ("ZADD", "k", "LT", "3", "a", "7", "b")]))
    assert z == {b"a": 3.0, b"b": 5.0}
    z = dict(val([*base, ("ZADD", "k", "XX", "INCR", "2.5", "a"), ("ZADD", "k", "XX", "1", "z")]))
    assert z == {b"a": 7.5, b"b": 5.0}
    z = dict(val([*base, ("ZADD", "k", "NX", "1", "a", "2", "c"), ("ZINCRBY", "k", "-1", "b")]))
    assert z == {b"a": 5.0, b"b": 4.0, b"c": 2.0}
    z = dict(val([*base, ("ZADD", "k", "1", "c"), ("ZREMRANGEBYRANK", "k", "-2", "-1")]))
    assert z == {b"c": 1.0}
    z = dict(val([*base, ("ZADD", "k", "inf", "c"), ("ZREMRANGEBYSCORE", "k", "(5", "+inf")]))
    assert z == {b"a": 5.0, b"b": 5.0}
    out, r = run(("ZADD", "k", "inf", "a"), ("ZADD", "k", "INCR", "-inf", "a"))
    assert dict(out[(0, b"k")].value) == {b"a": float("inf")}  # type: ignore[arg-type]
    assert r.errors["ZADD"] == 1


def test_incrbyfloat_formatting() -> None:
    assert incr_long_double(b"10.50", b"0.1") == b"10.6"
    assert incr_long_double(b"0", b"3.0e3") == b"3000"
    assert incr_long_double(b"5", b"-5") == b"0"
    assert incr_long_double(b"1", b"0.1") == b"1.1"
    assert incr_long_double(b"5.0e3", b"2.0e2") == b"5200"
    assert incr_long_double(b"0.1", b"0.2") == b"0.3"  # long double, not double
    assert incr_long_double(b"1", b"1e-20") == b"1"
    assert format_ld_human(parse_long_double(b"-0.0")) == b"0"
    assert val([("SET", "k", "10.5"), ("INCRBYFLOAT", "k", "0.1")]) == b"10.6"
    # 7.x writes INCRBYFLOAT as SET ... KEEPTTL
    out, _ = run(("SET", "k", "1", "PXAT", "99999999"), ("SET", "k", "1.5", "KEEPTTL"))
    assert out[(0, b"k")].value == b"1.5" and out[(0, b"k")].expire_ms == 99999999
    out, _ = run(("SET", "k", "1", "PXAT", "99999999"), ("SET", "k", "2"))
    assert out[(0, b"k")].expire_ms is None


def test_set_options_and_string_commands() -> None:
    out, _ = run(("SET", "a", "1", "NX"), ("SET", "a", "2", "NX"), ("SET", "b", "1", "XX"),
                 ("SET", "c", "x", "EX", "10"), ("APPEND", "a", "z"),
                 ("SETRANGE", "d", "3", "ab"), ("SETBIT", "e", "9", "1"), ("INCRBY", "f", "-5"),
                 ("MSETNX", "f", "1", "g", "1"), ("GETDEL", "c"), ("PSETEX", "h", "5", "v"))
    assert out[(0, b"a")].value == b"1z"
    assert (0, b"b") not in out and (0, b"c") not in out and (0, b"g") not in out
    assert out[(0, b"d")].value == b"\x00\x00\x00ab"
    assert out[(0, b"e")].value == b"\x00\x40"
    assert out[(0, b"f")].value == b"-5"
    assert out[(0, b"h")].expire_ms == 1_000_005


def test_rename_over_key_with_ttl() -> None:
    out, _ = run(("SET", "src", "v"), ("SET", "dst", "old", "PXAT", "5000000"),
                 ("RENAME", "src", "dst"), ("SET", "t", "x", "PXAT", "7000000"),
                 ("RENAME", "t", "u"), ("RENAMENX", "u", "dst"))
    assert out[(0, b"dst")].value == b"v" and out[(0, b"dst")].expire_ms is None
    assert out[(0, b"u")].expire_ms == 7000000
    assert (0, b"src") not in out and (0, b"t") not in out


def test_swapdb_move_copy_flush() -> None:
    out, _ = run(Command(0, (b"SET", b"a", b"0")), Command(1, (b"SET", b"b", b"1")),
                 Command(0, (b"SWAPDB", b"0", b"1")), Command(0, (b"SET", b"c", b"2")),
                 Command(1, (b"MOVE", b"a", b"2")), Command(2, (b"COPY", b"a", b"a2", b"DB",
                                                                     b"3")),
                 Command(5, (b"SET", b"x", b"y")), Command(5, (b"FLUSHDB",)))
    assert sorted(out) == [(0, b"b"), (0, b"c"), (2, b"a"), (3, b"a2")]


def test_expire_flags_and_persist() -> None:
    out, _ = run(("SET", "k", "v"), ("PEXPIREAT", "k", "500", "XX"),
                 ("PEXPIREAT", "k", "1000", "NX"), ("PEXPIREAT", "k", "900", "GT"),
                 ("PEXPIREAT", "k", "2000", "GT"), ("PEXPIREAT", "k", "3000", "LT"),
                 ("SET", "p", "v", "PXAT", "5"), ("PERSIST", "p"), ("EXPIRE", "q", "5"))
    assert out[(0, b"k")].expire_ms == 2000
    assert out[(0, b"p")].expire_ms is None


def test_multi_without_exec_is_discarded() -> None:
    out, _ = run(("MULTI",), ("SET", "a", "1"), ("EXEC",), ("MULTI",), ("SET", "b", "1"))
    assert sorted(out) == [(0, b"a")]


def test_hash_field_ttls() -> None:
    out, _ = run(("HSET", "h", "a", "1", "b", "2"),
                 ("HPEXPIREAT", "h", "5000", "FIELDS", "2", "a", "b"),
                 ("HPEXPIREAT", "h", "9000", "GT", "FIELDS", "1", "a"),
                 ("HPERSIST", "h", "FIELDS", "1", "b"), ("HINCRBY", "h", "a", "3"))
    assert out[(0, b"h")].value == [(b"a", b"4", 9000), (b"b", b"2", None)]


def test_streams() -> None:
    out, _ = run(("XADD", "s", "1-1", "f", "v"), ("XADD", "s", "1-2", "f", "w"),
                 ("XADD", "s", "MAXLEN", "=", "2", "2-0", "f", "x"), ("XDEL", "s", "1-2"),
                 ("XGROUP", "CREATE", "s", "g", "0"),
                 ("XCLAIM", "s", "g", "c", "0", "2-0", "TIME", "123", "RETRYCOUNT", "2",
                  "FORCE", "JUSTID", "LASTID", "2-0"))
    v = out[(0, b"s")].value
    assert [e.id for e in v.entries] == [(2, 0)]  # type: ignore[union-attr]
    meta = v.meta  # type: ignore[union-attr]
    assert meta is not None and meta.max_deleted_id == (1, 2) and meta.entries_added == 3
    (g,) = v.groups  # type: ignore[union-attr]
    assert g.last_delivered_id == (2, 0)
    assert [(p.id, p.consumer, p.delivery_time_ms, p.delivery_count) for p in g.pending] == [
        ((2, 0), b"c", 123, 2)]


def test_functions_and_unknown() -> None:
    code = b"#!lua name=lib\nredis.register_function('f', function() return 1 end)"
    evs = list(replay([Command(0, (b"FUNCTION", b"LOAD", code)),
                       Command(0, (b"FUNCTION", b"LOAD", b"REPLACE", code))]))
    assert [type(e) for e in evs] == [Function]
    with pytest.raises(UnsupportedType, match="NOSUCHCMD") as ei:
        list(replay([Command(0, (b"NOSUCHCMD", b"k"), offset=77)], strict=True))
    assert ei.value.offset == 77
    kept = list(replay([Command(0, (b"NOSUCHCMD", b"k"), offset=77)]))
    assert [(type(e).__name__, getattr(e, "type", None)) for e in kept] == [
        ("KeyStart", "not-replayed"), ("NotReplayed", None), ("KeyEnd", None)]
    out, r = run(("NOSUCHCMD", "k"), ("SET", "a", "1"), skip_unknown=True)
    assert r.skipped["NOSUCHCMD"] == 1 and (0, b"a") in out


def test_pfadd_matches_a_known_value() -> None:
    out, _ = run(("PFADD", "h", "a", "b", "c"), ("PFADD", "h", "a"))
    v = out[(0, b"h")].value
    assert isinstance(v, bytes) and v.startswith(b"HYLL\x01") and v[15] == 0x80


def test_keystart_shape() -> None:
    evs = list(replay([Command(0, (b"RPUSH", b"l", b"a"))]))
    ks = evs[0]
    assert isinstance(ks, KeyStart) and ks.encoding == "replayed" and ks.type == "list"


def test_eval_of_plain_calls_and_restore_errors() -> None:
    script = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])"
    out, _ = run(("SET", "n", "4"), ("EVAL", script, "2", "a", "n", "v"))
    assert out[(0, b"a")].value == b"v" and out[(0, b"n")].value == b"5"
    with pytest.raises(UnsupportedType, match="EVAL"):
        run(("EVAL", "for i=1,2 do redis.call('INCR', KEYS[1]) end", "1", "a"))
    out, r = run(("SET", "a", "1"), ("RESTORE", "a", "0", "junk"), ("LPUSH", "a", "x"))
    assert out[(0, b"a")].value == b"1" and r.errors == {"RESTORE": 1, "LPUSH": 1}


def test_sets_and_zstore() -> None:
    out, _ = run(("SADD", "a", "1", "2", "3"), ("SADD", "b", "2", "3", "4"),
                 ("SINTERSTORE", "i", "a", "b"), ("SDIFFSTORE", "d", "a", "b"),
                 ("SMOVE", "a", "c", "1"), ("SREM", "d", "1"),
                 ("ZADD", "z", "1", "x", "2", "y"),
                 ("ZUNIONSTORE", "u", "2", "z", "b", "WEIGHTS", "2", "1", "AGGREGATE", "MAX"),
                 ("ZINTERSTORE", "zi", "2", "z", "z"), ("ZRANGESTORE", "zr", "z", "0", "0"))
    assert out[(0, b"i")].value == [b"2", b"3"]
    assert (0, b"d") not in out and out[(0, b"c")].value == [b"1"]
    assert dict(out[(0, b"u")].value) == {  # type: ignore[arg-type]
        b"x": 2.0, b"y": 4.0, b"2": 1.0, b"3": 1.0, b"4": 1.0}
    assert dict(out[(0, b"zi")].value) == {b"x": 2.0, b"y": 4.0}  # type: ignore[arg-type]
    assert dict(out[(0, b"zr")].value) == {b"x": 1.0}  # type: ignore[arg-type]


def test_list_commands_against_a_plain_model() -> None:
    """Random pushes, pops, trims, removals, inserts and moves on long lists give what a
    plain Python list model of the server's list commands gives (lists are deques
    inside replay, so that a queue of any length pushes and pops in constant time)."""
    import random

    rnd = random.Random(7)
    model: dict[bytes, list[bytes]] = {b"a": [], b"b": []}
    cmds: list[Command] = []
    for i in range(20_000):
        k = rnd.choice((b"a", b"b"))
        lst = model[k]
        op = rnd.random()
        if op < 0.45 or not lst:
            vals = [b"v%d" % rnd.randrange(50) for _ in range(rnd.randint(1, 4))]
            if rnd.random() < 0.5:
                cmds.append(Command(0, (b"LPUSH", k, *vals)))
                lst[0:0] = vals[::-1]
            else:
                cmds.append(Command(0, (b"RPUSH", k, *vals)))
                lst += vals
        elif op < 0.55:
            n = rnd.randint(1, 3)
            left = rnd.random() < 0.5
            cmds.append(Command(0, (b"LPOP" if left else b"RPOP", k, b"%d" % n)))
            if left:
                del lst[:n]
            else:
                del lst[max(0, len(lst) - n):]
        elif op < 0.56:
            s = rnd.choice((rnd.randint(0, 30), rnd.randint(-3000, -2000)))
            e = rnd.choice((rnd.randint(-30, -1), rnd.randint(5000, 6000)))
            cmds.append(Command(0, (b"LTRIM", k, b"%d" % s, b"%d" % e)))
            n = len(lst)
            s2, e2 = max(0, s + n if s < 0 else s), e + n if e < 0 else e
            lst[:] = [] if s2 > e2 or s2 >= n else lst[s2:min(e2, n - 1) + 1]
        elif op < 0.58:
            c, v = rnd.randint(-2, 2), b"v%d" % rnd.randrange(50)
            cmds.append(Command(0, (b"LREM", k, b"%d" % c, v)))
            if c >= 0:
                idx = [j for j, x in enumerate(lst) if x == v][:c or None]
            else:
                idx = [j for j, x in enumerate(lst) if x == v][c:]
            for j in reversed(idx):
                del lst[j]
        elif op < 0.80:
            pivot, v = b"v%d" % rnd.randrange(50), b"new%d" % i
            where = rnd.choice((b"BEFORE", b"AFTER"))
            cmds.append(Command(0, (b"LINSERT", k, where, pivot, v)))
            if pivot in lst:
                j = lst.index(pivot)
                lst.insert(j if where == b"BEFORE" else j + 1, v)
        else:
            other = b"b" if k == b"a" else b"a"
            wf, wt = rnd.choice((b"LEFT", b"RIGHT")), rnd.choice((b"LEFT", b"RIGHT"))
            cmds.append(Command(0, (b"LMOVE", k, other, wf, wt)))
            x = lst.pop(0 if wf == b"LEFT" else -1)
            if wt == b"LEFT":
                model[other].insert(0, x)
            else:
                model[other].append(x)
    r = Replayer()
    r.apply(cmds)
    got = {rec.key: rec.value for rec in records(r.events())}
    want = {k: v for k, v in model.items() if v}
    assert got == want
    assert sum(map(len, want.values())) > 1000
