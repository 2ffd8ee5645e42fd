"""Unit tests of the commands ``rdbtools.replay`` learnt last, one behaviour each.

Commands Redis 7.0.15 does not have (``HSETEX``, ``HGETEX``, ``HGETDEL``: Redis 8.0) or
never writes verbatim into its AOF (``LMPOP``/``BLMPOP`` become ``LPOP``/``RPOP``,
``ZMPOP``/``BZMPOP``/``BZPOPMIN`` become ``ZPOPMIN``/``ZPOPMAX``, ``XAUTOCLAIM`` becomes
``XCLAIM``, ``EVALSHA``/``FCALL`` become the commands the script ran, ``SPOP`` becomes
``SREM``) cannot be checked against a live server's AOF: their AOFs are written here by
hand from the documented semantics. The others are also checked live in
``test_replay_live.py``.
"""

from __future__ import annotations

import hashlib
import json
import random
import struct
from pathlib import Path
from typing import Any

import pytest
from helpers import rdb_string, run_rdbtool
from test_replay import run, val

from rdbtools import crc64
from rdbtools.aof import read_aof
from rdbtools.errors import UnsupportedType
from rdbtools.events import Command, records
from rdbtools.replay import replay
from rdbtools.replay.args import pqsort
from rdbtools.replay.commands.bitfield import apply as bf_apply
from rdbtools.replay.commands.bitfield import parse as bf_parse
from rdbtools.replay.commands.geo import decode, distance, encode
from rdbtools.replay.commands.hll import VAL, XZERO, ZERO, Hll, hll_count, pfadd, pfmerge
from rdbtools.replay.commands.scripting import function_payload
from rdbtools.replay.commands.sort import strtod

# elements whose HLL register is 100..104, each with count 1 (found by hll_pat_len)
REG = {100: b"c24936", 101: b"c5717", 102: b"c30217", 103: b"c34915", 104: b"c3798"}


# --------------------------------------------------------------------------- HLL


def test_hll_sparse_set_keeps_the_servers_split() -> None:
    """hllSparseSet merges only adjacent VAL opcodes within its window, left to right:
    registers 101..104 then 100 give VAL(1,1) VAL(1,4), not VAL(1,4) VAL(1,1)."""
    v = pfadd(None, [REG[i] for i in (101, 102, 103, 104)])
    assert v is not None
    v = pfadd(v, [REG[100]])
    assert v is not None
    assert Hll.parse(v).ops == [(XZERO, 0, 100), (VAL, 1, 1), (VAL, 1, 4),
                                (XZERO, 0, 16384 - 105)]
    w = pfadd(None, [REG[i] for i in (100, 101, 102, 103, 104)])
    assert w is not None
    assert Hll.parse(w).ops == [(XZERO, 0, 100), (VAL, 1, 4), (VAL, 1, 1),
                                (XZERO, 0, 16384 - 105)]


def test_hll_header_cache_and_zero_runs() -> None:
    v = pfadd(None, [])
    assert v == b"HYLL\x01\x00\x00\x00" + b"\x00" * 7 + b"\x80" + b"\x7f\xff"
    h = Hll.parse(pfadd(None, [REG[102]]) or b"")
    assert h.ops == [(XZERO, 0, 102), (VAL, 1, 1), (XZERO, 0, 16384 - 103)]
    small = pfadd(None, [REG[100]]) or b""
    assert pfadd(small, [REG[100]]) is None  # nothing changed, nothing written
    assert Hll.parse(pfadd(None, [b"x"]) or b"").ops is not None
    assert ZERO == 0  # a run of at most 64 zero registers uses the one-byte opcode
    h2 = Hll.new()
    h2.set(30, 2)
    assert h2.ops == [(ZERO, 0, 30), (VAL, 2, 1), (XZERO, 0, 16384 - 31)]


def test_pfmerge_dense_when_a_source_is_dense() -> None:
    sparse = pfadd(None, [REG[100]]) or b""
    h = Hll.parse(sparse)
    h.to_dense()
    dense = h.to_bytes()
    out = pfmerge(None, [None, sparse])
    assert out[4] == 1 and out[15] & 0x80
    out = pfmerge(None, [None, dense, sparse])
    assert out[4] == 0 and len(out) == 16 + 12288
    # an existing destination keeps its cached cardinality bytes, marked invalid
    cached = sparse[:8] + bytes([5, 0, 0, 0, 0, 0, 0, 0]) + sparse[16:]
    merged = pfmerge(cached, [cached, sparse])
    assert merged[8:16] == bytes([5, 0, 0, 0, 0, 0, 0, 0x80])


def test_pfcount_caches_and_pfmerge_errors() -> None:
    out, r = run(("PFADD", "h", "a", "b", "c"), ("PFCOUNT", "h"), ("SET", "s", "x"),
                 ("PFMERGE", "d", "h", "s"), ("PFCOUNT", "h", "s"))
    v = out[(0, b"h")].value
    assert isinstance(v, bytes) and v[8:16] == (3).to_bytes(8, "little")
    assert (0, b"d") not in out and r.errors["PFMERGE"] == 1
    assert hll_count([0] * 16384) == 0


def test_pfdebug_todense() -> None:
    out, _ = run(("PFADD", "h", "a"), ("PFDEBUG", "TODENSE", "h"))
    v = out[(0, b"h")].value
    assert isinstance(v, bytes) and v[4] == 0 and len(v) == 16 + 12288


# --------------------------------------------------------------------------- BITFIELD


def _bf(value: bytes | None, *args: Any) -> bytes | None:
    return bf_apply(value, bf_parse([str(a).encode() for a in args], read_only=False))


def test_bitfield_overflow_modes() -> None:
    assert _bf(None, "SET", "u8", 0, 255) == b"\xff"
    assert _bf(b"\xff", "INCRBY", "u8", 0, 1) == b"\x00"  # WRAP by default
    assert _bf(b"\xff", "OVERFLOW", "SAT", "INCRBY", "u8", 0, 10) == b"\xff"
    assert _bf(b"\x05", "OVERFLOW", "SAT", "INCRBY", "u8", 0, -10) == b"\x00"
    assert _bf(b"\xff", "OVERFLOW", "FAIL", "INCRBY", "u8", 0, 1) == b"\xff"
    assert _bf(b"\x7f", "INCRBY", "i8", 0, 1) == b"\x80"
    assert _bf(b"\x7f", "OVERFLOW", "SAT", "INCRBY", "i8", 0, 5) == b"\x7f"
    assert _bf(b"\x80", "OVERFLOW", "SAT", "INCRBY", "i8", 0, -5) == b"\x80"
    # an unsigned SET takes the value as uint64: -1 overflows upward, SAT gives the max
    assert _bf(None, "OVERFLOW", "SAT", "SET", "u4", 0, -1) == b"\xf0"
    assert _bf(None, "SET", "u4", 0, -1) == b"\xf0"  # WRAP: the low 4 bits
    assert _bf(None, "SET", "i64", 0, -(2**63)) == b"\x80" + b"\x00" * 7


def test_bitfield_offsets_growth_and_get_only() -> None:
    assert _bf(None, "SET", "u8", "#2", 1) == b"\x00\x00\x01"
    assert _bf(None, "SET", "u1", 9, 1) == b"\x00\x40"
    # FAIL does not write, but the string was already grown to hold the field
    assert _bf(None, "OVERFLOW", "FAIL", "SET", "u2", 16, 9) == b"\x00\x00\x00"
    assert _bf(None, "GET", "u8", 100) is None
    out, r = run(("BITFIELD", "k", "GET", "u8", "0"), ("BITFIELD_RO", "k", "GET", "i4", "0"),
                 ("BITFIELD_RO", "k", "SET", "u8", "0", "1"), ("BITFIELD", "k", "SET", "u64",
                                                                  "0", "1"),
                 ("BITFIELD", "k", "SET", "I8", "0", "1"))
    assert (0, b"k") not in out and r.errors == {"BITFIELD_RO": 1, "BITFIELD": 2}


# --------------------------------------------------------------------------- SORT


def test_sort_store_numeric_alpha_by_get() -> None:
    base: list[tuple[str, ...]] = [("RPUSH", "l", "3", "1", "10", "2"), ("SET", "w_1", "9"),
                                   ("SET", "w_3", "1"), ("HSET", "h_10", "f", "x")]
    assert val([*base, ("SORT", "l", "STORE", "d")], "d") == [b"1", b"2", b"3", b"10"]
    assert val([*base, ("SORT", "l", "ALPHA", "DESC", "STORE", "d")], "d") == [
        b"3", b"2", b"10", b"1"]
    # missing weights are 0, ties by the element's bytes
    assert val([*base, ("SORT", "l", "BY", "w_*", "STORE", "d")], "d") == [
        b"10", b"2", b"3", b"1"]
    assert val([*base, ("SORT", "l", "BY", "nosort", "DESC", "STORE", "d")], "d") == [
        b"2", b"10", b"1", b"3"]
    assert val([*base, ("SORT", "l", "LIMIT", "1", "2", "GET", "#", "GET", "h_*->f",
                        "STORE", "d")], "d") == [b"2", b"", b"3", b""]
    assert val([*base, ("SORT", "l", "LIMIT", "9", "2", "STORE", "d")], "d") is None
    out, r = run(("RPUSH", "l", "a"), ("SET", "d", "x"), ("SORT", "l", "STORE", "d"))
    assert out[(0, b"d")].value == b"x" and r.errors["SORT"] == 1


def test_sort_set_without_sort_is_alpha() -> None:
    """BY without * on a set: the server sorts it ALPHA anyway when storing."""
    assert val([("SADD", "s", "b", "10", "a"), ("SORT", "s", "BY", "x", "STORE", "d")],
               "d") == [b"10", b"a", b"b"]
    assert val([("ZADD", "z", "1", "b", "2", "a"), ("SORT", "z", "BY", "x", "DESC",
                                                    "STORE", "d")], "d") == [b"a", b"b"]
    assert val([("SORT", "nosuch", "STORE", "d")], "d") is None


def test_strtod_rules() -> None:
    assert strtod(b"") == 0.0 and strtod(b" 1.5") == 1.5 and strtod(b"-inf") == float("-inf")
    assert strtod(b"0x10") == 16.0
    for bad in (b"1.5 ", b"abc", b"nan", b"1e400", b"1e-400", b"1_0"):
        with pytest.raises(Exception, match="converted"):
            strtod(bad)


def test_pqsort_sorts_the_asked_range() -> None:
    """The server's partial quicksort: the positions asked for hold what a full sort puts
    there (where equal elements land is checked against the server in the live tests)."""
    rng = random.Random(0)
    for _ in range(200):
        n = rng.randrange(0, 120)
        v = [rng.randrange(15) for _ in range(n)]

        def cmp(i: int, j: int, v: list[int] = v) -> int:
            return (v[i] > v[j]) - (v[i] < v[j])

        assert [v[i] for i in pqsort(n, cmp, 0, n - 1)] == sorted(v)
        if n:
            lo = rng.randrange(n)
            hi = rng.randrange(lo, n)
            got = [v[i] for i in pqsort(n, cmp, lo, hi)]
            assert got[lo : hi + 1] == sorted(v)[lo : hi + 1]
            assert sorted(got) == sorted(v)


# --------------------------------------------------------------------------- geo


def test_geo_encode_decode_distance() -> None:
    """The documented GEOADD example: Palermo is stored as 3479099956230698 and Catania
    166274.1516 m away."""
    p = encode(13.361389, 38.115556)
    c = encode(15.087269, 37.502669)
    assert p == 3479099956230698.0 and c == 3479447370796909.0
    lon, lat = decode(p)
    assert abs(lon - 13.361389) < 1e-5 and abs(lat - 38.115556) < 1e-5
    assert round(distance(*decode(p), *decode(c)), 4) == 166274.1516


def test_geo_commands() -> None:
    base: list[tuple[str, ...]] = [
        ("GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669",
         "Catania")]
    z = dict(val([*base], "Sicily"))
    assert z == {b"Palermo": 3479099956230698.0, b"Catania": 3479447370796909.0}
    d = dict(val([*base, ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "d")],
                 "d"))
    assert set(d) == {b"Palermo", b"Catania"} and round(d[b"Catania"], 4) == 56.4413
    d = dict(val([*base, ("GEOSEARCHSTORE", "d", "Sicily", "FROMMEMBER", "Palermo",
                          "BYRADIUS", "100", "km")], "d"))
    assert d == {b"Palermo": 3479099956230698.0}
    assert val([*base, ("SET", "d", "x"), ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "1",
                                          "m", "COUNT", "1", "DESC", "STORE", "d")],
               "d") == [(b"Palermo", 3479099956230698.0)]
    out, r = run(*base, ("GEOADD", "Sicily", "200", "0", "bad"),
                 ("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "STORE", "d"))
    assert r.errors == {"GEOADD": 1, "GEORADIUS": 1} and (0, b"d") not in out
    # ANY stops the walk at COUNT matches: in the server's cell order Palermo comes first
    # although Catania is nearer (what redis-server 7.0.15 stores for this command)
    assert val([*base, ("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYBOX",
                        "400", "400", "km", "COUNT", "1", "ANY")], "d") == [
        (b"Palermo", 3479099956230698.0)]


# --------------------------------------------------------------------------- pops


def test_multi_pops_as_written_by_hand() -> None:
    """LMPOP/BLMPOP/ZMPOP/BZMPOP/BZPOPMIN/MAX verbatim (7.0 writes their effects)."""
    out, r = run(("RPUSH", "a", "1", "2", "3"), ("RPUSH", "b", "x"),
                 ("LMPOP", "2", "none", "a", "LEFT", "COUNT", "2"),
                 ("BLMPOP", "0", "2", "b", "a", "RIGHT"),
                 ("ZADD", "z", "1", "m1", "2", "m2", "3", "m3"),
                 ("ZMPOP", "1", "z", "MAX", "COUNT", "1"), ("BZPOPMIN", "none", "z", "0"),
                 ("BZMPOP", "1.5", "1", "z", "MIN", "COUNT", "9"),
                 ("LMPOP", "0", "a", "LEFT"), ("ZMPOP", "1", "z", "MIN", "COUNT", "0"))
    assert out[(0, b"a")].value == [b"3"] and (0, b"b") not in out
    assert (0, b"z") not in out
    assert r.errors == {"LMPOP": 1, "ZMPOP": 1}


# --------------------------------------------------------------------------- hash field expiry


def test_hsetex_conditions_and_ttls() -> None:
    """Redis 8.0: FNX/FXX on all the fields, EX relative to the command time, KEEPTTL."""
    now = 1_000_000
    out, r = run(("HSETEX", "h", "EX", "10", "FIELDS", "2", "a", "1", "b", "2"),
                 ("HSETEX", "h", "FNX", "FIELDS", "2", "a", "9", "c", "3"),
                 ("HSETEX", "h", "FXX", "KEEPTTL", "FIELDS", "1", "a", "5"),
                 ("HSETEX", "h", "FIELDS", "1", "b", "6"),
                 ("HSETEX", "h", "FNX", "PXAT", "5000000", "FIELDS", "1", "c", "7"),
                 ("HSETEX", "h", "FXX", "FIELDS", "2", "a", "0", "zz", "0"),
                 ("HSETEX", "h", "FIELDS", "2", "a"), now_ms=now)
    assert sorted(out[(0, b"h")].value) == [  # type: ignore[arg-type]
        (b"a", b"5", now + 10_000), (b"b", b"6", None), (b"c", b"7", 5_000_000)]
    assert r.errors == {"HSETEX": 1}


def test_hgetex_hgetdel() -> None:
    now = 2_000_000
    out, _ = run(("HSET", "h", "a", "1", "b", "2", "c", "3"),
                 ("HGETEX", "h", "PX", "500", "FIELDS", "2", "a", "zz"),
                 ("HGETEX", "h", "EXAT", "9000", "FIELDS", "1", "b"),
                 ("HGETEX", "h", "PERSIST", "FIELDS", "1", "b"),
                 ("HGETEX", "h", "FIELDS", "1", "c"),
                 ("HGETDEL", "h", "FIELDS", "1", "c"),
                 ("HSET", "g", "x", "1"), ("HGETDEL", "g", "FIELDS", "2", "x", "y"), now_ms=now)
    assert sorted(out[(0, b"h")].value) == [  # type: ignore[arg-type]
        (b"a", b"1", now + 500), (b"b", b"2", None)]
    assert (0, b"g") not in out


# --------------------------------------------------------------------------- streams


def test_xautoclaim_verbatim() -> None:
    """XAUTOCLAIM from a start id, COUNT, JUSTID, min-idle against the command time, and
    deleted entries dropped from the PEL."""
    cmds: list[tuple[str, ...]] = [("XADD", "s", f"{i}-0", "f", "v") for i in range(1, 6)]
    cmds += [("XGROUP", "CREATE", "s", "g", "0"),
             ("XCLAIM", "s", "g", "alice", "0", "1-0", "2-0", "3-0", "4-0", "FORCE",
              "TIME", "1000"),
             ("XDEL", "s", "2-0")]
    out, _ = run(*cmds, Command(0, (b"XAUTOCLAIM", b"s", b"g", b"bob", b"5000", b"0-0",
                                    b"COUNT", b"2"), timestamp=10))
    (g,) = out[(0, b"s")].value.groups  # type: ignore[union-attr]
    assert [(p.id, p.consumer, p.delivery_count) for p in g.pending] == [
        ((1, 0), b"bob", 2), ((3, 0), b"alice", 1), ((4, 0), b"alice", 1)]
    out, _ = run(*cmds, Command(0, (b"XAUTOCLAIM", b"s", b"g", b"bob", b"0", b"(1-0",
                                    b"JUSTID"), timestamp=10))
    (g,) = out[(0, b"s")].value.groups  # type: ignore[union-attr]
    assert [(p.id, p.consumer, p.delivery_count, p.delivery_time_ms) for p in g.pending] == [
        ((1, 0), b"alice", 1, 1000), ((3, 0), b"bob", 1, 10_000), ((4, 0), b"bob", 1, 10_000)]


def test_xreadgroup_verbatim() -> None:
    """XREADGROUP as sent (servers write XCLAIM / XGROUP SETID): ``>`` delivers after the
    last id and counts entries read (re-estimated past a deleted entry), NOACK skips the
    PEL, an explicit id re-reads the consumer's PEL after it (a deleted entry is not
    redelivered)."""
    cmds: list[tuple[str, ...]] = [("XADD", "s", f"{i}-0", "f", "v") for i in range(1, 7)]
    cmds += [("XGROUP", "CREATE", "s", "g", "0"),
             ("XREADGROUP", "GROUP", "g", "a", "COUNT", "2", "STREAMS", "s", ">"),
             ("XDEL", "s", "4-0"),
             ("XREADGROUP", "GROUP", "g", "b", "NOACK", "COUNT", "1", "STREAMS", "s", ">"),
             ("XREADGROUP", "GROUP", "g", "a", "COUNT", "1", "STREAMS", "s", ">"),
             ("XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", "1-0"),
             ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0")]
    out, r = run(*cmds, Command(0, (b"XREADGROUP", b"GROUP", b"g", b"a", b"STREAMS", b"s",
                                    b">"), timestamp=5))
    (g,) = out[(0, b"s")].value.groups  # type: ignore[union-attr]
    assert g.last_delivered_id == (6, 0) and g.entries_read == 6
    assert [(p.id, p.consumer, p.delivery_count) for p in g.pending] == [
        ((1, 0), b"a", 1), ((2, 0), b"a", 2), ((5, 0), b"a", 2), ((6, 0), b"a", 1)]
    assert sorted(c.name for c in g.consumers) == [b"a", b"b", b"c"]
    assert not r.errors
    _, r = run(("XADD", "s", "1-0", "f", "v"),
               ("XREADGROUP", "GROUP", "nog", "a", "STREAMS", "s", ">"))
    assert r.errors == {"XREADGROUP": 1}


# --------------------------------------------------------------------------- functions


def _fn_payload(*codes: bytes) -> bytes:
    body = b""
    for code in codes:
        body += b"\xf5" + rdb_string(code)
    body += struct.pack("<H", 10)
    return body + struct.pack("<Q", crc64.crc64(body))


def test_function_restore_policies() -> None:
    a = b"#!lua name=la\nredis.register_function('fa', function() return 1 end)"
    b2 = b"#!lua name=lb\nredis.register_function('fb', function() return 2 end)"
    assert function_payload(_fn_payload(a, b2)) == [a, b2]
    p = _fn_payload(a)
    _, r = run(("FUNCTION", "LOAD", b2), ("FUNCTION", "RESTORE", p))
    assert set(r.functions) == {b"la", b"lb"}
    _, r = run(("FUNCTION", "LOAD", a), ("FUNCTION", "RESTORE", _fn_payload(a, b2)))
    assert set(r.functions) == {b"la"} and r.errors == {"FUNCTION": 1}  # APPEND: all or none
    _, r = run(("FUNCTION", "LOAD", b2), ("FUNCTION", "RESTORE", p, "FLUSH"))
    assert set(r.functions) == {b"la"}
    _, r = run(("FUNCTION", "LOAD", a), ("FUNCTION", "RESTORE", p, "REPLACE"),
               ("FUNCTION", "RESTORE", p[:-1] + bytes([p[-1] ^ 1])),
               ("FUNCTION", "RESTORE", p, "BOGUS"))
    assert set(r.functions) == {b"la"} and r.errors == {"FUNCTION": 2}


# --------------------------------------------------------------------------- the rest


def test_scripts_by_name_are_unsupported_with_a_reason() -> None:
    with pytest.raises(UnsupportedType, match="EVALSHA .*cannot be known offline") as ei:
        run(Command(0, (b"EVALSHA", b"a" * 40, b"0"), offset=12))
    assert ei.value.offset == 12
    # a script loaded earlier in the file (old servers wrote EVALSHA only for those)
    script = "redis.call('INCR', KEYS[1])"
    sha = hashlib.sha1(script.encode()).hexdigest()
    out, _ = run(("EVAL", script, "1", "n"), ("EVALSHA", sha, "1", "n"),
                 ("SCRIPT", "LOAD", "redis.call('SET', KEYS[1], ARGV[1])"),
                 ("EVALSHA", hashlib.sha1(b"redis.call('SET', KEYS[1], ARGV[1])").hexdigest()
                  .upper(), "1", "s", "v"))
    assert out[(0, b"n")].value == b"2" and out[(0, b"s")].value == b"v"
    with pytest.raises(UnsupportedType, match="EVALSHA"):
        run(("EVAL", script, "1", "n"), ("SCRIPT", "FLUSH"), ("EVALSHA", sha, "1", "n"))
    with pytest.raises(UnsupportedType, match="FCALL"):
        run(("FCALL", "f", "0"))
    out, r = run(("FCALL", "f", "0"), ("EVALSHA", "x", "0"), ("SET", "a", "1"),
                 ("EVAL", "for i=1,2 do redis.call('INCR', KEYS[1]) end", "1", "a"),
                 skip_unknown=True)
    assert r.skipped == {"FCALL": 1, "EVALSHA": 1, "EVAL": 1} and (0, b"a") in out


def test_spop_migrate_restore_asking_and_reads() -> None:
    out, _ = run(("SADD", "s", "a", "b"), ("SPOP", "s", "2"), ("SADD", "t", "x"),
                 ("SPOP", "t"), ("SET", "m1", "1"), ("SET", "m2", "2"), ("SET", "m3", "3"),
                 ("MIGRATE", "h", "1", "", "0", "5", "KEYS", "m1", "m2"),
                 ("MIGRATE", "h", "1", "m3", "0", "5", "COPY"),
                 ("GET", "m3"), ("LRANGE", "x", "0", "-1"), ("PEXPIRETIME", "m3"),
                 ("SORT_RO", "x"), ("GEOSEARCH", "x"), ("FUNCTION", "LIST"))
    assert sorted(k for _, k in out) == [b"m3"]
    with pytest.raises(UnsupportedType, match="SPOP"):
        run(("SADD", "s", "a", "b"), ("SPOP", "s"))
    out, r = run(("SET", "a", "1"), ("RESTORE-ASKING", "a", "0", "junk"))
    assert r.errors == {"RESTORE-ASKING": 1}


# --------------------------------------------------------------------------- a file by hand


def _resp(*args: bytes | str) -> bytes:
    out = b"*%d\r\n" % len(args)
    for a in args:
        b = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(b), b)
    return out


def test_hand_written_aof_through_the_reader_and_the_cli(tmp_path: Path) -> None:
    """An AOF file written by hand (Redis 8.0 hash field expiry, and commands a 7.0 server
    writes only as their effect, none of which a live 7.0.15 can produce in its AOF) read
    by ``read_aof`` and shown by ``rdbtool dump``: the ``#TS:`` annotation dates the
    relative TTL, the ``SELECT`` picks the database."""
    aof = tmp_path / "appendonly.aof"
    aof.write_bytes(
        _resp("SELECT", "3")
        + b"#TS:1700000000\r\n"
        + _resp("HSETEX", "h", "EX", "100", "FIELDS", "2", "a", "1", "b", "2")
        + _resp("HGETDEL", "h", "FIELDS", "1", "b")
        + _resp("RPUSH", "l", "x", "y", "z")
        + _resp("LMPOP", "1", "l", "RIGHT", "COUNT", "2")
        + _resp("ZADD", "z", "1", "m")
        + _resp("BZPOPMIN", "z", "0")
        + _resp("GEOADD", "g", "13.361389", "38.115556", "Palermo")
        + _resp("BITFIELD", "b", "SET", "u8", "#1", "65")
        + _resp("SORT", "l", "ALPHA", "STORE", "sorted")
    )
    recs = {(r.db, r.key): r for r in records(replay(read_aof(str(aof))))}
    assert sorted(recs) == [(3, b"b"), (3, b"g"), (3, b"h"), (3, b"l"), (3, b"sorted")]
    assert recs[(3, b"h")].value == [(b"a", b"1", 1_700_000_100_000)]
    assert recs[(3, b"b")].value == b"\x00A" and recs[(3, b"sorted")].value == [b"x"]
    assert recs[(3, b"g")].value == [(b"Palermo", 3479099956230698.0)]
    run_ = run_rdbtool("dump", str(aof), "--jsonl")
    assert run_.returncode == 0, run_.stderr
    keys = sorted(json.loads(line)["key"] for line in run_.stdout.splitlines()
                  if b'"key"' in line)
    assert keys == ["b", "g", "h", "l", "sorted"]


def test_unsupported_in_a_file_names_command_and_offset(tmp_path: Path) -> None:
    aof = tmp_path / "appendonly.aof"
    first = _resp("SET", "a", "1")
    aof.write_bytes(first + _resp("FCALL", "f", "0"))
    with pytest.raises(UnsupportedType, match="FCALL") as ei:
        list(replay(read_aof(str(aof))))
    assert ei.value.offset == len(first)
    run_ = run_rdbtool("dump", str(aof))
    assert run_.returncode == UnsupportedType.exit_code
    assert b"FCALL" in run_.stderr and b"Traceback" not in run_.stderr
