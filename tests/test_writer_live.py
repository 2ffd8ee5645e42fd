"""What the RDB writer writes, a real server loads.

Every fixture RDB (every version folder) is converted to RDB 6, 7, 8, 9 and 10 and loaded
by Debian's Redis 7.0.15 (``/usr/bin/redis-server``, started with
``--enable-debug-command yes`` and the fixture's own arguments, e.g. its LFU policy):

- 7.0.15 fixtures: a second server loads the ORIGINAL file at the same time; the whole
  ``DEBUG DIGEST`` is equal when the loss report names no key, else every key the report
  does not name has the same ``DEBUG DIGEST-VALUE`` and TTL, and the only keys missing are
  the dropped ones (streams before RDB 9). Functions (RDB 10), LFU counters and LRU idle
  times (RDB 9+) are compared too.
- other versions' fixtures: key by key against the fixture's truth (TYPE, value via
  redis-py, stream metadata / groups / PEL / consumers, TTL), and the keys that differ are
  exactly the keys the loss report names (less the losses a 7.0 server cannot show:
  consumer active times).

The server canonical forms here are also used by ``test_restore.py``.
"""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    FIXTURES,
    SKIP,
    _entries_read,
    canon_truth_key,
    compare,
    expiry_tolerance,
    load_truth,
    tb,
)
from helpers_server import RedisServer, as_dict, find_redis_server, raw, start_redis_server

from rdbtools import read_rdb
from rdbtools.rdb.writer import LossReport, RdbWriter

BINARY = "/usr/bin/redis-server"
TARGETS = [6, 7, 8, 9, 10]

# --------------------------------------------------------------------------- servers


def server_binary() -> str:
    """``/usr/bin/redis-server`` (7.0.15); skip (fail when CI=true) without it or redis-py."""
    import importlib.util
    import os

    missing = None
    if importlib.util.find_spec("redis") is None:
        missing = "the redis Python package is not installed"
    elif not Path(BINARY).is_file():
        found = find_redis_server()
        missing = f"{BINARY} not found" + (f" (found {found}: not used)" if found else "")
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {missing}", pytrace=False)
        pytest.skip(missing)
    return BINARY


def fixture_args(truth: dict[str, Any]) -> list[str]:
    """The fixture's server arguments that matter for loading (LFU/LRU policy); cluster
    mode is left out (a standalone server loads a cluster node's file)."""
    args = list((truth.get("server") or {}).get("fixture_args") or [])
    out = []
    i = 0
    while i < len(args):
        if args[i] in ("--cluster-enabled", "--cluster-config-file"):
            i += 2
            continue
        out.append(args[i])
        i += 1
    return out


@contextmanager
def server_with(directory: Path, rdb: bytes | None, *args: str) -> Iterator[RedisServer]:
    """A 7.0.15 that loads ``rdb`` (as its dump.rdb) at start."""
    directory.mkdir(parents=True, exist_ok=True)
    if rdb is not None:
        (directory / "dump.rdb").write_bytes(rdb)
    with start_redis_server(
        directory, "--enable-debug-command", "yes", *args, binary=server_binary()
    ) as server:
        yield server


def client_db(client: Any, db: int) -> Any:
    import redis

    kw = client.connection_pool.connection_kwargs
    return redis.Redis(host=kw["host"], port=kw["port"], db=db, socket_timeout=30, protocol=2)




def databases(client: Any) -> list[int]:
    return sorted(int(name[2:]) for name in client.info("keyspace"))


def all_keys(client: Any) -> set[tuple[int, bytes]]:
    return {(db, k) for db in databases(client) for k in client_db(client, db).scan_iter(count=500)}


def _sid(v: bytes) -> tuple[int, int]:
    ms, _, seq = v.decode().partition("-")
    return int(ms), int(seq or 0)


def server_stream(c: Any, key: bytes) -> dict[str, Any]:
    info = as_dict(raw(c, "XINFO", "STREAM", key, "FULL", "COUNT", 0))
    groups: dict[bytes, Any] = {}
    for g in info[b"groups"]:
        gd = as_dict(g)
        groups[gd[b"name"]] = {
            "last_delivered_id": _sid(gd[b"last-delivered-id"]),
            "entries_read": _entries_read(gd.get(b"entries-read")),
            "pending": sorted((_sid(p[0]), p[1], int(p[2]), int(p[3])) for p in gd[b"pending"]),
            "consumers": {
                cd[b"name"]: {
                    "seen_time_ms": int(cd[b"seen-time"]),
                    "active_time_ms": SKIP,  # 7.0 has no active time
                    "pending": sorted(_sid(p[0]) for p in cd[b"pending"]),
                }
                for cd in map(as_dict, gd[b"consumers"])
            },
        }
    return {
        "entries": [(_sid(e[0]), tuple(zip(e[1][::2], e[1][1::2]))) for e in info[b"entries"]],
        "length": int(info[b"length"]),
        "last_id": _sid(info[b"last-generated-id"]),
        "first_id": _sid(info[b"recorded-first-entry-id"]),
        "max_deleted_id": _sid(info[b"max-deleted-entry-id"]),
        "entries_added": int(info[b"entries-added"]),
        "groups": groups,
    }


def server_key(client: Any, db: int, key: bytes) -> dict[str, Any] | None:
    """The canonical form (``helpers``) of a key as a 7.0 server holds it."""
    c = client_db(client, db)
    tp = c.type(key).decode()
    if tp == "none":
        return None
    out: dict[str, Any] = {"type": tp}
    if tp == "string":
        out["value"] = c.get(key)
    elif tp == "list":
        out["value"] = c.lrange(key, 0, -1)
    elif tp == "set":
        out["value"] = sorted(c.smembers(key))
    elif tp == "zset":
        out["value"] = sorted(
            ((m, float(s)) for m, s in c.zrange(key, 0, -1, withscores=True)),
            key=lambda p: p[0],
        )
    elif tp == "hash":
        out["value"] = sorted(c.hgetall(key).items())
    elif tp == "stream":
        out["value"] = server_stream(c, key)
    else:  # pragma: no cover - no modules loaded
        out["value"] = SKIP
    out["field_expires"] = []  # 7.0 has no hash field TTLs
    exp = raw(c, "PEXPIRETIME", key)
    out["expire_ms"] = None if exp < 0 else int(exp)
    return out


def mask_rederived(want: dict[str, Any], got: dict[str, Any]) -> None:
    """What a server derives itself when it loads a stream v1 (RDB 9): the recorded
    first id (from the data: ``UINT64_MAX-UINT64_MAX`` for an empty stream) and the
    entries-read counter of a group whose counter was unknown (-1) in the source."""
    if want.get("type") != "stream" or got.get("type") != "stream":
        return
    w, g = want["value"], got["value"]
    if w is SKIP or g is SKIP:
        return
    w["first_id"] = g["first_id"] = SKIP
    for name, grp in w["groups"].items():
        if grp["entries_read"] is None and name in g["groups"]:
            grp["entries_read"] = g["groups"][name]["entries_read"] = SKIP


def compare_with_truth(
    truth: dict[str, Any], client: Any, now_ms: int, version: int = 99
) -> tuple[dict[tuple[int, bytes], list[str]], set[tuple[int, bytes]]]:
    """Every truth key against the server: {key: problems} for the keys that differ,
    and the truth keys skipped because their TTL has passed. ``version``: the RDB
    version the server loaded (below 10: ``mask_rederived``)."""
    diffs: dict[tuple[int, bytes], list[str]] = {}
    expired: set[tuple[int, bytes]] = set()
    seen = set()
    for rec in truth["keys"]:
        k = (int(rec["db"]), tb(rec["key"]))
        seen.add(k)
        exp = rec.get("expire_at_ms")
        if exp is not None and int(exp) <= now_ms + 60_000:
            expired.add(k)
            continue
        got = server_key(client, *k)
        if got is None:
            diffs[k] = ["missing on the server"]
            continue
        want = canon_truth_key(rec, external=False)
        if version < 10:
            mask_rederived(want, got)
        problems: list[str] = []
        compare(want["type"], got["type"], "type", problems)
        if not problems:
            compare(want["value"], got["value"], "value", problems)
        compare(want["field_expires"], got["field_expires"], "field_expires", problems)
        w, g = want["expire_ms"], got["expire_ms"]
        if (w is None) != (g is None) or (w is not None and abs(w - g) > expiry_tolerance(rec)):
            problems.append(f"expire_ms: got {g}, want {w}")
        if problems:
            diffs[k] = problems
    for k in all_keys(client) - seen:
        diffs[k] = ["on the server, not in the truth"]
    return diffs, expired


# --------------------------------------------------------------------------- converting


def convert(data: bytes, version: int) -> tuple[bytes, LossReport]:
    out = io.BytesIO()
    report = RdbWriter(out, version).write_all(read_rdb(io.BytesIO(data)))
    return out.getvalue(), report


def loss_keys(report: LossReport) -> dict[tuple[int, bytes], list[str]]:
    out: dict[tuple[int, bytes], list[str]] = {}
    for x in report.losses:
        if x.key is not None:
            out.setdefault((int(x.db or 0), x.key), []).append(x.what)
    return out


UNOBSERVABLE_ON_70 = ("active times",)
"""Losses a 7.0 server cannot show: consumer active times (7.0 has none)."""


def observable(whats: list[str]) -> bool:
    return any(not any(u in w for u in UNOBSERVABLE_ON_70) for w in whats)


def function_codes(client: Any) -> list[bytes]:
    return sorted(
        as_dict(lib)[b"library_code"] for lib in raw(client, "FUNCTION", "LIST", "WITHCODE")
    )


def rdb_fixtures() -> list[Any]:
    files = sorted(p for p in FIXTURES.glob("*/*.rdb"))
    return [pytest.param(f, v, id=f"{f.parent.name}/{f.name}->{v}") for f in files for v in TARGETS]


def _truth_of(rdb: Path) -> dict[str, Any]:
    return load_truth(rdb.with_name(rdb.stem + ".truth.json"))


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize(("rdb", "version"), rdb_fixtures())
def test_converted_fixture_loads_into_70(rdb: Path, version: int, tmp_path: Path) -> None:
    truth = _truth_of(rdb)
    original = rdb.read_bytes()
    converted, report = convert(original, version)
    lost = loss_keys(report)
    args = fixture_args(truth)
    lfu = "allkeys-lfu" in args
    lru = "allkeys-lru" in args
    if rdb.parent.name == "7.0.15":
        with (
            server_with(tmp_path / "orig", original, *args) as orig,
            server_with(tmp_path / "conv", converted, *args) as conv,
        ):
            _compare_servers(orig.client, conv.client, lost, report, version, lfu, lru)
        return
    with server_with(tmp_path / "conv", converted, *args) as conv:
        client = conv.client
        if lfu and version >= 9:
            _check_lfu(original, client)
        now = int(time.time() * 1000)
        diffs, expired = compare_with_truth(truth, client, now, version)
        problems = [f"{k}: {p}" for k, p in diffs.items() if k not in lost]
        # every loss a 7.0 server can show is seen (less keys whose TTL has passed)
        for k, whats in lost.items():
            if (
                k not in diffs
                and k not in expired
                and observable(whats)
                and not (_unobservable_here(whats, truth, k))
            ):
                problems.append(f"{k}: the loss report says {whats}, the server holds the truth")
        functions = function_codes(client)
        want = sorted(tb(f["library_code"]) for f in truth.get("functions") or [])
        if version >= 10:
            if functions != want:
                problems.append(f"functions {functions!r}, want {want!r}")
        else:
            assert functions == []
            assert bool(want) == any("function" in x.what for x in report.losses)
        assert not problems, "\n".join(map(str, problems[:20]))


def _unobservable_here(whats: list[str], truth: dict[str, Any], k: tuple[int, bytes]) -> bool:
    """A group entries-read counter dropped at RDB 9 is re-estimated by the loading
    server; the estimate may happen to be right."""
    return all("entries-read" in w for w in whats)


def _check_lfu(original: bytes, client: Any) -> None:
    """The LFU counters the source file stores (RDB 9+) are the loaded server's."""
    from rdbtools import records

    for r in records(read_rdb(io.BytesIO(original))):
        if r.freq is None:
            continue
        c = client_db(client, r.db)
        if c.exists(r.key):
            assert c.object("freq", r.key) == r.freq, r.key


def _compare_servers(
    orig: Any,
    conv: Any,
    lost: dict[tuple[int, bytes], list[str]],
    report: LossReport,
    version: int,
    lfu: bool,
    lru: bool,
) -> None:
    a_keys, b_keys = all_keys(orig), all_keys(conv)
    dropped = {k for k, whats in lost.items() if any("dropped" in w and "key" in w
                                                     for w in whats)}  # fmt: skip
    assert b_keys == a_keys - dropped, (sorted(a_keys - b_keys), sorted(b_keys - a_keys))
    assert len(a_keys & set(lost)) >= len(dropped)
    if version >= 9:
        for db, key in sorted(b_keys):
            ca, cb = client_db(orig, db), client_db(conv, db)
            if lfu:
                assert ca.object("freq", key) == cb.object("freq", key), key
            if lru:
                assert abs(ca.object("idletime", key) - cb.object("idletime", key)) <= 2, key
    if not lost:
        assert raw(orig, "DEBUG", "DIGEST") == raw(conv, "DEBUG", "DIGEST")
    problems = []
    for db, key in sorted(b_keys):
        if (db, key) in lost:
            continue
        ca, cb = client_db(orig, db), client_db(conv, db)
        if raw(ca, "DEBUG", "DIGEST-VALUE", key) != raw(cb, "DEBUG", "DIGEST-VALUE", key):
            problems.append(f"db {db} key {key!r}: DEBUG DIGEST-VALUE differs")
        if raw(ca, "PEXPIRETIME", key) != raw(cb, "PEXPIRETIME", key):
            problems.append(f"db {db} key {key!r}: PEXPIRETIME differs")
        if ca.type(key) == b"stream":
            sa = {"type": "stream", "value": server_stream(ca, key)}
            sb = {"type": "stream", "value": server_stream(cb, key)}
            if version < 10:
                mask_rederived(sa, sb)
            kp: list[str] = []
            compare(sa, sb, "", kp)
            problems += [f"db {db} key {key!r}: {p}" for p in kp]
    if version >= 10:
        assert function_codes(orig) == function_codes(conv)
    else:
        assert function_codes(conv) == []
        if function_codes(orig):
            assert any("function" in x.what for x in report.losses)
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("folder", ["7.4.1", "8.0-m01"])
def test_field_ttl_fixture_to_rdb10_loses_exactly_the_report(folder: str, tmp_path: Path) -> None:
    """A 7.4 / 8.0 file converted to RDB 10: everything matches the truth but the keys the
    loss report names (hash field TTLs; stream consumer active times, which 7.0 cannot
    show), and those keys differ by nothing else."""
    rdb = FIXTURES / folder / "small-encodings.rdb"
    if not rdb.is_file():
        pytest.skip(f"{rdb} not found")
    truth = _truth_of(rdb)
    converted, report = convert(rdb.read_bytes(), 10)
    lost = loss_keys(report)
    kinds = {w.split(":")[0] for whats in lost.values() for w in whats}
    assert any("field TTL" in w for whats in lost.values() for w in whats), report.lines()
    with server_with(tmp_path / "conv", converted) as conv:
        diffs, expired = compare_with_truth(truth, conv.client, int(time.time() * 1000))
    observed = set(diffs)
    want = {k for k, whats in lost.items() if observable(whats) and k not in expired}
    assert observed == want, (sorted(observed ^ want), report.lines(), kinds)
    for k in observed:  # the only differences are the field TTLs
        assert all(p.startswith("field_expires") for p in diffs[k]), (k, diffs[k])


def test_bigger_than_listpack_values_load(tmp_path: Path) -> None:
    """Big elements (PLAIN-sized, over 64 KB, LZF-compressible) in every type, written at
    RDB 6..10, load into 7.0.15 with the values intact."""
    from rdbtools.events import (
        HashFields,
        KeyEnd,
        KeyStart,
        ListItems,
        SetMembers,
        StringValue,
        ZSetMembers,
    )

    big = b"0123456789abcdef" * 5000
    rnd = bytes(range(256)) * 300
    events = [
        KeyStart(0, b"s", "string", "raw", 0), StringValue(big), StringValue(rnd),
        KeyEnd(b"s", 0, 0),
        KeyStart(0, b"l", "list", "", 0), ListItems((b"a", big, b"1", rnd, b"" , b"-5")),
        KeyEnd(b"l", 0, 0),
        KeyStart(0, b"set", "set", "", 0), SetMembers((b"1", big, rnd)), KeyEnd(b"set", 0, 0),
        KeyStart(0, b"z", "zset", "", 0), ZSetMembers(((big, 1.5), (b"x", -0.0))),
        KeyEnd(b"z", 0, 0),
        KeyStart(0, b"h", "hash", "", 0), HashFields(((big, rnd, None), (b"f", b"v", None))),
        KeyEnd(b"h", 0, 0),
    ]  # fmt: skip
    for version in TARGETS:
        out = io.BytesIO()
        RdbWriter(out, version).write_all(events)
        with server_with(tmp_path / f"v{version}", out.getvalue()) as srv:
            c = srv.client
            assert c.get(b"s") == big + rnd
            assert c.lrange(b"l", 0, -1) == [b"a", big, b"1", rnd, b"", b"-5"]
            assert c.smembers(b"set") == {b"1", big, rnd}
            assert c.zrange(b"z", 0, -1, withscores=True) == [(b"x", -0.0), (big, 1.5)]
            assert c.hgetall(b"h") == {big: rnd, b"f": b"v"}
        shutil.rmtree(tmp_path / f"v{version}", ignore_errors=True)
