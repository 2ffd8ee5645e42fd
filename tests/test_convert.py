"""``rdbtool convert`` / ``rdbtools.ops.convert``.

- OUT is all or nothing: ``rdbtool convert`` killed with SIGKILL in the middle of a
  50 MB input leaves no OUT (only its temporary file) and IN untouched; a damaged input
  or a ``--strict`` loss leaves no OUT and no temporary file;
- target choice (``--to-version``, ``--to-valkey``), losses on stderr, filters, JSON
  Lines input, standard input, converting a file onto itself.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import FIXTURES, canon_record, cli_env, rdbtool_cmd, run_rdbtool

from rdbtools import read_rdb, records
from rdbtools.cli.rdbtool import main
from rdbtools.events import Header, KeyEnd, KeyStart, ListItems
from rdbtools.ops.convert import convert, convert_bytes, open_events
from rdbtools.rdb.writer import RdbWriter

SMALL = FIXTURES / "7.0.15" / "small-encodings.rdb"
FE = FIXTURES / "7.4.1" / "small-encodings.rdb"


def cli(*args: str, stdin: bytes | None = None) -> Any:
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- killed


@pytest.fixture(scope="module")
def big_rdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ~50 MB RDB 11 of 750 lists of 1000 random-ish 100-byte elements."""
    path = tmp_path_factory.mktemp("big") / "big.rdb"
    rng = random.Random(1)
    blob = rng.randbytes(1 << 20)
    with open(path, "wb") as fp:
        w = RdbWriter(fp, 11)
        for i in range(750):
            key = b"list:%d" % i
            w.write(KeyStart(0, key, "list", "", 0))
            o = i * 997
            starts = ((o + j * 61) % 900000 for j in range(1000))
            w.write(ListItems(tuple(blob[x : x + 100] for x in starts)))
            w.write(KeyEnd(key, 0, 0))
        w.close()
    assert path.stat().st_size > 40 << 20
    return path


def _temps(directory: Path, name: str) -> list[Path]:
    return [p for p in directory.iterdir() if p.name.startswith(f".{name}.") and
            p.name.endswith(".tmp")]  # fmt: skip


def test_killed_convert_leaves_no_out(big_rdb: Path, tmp_path: Path) -> None:
    before = sha(big_rdb)
    out = tmp_path / "out.rdb"
    proc = subprocess.Popen(
        [*rdbtool_cmd(), "convert", str(big_rdb), str(out), "--to-version", "9"],
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    killed_midway = False
    while time.monotonic() < deadline and proc.poll() is None:
        temps = _temps(tmp_path, "out.rdb")
        if temps and temps[0].stat().st_size > (4 << 20):
            proc.send_signal(signal.SIGKILL)
            killed_midway = True
            break
        time.sleep(0.005)
    proc.wait(timeout=30)
    assert proc.stderr is not None
    proc.stderr.close()
    assert killed_midway, "convert finished before it could be killed: make the input bigger"
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    assert sha(big_rdb) == before
    # SIGKILL cannot be caught: the temporary file stays (named .out.rdb.XXX.tmp)
    assert len(_temps(tmp_path, "out.rdb")) == 1


def test_killed_while_reading_stdin(big_rdb: Path, tmp_path: Path) -> None:
    """Deterministic midway: half of the input is piped, then the process is killed."""
    out = tmp_path / "out.rdb"
    out.write_bytes(b"previous content")
    proc = subprocess.Popen(
        [*rdbtool_cmd(), "convert", "-", str(out), "--to-version", "10"],
        env=cli_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None
    data = big_rdb.read_bytes()
    proc.stdin.write(data[: len(data) // 2])
    proc.stdin.flush()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        temps = _temps(tmp_path, "out.rdb")
        if temps and temps[0].stat().st_size > (2 << 20):
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdin.close()
    assert out.read_bytes() == b"previous content"


def test_damaged_input_leaves_no_out(tmp_path: Path) -> None:
    cut = tmp_path / "cut.rdb"
    cut.write_bytes(SMALL.read_bytes()[:30000])
    out = tmp_path / "out.rdb"
    r = cli("convert", str(cut), str(out), "--to-version", "9")
    assert r.exit_code == 3, r.stderr_bytes
    assert r.stderr_bytes.decode().count("\n") == 1
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.rdb"]


def test_checksum_mismatch_and_no_verify(tmp_path: Path) -> None:
    bad = bytearray(SMALL.read_bytes())
    bad[-1] ^= 0xFF
    src = tmp_path / "bad.rdb"
    src.write_bytes(bytes(bad))
    out = tmp_path / "out.rdb"
    r = cli("convert", str(src), str(out))
    assert r.exit_code == 4
    assert not out.exists()
    r = cli("convert", str(src), str(out), "--no-verify")
    assert r.exit_code == 0, r.stderr_bytes
    assert list(read_rdb(str(out)))[-1].checksum_state == "ok"


# --------------------------------------------------------------------------- targets


@pytest.mark.parametrize("version", ["6", "7", "8", "9", "10", "11", "12"])
def test_to_version(version: str, tmp_path: Path) -> None:
    out = tmp_path / "out.rdb"
    r = cli("convert", str(SMALL), str(out), "--to-version", version)
    assert r.exit_code == 0, r.stderr_bytes
    header = next(iter(read_rdb(str(out))))
    assert isinstance(header, Header) and header.version == int(version)
    err = r.stderr_bytes.decode()
    summary = err.splitlines()[-1]
    assert summary.startswith(f"{out}: RDB {version}, "), err
    lost = [line for line in err.splitlines() if line.startswith("rdbtool: warning: lost: ")]
    n_losses = int(summary.split(", ")[2].split()[0])
    assert len(lost) == n_losses
    if int(version) >= 10:
        assert n_losses == 0
    else:
        assert any("stream" in line or "function" in line for line in lost)


def test_default_target_is_11(tmp_path: Path) -> None:
    out = tmp_path / "out.rdb"
    assert cli("convert", str(SMALL), str(out)).exit_code == 0
    assert out.read_bytes()[:9] == b"REDIS0011"


def test_to_valkey_keeps_field_ttls(tmp_path: Path) -> None:
    out = tmp_path / "out.rdb"
    r = cli("convert", str(FE), str(out), "--to-valkey", "--strict")
    assert r.exit_code == 0, r.stderr_bytes
    assert out.read_bytes()[:9] == b"VALKEY080"
    want = {(x.db, x.key): x.value for x in records(read_rdb(str(FE)))}
    got = {(x.db, x.key): x.value for x in records(read_rdb(str(out)))}
    for k, v in want.items():
        if isinstance(v, list):
            assert sorted(got[k]) == sorted(v), k  # type: ignore[type-var]
    assert any(t is not None for v in got.values() if isinstance(v, list)
               for item in v if isinstance(item, tuple) and len(item) == 3
               for t in item[2:])  # fmt: skip


def test_strict_refuses_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.rdb"
    r = cli("convert", str(FE), str(out), "--to-version", "11", "--strict")
    assert r.exit_code == 7
    err = r.stderr_bytes.decode()
    assert err.count("\n") == 1 and "field" in err, err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["--to-version", "5"],
        ["--to-version", "13"],
        ["--to-version", "x"],
        ["--to-version", "12", "--to-valkey"],
    ],  # fmt: skip
)
def test_bad_targets(args: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out.rdb"
    r = cli("convert", str(SMALL), str(out), *args)
    assert r.exit_code == 2, r.stderr_bytes
    assert "Traceback" not in r.stderr_bytes.decode()
    assert not out.exists()


def test_filters_apply(tmp_path: Path) -> None:
    out = tmp_path / "out.rdb"
    r = cli("convert", str(SMALL), str(out), "--db", "15", "--type", "string")
    assert r.exit_code == 0, r.stderr_bytes
    got = [(x.db, x.type) for x in records(read_rdb(str(out)))]
    assert got and all(db == 15 and tp == "string" for db, tp in got)


def _canon(path: Path) -> list[Any]:
    return [(r.db, r.key, canon_record(r)) for r in records(read_rdb(str(path)))]


def test_jsonl_input_and_stdin(tmp_path: Path) -> None:
    jsonl = tmp_path / "d.jsonl"
    assert cli("dump", str(SMALL), "-o", str(jsonl)).exit_code == 0
    a, b, c = tmp_path / "a.rdb", tmp_path / "b.rdb", tmp_path / "c.rdb"
    assert cli("convert", str(jsonl), str(a), "--to-version", "10").exit_code == 0
    proc = run_rdbtool("convert", "-", str(b), "--to-version", "10", stdin=SMALL.read_bytes())
    assert proc.returncode == 0, proc.stderr
    proc = run_rdbtool("convert", "-", str(c), "--to-version", "10",
                       stdin=jsonl.read_bytes())  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert _canon(a) == _canon(b) == _canon(c) == _canon(SMALL)
    assert len(_canon(a)) == 109


def test_stdin_rdb_arriving_in_small_pieces(tmp_path: Path) -> None:
    """An RDB on a pipe whose first read returns fewer than 5 bytes (a slow producer,
    e.g. ``ssh host cat dump.rdb |``) is still an RDB, not JSON Lines."""
    out = tmp_path / "o.rdb"
    proc = subprocess.Popen(
        [*rdbtool_cmd(), "convert", "-", str(out), "--to-version", "10"],
        env=cli_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stderr is not None
    data = SMALL.read_bytes()
    time.sleep(1.5)  # the interpreter is up and waiting on its standard input
    proc.stdin.write(data[:3])
    proc.stdin.flush()
    time.sleep(0.5)
    try:
        proc.stdin.write(data[3:])
        proc.stdin.close()
    except BrokenPipeError:
        pass
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 0, err
    assert _canon(out) == _canon(SMALL)


def test_convert_a_file_onto_itself(tmp_path: Path) -> None:
    path = tmp_path / "self.rdb"
    path.write_bytes(SMALL.read_bytes())
    want = _canon(path)
    r = cli("convert", str(path), str(path), "--to-version", "10")
    assert r.exit_code == 0, r.stderr_bytes
    assert path.read_bytes() != SMALL.read_bytes()
    assert _canon(path) == want


def test_library_convert(tmp_path: Path) -> None:
    out = io.BytesIO()
    report = convert(open_events(str(SMALL)), out, version=9)
    assert report.dropped_keys == 0 and report.keys == 109
    data, report2 = convert_bytes(SMALL.read_bytes(), version="valkey")
    assert data.startswith(b"VALKEY080") and not report2.losses
    data6, report6 = convert_bytes(SMALL.read_bytes(), version=6)
    assert report6.dropped_keys == 7  # the streams
    assert sum(1 for _ in records(read_rdb(io.BytesIO(data6)))) == 102
    assert os.path.exists(SMALL)
