"""``aoftool check --jobs 2``: a big file read by two processes gives exactly the report
of one process — on every fixture, on damage before and after the split point, with a
MULTI block across it, and with a split point guessed inside an argument."""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path
from typing import Any

import pytest
from test_aof_support import aof_fixtures, resp, small_aof

from rdbtools.aof import _split
from rdbtools.ops.aof_check import AofCheckReport, aof_check

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                                reason="no fork: files are read by one process")


@pytest.fixture(autouse=True)
def split_everything(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Split files of any size; count how the halves were joined."""
    monkeypatch.setattr(_split, "SPLIT_MIN", 0)
    seen = {"joined": 0}
    joined = _split._joined

    def counting(*args: Any) -> Any:
        seen["joined"] += 1
        return joined(*args)

    monkeypatch.setattr(_split, "_joined", counting)
    return seen


def facts(r: AofCheckReport) -> tuple[object, ...]:
    return (r.ok, r.commands, r.first_timestamp, r.last_timestamp,
            [(f.path, f.commands, f.rdb_keys) for f in r.files],
            str(r.problem) if r.problem else None, r.ok_up_to, r.diff)


def same(path: Path | str) -> None:
    assert facts(aof_check(str(path), jobs=2)) == facts(aof_check(str(path), jobs=1))


def test_fixtures(split_everything: dict[str, int]) -> None:
    for fx in aof_fixtures():
        same(fx.path)
    assert split_everything["joined"] > 10


def big() -> bytes:
    return small_aof() * 40


def test_damage_before_and_after_the_split(tmp_path: Path,
                                          split_everything: dict[str, int]) -> None:
    data = big()
    p = tmp_path / "a.aof"
    rnd = random.Random(9)
    for _ in range(25):
        b = bytearray(data)
        b[rnd.randrange(len(b))] = rnd.choice(b"*$#\r\n0")
        p.write_bytes(bytes(b))
        same(p)
    for cut in (len(data) // 4, len(data) // 2, len(data) // 2 + 7, len(data) - 3):
        p.write_bytes(data[:cut])
        same(p)
    assert split_everything["joined"] > 5


def test_multi_across_the_split(tmp_path: Path, split_everything: dict[str, int]) -> None:
    half = resp(b"SET", b"a", b"1") * 200
    data = half + resp(b"MULTI") + resp(b"SET", b"b", b"2") * 400 + resp(b"EXEC") + half
    p = tmp_path / "m.aof"
    p.write_bytes(data)
    same(p)
    assert aof_check(str(p), jobs=2).commands == 802
    assert split_everything["joined"] == 0
    p.write_bytes(data[:-len(half) - 5])  # no EXEC: EOF inside the MULTI
    same(p)


def test_split_point_inside_an_argument(tmp_path: Path,
                                        split_everything: dict[str, int]) -> None:
    inner = resp(b"SET", b"x", b"y") * 50
    data = resp(b"SET", b"a", b"1") * 10 + resp(b"SET", b"fake", inner) + \
        resp(b"SET", b"b", b"2") * 10
    p = tmp_path / "f.aof"
    p.write_bytes(data)
    assert _split.find_split(str(p), 0, len(data)) is not None
    same(p)
    assert aof_check(str(p), jobs=2).commands == 21
    assert split_everything["joined"] == 0
