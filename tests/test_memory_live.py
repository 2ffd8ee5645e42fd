"""``rdbtool memory`` against a live server: ``--model-from`` reads the server's version
and allocator, the estimates match its ``MEMORY USAGE`` key by key (the file loaded
into that server, both sides read at one moment), and ``--state live|loaded`` matches a
server after the writes and after ``DEBUG RELOAD``.

Run with ``-rA`` to see each file's figures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import test_cli_docs
from helpers import FIXTURES, REPO, run_rdbtool, tb

SHARED = REPO.parent / "shared" / "fixtures"
WITHIN = 0.10
SHARE = 0.95

LOAD_CASES = [
    *(FIXTURES / "7.0.15" / f"{n}.rdb" for n in ("small-encodings", "lfu", "lru", "cluster")),
    SHARED / "bullmq-7.0.15" / "snap1.rdb",
    SHARED / "bullmq-7.0.15" / "snap2.rdb",
]


def _url(server: Any) -> str:
    return f"redis://127.0.0.1:{server.port}"


def _rows(path: Path, server: Any, *args: str) -> tuple[list[dict[str, Any]], str]:
    proc = run_rdbtool("memory", str(path), "--model-from", _url(server), "--jsonl", *args)
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    for r in rows:
        r["key"] = tb(r["key"])
    return rows, err


def _usage(client: Any, rows: list[dict[str, Any]]) -> dict[tuple[int, bytes], int]:
    """``MEMORY USAGE key SAMPLES 0`` of every row's key, in one pipeline per database
    (a key that has expired or was never loaded is left out)."""
    out: dict[tuple[int, bytes], int] = {}
    for db in sorted({r["db"] for r in rows}):
        keys = [r["key"] for r in rows if r["db"] == db]
        client.execute_command("SELECT", db)
        pipe = client.pipeline(transaction=False)
        for k in keys:
            pipe.execute_command("MEMORY", "USAGE", k, "SAMPLES", "0")
        for k, got in zip(keys, pipe.execute()):
            if got is not None:
                out[(db, k)] = int(got)
    client.execute_command("SELECT", 0)
    return out


def _close(rows: list[dict[str, Any]], usage: dict[tuple[int, bytes], int]) -> tuple[int, int]:
    compared = [(r["memory"], usage[(r["db"], r["key"])]) for r in rows
                if (r["db"], r["key"]) in usage]
    return sum(abs(got - want) <= WITHIN * want for got, want in compared), len(compared)


def _quantum(client: Any) -> int | None:
    stats = client.execute_command("MEMORY", "MALLOC-STATS").decode()
    for line in stats.splitlines():
        if line.startswith("Quantum size:"):
            return int(line.split(":")[1])
    return None


def test_model_from_reads_the_server(redis_server: Any) -> None:
    client = redis_server.client
    info = client.info("server") | client.info("memory")
    rows, err = _rows(FIXTURES / "7.0.15" / "small-encodings.rdb", redis_server)
    assert rows
    quantum = _quantum(client) if info["mem_allocator"].startswith("jemalloc") else None
    want = {16: "jemalloc-q16", 8: "jemalloc"}.get(quantum or 0, "libc")
    if not info["mem_allocator"].startswith("jemalloc") and info["mem_allocator"] != "libc":
        pytest.skip(f"allocator {info['mem_allocator']} has no model")
    major, minor = str(info["redis_version"]).split(".")[:2]
    line = [ln for ln in err.splitlines() if "memory model" in ln]
    assert len(line) == 1, err
    assert f"redis-{major}.{minor}/{want}/64, live state" in line[0]
    assert f"from {_url(redis_server)}: redis {info['redis_version']}" in line[0]
    if quantum:
        assert f"quantum {quantum}" in line[0]
    proc = run_rdbtool("memory", str(FIXTURES / "7.0.15" / "small-encodings.rdb"), "--json",
                       "--model-from", _url(redis_server), "--allocator", "libc")
    model = json.loads(proc.stdout)["files"][0]["model"]
    assert (model["allocator"], model["allocator_from"], model["version_from"]) == (
        "libc", "option", "server")


def test_model_from_errors_are_one_line() -> None:
    small = str(FIXTURES / "7.0.15" / "small-encodings.rdb")
    proc = run_rdbtool("memory", small, "--model-from", "http://u:secret@127.0.0.1:1")
    err = proc.stderr.decode()
    assert proc.returncode == 2 and len(err.splitlines()) == 1, err
    assert "secret" not in err and "u:***@" in err
    # a closed port (bound, then released): the connection is refused at once
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = run_rdbtool("memory", small, "--model-from", f"redis://:pw@127.0.0.1:{port}")
    err = proc.stderr.decode()
    assert proc.returncode == 9 and len(err.splitlines()) == 1, err
    assert "Traceback" not in err and ":pw@" not in err and f"127.0.0.1:{port}" in err


@pytest.mark.parametrize(
    "path", [pytest.param(p, id=f"{p.parent.name}/{p.name}") for p in LOAD_CASES])
def test_estimates_match_the_server_that_loaded_the_file(
        path: Path, redis_server_factory: Any) -> None:
    """The file loaded into Debian's server (``DEBUG RELOAD NOSAVE``), the model read
    from that server, and both sides read right after: keys that expire in between are
    left out by ``_usage``."""
    if not path.exists():
        pytest.skip(f"{path} is not here")
    with redis_server_factory("--enable-debug-command", "yes") as server:
        shutil.copyfile(path, server.rdb_path)
        server.client.execute_command("DEBUG", "RELOAD", "NOSAVE")
        rows, err = _rows(path, server, "--state", "loaded")
        usage = _usage(server.client, rows)
    close, compared = _close(rows, usage)
    print(f"{path.parent.name}/{path.name}: {close}/{compared} within ±10% "
          f"({100 * close / compared:.1f}%); {err.strip()}")
    assert compared >= 0.9 * len(rows)  # only keys with a TTL may be gone
    assert close >= SHARE * compared, (close, compared)


def test_streams_live_and_loaded(redis_server_factory: Any) -> None:
    """A live Redis 7 keeps the last stream node at 4 KiB; a reload shrinks it."""
    with redis_server_factory("--enable-debug-command", "yes") as server:
        c = server.client
        version = tuple(int(x) for x in str(c.info("server")["redis_version"]).split(".")[:2])
        if version < (6, 2):
            pytest.skip("before 6.2 XADD does not preallocate stream nodes")
        for i in range(3):
            c.xadd("s:small", {"f": f"v{i}"}, id=f"1-{i + 1}")
        for i in range(250):
            c.xadd("s:big", {"field": "x" * 20, "n": str(i)}, id=f"2-{i + 1}")
        c.hset("h", mapping={f"f{i}": "v" for i in range(20)})
        c.rpush("l", *[str(i) for i in range(50)])
        keys = [b"s:small", b"s:big", b"h", b"l"]

        def measured() -> dict[bytes, int]:
            return {k: int(c.execute_command("MEMORY", "USAGE", k, "SAMPLES", "0"))
                    for k in keys}

        live = measured()
        c.save()
        estimate = {state: {r["key"]: r["memory"] for r in _rows(server.rdb_path, server,
                                                                  "--state", state)[0]}
                    for state in ("live", "loaded")}
        c.execute_command("DEBUG", "RELOAD")
        loaded = measured()
    assert live[b"s:small"] > 4096 > 1024 > loaded[b"s:small"]
    assert estimate["live"][b"s:small"] > 4096 > 1024 > estimate["loaded"][b"s:small"]
    for state, want in (("live", live), ("loaded", loaded)):
        for k in keys:
            got = estimate[state][k]
            assert abs(got - want[k]) <= WITHIN * want[k], (state, k, got, want[k])


def _live_blocks(tmp_path: Path) -> list[list[tuple[str, list[str]]]]:
    """The ``console live`` blocks of docs/memory.md (examples that need a server at
    ``redis://127.0.0.1:6379``), read by ``console_blocks`` from a copy of the doc in
    which they are the only ``console`` blocks."""
    text = (REPO / "docs" / "memory.md").read_text(encoding="utf-8")
    copy = tmp_path / "live.md"
    copy.write_text(text.replace("```console\n", "```text\n").replace(
        "```console live\n", "```console\n"), encoding="utf-8")
    return test_cli_docs.console_blocks(copy)


def test_doc_live_examples(redis_server: Any, tmp_path: Path) -> None:
    """The examples run against a server on its own port (6379 in the text)."""
    blocks = _live_blocks(tmp_path)
    assert blocks
    if str(redis_server.version) != "7.0.15":
        pytest.skip("the examples show Debian's 7.0.15 package")
    port = str(redis_server.port)
    for block in blocks:
        test_cli_docs.test_example(
            [(cmd.replace("6379", port), [ln.replace("6379", port) for ln in lines])
             for cmd, lines in block], tmp_path)
