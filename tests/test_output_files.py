"""Output files and messages under hostile conditions: the temporary file of a killed
writer is removed by the next run, a full disk names the file, ``aoftool fix`` on a
symbolic link repairs the file it names, and a 4 MB key does not make a 4 MB message."""

from __future__ import annotations

import errno
import json
import os
import signal
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import REPO, cli_env

from rdbtools.aof.swap import CRASH_ENV
from rdbtools.atomic import hold, make_temp, name_write_error, sweep_temps
from rdbtools.cli import _common
from rdbtools.cli.aoftool import main as aoftool
from rdbtools.cli.rdbtool import main as rdbtool
from rdbtools.errors import CorruptInput, key_text

SMALL = REPO / "fixtures" / "7.0.15" / "small-encodings.rdb"


def _temps(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_stale_temp_of_a_dead_writer_is_removed(tmp_path: Path) -> None:
    """A temporary file nobody holds (its writer was killed: the flock died with it) is
    removed; one held by a writer at work, and another output's, are not."""
    dead = tmp_path / ".out.jsonl.abc_12.tmp"
    dead.write_bytes(b"x" * 1000)
    live = tmp_path / ".out.jsonl.def34.tmp"
    live.write_bytes(b"y")
    other = tmp_path / ".other.jsonl.ghi56.tmp"
    other.write_bytes(b"z")
    with open(live, "rb") as held:
        hold(held.fileno())
        r = CliRunner().invoke(rdbtool, ["dump", str(SMALL), "--keys", "-o",
                                         str(tmp_path / "out.jsonl")], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr_bytes
    assert not dead.exists()
    assert live.exists() and other.exists()
    assert (tmp_path / "out.jsonl").read_bytes().count(b"\n") > 10


def test_make_temp_holds_its_file(tmp_path: Path) -> None:
    fd, path = make_temp(str(tmp_path), ".x.rdb.fix-")
    try:
        assert Path(path).name.startswith(".x.rdb.fix-") and path.endswith(".tmp")
        assert sweep_temps(str(tmp_path), ".x.rdb.") == []  # held: a writer at work
        assert Path(path).exists()
    finally:
        os.close(fd)
    assert sweep_temps(str(tmp_path), ".x.rdb.") == [Path(path).name]


def test_killed_rewrite_leaves_a_temp_the_next_run_removes(tmp_path: Path) -> None:
    """A writer killed with SIGKILL (no clean-up) after writing its temporary file."""
    src = tmp_path / "in.aof"
    src.write_bytes(b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n" * 1000)
    out = tmp_path / "out.aof"
    cmd = [sys.executable, "-c", "import sys; from rdbtools.cli.aoftool import main; "
           "sys.exit(main())", "rewrite", str(src), "-o", str(out)]
    env = cli_env()
    env[CRASH_ENV] = "temp-written"
    proc = subprocess.run(cmd, env=env, capture_output=True, timeout=120, check=False)
    assert proc.returncode == -signal.SIGKILL
    (left,) = _temps(tmp_path)
    assert left.startswith(".out.aof.rewrite-") and not out.exists()
    env.pop(CRASH_ENV)
    proc = subprocess.run(cmd, env=env, capture_output=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert _temps(tmp_path) == [] and out.exists()


# --------------------------------------------------------------------------- no space


def test_full_device_names_the_file() -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    r = CliRunner().invoke(rdbtool, ["dump", str(SMALL), "-o", "/dev/full"])
    assert r.exit_code == 8
    assert r.stderr_bytes.decode() == "rdbtool: /dev/full: No space left on device\n"


def test_no_space_at_fsync_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    out = tmp_path / "out.jsonl"
    r = CliRunner().invoke(rdbtool, ["dump", str(SMALL), "-o", str(out)])
    assert r.exit_code == 8
    assert r.stderr_bytes.decode() == f"rdbtool: {out}: No space left on device\n"
    assert _temps(tmp_path) == [] and not out.exists()


def test_other_write_errors_are_left_as_they_are() -> None:
    err = OSError(errno.EIO, "Input/output error")
    assert name_write_error(err, "x") is err


# --------------------------------------------------------------------------- fix a link


def test_fix_through_a_symlink_repairs_the_target(tmp_path: Path) -> None:
    good = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
    real_dir = tmp_path / "data"
    real_dir.mkdir()
    real = real_dir / "appendonly.aof"
    real.write_bytes(good + b"*3\r\n$3\r\nSET\r\n$1\r\nb")  # a torn last command
    link = tmp_path / "link.aof"
    link.symlink_to(real)
    r = CliRunner().invoke(aoftool, ["fix", str(link)], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr_bytes
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == good
    (backup,) = [p for p in real_dir.iterdir() if ".bak." in p.name]
    assert not backup.is_symlink()
    assert backup.read_bytes() == good + b"*3\r\n$3\r\nSET\r\n$1\r\nb"
    assert [p.name for p in tmp_path.iterdir() if ".bak." in p.name] == []


# --------------------------------------------------------------------------- long keys

BIG = b"k" * (4 << 20)


def test_key_text_shortens_long_keys() -> None:
    assert key_text(b"user:1") == "b'user:1'"
    assert key_text(b"x" * 100) == repr(b"x" * 100)
    shown = key_text(BIG)
    assert shown == f"{b'k' * 64!r}...{b'k' * 16!r} (4194304 bytes)"


def test_damaged_rdb_with_a_4mb_key(tmp_path: Path) -> None:
    body = (b"REDIS0009\xfe\x00\x00" + b"\x80" + struct.pack(">I", len(BIG)) + BIG
            + b"\x80" + struct.pack(">I", 1000) + b"short")
    path = tmp_path / "big.rdb"
    path.write_bytes(body)
    r = CliRunner().invoke(rdbtool, ["check", str(path)])
    err = r.stderr_bytes.decode()
    assert r.exit_code == 3
    assert err.count("\n") == 1 and len(err) < 400, len(err)
    assert "(4194304 bytes)" in err


def test_hostile_jsonl_line_with_a_4mb_key(tmp_path: Path) -> None:
    line = json.dumps({"db": 0, "key": BIG.decode(), "type": "string", "value": "v",
                       "freq": 300})
    path = tmp_path / "big.jsonl"
    path.write_text(line + "\n")
    r = CliRunner().invoke(rdbtool, ["load", str(path), "-o", str(tmp_path / "o.rdb")])
    err = r.stderr_bytes.decode()
    assert r.exit_code == 3
    assert err.count("\n") == 1 and len(err) < 400
    assert "$.freq: 300 is out of range 0..255" in err


def test_unknown_aof_command_with_a_4mb_key(tmp_path: Path) -> None:
    path = tmp_path / "big.aof"
    path.write_bytes(b"*2\r\n$5\r\nFROBS\r\n$%d\r\n%s\r\n" % (len(BIG), BIG))
    r = CliRunner().invoke(aoftool, ["rewrite", str(path), "-o", str(tmp_path / "o.aof"),
                                     "--strict"])
    err = r.stderr_bytes.decode()
    assert r.exit_code == 5, err[:300]
    assert err.count("\n") == 1 and len(err) < 400
    assert "FROBS" in err


def test_any_long_message_is_cut_to_one_bounded_line() -> None:
    text = _common.one_line("x" * 10_000 + "\n" + "tail")
    assert "\n" not in text and len(text) < 2100 and text.endswith("x\\ntail")


def _exc(e: Any) -> CorruptInput:
    return CorruptInput("bad", source="f", offset=1, key=e)


def test_parse_error_line_uses_the_short_key() -> None:
    assert str(_exc(BIG)).endswith("(4194304 bytes))")
    assert str(_exc(b"a")) == "f@0x1: bad (key b'a')"
