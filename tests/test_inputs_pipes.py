"""An input given through a pipe (``-`` with standard input a pipe) or a FIFO (what a
shell's ``<(cat x.rdb)`` is) reads exactly as the file given by its name: it is opened
once and its first bytes, read to tell RDB / AOF / JSON Lines apart, are not lost. For
an RDB, a gzip'd RDB, a zstd AOF, an AOF and a JSON Lines dump."""

from __future__ import annotations

import gzip
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import FIXTURES, run_rdbtool

from rdbtools.ops.inputs import read_input
from rdbtools.sources import open_sniffed

SMALL = FIXTURES / "7.0.15" / "small-encodings.rdb"

AOF = (b"#TS:1700000000\r\n"
       b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
       b"*3\r\n$3\r\nSET\r\n$3\r\nstr\r\n$5\r\nhello\r\n"
       b"*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$1\r\nv\r\n"
       b"*4\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n$1\r\nb\r\n"
       b"*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nl\r\n$13\r\n4102444800000\r\n")
"""An AOF whose replay holds no wall-clock time (no stream consumers)."""


def _feed(fifo: Path, data: bytes) -> threading.Thread:
    """A thread writing ``data`` into ``fifo`` (it blocks until a reader opens it)."""
    def write() -> None:
        with open(fifo, "wb") as fp:
            fp.write(data)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    path = tmp_path / "fifo"
    os.mkfifo(path)
    yield path


def _zstd(data: bytes) -> bytes:
    zstandard = pytest.importorskip("zstandard")
    return bytes(zstandard.ZstdCompressor().compress(data))


@pytest.fixture
def aof_file(tmp_path: Path) -> Path:
    path = tmp_path / "log"  # no *.aof: told by its first bytes
    path.write_bytes(AOF)
    return path


@pytest.fixture
def jsonl_file(tmp_path: Path) -> Path:
    run = run_rdbtool("dump", str(SMALL), "--jsonl", "-o", str(tmp_path / "small.jsonl"))
    assert run.returncode == 0, run.stderr
    return tmp_path / "small.jsonl"


def _by_name_and_piped(args: list[str], path: Path, data: bytes,
                       fifo: Path) -> list[tuple[int, bytes, bytes]]:
    """``rdbtool ARGS`` on ``path`` by its name, on ``-`` with ``data`` piped in, and on
    ``fifo`` with ``data`` written into it; each as (exit code, stdout, stderr), with the
    input's name in stderr replaced by ``IN``."""
    runs = []
    for name, stdin in ((str(path), None), ("-", data), (str(fifo), None)):
        writer = _feed(fifo, data) if name == str(fifo) else None
        run = run_rdbtool(*[name if a == "IN" else a for a in args], stdin=stdin)
        if writer is not None:
            writer.join(timeout=30)
            assert not writer.is_alive()
        runs.append((run.returncode, _unnamed(run.stdout, name),
                     run.stderr.replace(name.encode(), b"IN")))
    return runs


def _unnamed(out: bytes, name: str) -> bytes:
    """``out`` with the input's ``name`` where reports name it (``NAME: ...`` lines,
    ``"file":"NAME"``) replaced by ``IN``."""
    n = os.fsencode(name)
    out = out.replace(b'"file":"' + n + b'"', b'"file":"IN"')
    return b"\n".join(b"IN" + line[len(n):] if line.startswith(n + b":") else line
                      for line in out.split(b"\n"))


NOW = ["--now", "1795741020000"]
"""One moment for every run of a command that counts TTLs."""


@pytest.mark.parametrize("command", [["dump", "IN"], ["dump", "IN", "--resp"],
                                     ["check", "IN"], ["info", "IN", *NOW],
                                     ["info", "IN", "--json", *NOW],
                                     ["memory", "IN", "--jsonl"]])
def test_an_rdb_through_a_pipe_reads_as_the_file(command: list[str], fifo: Path) -> None:
    by_name, piped, through_fifo = _by_name_and_piped(command, SMALL, SMALL.read_bytes(), fifo)
    assert by_name[0] == 0, by_name[2]
    assert by_name[1]
    assert piped == by_name
    assert through_fifo == by_name


def test_a_gzipped_rdb_through_a_pipe_reads_as_the_file(tmp_path: Path, fifo: Path) -> None:
    packed = tmp_path / "small.rdb.gz"
    packed.write_bytes(gzip.compress(SMALL.read_bytes()))
    plain = run_rdbtool("dump", str(SMALL))
    assert plain.returncode == 0 and plain.stdout
    for run in _by_name_and_piped(["dump", "IN"], packed, packed.read_bytes(), fifo):
        assert run == (0, plain.stdout, b"")


@pytest.mark.parametrize("command", [["dump", "IN"], ["check", "IN"], ["info", "IN", *NOW],
                                     ["memory", "IN", "--jsonl"]])
def test_an_aof_through_a_pipe_reads_as_the_file(command: list[str], aof_file: Path,
                                                 fifo: Path) -> None:
    by_name, piped, through_fifo = _by_name_and_piped(command, aof_file, AOF, fifo)
    assert by_name[0] == 0, by_name[2]
    assert b"str" in by_name[1]
    assert piped == by_name
    assert through_fifo == by_name


def test_a_zstd_aof_through_a_pipe_reads_as_the_file(aof_file: Path, fifo: Path) -> None:
    packed = aof_file.with_name("log.zst")
    packed.write_bytes(_zstd(AOF))
    plain = run_rdbtool("dump", str(aof_file))
    assert plain.returncode == 0 and b"hello" in plain.stdout
    for run in _by_name_and_piped(["dump", "IN"], packed, packed.read_bytes(), fifo):
        assert run == (0, plain.stdout, b"")


def test_aoftool_reads_an_aof_through_a_fifo(aof_file: Path, fifo: Path) -> None:
    from click.testing import CliRunner

    from rdbtools.cli import aoftool

    def run(name: str) -> bytes:
        res = CliRunner().invoke(aoftool.main, ["dump", name])
        assert res.exit_code == 0, res.stderr_bytes
        return res.stdout_bytes.replace(os.fsencode(os.path.basename(name)), b"IN")

    writer = _feed(fifo, AOF)
    through_fifo = run(str(fifo))
    writer.join(timeout=30)
    assert through_fifo == run(str(aof_file))
    assert b"SET str" in through_fifo


def test_aoftool_rewrites_an_aof_read_through_a_fifo(aof_file: Path, tmp_path: Path,
                                                    fifo: Path) -> None:
    from click.testing import CliRunner

    from rdbtools.cli import aoftool

    outs = []
    for n, name in enumerate((str(aof_file), str(fifo))):
        out = tmp_path / f"rewritten{n}.aof"
        writer = _feed(fifo, AOF) if name == str(fifo) else None
        res = CliRunner().invoke(aoftool.main, ["rewrite", name, "-o", str(out)])
        if writer is not None:
            writer.join(timeout=30)
        assert res.exit_code == 0, res.stderr_bytes
        outs.append(out.read_bytes())
    assert outs[0] and outs[1] == outs[0]
    # --replay reads its input twice: a pipe is refused as standard input is
    res = CliRunner().invoke(aoftool.main, ["check", "--replay", str(fifo)])
    assert res.exit_code == 2
    assert b"it needs a file, not a pipe" in res.stderr_bytes


def _rdb_without_ctime(path: Path) -> bytes:
    """The ``dump`` of the RDB at ``path`` without its ``ctime`` aux (the time it was
    written) and its checksum (which covers that aux)."""
    run = run_rdbtool("dump", str(path))
    assert run.returncode == 0, run.stderr
    return b"".join(line for line in run.stdout.splitlines(keepends=True)
                    if b'"name":"ctime"' not in line and b'"record":"end"' not in line)


@pytest.mark.parametrize("source", ["jsonl", "rdb"])
def test_convert_reads_jsonl_and_rdb_through_a_pipe(source: str, jsonl_file: Path,
                                                    tmp_path: Path, fifo: Path) -> None:
    path = jsonl_file if source == "jsonl" else SMALL
    data = path.read_bytes()
    outs = []
    for n, name in enumerate((str(path), "-", str(fifo))):
        out = tmp_path / f"out{n}.rdb"
        writer = _feed(fifo, data) if name == str(fifo) else None
        run = run_rdbtool("convert", name, str(out), "--to-version", "9",
                          stdin=data if name == "-" else None)
        if writer is not None:
            writer.join(timeout=30)
        assert run.returncode == 0, run.stderr
        outs.append(_rdb_without_ctime(out))
    assert outs[0] and outs[1] == outs[0] and outs[2] == outs[0]


def test_load_and_restore_read_jsonl_through_a_pipe(jsonl_file: Path, tmp_path: Path,
                                                    fifo: Path) -> None:
    data = jsonl_file.read_bytes()
    restore = ["restore", "IN", "--url", "redis://127.0.0.1:1", "--dry-run",
               "--target-version", "10", "--now", "1795741020000"]
    runs = _by_name_and_piped(restore, jsonl_file, data, fifo)
    assert runs[0][0] == 0 and b"would write" in runs[0][2], runs[0][2]
    assert runs[1] == runs[0] and runs[2] == runs[0]
    loaded = []
    for n, name in enumerate((str(jsonl_file), "-", str(fifo))):
        out = tmp_path / f"load{n}.rdb"
        writer = _feed(fifo, data) if name == str(fifo) else None
        run = run_rdbtool("load", name, "-o", str(out), stdin=data if name == "-" else None)
        if writer is not None:
            writer.join(timeout=30)
        assert run.returncode == 0, run.stderr
        loaded.append(_rdb_without_ctime(out))
    assert loaded[0] and loaded[1] == loaded[0] and loaded[2] == loaded[0]


def test_a_script_through_a_pipe_is_refused_as_by_name(tmp_path: Path, fifo: Path) -> None:
    script = tmp_path / "x.sh"
    script.write_bytes(b"#!/bin/sh\necho hi\n")
    runs = _by_name_and_piped(["dump", "IN"], script, script.read_bytes(), fifo)
    for run in runs:
        assert run[0] == 3
        assert run[2].startswith(b"rdbtool: IN@0x0: not an RDB or AOF file"), run[2]


def test_read_input_of_a_fifo_opens_it_once(fifo: Path) -> None:
    writer = _feed(fifo, SMALL.read_bytes())
    inp = read_input(str(fifo))
    assert inp.kind == "rdb"
    fed = list(inp.events)
    writer.join(timeout=30)
    assert fed == list(read_input(str(SMALL)).events)
    writer = _feed(fifo, AOF)
    inp = read_input(str(fifo))
    assert inp.kind == "aof"
    replayed = list(inp.events)
    writer.join(timeout=30)
    assert [ev for ev in replayed if type(ev).__name__ == "KeyStart"]


@pytest.mark.parametrize(("head", "kind"), [
    (SMALL.read_bytes()[:64], "rdb"),
    (AOF, "aof"),
    (b"*1\r\n$4\r\nPING\r\n", "aof"),
    (b'{"record":"header"}\n', "jsonl"),
    (b"# a title\n", "text"),
    (b"#TS:x\r\n*1\r\n", "text"),
    (b"\x00\x01", "other"),
])
def test_the_first_bytes_tell_the_kind(head: bytes, kind: str, tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(head)
    opened = open_sniffed(path)
    assert opened.kind == kind
    assert opened.source is not None and opened.source.fp.read() == head  # nothing lost
    opened.close()


def test_a_manifest_is_told_by_content_and_a_directory_by_its_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "appendonly.aof.manifest"
    manifest.write_bytes(b"file appendonly.aof.1.incr.aof seq 1 type i\n")
    opened = open_sniffed(manifest)
    opened.close()
    assert opened.kind == "manifest"
    opened = open_sniffed(tmp_path)
    assert (opened.kind, opened.source) == ("aof-dir", None)


def test_read_aof_reads_an_opened_source(aof_file: Path, fifo: Path) -> None:
    from rdbtools.aof.reader import read_aof
    from rdbtools.events import AofPart
    from rdbtools.sources import open_binary

    by_name = [ev for ev in read_aof(aof_file) if not isinstance(ev, AofPart)]
    writer = _feed(fifo, gzip.compress(AOF))
    with open_binary(fifo) as src:
        opened = list(read_aof(src))
    writer.join(timeout=30)
    assert opened[0] == AofPart(str(fifo), "single", 0)
    assert opened[1:] == by_name
    assert len(by_name) == 5
