"""``rdbtool dump --resp`` piped into a live server holds what that server holds after
loading the same RDB itself: equal ``DEBUG DIGEST`` (keys, values, TTLs), key counts
per database, function libraries, and stream consumer groups with their PEL.

Needs a ``redis-server`` (``helpers_server.find_redis_server``); skipped with the reason
shown when there is none, failed instead when ``CI=true``. Each fixture whose RDB version
the server can load is tested.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, header_version, run_rdbtool
from helpers_server import as_dict, find_redis_server, raw, server_version, start_redis_server

BINARY = find_redis_server()
VERSION = server_version(BINARY) if BINARY else None

# the newest RDB version each server release reads
_RDB_OF = [((7, 4), 12), ((7, 2), 11), ((7, 0), 10), ((5, 0), 9), ((4, 0), 8), ((3, 2), 7)]


def max_rdb_version(version: str) -> int:
    major_minor = tuple(int(x) for x in version.split(".")[:2])
    return next((rdb for since, rdb in _RDB_OF if major_minor >= since), 6)


def loadable() -> list[Any]:
    if BINARY is None or VERSION is None:
        reason = "no redis-server found ($RDBTOOLS_REDIS_SERVER, /usr/bin/redis-server, PATH)"
        if os.environ.get("CI", "").lower() == "true":
            return [
                pytest.param(
                    None,
                    id="no-server",
                    marks=pytest.mark.xfail(reason=f"CI=true but {reason}", strict=True, run=True),
                )
            ]
        return [pytest.param(None, id="no-server", marks=pytest.mark.skip(reason=reason))]
    newest = max_rdb_version(VERSION)
    files = sorted(FIXTURES.glob("*/*.rdb"))
    return [
        pytest.param(f, id=f"{f.parent.name}/{f.name}")
        for f in files
        if header_version(f.read_bytes()[:9]) <= newest
    ]


def server_args() -> list[str]:
    assert VERSION is not None
    return ["--enable-debug-command", "yes"] if max_rdb_version(VERSION) >= 10 else []


def pipe_into(port: int, commands: bytes, client: Any) -> None:
    """Send ``commands`` with ``redis-cli --pipe`` (next to the server binary, else on
    PATH); without redis-cli, one by one through the client."""
    assert BINARY is not None
    cli = Path(BINARY).with_name("redis-cli")
    cli_path = str(cli) if cli.is_file() else shutil.which("redis-cli")
    if cli_path is None:
        from cli_support import parse_resp

        for args in parse_resp(commands):
            client.execute_command(*args)
        return
    proc = subprocess.run(
        [cli_path, "-h", "127.0.0.1", "-p", str(port), "--pipe"],
        input=commands,
        capture_output=True,
        timeout=120,
        check=False,
    )
    report = proc.stdout.decode(errors="replace")
    assert proc.returncode == 0 and "errors: 0," in report, report + proc.stderr.decode()


def db_client(client: Any, db: int) -> Any:
    """A client of the same server that works in database ``db``."""
    import redis

    kw = client.connection_pool.connection_kwargs
    return redis.Redis(host=kw["host"], port=kw["port"], db=db, socket_timeout=30, protocol=2)


def databases(client: Any) -> list[int]:
    return [int(name[2:]) for name in client.info("keyspace")]




def streams(client: Any, counters: bool) -> dict[tuple[int, bytes], Any]:
    """Every stream's last id, entries-added, max-deleted-id and groups: name, last id,
    entries-read, PEL (id, consumer, delivery time and count) and consumers with their
    pending ids. Seen / active times are left out: XCLAIM sets them to the time of the
    call, as in a BGREWRITEAOF rewrite. ``counters=False`` leaves out entries-added and
    entries-read too: files before RDB 10 do not store them, the loading server
    estimates them and the commands do not set them."""
    out = {}
    for db in databases(client):
        c = db_client(client, db)
        for key in c.scan_iter(_type="stream"):
            full = raw(c, "XINFO", "STREAM", key, "FULL")
            info = as_dict(full)
            groups = []
            for g in info[b"groups"]:
                gd = as_dict(g)
                consumers = sorted(
                    (cd[b"name"], [p[0] for p in cd[b"pending"]])
                    for cd in map(as_dict, gd[b"consumers"])
                )
                read = gd.get(b"entries-read") if counters else None
                groups.append(
                    (
                        gd[b"name"],
                        gd[b"last-delivered-id"],
                        read,
                        sorted(map(tuple, gd[b"pending"])),
                        consumers,
                    )
                )
            added = info.get(b"entries-added") if counters else None
            out[(db, key)] = (
                info[b"last-generated-id"],
                added,
                info.get(b"max-deleted-entry-id"),
                sorted(groups),
            )
    return out


def keyspace(client: Any) -> dict[str, tuple[int, int]]:
    """Keys and keys with a TTL per database (``avg_ttl`` is an estimate: left out)."""
    return {db: (v["keys"], v["expires"]) for db, v in client.info("keyspace").items()}


def digest_differences(a: Any, b: Any) -> list[tuple[int, bytes]]:
    """The keys whose ``DEBUG DIGEST-VALUE`` (value and TTL) differs between servers."""
    out = []
    for db in databases(a):
        ca, cb = db_client(a, db), db_client(b, db)
        for key in ca.scan_iter():
            digest = ("DEBUG", "DIGEST-VALUE", key)
            if raw(ca, *digest) != raw(cb, *digest) or ca.pttl(key) // 1000 != cb.pttl(key) // 1000:
                out.append((db, key))
    return out


def assert_only_negative_zero_differs(a: Any, b: Any, db: int, key: bytes) -> None:
    """The one known difference: a sorted-set score ``-0`` that an older server stored as
    text in a ziplist; a 7.x server's ZADD (and its own AOF rewrite) stores 0."""
    za = raw(db_client(a, db), "ZRANGE", key, 0, -1, "WITHSCORES")
    zb = raw(db_client(b, db), "ZRANGE", key, 0, -1, "WITHSCORES")
    assert isinstance(za, list) and isinstance(zb, list), (db, key, "not a sorted set")
    assert za[::2] == zb[::2], (db, key)
    assert [float(x) for x in za[1::2]] == [float(x) for x in zb[1::2]], (db, key)
    assert b"-0" in za[1::2], (db, key, za, zb)


def functions(client: Any) -> list[bytes]:
    assert VERSION is not None
    if max_rdb_version(VERSION) < 10:
        return []
    libs = raw(client, "FUNCTION", "LIST", "WITHCODE")
    return sorted(as_dict(lib)[b"library_code"] for lib in libs)


@pytest.mark.parametrize("rdb", loadable())
def test_resp_rebuilds_what_the_server_loads(rdb: Path | None, tmp_path: Path) -> None:
    if rdb is None:
        pytest.fail("CI=true but no redis-server to test against", pytrace=False)
    resp = run_rdbtool("dump", str(rdb), "--resp")
    assert resp.returncode == 0, resp.stderr
    loaded_dir = tmp_path / "loaded"
    loaded_dir.mkdir()
    shutil.copyfile(rdb, loaded_dir / "dump.rdb")
    args = server_args()
    with (
        start_redis_server(loaded_dir, *args, binary=BINARY) as loaded,
        start_redis_server(tmp_path / "piped", *args, binary=BINARY) as piped,
    ):
        pipe_into(piped.port, resp.stdout, piped.client)
        a, b = loaded.client, piped.client
        assert keyspace(a) == keyspace(b)
        if a.execute_command("DEBUG", "DIGEST") != b.execute_command("DEBUG", "DIGEST"):
            for db, key in digest_differences(a, b):
                assert_only_negative_zero_differs(a, b, db, key)
        assert functions(a) == functions(b)
        counters = header_version(rdb.read_bytes()[:9]) >= 10
        assert streams(a, counters) == streams(b, counters)
