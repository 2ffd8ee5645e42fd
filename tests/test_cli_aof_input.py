"""``rdbtool dump/info/check`` take an AOF path (a multi-part directory, a manifest, a
single ``.aof`` file with or without an RDB preamble) and show the keyspace its replay
builds: the same keys as the truth of the fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import FIXTURES, load_truth, run_rdbtool, tb

AOF_DIRS = sorted(p for p in FIXTURES.glob("*/aof-*") if p.is_dir())


def _target(folder: Path) -> Path:
    inner = folder / "appendonlydir"
    if inner.is_dir():
        return inner
    return folder / "appendonly.aof"


@pytest.mark.parametrize("folder", AOF_DIRS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_dump_of_an_aof_has_the_truth_keys(folder: Path) -> None:
    truth = load_truth(folder.with_suffix(".truth.json"))
    run = run_rdbtool("dump", str(_target(folder)), "--jsonl")
    assert run.returncode == 0, run.stderr
    got = set()
    for line in run.stdout.splitlines():
        obj = json.loads(line)
        if "key" in obj:
            got.add((obj["db"], tb(obj["key"])))
    want = {(int(k["db"]), tb(k["key"])) for k in truth["keys"]}
    assert got == want


def test_info_and_check_of_a_manifest() -> None:
    manifest = next(FIXTURES.glob("7.0.15/aof-multipart-*/appendonlydir/*.manifest"))
    info = run_rdbtool("info", str(manifest))
    assert info.returncode == 0 and b"append-only file (replayed)" in info.stdout
    check = run_rdbtool("check", str(manifest))
    assert check.returncode == 0 and b": ok" in check.stdout


@pytest.mark.parametrize("command", ["dump", "info", "check", "memory"])
def test_unsupported_command_names_file_offset_and_key(command: str, tmp_path: Path) -> None:
    aof = tmp_path / "unk.aof"
    aof.write_bytes(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
                    b"*3\r\n$3\r\nFOO\r\n$1\r\na\r\n$1\r\nb\r\n")
    shown = run_rdbtool(command, str(aof))  # the key is shown as not replayed
    assert shown.returncode == 0, shown.stderr
    assert b"not-replayed" in shown.stdout or command == "check"
    run = run_rdbtool(command, "--strict", str(aof))
    assert run.returncode == 5, run.stderr
    lines = run.stderr.decode().strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == f"rdbtool: {aof}@0x32: replay: unsupported command FOO (key b'a')"
