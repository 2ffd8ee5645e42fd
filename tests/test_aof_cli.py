"""``aoftool``: every command on good and bad input — one line on stderr and the
documented exit code for every failure, never a traceback; the dump formats; stats."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_aof_support import aof_fixtures, aoftool, copy_tree, resp, small_aof

import rdbtools
from rdbtools.aof import read_aof
from rdbtools.cli.aoftool import main
from rdbtools.events import Command
from rdbtools.ops.aof_dump import show_arg

ALL = {f.id: f for f in aof_fixtures()}


def fixture(name: str) -> Path:
    if name not in ALL:
        pytest.skip(f"fixture {name} missing")
    return ALL[name].path


def one_line(stderr: bytes, starts: str = "aoftool: ") -> str:
    text = stderr.decode()
    assert "Traceback" not in text
    assert text.count("\n") == 1 and text.startswith(starts), text
    return text


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("damaged")
    data = small_aof()
    files = {
        "truncated.aof": data[:-3],
        "format.aof": data[:39] + b"?" + data[40:],
        "empty.aof": b"",
        "multi.aof": resp(b"MULTI") + resp(b"SET", b"a", b"b"),
    }
    out = {}
    for name, content in files.items():
        (d / name).write_bytes(content)
        out[name] = d / name
    bad = d / "badmanifest"
    bad.mkdir()
    (bad / "appendonly.aof.manifest").write_bytes(b"file a seq 0 type b\n")
    out["badmanifest"] = bad
    missing = d / "missingpart"
    missing.mkdir()
    (missing / "appendonly.aof.manifest").write_bytes(b"file a.aof seq 1 type i\n")
    out["missingpart"] = missing
    return out


@pytest.mark.parametrize("command", ["check", "dump", "stats"])
@pytest.mark.parametrize(("name", "code", "what"), [
    ("truncated.aof", 3, "Expected to read"),
    ("format.aof", 3, "format error"),
    ("multi.aof", 3, "Reached EOF before reading EXEC for MULTI"),
    ("badmanifest", 3, "line 1: seq must be a positive integer"),
    ("missingpart", 3, "line 1: incr file 'a.aof' is listed but missing"),
])
def test_damage_is_one_line(command: str, name: str, code: int, what: str,
                            damaged: dict[str, Path]) -> None:
    proc = aoftool(command, str(damaged[name]))
    assert proc.returncode == code, proc.stderr
    assert what in one_line(proc.stderr)


def test_check_line_has_redis_check_aof_position(damaged: dict[str, Path]) -> None:
    proc = aoftool("check", str(damaged["truncated.aof"]))
    size = damaged["truncated.aof"].stat().st_size
    line = one_line(proc.stderr)
    assert "truncated.aof@0x" in line and "[ok_up_to=" in line and "diff=" in line
    ok = int(line.split("ok_up_to=")[1].split(",")[0])
    assert 0 < ok < size


@pytest.mark.parametrize("args", [
    ["check", "/nonexistent/appendonly.aof"],
    ["dump", "/nonexistent/appendonly.aof"],
    ["fix", "/nonexistent/appendonly.aof"],
])
def test_missing_file_exit_8(args: list[str]) -> None:
    proc = aoftool(*args)
    assert proc.returncode == 8
    assert "No such file" in one_line(proc.stderr)


def test_usage_errors() -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["check"]).exit_code == 2
    assert runner.invoke(main, ["check", "x", "--truncate-to-timestamp", "0"]).exit_code == 2
    r = runner.invoke(main, ["fix", "x", "--salvage", "--truncate-to-timestamp", "5"])
    assert r.exit_code == 2
    assert runner.invoke(main, ["--version"]).output.startswith("aoftool, version")


@pytest.mark.parametrize("command", ["dump", "stats"])
def test_empty_single_file_is_refused(damaged: dict[str, Path], command: str) -> None:
    proc = aoftool(command, str(damaged["empty.aof"]))
    assert proc.returncode == 3, proc.stderr
    assert "empty.aof@0x0: empty input" in one_line(proc.stderr)


def test_empty_single_file_is_checked_as_empty(damaged: dict[str, Path]) -> None:
    """``aoftool check`` says what the server says of it: an empty dataset."""
    proc = aoftool("check", str(damaged["empty.aof"]))
    assert proc.returncode == 0, proc.stderr
    assert b"empty (0 bytes)" in proc.stdout


def test_empty_incr_file_of_a_multi_part_aof_is_read(tmp_path: Path) -> None:
    """The server loads a multi-part AOF whose incr file is empty (every rewrite makes
    one): so does every reading command."""
    d = copy_tree(fixture("7.0.15/aof-multipart-preamble-yes-rewritten"), tmp_path / "d")
    incr = sorted(d.glob("*.incr.aof"))[-1]
    incr.write_bytes(b"")
    proc = aoftool("check", str(d))
    assert proc.returncode == 0, proc.stderr
    assert b"ok" in proc.stdout


def test_check_summary_and_timestamp_cut(tmp_path: Path) -> None:
    path = fixture("7.0.15/aof-multipart-preamble-no-timestamps-writes")
    proc = aoftool("check", str(path))
    assert proc.returncode == 0
    out = proc.stdout.decode()
    assert "ok\n" in out and "manifest    appendonly.aof.manifest: 1 base, 1 incr" in out
    assert "commands    370" in out and "timestamps  1795741034 .. 1795741036" in out
    proc = aoftool("check", str(path), "--truncate-to-timestamp", "1795741035")
    assert proc.returncode == 0
    assert "truncate    appendonly.aof.1.incr.aof at offset" in proc.stdout.decode()
    proc = aoftool("check", str(path), "--truncate-to-timestamp", "1795741099")
    assert "nothing after timestamp" in proc.stdout.decode()
    d = copy_tree(path, tmp_path / "d")
    proc = aoftool("fix", str(d), "--truncate-to-timestamp", "1795741035")
    assert proc.returncode == 0, proc.stderr
    assert "original kept as" in proc.stdout.decode()
    assert "nothing after" in aoftool("check", str(d), "--truncate-to-timestamp",
                                      "1795741035").stdout.decode()


def test_fix_cli(tmp_path: Path) -> None:
    p = tmp_path / "a.aof"
    p.write_bytes(small_aof()[:-5])
    proc = aoftool("fix", str(p), "--dry-run")
    assert proc.returncode == 0 and b"would keep" in proc.stdout
    proc = aoftool("fix", str(p))
    assert proc.returncode == 0 and b"original kept as" in proc.stdout
    assert aoftool("fix", str(p)).stdout.endswith(b"nothing to fix\n")
    proc = aoftool("fix", "-")
    assert proc.returncode == 3 and "standard input" in one_line(proc.stderr)


def test_dump_text() -> None:
    path = fixture("7.0.15/aof-multipart-preamble-no-timestamps-writes")
    proc = aoftool("dump", str(path))
    assert proc.returncode == 0
    lines = proc.stdout.decode().splitlines()
    cmds = [c for c in read_aof(str(path)) if isinstance(c, Command)]
    assert len(lines) == len(cmds)
    assert lines[0] == "appendonly.aof.1.incr.aof@16 db=0 SELECT 0"
    assert lines[1] == 'appendonly.aof.1.incr.aof@39 db=0 SET str:short "hello sbphxzmn"'


def test_show_arg() -> None:
    assert show_arg(b"abc") == "abc"
    assert show_arg(b"") == '""'
    assert show_arg(b"a b") == '"a b"'
    assert show_arg(b"a\r\n\x00\xff\"'\\") == '"a\\r\\n\\x00\\xff\\"\'\\\\"'
    assert show_arg("é".encode()) == '"\\xc3\\xa9"'


def test_dump_jsonl_commands_and_preamble(tmp_path: Path) -> None:
    path = fixture("6.2.14/aof-single-preamble-yes-rewritten")
    proc = aoftool("dump", "--jsonl", str(path))
    assert proc.returncode == 0
    lines = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    rdb_lines = [x for x in lines if "args" not in x]
    cmd_lines = [x for x in lines if "args" in x]
    # the preamble exactly as `dump --jsonl` writes the RDB part of the file (the rdbtool
    # CLI replays a whole .aof, so the reference is the library reading the RDB part)
    ref = io.BytesIO()
    rdbtools.dump(rdbtools.read_rdb(str(path)), ref)
    assert rdb_lines == [json.loads(x) for x in ref.getvalue().decode().splitlines()]
    cmds = [c for c in read_aof(str(path)) if isinstance(c, Command)]
    assert len(cmd_lines) == len(cmds)
    for obj, c in zip(cmd_lines, cmds):
        assert set(obj) == {"db", "args", "offset", "timestamp", "file"}
        args = [base64.b64decode(a["b64"]) if isinstance(a, dict) else a.encode() for a in
                obj["args"]]
        assert (obj["db"], tuple(args), obj["offset"], obj["timestamp"], obj["file"]) == (
            c.db, c.args, c.offset, c.timestamp, "appendonly.aof")


def test_dump_binary_args_and_output_file(tmp_path: Path) -> None:
    p = tmp_path / "b.aof"
    p.write_bytes(b"#TS:7\r\n" + resp(b"SET", b"k\xff", b"\r\n"))
    out = tmp_path / "out.jsonl"
    proc = aoftool("dump", "--jsonl", str(p), "-o", str(out))
    assert proc.returncode == 0
    assert b"1 commands" in proc.stderr
    obj = json.loads(out.read_text())
    assert obj == {"db": 0, "args": ["SET", {"b64": "a/8="}, "\r\n"], "offset": 7,
                   "timestamp": 7, "file": "b.aof"}
    proc = aoftool("dump", str(p))
    assert proc.stdout == b'b.aof@7 db=0 SET "k\\xff" "\\r\\n"\n'


def test_dump_stdin() -> None:
    data = small_aof()
    proc = aoftool("dump", "-", stdin=data)
    assert proc.returncode == 0
    assert proc.stdout.decode().splitlines()[0] == "-@16 db=0 SELECT 0"


def test_stats(tmp_path: Path) -> None:
    path = fixture("7.0.15/aof-multipart-preamble-no-timestamps-writes")
    proc = aoftool("stats", "--json", str(path))
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    cmds = [c for c in read_aof(str(path)) if isinstance(c, Command)]
    assert doc["commands"] == len(cmds)
    assert sum(v["count"] for v in doc["by_command"].values()) == len(cmds)
    assert doc["top_keys"]["method"] == "misra-gries" and doc["top_keys"]["exact"]
    assert sum(m["commands"] for m in doc["timeline"]["per_minute"]) + \
        doc["timeline"]["before_first_timestamp"] == len(cmds)
    text = aoftool("stats", str(path)).stdout.decode()
    assert "commands by name:" in text and "most written keys" in text
    assert "timeline (#TS: annotations" in text


def test_stats_heavy_hitters_bounded(tmp_path: Path) -> None:
    parts = [resp(b"SET", b"hot", b"1")] * 500
    parts += [resp(b"SET", b"cold:%d" % i, b"1") for i in range(2000)]
    parts += [resp(b"SET", b"warm", b"1")] * 300
    p = tmp_path / "hh.aof"
    p.write_bytes(b"".join(parts))
    proc = aoftool("stats", "--json", "--counters", "16", "--top", "2", str(p))
    doc = json.loads(proc.stdout)
    keys = doc["top_keys"]
    assert [k["key"] for k in keys["keys"]] == ["hot", "warm"]
    assert not keys["exact"] and keys["max_undercount"] > 0
    for k, true in zip(keys["keys"], (500, 300)):
        assert true - keys["max_undercount"] <= k["writes"] <= true
    assert "key counts are lower bounds" in one_line(proc.stderr, "aoftool: warning:")
