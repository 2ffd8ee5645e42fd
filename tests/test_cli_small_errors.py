"""Small inputs that used to end in a traceback: a garbage ``redis-ver`` AUX field for
``memory``, ``#TS:`` annotations that are not times, out-of-range option values, a
regular expression the engine cannot compile, and Ctrl-C while the program is still
being imported."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import REPO, cli_env, run_rdbtool

from rdbtools.cli.aoftool import main as aoftool
from rdbtools.cli.rdbtool import main as rdbtool
from rdbtools.crc64 import crc64

SMALL = REPO / "fixtures" / "7.0.15" / "small-encodings.rdb"


def _string(data: bytes) -> bytes:
    assert len(data) < 64
    return bytes([len(data)]) + data


def rdb_with_version_aux(value: bytes) -> bytes:
    """An RDB 9 file whose ``redis-ver`` AUX field is ``value``, holding one string key."""
    body = (b"REDIS0009" + b"\xfa" + _string(b"redis-ver") + _string(value)
            + b"\xfe\x00" + b"\x00" + _string(b"k") + _string(b"hello") + b"\xff")
    return body + struct.pack("<Q", crc64(body))


@pytest.mark.parametrize("value", [b"garbage", b"", b"\xff\xfe"])
def test_memory_with_a_bad_version_aux_uses_the_default_model(value: bytes,
                                                             tmp_path: Path) -> None:
    path = tmp_path / "bad-ver.rdb"
    path.write_bytes(rdb_with_version_aux(value))
    r = CliRunner().invoke(rdbtool, ["memory", str(path), "--jsonl"], catch_exceptions=False)
    err = r.stderr_bytes.decode()
    assert r.exit_code == 0, err
    assert err.count("\n") == 1, err
    assert err.startswith(f"rdbtool: warning: {path}: the redis-ver AUX field "), err
    assert "is not a server version: the 7.2 model is used" in err
    # the same estimate as a file that names no version at all (the default model)
    same = CliRunner().invoke(rdbtool, ["memory", str(path), "--jsonl", "--model", "7.2"])
    assert r.stdout_bytes == same.stdout_bytes and b'"key":"k"' in r.stdout_bytes


def test_memory_with_a_good_version_aux_says_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ok.rdb"
    path.write_bytes(rdb_with_version_aux(b"7.0.15"))
    r = CliRunner().invoke(rdbtool, ["memory", str(path), "--jsonl"])
    assert r.exit_code == 0 and r.stderr_bytes == b""


def _aof(*timestamps: bytes) -> bytes:
    out = b""
    for i, ts in enumerate(timestamps):
        key = b"k%d" % i
        out += b"#TS:" + ts + b"\r\n*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n" % (len(key), key)
    return out


@pytest.mark.parametrize("command", ["check", "stats"])
@pytest.mark.parametrize("ts", [b"1" + b"0" * 20, b"99999999999999999", b"9" * 100])
def test_timestamp_annotation_that_is_not_a_time(command: str, ts: bytes,
                                                 tmp_path: Path) -> None:
    path = tmp_path / "ts.aof"
    path.write_bytes(_aof(b"1700000000", ts, b"1700000060"))
    r = CliRunner().invoke(aoftool, [command, str(path)], catch_exceptions=False)
    err = r.stderr_bytes.decode()
    assert r.exit_code == 0, err
    assert err.count("\n") == 1 and err.startswith(f"aoftool: warning: {path}"), err
    assert "is not a time (beyond the year 9999): 1 such annotation(s)" in err
    assert len(err) < 300
    out = r.stdout_bytes.decode()
    if command == "check":
        assert "timestamps  1700000000 .. 1700000060" in out, out
    else:
        assert "2023-11-14 22:13" in out and "2023-11-14 22:14" in out, out
        assert "before the first" not in out, out


@pytest.mark.parametrize("command", ["check", "fix"])
def test_truncate_to_timestamp_beyond_time_t_is_a_usage_error(command: str,
                                                               tmp_path: Path) -> None:
    path = tmp_path / "a.aof"
    path.write_bytes(_aof(b"1700000000"))
    r = CliRunner().invoke(aoftool, [command, str(path), "--truncate-to-timestamp",
                                     "99999999999999999999999"], catch_exceptions=False)
    assert r.exit_code == 2
    assert b"is not in the range 1<=x<=9223372036854775807" in r.stderr_bytes
    assert path.read_bytes() == _aof(b"1700000000")


def test_truncate_to_timestamp_far_in_the_future_is_shown(tmp_path: Path) -> None:
    path = tmp_path / "a.aof"
    path.write_bytes(_aof(b"1700000000"))
    r = CliRunner().invoke(aoftool, ["check", str(path), "--truncate-to-timestamp",
                                     str((1 << 63) - 1)], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr_bytes
    assert b"nothing after timestamp 9223372036854775807 (beyond the calendar)" in r.stdout_bytes


@pytest.mark.parametrize("regex", ["a{99999999999}", "(" * 5000])
def test_key_regex_the_engine_cannot_compile(regex: str) -> None:
    proc = run_rdbtool("dump", str(SMALL), "--key-regex", regex)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "bad key regex" in err and "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("Error:")] == [
        next(line for line in err.splitlines() if "bad key regex" in line)]
    assert len(err) < 600


# --------------------------------------------------------------------------- Ctrl-C

TRIP = """
import os, signal, sys
class Trip:
    def find_spec(self, name, path=None, target=None):
        if name == {module!r}:
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Trip())
sys.argv = [{prog!r}, "--version"]
import rdbtools_launch
rdbtools_launch.{prog}()
"""


@pytest.mark.parametrize("prog", ["rdbtool", "aoftool"])
@pytest.mark.parametrize("module", ["rdbtools", "rdbtools.rdb.reader", "rdbtools.cli._common",
                                    "click"])
def test_ctrl_c_while_importing_exits_130_quietly(prog: str, module: str) -> None:
    """SIGINT is raised at a fixed point of the import (when ``module`` is first looked
    for), not after a delay: the entry point's handler must already be in place."""
    proc = subprocess.run([sys.executable, "-c", TRIP.format(module=module, prog=prog)],
                          capture_output=True, env=cli_env(), timeout=60, check=False,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr == b"" and proc.stdout == b""


def test_without_ctrl_c_the_entry_point_runs_the_command() -> None:
    code = TRIP.format(module="no.such.module", prog="aoftool")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, env=cli_env(),
                          timeout=60, check=False)
    assert proc.returncode == 0 and proc.stdout.startswith(b"aoftool, version")


def test_ignored_sigint_stays_ignored() -> None:
    """A parent that ignores SIGINT (``nohup``, a background job) keeps it ignored."""
    code = TRIP.format(module="rdbtools", prog="rdbtool")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, env=cli_env(),
                          timeout=60, check=False,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert proc.returncode == 0 and proc.stdout.startswith(b"rdbtool, version")


def test_console_scripts_use_the_launcher() -> None:
    script = Path(sys.executable).parent / "rdbtool"
    if not script.is_file():
        pytest.skip("the console script is not installed beside this Python")
    assert b"rdbtools_launch" in script.read_bytes()
    assert os.access(script, os.X_OK)
