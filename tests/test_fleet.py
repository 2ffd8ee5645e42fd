"""Compressed and remote inputs, ``memory --parquet`` / ``dump --parquet`` read back by
DuckDB, the Arrow library functions, progress, and the examples of ``docs/fleet.md``."""

from __future__ import annotations

import ast
import bz2
import contextlib
import functools
import gzip
import http.server
import io
import json
import lzma
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import FIXTURES, REPO, cli_env, rdbtool_cmd, run_rdbtool
from helpers_server import skip_if_clock_shifted
from test_cli_docs import matches

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
duckdb = pytest.importorskip("duckdb")
zstandard = pytest.importorskip("zstandard")
lz4_frame = pytest.importorskip("lz4.frame")

SMALL = FIXTURES / "7.0.15" / "small-encodings.rdb"
LRU = FIXTURES / "7.0.15" / "lru.rdb"
CLUSTER = FIXTURES / "7.4.1" / "cluster.rdb"
BULLMQ = REPO.parent / "shared" / "fixtures" / "bullmq-7.0.15"

COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zst": lambda data: zstandard.ZstdCompressor().compress(data),
    "lz4": lambda data: lz4_frame.compress(data),
}


def ok(*args: str, stdin: bytes | None = None) -> bytes:
    proc = run_rdbtool(*args, stdin=stdin)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def compressed(tmp_path: Path, src: Path, ext: str, name: str | None = None) -> Path:
    out = tmp_path / (name or f"{src.stem}.rdb.{ext}")
    out.write_bytes(COMPRESSORS[ext](src.read_bytes()))
    return out


# --------------------------------------------------------------------------- compression


@pytest.mark.parametrize("ext", sorted(COMPRESSORS))
def test_dump_of_compressed_file_equals_plain(tmp_path: Path, ext: str) -> None:
    plain = ok("dump", str(SMALL))
    assert plain.count(b"\n") > 20
    # a misleading name: the magic bytes decide
    packed = compressed(tmp_path, SMALL, ext, name="snapshot.rdb")
    assert ok("dump", str(packed)) == plain
    assert ok("dump", "-", stdin=packed.read_bytes()) == plain


@pytest.mark.parametrize("ext", sorted(COMPRESSORS))
def test_every_reading_command_takes_compressed_input(tmp_path: Path, ext: str) -> None:
    packed = compressed(tmp_path, CLUSTER, ext)
    now = "--now=1700000000000"
    assert ok("info", "--json", now, str(packed)) == ok("info", "--json", now, str(CLUSTER))
    assert ok("check", str(packed)).split(b"\n")[1:] == ok("check", str(CLUSTER)).split(b"\n")[1:]
    assert ok("memory", "--jsonl", str(packed)).replace(str(packed).encode(), b"X") == ok(
        "memory", "--jsonl", str(CLUSTER)).replace(str(CLUSTER).encode(), b"X")
    ok("convert", str(packed), str(tmp_path / "a.rdb"), "--to-version", "11")
    ok("convert", str(CLUSTER), str(tmp_path / "b.rdb"), "--to-version", "11")
    def content(path: Path) -> list[bytes]:
        """The keys (a new file's AUX fields and checksum are its own)."""
        return [line for line in ok("dump", str(path)).splitlines()
                if not line.startswith(b'{"record":')]

    assert content(tmp_path / "a.rdb") == content(tmp_path / "b.rdb")
    proc = run_rdbtool("diff", str(packed), str(CLUSTER))
    assert proc.returncode == 0, proc.stderr.decode()
    jsonl = tmp_path / "dump.jsonl"
    jsonl.write_bytes(COMPRESSORS[ext](ok("dump", str(CLUSTER))))
    ok("load", str(jsonl), "-o", str(tmp_path / "loaded.rdb"))
    assert content(tmp_path / "loaded.rdb") == content(CLUSTER)
    assert len(content(CLUSTER)) > 10


def test_compressed_aof(tmp_path: Path) -> None:
    aofs = sorted(FIXTURES.glob("7.2.6/aof-multipart-preamble-no-rewritten/appendonlydir/*.aof"))
    if not aofs:
        pytest.skip("AOF fixtures not found")
    env = cli_env()
    aoftool = [str(Path(sys.executable).parent / "aoftool")]

    def run(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([*aoftool, *args], capture_output=True, env=env, timeout=60)

    for plain in aofs:  # an RDB-preamble base and a RESP incr file
        packed = tmp_path / "one.aof.gz"
        packed.write_bytes(gzip.compress(plain.read_bytes()))
        a, b = run("dump", str(plain)), run("dump", str(packed))
        assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
        assert a.stdout.count(b"\n") > 1
        assert a.stdout.replace(plain.name.encode(), b"X") == \
            b.stdout.replace(packed.name.encode(), b"X")
    cut = tmp_path / "cut.aof.gz"
    data = aofs[-1].read_bytes()
    cut.write_bytes(gzip.compress(data[: len(data) - 5]))
    before = cut.read_bytes()
    check = run("check", str(cut))
    assert check.returncode == 3 and len(check.stderr.decode().strip().splitlines()) == 1
    fix = run("fix", str(cut))
    assert fix.returncode == 3 and b"compressed" in fix.stderr, fix.stderr
    assert cut.read_bytes() == before


def test_cut_compressed_stream_is_one_line_at_an_uncompressed_offset(tmp_path: Path) -> None:
    data = SMALL.read_bytes()
    packed = gzip.compress(data)
    cut = tmp_path / "cut.rdb.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    proc = run_rdbtool("check", str(cut))
    err = proc.stderr.decode().strip()
    assert proc.returncode == 3
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "(uncompressed)" in err and "gzip stream ends" in err
    offset = int(err.split("@")[1].split()[0], 16)
    assert 0 < offset <= len(data)


def test_parse_error_inside_compressed_file_names_uncompressed_offset(tmp_path: Path) -> None:
    data = SMALL.read_bytes()
    plain_cut = tmp_path / "cut.rdb"
    plain_cut.write_bytes(data[:300])
    packed = compressed(tmp_path, plain_cut, "zst", name="cut.rdb.zst")
    # a pipe: the size is not known in advance either, so the same check fails the same way
    a = run_rdbtool("check", "-", stdin=plain_cut.read_bytes()).stderr.decode().strip()
    b = run_rdbtool("check", str(packed)).stderr.decode().strip()
    assert a.startswith("rdbtool: -@0x")
    assert b == a.replace("rdbtool: -@", f"rdbtool: {packed}@").replace(
        ": ", " (uncompressed): ", 2).replace("rdbtool (uncompressed): ", "rdbtool: ")


def test_damaged_compressed_data(tmp_path: Path) -> None:
    packed = bytearray(bz2.compress(SMALL.read_bytes()))
    packed[len(packed) // 2] ^= 0xFF
    bad = tmp_path / "bad.rdb.bz2"
    bad.write_bytes(bytes(packed))
    proc = run_rdbtool("dump", str(bad), "-o", str(tmp_path / "out.jsonl"))
    err = proc.stderr.decode().strip()
    assert proc.returncode == 3, err
    assert len(err.splitlines()) == 1 and "bzip2" in err and "(uncompressed)" in err
    assert not (tmp_path / "out.jsonl").exists()


def test_xz_streams_in_a_row_and_a_memory_limit(tmp_path: Path) -> None:
    data = SMALL.read_bytes()
    two = tmp_path / "two.rdb.xz"
    two.write_bytes(lzma.compress(data[:100]) + lzma.compress(data[100:]))
    assert ok("dump", str(two)) == ok("dump", str(SMALL))
    # a header that asks for a 1.5 GiB dictionary is refused, not allocated
    greedy = tmp_path / "greedy.rdb.xz"
    greedy.write_bytes(lzma.compress(
        data, filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 1536 << 20}]))
    proc = run_rdbtool("dump", str(greedy))
    assert proc.returncode == 3
    assert "Memory usage limit" in proc.stderr.decode()


def test_zstd_window_beyond_the_default_limit_is_refused(tmp_path: Path) -> None:
    out = io.BytesIO()
    params = zstandard.ZstdCompressionParameters(window_log=30)  # 1 GiB, named in the header
    with zstandard.ZstdCompressor(compression_params=params).stream_writer(
            out, closefd=False) as writer:
        writer.write(SMALL.read_bytes())
    greedy = tmp_path / "greedy.rdb.zst"
    greedy.write_bytes(out.getvalue())
    proc = run_rdbtool("check", str(greedy))
    assert proc.returncode == 3
    assert "too much memory" in proc.stderr.decode()


def test_missing_decoder_names_the_extra(tmp_path: Path) -> None:
    packed = compressed(tmp_path, SMALL, "zst")
    code = ("import sys; sys.modules['zstandard'] = None\n"
            "from rdbtools.cli.rdbtool import main; sys.exit(main())")
    proc = subprocess.run([sys.executable, "-c", code, "dump", str(packed)],
                          capture_output=True, env=cli_env(), timeout=60)
    assert proc.returncode == 10
    assert proc.stderr.decode().strip() == (
        "rdbtool: zstd-compressed input needs the zstandard package: "
        "pip install 'rdbtools[zstd]'")


# --------------------------------------------------------------------------- remote


def test_memory_and_file_urls() -> None:
    import fsspec

    import rdbtools

    fs = fsspec.filesystem("memory")
    fs.pipe("/fleet/x.rdb.xz", lzma.compress(SMALL.read_bytes()))
    try:
        def keys_of(path: str) -> list[rdbtools.Record]:
            return list(rdbtools.records(rdbtools.read_rdb(path)))

        local = keys_of(str(SMALL))
        assert keys_of("memory://fleet/x.rdb.xz") == local and len(local) > 20
        assert keys_of(SMALL.as_uri()) == local
    finally:
        fs.rm("/fleet", recursive=True)


@contextlib.contextmanager
def http_server(directory: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.live
def test_http_inputs(tmp_path: Path) -> None:
    pytest.importorskip("aiohttp")
    skip_if_clock_shifted()
    compressed(tmp_path, SMALL, "gz", name="small.rdb.gz")
    shutil.copy(SMALL, tmp_path / "small.rdb")
    plain = ok("dump", str(SMALL))
    with http_server(tmp_path) as base:
        assert ok("dump", f"{base}/small.rdb.gz") == plain
        assert ok("dump", f"{base}/small.rdb") == plain
        out = tmp_path / "remote.parquet"
        ok("memory", f"{base}/small.rdb.gz", "--parquet", str(out))
        rows = duckdb.sql(f"select count(*) from '{out}'").fetchall()
        assert rows == [(plain.count(b'"key":'),)]
        missing = run_rdbtool("dump", f"{base}/nothing.rdb")
        assert missing.returncode == 8
        assert len(missing.stderr.decode().strip().splitlines()) == 1
        assert "nothing.rdb" in missing.stderr.decode()


@pytest.mark.parametrize("url", ["nosuchscheme://bucket/x.rdb", "http://127.0.0.1:1/x.rdb",
                                 "memory://nothing/x.rdb", "https://"])
def test_bad_urls_are_one_line(url: str) -> None:
    pytest.importorskip("aiohttp")
    proc = run_rdbtool("dump", url)
    err = proc.stderr.decode().strip()
    assert proc.returncode == 8, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err and url in err


def test_object_store_without_its_package_names_the_extra() -> None:
    import importlib.util

    if importlib.util.find_spec("s3fs") is not None:
        pytest.skip("s3fs is installed")
    proc = run_rdbtool("dump", "s3://bucket/x.rdb")
    err = proc.stderr.decode().strip()
    assert proc.returncode == 10
    assert err.startswith("rdbtool: s3://bucket/x.rdb: ") and err.endswith(
        "pip install 'rdbtools[s3]'")


# --------------------------------------------------------------------------- parquet


def jsonl_rows(*files: str) -> list[dict[str, object]]:
    out = ok("memory", "--jsonl", *files)
    return [json.loads(line) for line in out.splitlines()]


def test_memory_parquet_totals_equal_jsonl(tmp_path: Path) -> None:
    a = tmp_path / "a.rdb"
    shutil.copy(LRU, a)
    b = compressed(tmp_path, SMALL, "gz", name="b.rdb.gz")
    c = compressed(tmp_path, CLUSTER, "zst", name="c.rdb.zst")
    out = tmp_path / "fleet.parquet"
    proc = run_rdbtool("memory", str(a), str(b), str(c), "--parquet", str(out))
    assert proc.returncode == 0, proc.stderr.decode()
    rows = jsonl_rows(str(a), str(b), str(c))
    got = duckdb.sql(f"select count(*), sum(memory) from '{out}'").fetchall()
    assert got == [(len(rows), sum(int(str(r["memory"])) for r in rows))]
    per_file = dict(duckdb.sql(f"select file, count(*) from '{out}' group by file").fetchall())
    assert per_file == {f: sum(1 for r in rows if r["file"] == f) for f in (str(a), str(b), str(c))}
    # every column, typed
    schema = pq.read_schema(out)
    assert schema.field("key").type == pa.binary()
    assert schema.field("expire_at_ms").type == pa.timestamp("ms", tz="UTC")
    assert schema.field("memory").type == pa.int64()
    pq_rows = pq.read_table(out).to_pylist()
    for want, have in zip(rows, pq_rows, strict=True):
        for name in ("file", "db", "type", "encoding", "memory", "size", "elements",
                     "largest_element", "idle", "freq"):
            assert have[name] == want[name], name
        key = want["key"]
        assert have["key_text"] == (key if isinstance(key, str) else None)
        exp = have["expire_at_ms"]
        assert (None if exp is None else int(exp.timestamp() * 1000)) == want["expire_at_ms"]


def test_parquet_output_is_atomic(tmp_path: Path) -> None:
    out = tmp_path / "keep.parquet"
    out.write_bytes(b"previous")
    cut = tmp_path / "cut.rdb"
    cut.write_bytes(SMALL.read_bytes()[:400])
    proc = run_rdbtool("memory", str(SMALL), str(cut), "--parquet", str(out))
    assert proc.returncode == 3
    assert out.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_dump_parquet_rebuilds_every_key(tmp_path: Path) -> None:
    b = compressed(tmp_path, CLUSTER, "lz4", name="b.rdb.lz4")
    out = tmp_path / "keys.parquet"
    ok("dump", str(SMALL), str(b), "--parquet", str(out))
    for path, src in ((str(SMALL), SMALL), (str(b), CLUSTER)):
        lines = duckdb.sql(f"select json from '{out}' where file = ?",
                           params=[path]).fetchall()
        text = "".join(line + "\n" for (line,) in lines).encode()
        assert text == ok("dump", str(src))
        (tmp_path / "back.jsonl").write_bytes(text)
        ok("load", str(tmp_path / "back.jsonl"), "-o", str(tmp_path / "back.rdb"))
        assert ok("dump", str(tmp_path / "back.rdb"), "--keys") == ok("dump", str(src), "--keys")
    keys = duckdb.sql(f"select count(*) from '{out}' where record is null").fetchall()
    assert keys[0][0] == ok("dump", "--keys", str(SMALL)).count(b"\n") + \
        ok("dump", "--keys", str(CLUSTER)).count(b"\n")
    usage = run_rdbtool("dump", str(SMALL), str(CLUSTER))
    assert usage.returncode == 2


def test_missing_pyarrow_names_the_extra(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['pyarrow'] = None\n"
            "from rdbtools.cli.rdbtool import main; sys.exit(main())")
    for args in (["memory", str(SMALL), "--parquet"], ["dump", str(SMALL), "--parquet"]):
        proc = subprocess.run([sys.executable, "-c", code, *args, str(tmp_path / "x.parquet")],
                              capture_output=True, env=cli_env(), timeout=60)
        assert proc.returncode == 10
        assert proc.stderr.decode().strip() == (
            "rdbtool: Arrow and Parquet output need pyarrow: pip install 'rdbtools[arrow]'")
        assert not (tmp_path / "x.parquet").exists()


def test_library_batches_and_table(tmp_path: Path) -> None:
    from rdbtools.ops.arrow import memory_batches, memory_table

    packed = compressed(tmp_path, SMALL, "xz")
    rows = jsonl_rows(str(packed))
    batches = list(memory_batches(str(packed), batch_rows=7))
    assert all(isinstance(b, pa.RecordBatch) and b.num_rows <= 7 for b in batches)
    assert sum(b.num_rows for b in batches) == len(rows)
    table = memory_table(str(packed))
    assert table.num_rows == len(rows)
    assert table.column("memory").to_pylist() == [r["memory"] for r in rows]
    assert table.column("key").to_pylist()[0] == str(rows[0]["key"]).encode()


# --------------------------------------------------------------------------- progress


def test_progress_is_fed_from_the_bytes_read(tmp_path: Path) -> None:
    from rdbtools.ops.inputs import open_input

    packed = compressed(tmp_path, SMALL, "gz")
    for path in (SMALL, packed):
        calls: list[tuple[int, int]] = []
        events = list(open_input(str(path), progress=lambda d, k, calls=calls:
                                 calls.append((d, k))))
        keys = sum(1 for ev in events if type(ev).__name__ == "KeyEnd")
        assert calls[-1] == (path.stat().st_size, keys)
        assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_no_progress_when_not_a_terminal_or_quiet() -> None:
    for extra in ([], ["--quiet"]):
        proc = run_rdbtool("memory", str(SMALL), "--jsonl", *extra)
        assert proc.returncode == 0 and proc.stderr == b""


def test_progress_line_on_a_terminal(tmp_path: Path) -> None:
    import pty

    big = tmp_path / "big.rdb"
    shutil.copy(SMALL, big)
    primary, secondary = pty.openpty()
    try:
        for command, extra, drawn in (
                (["memory", str(big), "--jsonl"], [], True),
                (["memory", str(big), "--jsonl"], ["--quiet"], False),
                (["check", str(big)], [], True), (["check", str(big)], ["-q"], False),
                (["info", str(big)], [], True), (["info", str(big)], ["--quiet"], False)):
            proc = subprocess.run(
                [*rdbtool_cmd(), *command, *extra],
                stdout=subprocess.DEVNULL, stderr=secondary, env=cli_env(), timeout=60)
            assert proc.returncode == 0
            os.set_blocking(primary, False)
            try:
                seen = os.read(primary, 65536)
            except BlockingIOError:
                seen = b""
            assert (b"keys" in seen) is drawn, seen
    finally:
        os.close(primary)
        os.close(secondary)


# --------------------------------------------------------------------------- docs


def doc_blocks(path: Path) -> list[tuple[str, list[str]]]:
    """The ``console`` and ``python`` blocks of ``path`` in order: (kind, lines)."""
    blocks: list[tuple[str, list[str]]] = []
    kind: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if kind is None:
            if line.strip() in ("```console", "```python"):
                kind = line.strip()[3:]
                blocks.append((kind, []))
        elif line.strip() == "```":
            kind = None
        else:
            blocks[-1][1].append(line)
    return blocks


def test_fleet_doc_runs(tmp_path: Path) -> None:
    if not (BULLMQ / "snap1.rdb").is_file():
        pytest.skip(f"shared fixtures not found in {BULLMQ}")
    (tmp_path / "fixtures").symlink_to(FIXTURES)
    (tmp_path / "day1").mkdir()
    (tmp_path / "day2").mkdir()
    (tmp_path / "day1" / "node-a.rdb").symlink_to(BULLMQ / "snap1.rdb")
    shutil.copy(LRU, tmp_path / "day1" / "node-b.rdb")
    (tmp_path / "day2" / "node-a.rdb.gz").write_bytes(
        gzip.compress((BULLMQ / "snap2.rdb").read_bytes()))
    env = cli_env()
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    printed: list[str] = []
    for kind, lines in doc_blocks(REPO / "docs" / "fleet.md"):
        if kind == "python":
            proc = subprocess.run([sys.executable, "-c", "\n".join(lines)], cwd=tmp_path,
                                  env=env, capture_output=True, timeout=120)
            assert proc.returncode == 0, proc.stderr.decode()
            printed += proc.stdout.decode().splitlines()
            continue
        examples: list[tuple[str, list[str]]] = []
        for line in lines:
            if line.startswith("$ "):
                examples.append((line[2:], []))
            elif examples:
                examples[-1][1].append(line)
        for command, expected in examples:
            proc = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=120)
            actual = proc.stdout.decode("utf-8", "replace").splitlines()
            assert matches(expected, actual), (command, "\n".join(actual))
    # the DuckDB answers against the same questions asked of --jsonl rows
    top, ttl, growth = (ast.literal_eval(line) for line in printed[-3:])
    def rows_in(*files: str) -> list[dict[str, object]]:
        out = subprocess.run([*rdbtool_cmd(), "memory", "--jsonl", *files], cwd=tmp_path,
                             env=env, capture_output=True, check=True).stdout
        return [json.loads(line) for line in out.splitlines()]

    day1 = rows_in("day1/node-a.rdb", "day1/node-b.rdb")
    day2 = rows_in("day2/node-a.rdb.gz")
    prefixes: dict[str, list[int]] = {}
    for r in day1:
        key = r["key"]
        if isinstance(key, str):
            p = prefixes.setdefault(key.rsplit(":", 1)[0] if ":" in key else key, [0, 0])
            p[0] += 1
            p[1] += int(r["memory"])
    best = sorted(prefixes.items(), key=lambda kv: -kv[1][1])[:5]
    assert [(p, k, m) for p, (k, m) in best] == [tuple(t) for t in top]
    for file, db, keys, with_ttl, _pct in ttl:
        mine = [r for r in day1 if r["file"] == file and r["db"] == db]
        assert (keys, with_ttl) == (len(mine), sum(1 for r in mine if r["expire_at_ms"]
                                                  is not None))
    a = {(r["db"], json.dumps(r["key"])): r for r in day1 if r["file"] == "day1/node-a.rdb"}
    b = {(r["db"], json.dumps(r["key"])): r for r in day2}
    assert growth == (len(b.keys() - a.keys()), len(a.keys() - b.keys()),
                      sum(int(r["memory"]) for r in b.values())
                      - sum(int(r["memory"]) for r in a.values()))


def test_progress_and_parquet_options_documented() -> None:
    for args in (["memory", "--help"], ["dump", "--help"]):
        text = ok(*args).decode()
        assert "--parquet" in text and "--quiet" in text

