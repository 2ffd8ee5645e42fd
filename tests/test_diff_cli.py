"""``rdbtool diff``: exit codes 0 / 1 / 2, the output formats, options, inputs, and the
examples of ``docs/diff.md``.

- 0 when equal, 1 when different, 2 for every error (damaged input, checksum, missing
  file, bad option) with the usual one-line message;
- text, ``--jsonl``, ``--keys-only``, ``--ignore-ttl``, ``--no-expired`` / ``--now``,
  standard input, AOF input (the changes an incr file made over its RDB base are exactly
  the commands the fixture generator sent), ``--memory-budget`` spilling;
- Ctrl-C while spilled removes the temporary files.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import FIXTURES, REPO, cli_env, load_truth, rdbtool_cmd
from test_cli_docs import Example, console_blocks, matches, workdir

from rdbtools import read_rdb, records
from rdbtools.cli.rdbtool import main
from rdbtools.events import KeyEnd, KeyStart, StringValue
from rdbtools.ops.diff import Change, collect, diff_files
from rdbtools.rdb.writer import RdbWriter

SMALL_70 = FIXTURES / "7.0.15" / "small-encodings.rdb"
FE = FIXTURES / "7.4.1" / "small-encodings.rdb"
LFU_50 = FIXTURES / "5.0.14" / "lfu.rdb"
LFU_74 = FIXTURES / "7.4.1" / "lfu.rdb"
DOC = REPO / "docs" / "diff.md"


def cli(*args: str, stdin: bytes | None = None) -> Any:
    return CliRunner().invoke(main, ["diff", *args], input=stdin, catch_exceptions=False)


def one_line_error(r: Any) -> str:
    err = r.stderr_bytes.decode()
    assert err.count("\n") == 1 and err.startswith("rdbtool: "), err
    return err


# --------------------------------------------------------------------------- exit codes


def test_equal_exits_0() -> None:
    r = cli(str(LFU_50), str(LFU_74))
    assert r.exit_code == 0
    assert r.stdout_bytes == b""
    assert r.stderr_bytes.decode() == "keys: 16 equal, 0 changed, 0 only in A, 0 only in B\n"


def test_different_exits_1() -> None:
    r = cli(str(SMALL_70), str(FE))
    assert r.exit_code == 1
    lines = r.stdout_bytes.decode().splitlines()
    assert "+ db0 hash:fe:small (hash)" in lines
    assert all(line[:2] in ("+ ", "- ", "~ ") for line in lines)
    assert r.stderr_bytes.decode().startswith("keys: 98 equal, 11 changed, 0 only in A, 4 only")


@pytest.mark.parametrize("damage", ["truncated", "checksum", "garbage"])
def test_damaged_input_exits_2(damage: str, tmp_path: Path) -> None:
    data = bytearray(SMALL_70.read_bytes())
    if damage == "truncated":
        data = data[:5000]
    elif damage == "checksum":
        data[-1] ^= 0xFF
    else:
        data = bytearray(b"REDIS0010" + b"\xfe\x00\x00\x05hello\xff\xff\xff")
    bad = tmp_path / "bad.rdb"
    bad.write_bytes(bytes(data))
    r = cli(str(SMALL_70), str(bad))
    assert r.exit_code == 2, r.stderr_bytes
    err = one_line_error(r)
    assert f"{bad}@0x" in err
    if damage == "truncated":
        assert "(key b'" in err
    r = cli(str(bad), str(SMALL_70), "--keys-only")
    assert r.exit_code == 2
    one_line_error(r)


def test_checksum_error_and_no_verify(tmp_path: Path) -> None:
    data = bytearray(LFU_74.read_bytes())
    data[-1] ^= 0xFF
    bad = tmp_path / "bad.rdb"
    bad.write_bytes(bytes(data))
    assert cli(str(LFU_50), str(bad)).exit_code == 2
    assert cli(str(LFU_50), str(bad), "--no-verify").exit_code == 0


def test_missing_file_and_usage_errors_exit_2(tmp_path: Path) -> None:
    r = cli(str(SMALL_70), str(tmp_path / "nope.rdb"))
    assert r.exit_code == 2
    assert "nope.rdb: No such file or directory" in one_line_error(r)
    assert cli(str(SMALL_70)).exit_code == 2
    assert cli(str(SMALL_70), str(FE), "--memory-budget", "0").exit_code == 2
    r = cli("-", "-")
    assert r.exit_code == 2 and "standard input" in r.stderr_bytes.decode()
    r = cli(str(SMALL_70), str(FE), "--tmpdir", str(tmp_path / "nowhere"))
    assert r.exit_code == 2 and "nowhere" in r.stderr_bytes.decode()


def test_exit_codes_as_a_subprocess(tmp_path: Path) -> None:
    cut = tmp_path / "cut.rdb"
    cut.write_bytes(SMALL_70.read_bytes()[:5000])
    codes = []
    for args in ((LFU_50, LFU_74), (SMALL_70, FE), (SMALL_70, cut)):
        proc = subprocess.run([*rdbtool_cmd(), "diff", *map(str, args)], env=cli_env(),
                              capture_output=True, timeout=60, check=False)
        codes.append(proc.returncode)
        assert b"Traceback" not in proc.stderr
    assert codes == [0, 1, 2]


# --------------------------------------------------------------------------- formats


def test_jsonl_objects() -> None:
    r = cli(str(SMALL_70), str(FE), "--jsonl")
    assert r.exit_code == 1
    objs = [json.loads(line) for line in r.stdout_bytes.decode().splitlines()]
    assert objs and all(list(o) == ["db", "key", "change", "path", "a", "b"] for o in objs)
    changes, _ = collect(diff_files(str(SMALL_70), str(FE)))
    assert len(objs) == len(changes)
    added = [o for o in objs if o["path"] == [] and o["change"] == "added"]
    assert {(o["key"], o["b"]) for o in added} >= {("hash:fe:small", "hash")}
    fields = [o for o in objs if o["path"][:1] == ["field"]]
    assert all(isinstance(o["path"][1], (str, dict)) for o in fields)
    binary = [o for o in objs if isinstance(o["key"], dict)]
    assert all(set(o["key"]) == {"b64"} for o in binary)


def test_keys_only_and_ignore_ttl(tmp_path: Path) -> None:
    a, b = tmp_path / "a.rdb", tmp_path / "b.rdb"
    write(a, [(b"k1", b"v", None), (b"k2", b"v", 100), (b"k3", b"x", None)])
    write(b, [(b"k1", b"v", None), (b"k2", b"v", 200), (b"k4", b"y", None)])
    r = cli(str(a), str(b), "--keys-only")
    assert r.exit_code == 1
    assert sorted(r.stdout_bytes.decode().splitlines()) == [
        "+ db0 k4", "- db0 k3", "~ db0 k2 (ttl)"]
    r = cli(str(a), str(b), "--keys-only", "--ignore-ttl")
    assert sorted(r.stdout_bytes.decode().splitlines()) == ["+ db0 k4", "- db0 k3"]
    r = cli(str(a), str(b), "--ignore-ttl", "--key", "k[12]")
    assert r.exit_code == 0 and r.stdout_bytes == b""
    assert r.stderr_bytes.decode() == "keys: 2 equal, 0 changed, 0 only in A, 0 only in B\n"


def test_no_expired_with_now(tmp_path: Path) -> None:
    a, b = tmp_path / "a.rdb", tmp_path / "b.rdb"
    write(a, [(b"live", b"v", None), (b"old", b"gone", 1000)])
    write(b, [(b"live", b"v", None)])
    assert cli(str(a), str(b)).exit_code == 1
    assert cli(str(a), str(b), "--no-expired", "--now", "2000").exit_code == 0
    assert cli(str(a), str(b), "--no-expired", "--now", "500").exit_code == 1


def test_long_values_are_shortened_in_text(tmp_path: Path) -> None:
    a, b = tmp_path / "a.rdb", tmp_path / "b.rdb"
    write(a, [(b"big", b"x" * 100_000, None), (b"bin", bytes(range(256)) * 4, None)])
    write(b, [(b"big", b"x" * 99_999 + b"y", None), (b"bin", b"\x00", None)])
    r = cli(str(a), str(b))
    lines = r.stdout_bytes.decode().splitlines()
    assert len(lines) == 2 and all(len(line) < 250 for line in lines)
    assert '"xxxxxxx' in lines[0] and "(100000 bytes)" in lines[0]
    assert '"\\x00\\x01\\x02' in lines[1] and "(1024 bytes)" in lines[1]
    r = cli(str(a), str(b), "--jsonl")
    obj = json.loads(r.stdout_bytes.decode().splitlines()[0])
    assert obj["a"] == "x" * 100_000


def write(path: Path, keys: list[tuple[bytes, bytes, int | None]], version: int = 11) -> None:
    with open(path, "wb") as fp:
        w = RdbWriter(fp, version)
        for key, value, expire in keys:
            w.write(KeyStart(0, key, "string", "", 0, expire_ms=expire))
            w.write(StringValue(value))
            w.write(KeyEnd(key, 0, 0))
        w.close()


# --------------------------------------------------------------------------- inputs


def test_standard_input_on_either_side() -> None:
    data = LFU_74.read_bytes()
    assert cli("-", str(LFU_50), stdin=data).exit_code == 0
    r = cli(str(SMALL_70), "-", stdin=FE.read_bytes())
    assert r.exit_code == 1
    assert r.stdout_bytes == cli(str(SMALL_70), str(FE)).stdout_bytes


REWRITTEN = sorted(p for p in FIXTURES.glob("*/aof-multipart-preamble-yes-rewritten")
                   if p.is_dir())


@pytest.mark.parametrize("fixture", REWRITTEN, ids=lambda p: p.parent.name)
def test_aof_incr_changes_are_the_commands_sent(fixture: Path) -> None:
    """The RDB base of a rewritten multi-part AOF against the whole AOF: exactly what the
    commands sent after the rewrite (recorded in the truth) changed."""
    truth = load_truth(fixture.parent / f"{fixture.name}.truth.json")
    sent = [[str(x) for x in c] for c in truth["aof"]["issued_commands"]]
    assert sent == [
        ["SELECT", "0"], ["SET", "p2:str", "written after rewrite"], ["INCR", "str:counter"],
        ["DEL", "str:utf8"], ["RPUSH", "list:small", "p2-item"],
        ["HSET", "hash:small", "p2", "yes"],
        ["ZADD", "zset:small", "99", "p2"], ["SADD", "set:small", "p2"],
        ["PEXPIREAT", "p2:str", "4102444800123"], ["XADD", "stream:basic", "5-0", "p2", "entry"],
        ["SELECT", "1"], ["SET", "db1:p2", "db1 after rewrite"], ["SELECT", "0"]]
    directory = fixture / "appendonlydir"
    (base,) = directory.glob("*.base.rdb")
    recs = {(r.db, r.key): r for r in records(read_rdb(str(base)))}
    counter = int(recs[(0, b"str:counter")].value)  # type: ignore[call-overload]
    n_list = len(recs[(0, b"list:small")].value)  # type: ignore[arg-type]
    meta = recs[(0, b"stream:basic")].value.meta  # type: ignore[union-attr]
    assert meta is not None
    want = {
        Change(0, b"p2:str", "added", (), None, "string"),
        Change(0, b"str:counter", "value", (), b"%d" % counter, b"%d" % (counter + 1)),
        Change(0, b"str:utf8", "removed", (), "string", None),
        Change(0, b"list:small", "value", ("elements", n_list, n_list, n_list, n_list + 1), (),
               (b"p2-item",)),
        Change(0, b"hash:small", "added", ("field", b"p2"), None, b"yes"),
        Change(0, b"zset:small", "added", ("member", b"p2"), None, 99.0),
        Change(0, b"set:small", "added", ("member", b"p2")),
        Change(0, b"stream:basic", "added", ("entry", "5-0"), None, ((b"p2", b"entry"),)),
        Change(0, b"stream:basic", "value", ("meta", "last_id"),
               f"{meta.last_id[0]}-{meta.last_id[1]}", "5-0"),
        Change(1, b"db1:p2", "added", (), None, "string"),
    }
    if meta.entries_added is not None:
        want.add(Change(0, b"stream:basic", "value", ("meta", "entries_added"),
                        meta.entries_added, meta.entries_added + 1))
    changes, summary = collect(diff_files(str(base), str(directory)))
    assert set(changes) == want and len(changes) == len(want)
    assert (summary.only_a, summary.only_b) == (1, 2)
    r = cli(str(base), str(directory), "--keys-only")
    assert r.exit_code == 1
    assert len(r.stdout_bytes.decode().splitlines()) == 9


def test_aof_against_itself() -> None:
    """Replaying the same AOF twice: the stream times the replay takes from the clock
    (no #TS annotations here) may differ, nothing else."""
    directory = FIXTURES / "7.4.1" / "aof-multipart-preamble-no-writes" / "appendonlydir"
    r = cli(str(directory), str(directory), "--ignore-stream-times")
    assert r.exit_code == 0, r.stderr_bytes
    assert r.stderr_bytes.decode() == (
        "keys: 118 equal, 0 changed, 0 only in A, 0 only in B; functions: 2 equal, 0 differ\n")
    r = cli(str(directory), str(directory), "--jsonl")
    for obj in map(json.loads, r.stdout_bytes.decode().splitlines()):
        assert obj["path"][-1] in ("seen_time_ms", "active_time_ms"), obj


def test_memory_budget_spills_and_gives_the_same_output(tmp_path: Path) -> None:
    r1 = cli(str(SMALL_70), str(FE), "--jsonl")
    r2 = cli(str(SMALL_70), str(FE), "--jsonl", "--memory-budget", "1", "--tmpdir",
             str(tmp_path))
    assert r2.exit_code == 1
    assert sorted(r1.stdout_bytes.splitlines()) == sorted(r2.stdout_bytes.splitlines())
    assert list(tmp_path.iterdir()) == []


def test_interrupt_while_spilled_removes_the_temporary_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.rdb", tmp_path / "b.rdb"
    keys = [(b"key:%d" % i, b"value %d" % i, None) for i in range(300_000)]
    write(a, keys)
    write(b, keys[1:])
    spill = tmp_path / "spill"
    spill.mkdir()
    proc = subprocess.Popen(
        [*rdbtool_cmd(), "diff", str(a), str(b), "--memory-budget", "1", "--tmpdir",
         str(spill)],
        env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    seen = False
    while time.monotonic() < deadline and proc.poll() is None:
        found = [p for d in spill.iterdir() for p in d.iterdir()] if any(spill.iterdir()) else []
        if found and sum(p.stat().st_size for p in found) > 200_000:
            # frozen, the diff cannot finish between this check and the interrupt: its
            # spill files still there mean it has not reached its end
            proc.send_signal(signal.SIGSTOP)
            seen = proc.poll() is None and any(spill.iterdir())
            proc.send_signal(signal.SIGINT)
            proc.send_signal(signal.SIGCONT)
            break
        time.sleep(0.005)
    _, err = proc.communicate(timeout=60)
    assert seen, "the diff ended before it could be interrupted: make the input bigger"
    assert proc.returncode == 130, err
    assert err.decode() == "rdbtool: interrupted\n"
    assert os.listdir(spill) == []


# --------------------------------------------------------------------------- docs


def test_help_names_the_memory_rules() -> None:
    r = CliRunner().invoke(main, ["diff", "--help"])
    assert r.exit_code == 0
    text = " ".join(r.output.split())
    assert "--memory-budget" in text and "never split" in text and "exit" in text.lower()


def doc_blocks() -> list[list[Example]]:
    return console_blocks(DOC)


def test_doc_has_examples() -> None:
    assert len(doc_blocks()) >= 4


@pytest.mark.parametrize("n", range(len(console_blocks(DOC)) if DOC.exists() else 0))
def test_doc_example(n: int, tmp_path: Path) -> None:
    env = workdir(tmp_path)
    for command, expected in doc_blocks()[n]:
        proc = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120,
                              check=False)
        actual = proc.stdout.decode("utf-8", "replace").splitlines()
        assert proc.returncode == 0, (command, actual)
        assert matches(expected, actual), (command, "\n".join(actual))


def test_no_expired_takes_now_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """B is read after A: with --no-expired and no --now, both use the same "now" (a
    clock that moves between the two reads must not make a key differ)."""
    import rdbtools.ops.diff as diff_mod
    import rdbtools.ops.filters as filters_mod

    ticks = iter(range(1000, 10**6, 1000))

    def clock() -> int:
        return next(ticks)

    monkeypatch.setattr(filters_mod, "now_ms", clock)
    monkeypatch.setattr(diff_mod, "now_ms", clock)
    a = tmp_path / "a.rdb"
    write(a, [(b"k", b"v", 1500)])
    r = cli(str(a), str(a), "--no-expired")
    assert r.exit_code == 0, r.stdout_bytes
    assert r.stderr_bytes.decode() == "keys: 1 equal, 0 changed, 0 only in A, 0 only in B\n"
