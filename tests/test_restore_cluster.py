"""``rdbtool restore`` into a Redis Cluster of three primaries started here.

- the BullMQ snapshot and a 7.0.15 fixture (``--db 0``, by payloads and by commands)
  restored through the CLI are key for key what a standalone server that loads the same
  file holds in db 0: each key on the primary of its slot, with the same type, ``DEBUG
  DIGEST-VALUE``, absolute expiry (``PEXPIRETIME``) and stream groups; function
  libraries on every primary;
- keys of databases other than 0 are refused (exit 9, counted, nothing else lost)
  unless mapped with ``--to-db 0``;
- a client whose slot map is stale (slots moved after it read it) is redirected by
  ``MOVED``, and slots being migrated answer ``ASK``: every key still lands on the right
  primary;
- a plain ``redis.Redis`` on a cluster node is refused before anything is written; a
  primary killed mid-restore stops it with the keys written and in flight counted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from helpers import EXTERNAL, FIXTURES, SKIP, run_rdbtool
from helpers_cluster import Cluster, start_cluster
from helpers_server import raw, skip_if_clock_shifted
from test_writer_live import function_codes, server_stream, server_with

from rdbtools import read_rdb, records
from rdbtools.errors import RestoreError
from rdbtools.ops.connection import connect
from rdbtools.ops.restore import restore

pytestmark = pytest.mark.live

BULLMQ = EXTERNAL.parent / "bullmq-7.0.15" / "snap2.rdb"
F70 = FIXTURES / "7.0.15"
MARGIN_MS = 120_000
"""Keys expiring this close to the moment of comparison are left out on both sides."""


@pytest.fixture
def cluster(tmp_path: Path) -> Any:
    skip_if_clock_shifted()
    with start_cluster(tmp_path / "cluster") as c:
        yield c


def _key_state(client: Any, key: bytes, seen_times: bool) -> tuple[Any, ...]:
    kind = client.type(key)
    digest = raw(client, "DEBUG", "DIGEST-VALUE", key)
    stream = server_stream(client, key) if kind == b"stream" else None
    if stream is not None and not seen_times:
        for g in stream["groups"].values():
            for cons in g["consumers"].values():
                cons["seen_time_ms"] = SKIP
    return kind, digest, client.pexpiretime(key), stream


def _keys_at(client: Any, now_ms: int, seen_times: bool) -> dict[bytes, tuple[Any, ...]]:
    """Every key of ``client``'s database 0 that does not expire within the margin."""
    out = {}
    for key in client.scan_iter(count=1000):
        state = _key_state(client, key, seen_times)
        if 0 <= state[2] <= now_ms + MARGIN_MS:
            continue
        out[key] = state
    return out


def assert_same_as_standalone(cluster: Cluster, standalone: Any, seen_times: bool) -> None:
    """Key for key, the cluster equals db 0 of ``standalone``; each key on its slot's
    primary. ``seen_times``: compare stream consumers' seen times too (written by
    commands, they are the time of the restore)."""
    rc = cluster.client()
    try:
        now_ms = int(standalone.time()[0]) * 1000
        want = _keys_at(standalone, now_ms, seen_times)
        got: dict[bytes, tuple[Any, ...]] = {}
        for node in cluster.nodes:
            here = _keys_at(node.client, now_ms, seen_times)
            for key in here:
                assert rc.get_node_from_key(key).port == node.port, key
            got.update(here)
        assert want, "nothing to compare"
        assert sorted(got) == sorted(want)
        for key, state in want.items():
            assert got[key] == state, key
    finally:
        rc.close()


@pytest.mark.parametrize("rdb,args", [
    pytest.param(BULLMQ, (), id="bullmq-snap2"),
    pytest.param(BULLMQ.with_name("snap1.rdb"), (), id="bullmq-snap1"),
    pytest.param(F70 / "small-encodings.rdb", ("--db", "0"), id="7.0.15-small-encodings"),
    pytest.param(F70 / "small-encodings.rdb", ("--db", "0", "--mode", "commands"),
                 id="7.0.15-small-encodings-commands"),
])  # fmt: skip
def test_cluster_restore_equals_standalone_load(
    rdb: Path, args: tuple[str, ...], cluster: Cluster, tmp_path: Path
) -> None:
    if not rdb.exists():
        pytest.skip(f"{rdb} is absent")
    proc = run_rdbtool("restore", str(rdb), "--url", cluster.url, *args)
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(rb"wrote \d+ keys \(RDB 10: \d+ by RESTORE, \d+ by commands\), "
                        rb"\d+ functions on 3 primaries; skipped \d+ expired, 0 existing; "
                        rb"0 losses\n", proc.stderr), proc.stderr  # fmt: skip
    with server_with(tmp_path / "standalone", rdb.read_bytes()) as standalone:
        assert_same_as_standalone(cluster, standalone.client, "commands" not in args)
        functions = function_codes(standalone.client)
        for node in cluster.nodes:
            assert function_codes(node.client) == functions
    if rdb.name == "small-encodings.rdb":
        assert len(functions) == 2


def test_other_databases_refused_unless_mapped(cluster: Cluster) -> None:
    rdb = F70 / "small-encodings.rdb"
    rc = cluster.client()
    now = int(rc.time(target_nodes=rc.get_random_node())[0]) * 1000
    live = [r for r in records(read_rdb(str(rdb))) if r.expire_ms is None or r.expire_ms > now]
    per_db: dict[int, int] = {}
    for r in live:
        per_db[r.db] = per_db.get(r.db, 0) + 1
    assert set(per_db) == {0, 1, 15}
    only_elsewhere = {r.key for r in live if r.db != 0} - {r.key for r in live if r.db == 0}
    assert only_elsewhere
    try:
        proc = run_rdbtool("restore", str(rdb), "--url", cluster.url, "--now", str(now))
        assert proc.returncode == 9, proc.stderr
        err = proc.stderr.decode()
        assert "Traceback" not in err
        summary, last = err.splitlines()
        assert summary.startswith(f"wrote {per_db[0]} keys ")
        assert f"{per_db[1] + per_db[15]} of missing databases" in summary
        assert last.startswith("rdbtool: ") and "--to-db" in last
        assert f"{per_db[1]} of db 1 (database 1: a cluster has database 0 only)" in last
        assert f"{per_db[15]} of db 15 (database 15: a cluster has database 0 only)" in last
        assert sum(n.client.dbsize() for n in cluster.nodes) == per_db[0]
        assert not any(rc.exists(k) for k in only_elsewhere)

        proc = run_rdbtool("restore", str(rdb), "--url", cluster.url, "--to-db", "0",
                           "--now", str(now))  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.startswith(f"wrote {len(live)} keys ".encode())
        assert all(rc.exists(k) for k in only_elsewhere)
    finally:
        rc.close()


def test_stale_slot_map_is_redirected(cluster: Cluster, tmp_path: Path) -> None:
    """Slots are moved after the client read the slot map: the pipelines meet ``MOVED``
    and redis-py sends those keys again to their new primary."""
    rdb = F70 / "small-encodings.rdb"
    client = connect(cluster.url)
    try:
        keys = [r.key for r in records(read_rdb(str(rdb)))
                if r.db == 0 and r.expire_ms is None][:8]
        ids = {n.port: n.client.execute_command("CLUSTER", "MYID") for n in cluster.nodes}
        moved = {}
        for key in keys:
            slot = client.keyslot(key)
            owner = client.get_node_from_key(key).port
            new = next(p for p in ids if p != owner)
            for node in cluster.nodes:
                node.client.execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[new])
            moved[key] = new
        summary = restore(read_rdb(str(rdb)), client, to_db=0)
        assert summary.cluster and summary.keys_written > 100 and not summary.errors
        by_port = {n.port: n.client for n in cluster.nodes}
        for key, port in moved.items():
            assert by_port[port].exists(key), key
            assert client.get_node_from_key(key).port == port  # the map was refreshed
    finally:
        client.close()


def test_ask_while_a_slot_migrates(cluster: Cluster) -> None:
    """Slots being migrated (MIGRATING on their primary, IMPORTING on another): the
    primary answers ``ASK`` for keys it lacks and redis-py sends them to the importing
    node; once the slots are handed over the keys are there."""
    rdb = F70 / "small-encodings.rdb"
    client = connect(cluster.url)
    try:
        keys = [r.key for r in records(read_rdb(str(rdb)))
                if r.db == 0 and r.expire_ms is None][:8]
        by_port = {n.port: n.client for n in cluster.nodes}
        ids = {port: c.execute_command("CLUSTER", "MYID") for port, c in by_port.items()}
        slots = {}
        for key in keys:
            slot = client.keyslot(key)
            owner = client.get_node_from_key(key).port
            slots[slot] = (owner, next(p for p in ids if p != owner))
        for slot, (owner, new) in slots.items():
            by_port[new].execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[owner])
            by_port[owner].execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[new])
        summary = restore(read_rdb(str(rdb)), client, to_db=0)
        assert summary.keys_written > 100 and not summary.errors
        for slot, (owner, new) in slots.items():
            assert by_port[owner].execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
            assert by_port[new].execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) > 0
            for c in by_port.values():
                c.execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[new])
        for key in keys:
            assert client.exists(key), key
    finally:
        client.close()


def test_plain_client_on_a_cluster_node_is_refused(cluster: Cluster) -> None:
    """A ``redis.Redis`` on a cluster node would meet ``MOVED`` for most keys: refused
    before anything is written."""
    with pytest.raises(RestoreError, match="cluster node"):
        restore(read_rdb(str(F70 / "small-encodings.rdb")), cluster.nodes[0].client)
    assert sum(n.client.dbsize() for n in cluster.nodes) == 0


def test_primary_killed_mid_restore(cluster: Cluster) -> None:
    """A primary killed after the first batch: the restore stops with the count of keys
    written (the other primaries' replies to the second batch included) and of those in
    flight, not with a success."""
    client = connect(cluster.url, timeout=5)
    victim = cluster.nodes[2].process

    def kill(done_bytes: int, keys: int) -> None:
        if victim.poll() is None:
            victim.kill()
            victim.wait()

    try:
        with pytest.raises(RestoreError) as err:
            restore(read_rdb(str(F70 / "small-encodings.rdb")), client, to_db=0, pipeline=40,
                    progress=kill)  # fmt: skip
        m = re.match(r"connection lost after (\d+) keys written \((\d+) in flight, not "
                     r"known to be written\): ", str(err.value))  # fmt: skip
        assert m, err.value
        written, in_flight = int(m.group(1)), int(m.group(2))
        # the first batch answered; of the second, the other primaries' keys answered
        assert written >= 40 and in_flight > 0 and written + in_flight <= 80
    finally:
        client.close()
