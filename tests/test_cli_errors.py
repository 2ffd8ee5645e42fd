"""Bad input and failures: one line on stderr, the documented exit code, no traceback,
and ``-o`` never leaves a half-written or temporary file."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import FIXTURES, run_rdbtool

from rdbtools.cli import rdbtool
from rdbtools.events import Event
from rdbtools.ops.inputs import Input

SMALL = FIXTURES / "7.0.15" / "small-encodings.rdb"

pytestmark = pytest.mark.skipif(not SMALL.is_file(), reason=f"fixture {SMALL} not found")


def assert_one_line_error(stderr: bytes, starts: str) -> str:
    text = stderr.decode()
    assert "Traceback" not in text
    assert text.count("\n") == 1 and text.endswith("\n"), text
    assert text.startswith(starts), text
    return text


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("damaged")
    data = SMALL.read_bytes()
    files = {
        "truncated": data[: len(data) // 2],
        "at-trailer": data[:-4],
        "empty": b"",
        "not-rdb": b"hello world, not an rdb\n",
        "new-version": b"REDIS0099" + data[9:],
    }
    flipped = bytearray(data)
    flipped[-3] ^= 0x01
    files["bad-checksum"] = bytes(flipped)
    out = {}
    for name, content in files.items():
        (d / f"{name}.rdb").write_bytes(content)
        out[name] = d / f"{name}.rdb"
    return out


@pytest.mark.parametrize("command", ["check", "dump", "info"])
@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("truncated", 3),
        ("at-trailer", 3),
        ("empty", 3),
        ("not-rdb", 3),
        ("new-version", 5),
        ("bad-checksum", 4),
    ],
)
def test_damaged_input(damaged: dict[str, Path], command: str, name: str, code: int) -> None:
    path = damaged[name]
    proc = run_rdbtool(command, str(path))
    assert proc.returncode == code, proc.stderr
    line = assert_one_line_error(proc.stderr, f"rdbtool: {path}@0x")
    if name == "truncated":
        assert "(key b'" in line


def test_truncated_at_many_offsets(tmp_path: Path) -> None:
    data = SMALL.read_bytes()
    path = tmp_path / "cut.rdb"
    runner = CliRunner()
    for cut in range(0, len(data), max(1, len(data) // 60)):
        path.write_bytes(data[:cut])
        result = runner.invoke(rdbtool.main, ["check", str(path)])
        assert result.exit_code == 3, (cut, result.output, result.exception)
        assert result.stderr.startswith(f"rdbtool: {path}@0x") and result.stderr.count("\n") == 1


def test_no_verify_skips_the_checksum(damaged: dict[str, Path]) -> None:
    proc = run_rdbtool("check", str(damaged["bad-checksum"]), "--no-verify")
    assert proc.returncode == 0 and b"not verified" in proc.stdout


def test_missing_or_unreadable_input(tmp_path: Path) -> None:
    proc = run_rdbtool("check", str(tmp_path / "nope.rdb"))
    assert proc.returncode == 8
    assert_one_line_error(proc.stderr, f"rdbtool: {tmp_path / 'nope.rdb'}: No such file")
    proc = run_rdbtool("dump", str(tmp_path))
    assert proc.returncode == 8
    assert_one_line_error(proc.stderr, f"rdbtool: {tmp_path}: Is a directory")


def test_usage_errors_exit_2() -> None:
    assert run_rdbtool("dump").returncode == 2
    assert run_rdbtool("dump", str(SMALL), "--type", "bitmap").returncode == 2
    assert run_rdbtool("info", str(SMALL), "--top", "-1").returncode == 2
    assert run_rdbtool("frobnicate").returncode == 2
    proc = run_rdbtool("dump", str(SMALL), "--key-regex", "a(b")
    assert proc.returncode == 2 and b"bad key regex" in proc.stderr
    assert b"Traceback" not in proc.stderr


# --------------------------------------------------------------------------- -o OUT


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_output_file_written_whole(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    proc = run_rdbtool("dump", str(SMALL), "-o", str(out))
    assert proc.returncode == 0 and proc.stdout == b"" and proc.stderr == b""
    assert out.read_bytes() == run_rdbtool("dump", str(SMALL)).stdout
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~mask
    assert leftovers(tmp_path) == []


def test_failed_dump_leaves_no_output(tmp_path: Path, damaged: dict[str, Path]) -> None:
    out = tmp_path / "out.jsonl"
    proc = run_rdbtool("dump", str(damaged["truncated"]), "-o", str(out))
    assert proc.returncode == 3
    assert not out.exists() and leftovers(tmp_path) == []
    out.write_bytes(b"previous content\n")
    proc = run_rdbtool("dump", str(damaged["bad-checksum"]), "--resp", "-o", str(out))
    assert proc.returncode == 4
    assert out.read_bytes() == b"previous content\n" and leftovers(tmp_path) == []


def test_interrupted_dump_leaves_no_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = rdbtool.read_events

    def interrupted(*args: object, **kwargs: object) -> Input:
        inp = real(*args, **kwargs)  # type: ignore[arg-type]

        def events() -> Iterator[Event]:
            for n, ev in enumerate(inp.events):
                if n == 50:
                    raise KeyboardInterrupt
                yield ev

        return replace(inp, events=events())

    monkeypatch.setattr(rdbtool, "read_events", interrupted)
    out = tmp_path / "out.json"
    result = CliRunner().invoke(rdbtool.main, ["dump", str(SMALL), "--json", "-o", str(out)])
    assert result.exit_code == 130 and result.stderr == "rdbtool: interrupted\n"
    assert list(tmp_path.iterdir()) == []


def test_output_into_a_missing_directory(tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "out.jsonl"
    proc = run_rdbtool("dump", str(SMALL), "-o", str(out))
    assert proc.returncode == 8
    assert_one_line_error(proc.stderr, f"rdbtool: {out}: No such file or directory")


def test_output_to_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    """A non-regular OUT (a FIFO here; /dev/null alike) is written, never replaced."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    proc = run_rdbtool("dump", str(SMALL), "--keys", "-o", str(fifo))
    reader.join(60)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert received == [run_rdbtool("dump", str(SMALL), "--keys").stdout]
    assert leftovers(tmp_path) == []


def test_output_through_a_symlink_replaces_its_target(tmp_path: Path) -> None:
    target = tmp_path / "real.jsonl"
    target.write_bytes(b"old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    proc = run_rdbtool("dump", str(SMALL), "-o", str(link))
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and target.read_bytes() == run_rdbtool("dump", str(SMALL)).stdout
