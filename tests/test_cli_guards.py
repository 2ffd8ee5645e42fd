"""Usage errors exit 2 with a clear line; an output that would overwrite an input is
refused before anything is written; a file that is neither an RDB nor an AOF is named
so; ``aoftool check`` says what an empty file and a bare RDB are."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import FIXTURES, run_rdbtool

from rdbtools.cli import aoftool
from rdbtools.sources import open_sniffed

SMALL = FIXTURES / "7.0.15" / "small-encodings.rdb"
REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not SMALL.is_file(), reason=f"fixture {SMALL} not found")


def run_aoftool(*args: str) -> tuple[int, bytes, bytes]:
    res = CliRunner().invoke(aoftool.main, list(args))
    return res.exit_code, res.stdout_bytes, res.stderr_bytes


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["dump", str(SMALL), "--db", "-1"], b"--db"),
        (["memory", str(SMALL), "--model", "99.0"], b"--model"),
        (["memory", str(SMALL), "--model", "valkey-3.0"], b"--model"),
        (["convert", str(SMALL), "OUT", "--to-version", "99"], b"--to-version"),
        (["convert", str(SMALL), "OUT", "--to-version", "13"], b"--to-version"),
        (["load", str(SMALL), "-o", "OUT", "--to-version", "5"], b"--to-version"),
    ],
)
def test_bad_values_exit_2(args: list[str], says: bytes, tmp_path: Path) -> None:
    args = [str(tmp_path / "out.rdb") if a == "OUT" else a for a in args]
    proc = run_rdbtool(*args)
    assert proc.returncode == 2, proc.stderr
    assert says in proc.stderr and b"Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_known_model_is_taken() -> None:
    proc = run_rdbtool("memory", str(SMALL), "--model", "valkey-8.0", "--json")
    assert proc.returncode == 0, proc.stderr


def _one_line(stderr: bytes) -> str:
    text = stderr.decode()
    assert text.count("\n") == 1 and "Traceback" not in text, text
    return text


@pytest.mark.parametrize("how", ["same", "symlink", "relative"])
def test_dump_onto_its_input_is_refused(tmp_path: Path, how: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in.rdb"
    shutil.copyfile(SMALL, src)
    before = src.read_bytes()
    out = str(src)
    if how == "symlink":
        (tmp_path / "link.rdb").symlink_to(src)
        out = str(tmp_path / "link.rdb")
    elif how == "relative":
        monkeypatch.chdir(tmp_path)
        out = "./in.rdb"
    proc = run_rdbtool("dump", str(src), "-o", out)
    assert proc.returncode == 2
    assert "the output is the input" in _one_line(proc.stderr)
    assert src.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["in.rdb"] + (["link.rdb"] if how == "symlink" else []))


def test_memory_and_load_onto_their_input_are_refused(tmp_path: Path) -> None:
    src = tmp_path / "in.rdb"
    shutil.copyfile(SMALL, src)
    before = src.read_bytes()
    for args in (["memory", str(src), "--html", str(src)],
                 ["memory", str(src), "-o", str(src)],
                 ["load", str(src), "-o", str(src)]):
        proc = run_rdbtool(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "the output is the input" in _one_line(proc.stderr)
        assert src.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["in.rdb"]


def test_aoftool_dump_onto_its_input_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "appendonly.aof"
    src.write_bytes(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
    before = src.read_bytes()
    code, _, err = run_aoftool("dump", str(src), "-o", str(src))
    assert code == 2, err
    assert b"the output is the input" in err
    assert src.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["appendonly.aof"]


def test_output_inside_an_input_directory_is_refused(tmp_path: Path) -> None:
    aofs = sorted((FIXTURES / "7.0.15").glob("aof-multipart-*/appendonlydir"))
    if not aofs:
        pytest.skip("no multi-part AOF fixture")
    d = tmp_path / "appendonlydir"
    shutil.copytree(aofs[0], d)
    names = sorted(p.name for p in d.iterdir())
    proc = run_rdbtool("dump", str(d), "-o", str(d / "x.jsonl"))
    assert proc.returncode == 2
    assert "inside the input directory" in _one_line(proc.stderr)
    assert sorted(p.name for p in d.iterdir()) == names


def test_a_different_output_and_dev_null_are_fine(tmp_path: Path) -> None:
    proc = run_rdbtool("dump", str(SMALL), "-o", str(tmp_path / "out.jsonl"))
    assert proc.returncode == 0 and (tmp_path / "out.jsonl").stat().st_size > 0
    assert run_rdbtool("dump", str(SMALL), "-o", "/dev/null").returncode == 0


# --------------------------------------------------------------------------- sniffing


def _kind(path: Path) -> str:
    opened = open_sniffed(path)
    opened.close()
    return opened.kind


def test_a_hash_line_is_not_an_aof(tmp_path: Path) -> None:
    readme = REPO / "README.md"
    assert readme.read_bytes()[:1] == b"#"
    assert _kind(readme) == "text"
    for command in ("dump", "check", "info"):
        proc = run_rdbtool(command, str(readme))
        assert proc.returncode == 3, proc.stderr
        line = _one_line(proc.stderr)
        assert line.startswith(f"rdbtool: {readme}@0x0: not an RDB or AOF file"), line
    script = tmp_path / "x.sh"
    script.write_bytes(b"#!/bin/sh\necho hi\n")
    assert _kind(script) == "text"
    assert run_rdbtool("dump", str(script)).returncode == 3


def test_an_annotated_aof_without_the_suffix_is_still_an_aof(tmp_path: Path) -> None:
    f = tmp_path / "log"
    f.write_bytes(b"#TS:1700000000\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
    assert _kind(f) == "aof"
    proc = run_rdbtool("dump", str(f), "--keys")
    assert proc.returncode == 0 and proc.stdout == b"k\n", proc.stderr
    g = tmp_path / "plain"
    g.write_bytes(b"*1\r\n$4\r\nPING\r\n")
    assert _kind(g) == "aof"
    h = tmp_path / "bad-annotation"
    h.write_bytes(b"#TS:x\r\n*1\r\n$4\r\nPING\r\n")
    assert _kind(h) == "text"


# --------------------------------------------------------------------------- aoftool check


def test_aoftool_check_on_an_rdb_and_an_empty_file(tmp_path: Path) -> None:
    # redis-check-aof and the server read an RDB as an AOF whose preamble has nothing
    # after it, and an empty file as an empty AOF: sound, exit 0, but not called "ok"
    code, out, err = run_aoftool("check", str(SMALL))
    assert code == 0, err
    first = out.decode().splitlines()[0]
    assert first.startswith(f"{SMALL}: an RDB file, no AOF commands") and ": ok" not in first
    empty = tmp_path / "empty.rdb"
    empty.write_bytes(b"")
    code, out, err = run_aoftool("check", str(empty))
    assert code == 0, err
    assert out.decode().splitlines()[0] == (
        f"{empty}: empty (0 bytes): a server loads it as an empty dataset, "
        "as redis-check-aof says")
    aof = tmp_path / "a.aof"
    aof.write_bytes(b"*1\r\n$4\r\nPING\r\n")
    code, out, _ = run_aoftool("check", str(aof))
    assert code == 0 and out.decode().splitlines()[0] == f"{aof}: ok"


@pytest.mark.parametrize("command", ["dump", "check", "info", "memory", "diff"])
def test_help_says_file_may_be_an_aof(command: str) -> None:
    from rdbtools.cli.rdbtool import main

    res = CliRunner().invoke(main, [command, "--help"])
    text = " ".join(res.stdout.split())
    assert res.exit_code == 0
    assert "RDB file" in text and "AOF file" in text and "appendonlydir" in text, text
