"""``rdbtool restore`` / ``rdbtools.ops.restore.restore`` into a live Redis 7.0.15.

- every 7.0.15 fixture restored by RESTORE payloads: ``DEBUG DIGEST``, functions, stream
  groups / PEL / consumers, LFU counters and LRU idle times equal to those of a server
  that loads the file itself; keys whose TTL has passed are skipped and counted;
- the commands fallback: a 7.4.1 fixture (hashes with field TTLs go by commands, and the
  loss of their TTLs is reported), ``mode="commands"`` on a 7.0.15 fixture (digest equal;
  stream consumers' seen times are the time of the restore), a value bigger than the
  server's ``proto-max-bulk-len``;
- ``--skip-existing`` / ``--fail-on-conflict`` / ``--replace``, ``--dry-run`` (sends
  nothing), and the CLI's summary line and exit code 9.
"""

from __future__ import annotations

import io
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, SKIP, compare, load_truth, run_rdbtool
from test_writer_live import (
    all_keys,
    client_db,
    compare_with_truth,
    fixture_args,
    function_codes,
    raw,
    server_stream,
    server_with,
)

from rdbtools import read_rdb, records
from rdbtools.errors import RestoreError
from rdbtools.events import KeyEnd, KeyStart, ListItems, StringValue
from rdbtools.ops.restore import restore, server_rdb_version
from rdbtools.rdb.writer import RdbWriter

F70 = FIXTURES / "7.0.15"
F74 = FIXTURES / "7.4.1"


def expired_count(path: Path, now_ms: int) -> int:
    return sum(
        1 for r in records(read_rdb(str(path))) if r.expire_ms is not None and r.expire_ms <= now_ms
    )


def streams_of(client: Any, seen_times: bool = True) -> dict[tuple[int, bytes], Any]:
    out = {}
    for db, key in sorted(all_keys(client)):
        c = client_db(client, db)
        if c.type(key) == b"stream":
            s = server_stream(c, key)
            if not seen_times:
                for g in s["groups"].values():
                    for cons in g["consumers"].values():
                        cons["seen_time_ms"] = SKIP
            out[(db, key)] = s
    return out


def keyspace(client: Any) -> dict[str, tuple[int, int]]:
    """Keys and keys with a TTL per database (``avg_ttl`` is an estimate: left out)."""
    return {db: (v["keys"], v["expires"]) for db, v in client.info("keyspace").items()}


def url_of(server: Any, db: int = 0) -> str:
    return f"redis://127.0.0.1:{server.port}/{db}"


# --------------------------------------------------------------------------- payloads


@pytest.mark.parametrize("name", ["small-encodings", "lfu", "lru", "cluster"])
def test_restore_70_fixture_equals_loading_it(name: str, tmp_path: Path) -> None:
    rdb = F70 / f"{name}.rdb"
    truth = load_truth(F70 / f"{name}.truth.json")
    args = fixture_args(truth)
    with (
        server_with(tmp_path / "orig", rdb.read_bytes(), *args) as orig,
        server_with(tmp_path / "dest", None, *args) as dest,
    ):
        now = int(time.time() * 1000)
        summary = restore(read_rdb(str(rdb)), dest.client, now_ms=now, pipeline=7)
        total = sum(1 for _ in records(read_rdb(str(rdb))))
        expired = expired_count(rdb, now)
        assert summary.skipped_expired == expired
        assert summary.keys_written == total - expired == summary.by_payload
        assert summary.by_commands == 0 and not summary.losses and not summary.errors
        assert summary.target_version == 10
        a, b = orig.client, dest.client
        if "allkeys-lfu" in args:  # before any read touches the counters
            for db, key in all_keys(a):
                assert client_db(a, db).object("freq", key) == client_db(b, db).object(
                    "freq", key), key  # fmt: skip
        if "allkeys-lru" in args:
            for db, key in all_keys(a):
                ia = client_db(a, db).object("idletime", key)
                ib = client_db(b, db).object("idletime", key)
                assert abs(ia - ib) <= 2, (key, ia, ib)
        assert keyspace(a) == keyspace(b)
        assert raw(a, "DEBUG", "DIGEST") == raw(b, "DEBUG", "DIGEST")
        assert function_codes(a) == function_codes(b)
        assert summary.functions == len(function_codes(a))
        assert streams_of(a) == streams_of(b)


def test_restore_jsonl_dump(tmp_path: Path) -> None:
    """``restore`` reads a ``dump --jsonl`` file as well (``open_events``)."""
    rdb = F70 / "small-encodings.rdb"
    jsonl = tmp_path / "d.jsonl"
    assert run_rdbtool("dump", str(rdb), "-o", str(jsonl)).returncode == 0
    with (
        server_with(tmp_path / "orig", rdb.read_bytes()) as orig,
        server_with(tmp_path / "dest", None) as dest,
    ):
        proc = run_rdbtool("restore", str(jsonl), "--url", url_of(dest))
        assert proc.returncode == 0, proc.stderr
        assert raw(orig.client, "DEBUG", "DIGEST") == raw(dest.client, "DEBUG", "DIGEST")
        assert streams_of(orig.client) == streams_of(dest.client)


# --------------------------------------------------------------------------- commands


def test_commands_mode_on_70_fixture(tmp_path: Path) -> None:
    rdb = F70 / "small-encodings.rdb"
    with (
        server_with(tmp_path / "orig", rdb.read_bytes()) as orig,
        server_with(tmp_path / "dest", None) as dest,
    ):
        summary = restore(read_rdb(str(rdb)), dest.client, mode="commands")
        assert summary.by_payload == 0 and summary.by_commands == summary.keys_written > 100
        a, b = orig.client, dest.client
        assert keyspace(a) == keyspace(b)
        assert raw(a, "DEBUG", "DIGEST") == raw(b, "DEBUG", "DIGEST")
        for db, key in all_keys(a):
            assert raw(client_db(a, db), "PEXPIRETIME", key) == raw(
                client_db(b, db), "PEXPIRETIME", key), key  # fmt: skip
        # consumer seen times are the time of the XCLAIM: everything else is equal
        sa, sb = streams_of(a, seen_times=False), streams_of(b, seen_times=False)
        problems: list[str] = []
        compare(sa, sb, "streams", problems)
        assert not problems, problems
        assert function_codes(a) == function_codes(b)


def test_74_fixture_into_70_reports_field_ttls(tmp_path: Path) -> None:
    """Into 7.0.15 (RDB 10) every key goes by a RESTORE payload of RDB 10; a hash with
    field TTLs cannot keep them and the loss is reported for exactly those keys."""
    rdb = F74 / "small-encodings.rdb"
    truth = load_truth(F74 / "small-encodings.truth.json")
    fe_keys = {(int(k["db"]), k["key"].encode()) for k in truth["keys"] if k.get("field_expires")}
    assert fe_keys
    with server_with(tmp_path / "dest", None) as dest:
        now = int(time.time() * 1000)
        summary = restore(read_rdb(str(rdb)), dest.client, now_ms=now)
        assert summary.by_commands == 0 and summary.target_version == 10
        lost = {(x.db, x.key) for x in summary.losses}
        ttl_lost = {(x.db, x.key) for x in summary.losses if "field TTL" in x.what}
        live_fe = {k for k in fe_keys if k in all_keys(dest.client)}
        assert ttl_lost >= live_fe
        diffs, _ = compare_with_truth(truth, dest.client, now, 10)
        for k, problems in diffs.items():
            assert k in lost, (k, problems)
            for p in problems:
                assert p.startswith("field_expires") or "active_time" in p, (k, p)


def test_74_fixture_by_commands_for_an_old_server(tmp_path: Path) -> None:
    """Told the server is RDB 2 (Redis 2.4, older than any version written here), restore
    writes every key of a 7.4 fixture as commands; field TTLs, which RDB 10 (the live
    7.0.15) cannot hold, are reported, and everything else arrives."""
    rdb = F74 / "small-encodings.rdb"
    truth = load_truth(F74 / "small-encodings.truth.json")
    with server_with(tmp_path / "dest", None) as dest:
        now = int(time.time() * 1000)
        summary = restore(read_rdb(str(rdb)), dest.client, now_ms=now, target_version=2)
        assert summary.by_payload == 0 and summary.by_commands == summary.keys_written > 100
        lost = {(x.db, x.key) for x in summary.losses}
        diffs, _ = compare_with_truth(truth, dest.client, now, 10)
        for k, problems in diffs.items():
            for p in problems:
                if p.startswith("field_expires"):
                    assert k in lost, (k, p)
                else:
                    assert "seen_time_ms" in p or "active_time" in p, (k, p)


def test_value_over_proto_max_bulk_len_goes_by_commands(tmp_path: Path) -> None:
    """A 1.5 MB list whose payload is over ``proto-max-bulk-len`` (1 MB, its minimum)
    goes as RPUSH batches."""
    rng = random.Random(5)
    items = tuple(rng.randbytes(50) for _ in range(30000))  # 1.5 MB, incompressible
    out = io.BytesIO()
    RdbWriter(out, 10).write_all([
        KeyStart(0, b"big:list", "list", "", 0), ListItems(items), KeyEnd(b"big:list", 0, 0),
        KeyStart(0, b"small", "string", "raw", 0), StringValue(b"x"), KeyEnd(b"small", 0, 0),
    ])  # fmt: skip
    with server_with(tmp_path / "dest", None) as dest:
        c = dest.client
        c.config_set("proto-max-bulk-len", "1mb")
        summary = restore(read_rdb(io.BytesIO(out.getvalue())), c)
        assert summary.by_payload == 1  # "small"
        assert summary.by_commands == 1
        assert c.lrange(b"big:list", 0, -1) == list(items)


def test_string_over_proto_max_bulk_len_is_refused_by_name(tmp_path: Path) -> None:
    """A string longer than ``proto-max-bulk-len`` cannot exist on that server (APPEND
    refuses to grow past it): the error names the key."""
    out = io.BytesIO()
    RdbWriter(out, 10).write_all([
        KeyStart(0, b"big:str", "string", "raw", 0), StringValue(random.Random(1).randbytes(
            1_500_000)), KeyEnd(b"big:str", 0, 0),
    ])  # fmt: skip
    with server_with(tmp_path / "dest", None) as dest:
        dest.client.config_set("proto-max-bulk-len", "1mb")
        with pytest.raises(RestoreError, match=r"b'big:str': string exceeds maximum"):
            restore(read_rdb(io.BytesIO(out.getvalue())), dest.client)


# --------------------------------------------------------------------------- conflicts


def _prefill(client: Any) -> None:
    client.set(b"str:short", b"mine")
    client_db(client, 15).set(b"db15:str", b"mine too")


def test_replace_is_the_default(tmp_path: Path) -> None:
    rdb = F70 / "small-encodings.rdb"
    with server_with(tmp_path / "dest", None) as dest:
        _prefill(dest.client)
        summary = restore(read_rdb(str(rdb)), dest.client)
        assert summary.skipped_existing == 0
        assert dest.client.get(b"str:short") != b"mine"
        assert client_db(dest.client, 15).get(b"db15:str") != b"mine too"


@pytest.mark.parametrize("mode", ["payload", "commands"])
def test_skip_existing(mode: str, tmp_path: Path) -> None:
    rdb = F70 / "small-encodings.rdb"
    with server_with(tmp_path / "dest", None) as dest:
        _prefill(dest.client)
        now = int(time.time() * 1000)
        summary = restore(read_rdb(str(rdb)), dest.client, conflict="skip-existing", mode=mode,
                          now_ms=now)  # fmt: skip
        assert summary.skipped_existing == 2
        total = sum(1 for _ in records(read_rdb(str(rdb))))
        assert summary.keys_written == total - 2 - expired_count(rdb, now)
        assert dest.client.get(b"str:short") == b"mine"
        assert client_db(dest.client, 15).get(b"db15:str") == b"mine too"
        assert dest.client.dbsize() > 90


@pytest.mark.parametrize("mode", ["payload", "commands"])
def test_fail_on_conflict(mode: str, tmp_path: Path) -> None:
    rdb = F70 / "small-encodings.rdb"
    with server_with(tmp_path / "dest", None) as dest:
        _prefill(dest.client)
        with pytest.raises(RestoreError, match="str:short"):
            restore(read_rdb(str(rdb)), dest.client, conflict="fail-on-conflict", mode=mode)
        assert dest.client.get(b"str:short") == b"mine"


def test_cli_summary_and_exit_9_on_conflict(tmp_path: Path) -> None:
    rdb = F70 / "small-encodings.rdb"
    with server_with(tmp_path / "dest", None) as dest:
        proc = run_rdbtool("restore", str(rdb), "--url", url_of(dest), "--pipeline", "10")
        assert proc.returncode == 0, proc.stderr
        err = proc.stderr.decode()
        assert re.fullmatch(
            r"wrote (\d+) keys \(RDB 10: \1 by RESTORE, 0 by commands\), 2 functions; "
            r"skipped \d+ expired, 0 existing; 0 losses\n", err), err  # fmt: skip
        proc = run_rdbtool("restore", str(rdb), "--url", url_of(dest), "--fail-on-conflict")
        assert proc.returncode == 9
        err = proc.stderr.decode()
        assert err.startswith("rdbtool: ") and err.count("\n") == 1, err
        assert "already exist" in err, err
        proc = run_rdbtool("restore", str(rdb), "--url", url_of(dest), "--skip-existing")
        assert proc.returncode == 0, proc.stderr
        assert re.search(rb"wrote 0 keys .* skipped \d+ expired, \d{3} existing", proc.stderr)


def test_cli_filters_and_target_version(tmp_path: Path) -> None:
    rdb = F70 / "small-encodings.rdb"
    with server_with(tmp_path / "dest", None) as dest:
        proc = run_rdbtool("restore", str(rdb), "--url", url_of(dest), "--db", "15",
                           "--target-version", "9", "--mode", "payload")  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert b"(RDB 9: 2 by RESTORE" in proc.stderr
        assert keyspace(dest.client) == {"db15": (2, 0)}


# --------------------------------------------------------------------------- dry run


def test_dry_run_sends_nothing(tmp_path: Path) -> None:
    rdb = F70 / "small-encodings.rdb"
    with server_with(tmp_path / "dest", None) as dest:
        dest.client.config_resetstat()
        summary = restore(read_rdb(str(rdb)), dest.client, dry_run=True)
        assert summary.dry_run and summary.keys_written > 100
        stats = dest.client.info("commandstats")
        written = {
            k
            for k in stats
            if not k.startswith(
                ("cmdstat_info", "cmdstat_config", "cmdstat_hello", "cmdstat_client")
            )
        }
        assert not written, stats
        assert dest.client.dbsize() == 0
        proc = run_rdbtool("restore", str(rdb), "--url", url_of(dest), "--dry-run")
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.startswith(b"would write ")
        assert dest.client.dbsize() == 0


def test_dry_run_needs_no_server() -> None:
    rdb = F70 / "small-encodings.rdb"
    proc = run_rdbtool("restore", str(rdb), "--url", "redis://127.0.0.1:1/0", "--dry-run",
                       "--target-version", "10")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith(b"would write 10")


def test_unreachable_server_is_exit_9() -> None:
    rdb = F70 / "small-encodings.rdb"
    proc = run_rdbtool("restore", str(rdb), "--url", "redis://127.0.0.1:1/0")
    assert proc.returncode == 9, proc.stderr
    assert proc.stderr.count(b"\n") == 1 and b"Traceback" not in proc.stderr


def test_bad_options() -> None:
    rdb = F70 / "small-encodings.rdb"
    for args in (["--target-version", "x"], ["--mode", "fast"], ["--pipeline", "0"]):
        proc = run_rdbtool("restore", str(rdb), "--url", "redis://127.0.0.1:1/0", *args)
        assert proc.returncode == 2, (args, proc.stderr)


def test_server_rdb_version_table() -> None:
    assert server_rdb_version({"redis_version": "7.0.15"}) == 10
    assert server_rdb_version({"redis_version": "7.2.6"}) == 11
    assert server_rdb_version({"redis_version": "7.4.1"}) == 12
    assert server_rdb_version({"redis_version": "8.0.2"}) == 12
    assert server_rdb_version({"redis_version": "6.2.14"}) == 9
    assert server_rdb_version({"redis_version": "4.0.14"}) == 8
    assert server_rdb_version({"redis_version": "3.2.13"}) == 7
    assert server_rdb_version({"redis_version": "2.8.24"}) == 6
    assert server_rdb_version({"redis_version": "7.2.4", "valkey_version": "8.0.1"}) == 11
    assert server_rdb_version({"redis_version": "7.2.4", "valkey_version": "9.0.0"}) == 80


def test_restore_with_password_and_the_password_never_printed(tmp_path: Path) -> None:
    """AUTH through the URL; a wrong password is one line, exit 9, password redacted."""
    with server_with(tmp_path / "dest", None) as dest:
        dest.client.config_set("requirepass", "s3cret")
        port = dest.client.connection_pool.connection_kwargs["port"]
        rdb = FIXTURES / "7.0.15" / "small-encodings.rdb"
        ok = run_rdbtool("restore", str(rdb), "--url", f"redis://:s3cret@127.0.0.1:{port}/0")
        assert ok.returncode == 0, ok.stderr
        assert b"wrote" in ok.stderr
        bad = run_rdbtool("restore", str(rdb), "--url", f"redis://:wrongpw@127.0.0.1:{port}/0")
        assert bad.returncode == 9
        assert b"wrongpw" not in bad.stderr and b":***@" in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1 and b"Traceback" not in bad.stderr
