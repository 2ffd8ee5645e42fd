"""``aoftool check`` gives the verdict and the position (``ok_up_to``, ``diff``) of
``/usr/bin/redis-check-aof`` (Redis 7.0.15) on AOFs truncated at command boundaries and
inside commands, and on mutated ones; ``fix`` and ``--truncate-to-timestamp`` leave
exactly the bytes ``redis-check-aof --fix`` / ``--truncate-to-timestamp`` leave."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from test_aof_support import (
    REDIS_CHECK_AOF,
    AofFixture,
    aof_fixtures,
    copy_tree,
    needs_rca,
    rca,
    simple_parse,
    small_aof,
)

from rdbtools.aof import read_aof
from rdbtools.events import Command
from rdbtools.ops.aof_check import aof_check
from rdbtools.ops.aof_fix import aof_fix

pytestmark = needs_rca
ALL = aof_fixtures()


def pick(name: str) -> AofFixture:
    for f in ALL:
        if f.id == name:
            return f
    pytest.skip(f"fixture {name} not found")


def ours(path: str) -> tuple[int, int | None, int | None]:
    """(verdict, ok_up_to, diff) as redis-check-aof prints them."""
    r = aof_check(path)
    if r.ok:
        return 0, r.files[-1].size if r.files else 0, 0
    return 1, r.ok_up_to, r.diff


def points(data: bytes, offsets: list[int], rnd: random.Random, boundaries: int,
           inside: int) -> list[int]:
    chosen = rnd.sample(offsets, min(boundaries, len(offsets)))
    pts = {len(data), len(data) - 1}
    for o in chosen:
        pts.update({o - 1, o, o + 1, o + 3})
    pts.update(rnd.randrange(1, len(data)) for _ in range(inside))
    return sorted(p for p in pts if 0 < p <= len(data))


def compare_truncations(src: Path, tmp: Path, target: str, boundaries: int,
                        inside: int, seed: int) -> int:
    """Truncate ``src`` (a copy at ``tmp``) at many points; compare; return how many."""
    data = src.read_bytes()
    offsets = [c.offset for c in read_aof(str(src)) if isinstance(c, Command)]
    n = 0
    for p in points(data, offsets, random.Random(seed), boundaries, inside):
        tmp.write_bytes(data[:p])
        theirs = rca(target)
        mine = ours(target)
        if theirs.ok_up_to is None:  # the RDB preamble is damaged: no position
            assert (theirs.rc, mine[0], mine[1]) == (1, 1, None), (p, theirs.output)
        else:
            assert (theirs.rc, theirs.ok_up_to, theirs.diff) == mine, (p, theirs.output)
        n += 1
    return n


@pytest.mark.parametrize(("name", "boundaries", "inside"), [
    ("6.2.14/aof-single-preamble-no-writes", 40, 40),
    ("6.2.14/aof-single-preamble-yes-rewritten", 20, 60),
    ("3.2.13/aof-single-preamble-no-rewritten", 30, 30),
    ("5.0.14/aof-single-preamble-yes-rewritten", 10, 20),
])
def test_single_file_truncations(name: str, boundaries: int, inside: int,
                                 tmp_path: Path) -> None:
    fx = pick(name)
    target = tmp_path / "appendonly.aof"
    assert compare_truncations(fx.path, target, str(target), boundaries, inside, 1) > 50


def test_every_offset_of_a_small_incr(tmp_path: Path) -> None:
    """Every prefix of a small incr file of a multi-part AOF, through its manifest."""
    fx = pick("7.0.15/aof-multipart-preamble-yes-rewritten")
    d = copy_tree(fx.path, tmp_path / "appendonlydir")
    incr = fx.files[-1]
    data = incr.read_bytes()
    assert len(data) < 1000
    manifest = str(d / "appendonly.aof.manifest")
    for p in range(len(data) + 1):
        (d / incr.name).write_bytes(data[:p])
        theirs = rca(manifest)
        mine = ours(str(d))
        assert (theirs.rc, theirs.ok_up_to if p else 0, theirs.diff if p else 0) == mine, (
            p, theirs.output)


def test_multipart_truncations(tmp_path: Path) -> None:
    fx = pick("7.2.6/aof-multipart-preamble-no-timestamps-writes")
    d = copy_tree(fx.path, tmp_path / "appendonlydir")
    incr = d / fx.files[-1].name
    n = compare_truncations(fx.files[-1], incr, str(d / "appendonly.aof.manifest"), 30, 30, 2)
    assert n > 50


def test_damaged_base_is_not_the_last_file(tmp_path: Path) -> None:
    fx = pick("7.0.15/aof-multipart-preamble-no-rewritten")
    d = copy_tree(fx.path, tmp_path / "appendonlydir")
    base = d / fx.files[0].name
    base.write_bytes(base.read_bytes()[:5000])
    theirs = rca(str(d / "appendonly.aof.manifest"))
    report = aof_check(str(d))
    assert theirs.rc == 1 and not report.ok
    assert (report.ok_up_to, report.diff) == (theirs.ok_up_to, theirs.diff)
    assert not report.last_file
    assert "not the last file" in report.problem_line()


def test_mutations_agree(tmp_path: Path) -> None:
    data = small_aof() * 3
    target = tmp_path / "m.aof"
    rnd = random.Random(3)
    for _ in range(250):
        b = bytearray(data)
        for _ in range(rnd.randint(1, 2)):
            b[rnd.randrange(len(b))] = rnd.choice(b"*$#\r\n0129aZ \x00")
        target.write_bytes(bytes(b))
        theirs = rca(str(target))
        mine = ours(str(target))
        if mine[0] == 1 and (theirs.rc, theirs.ok_up_to, theirs.diff) != mine:
            # where we are stricter than redis-check-aof (the server is too): a count
            # below 1, a SELECT without a number, a sign or spaces in a length
            # (docs/aof.md): we stop at that command, redis-check-aof later or never
            msg = aof_check(str(target)).problem_line()
            assert any(w in msg for w in ("argument count", "SELECT", "line")), msg
            assert theirs.rc == 0 or (theirs.ok_up_to or 0) > (mine[1] or 0)
            continue
        assert (theirs.rc, theirs.ok_up_to, theirs.diff) == mine, bytes(b)


@pytest.mark.parametrize("name", ["6.2.14/aof-single-preamble-no-writes",
                                  "6.0.9/aof-single-preamble-yes-rewritten"])
def test_fix_leaves_the_bytes_of_redis_check_aof_fix(name: str, tmp_path: Path) -> None:
    fx = pick(name)
    data = fx.path.read_bytes()
    rnd = random.Random(4)
    for p in [rnd.randrange(len(data) // 2, len(data)) for _ in range(6)]:
        a, b = tmp_path / "a.aof", tmp_path / "b.aof"
        a.write_bytes(data[:p])
        b.write_bytes(data[:p])
        theirs = rca("--fix", str(a), stdin="y\n")
        if theirs.ok_up_to is None:  # inside the preamble: both refuse
            with pytest.raises(Exception, match="truncation"):
                aof_fix(str(b))
            continue
        aof_fix(str(b), now=0)
        assert a.read_bytes() == b.read_bytes(), p
        assert (tmp_path / "b.aof.bak.19700101T000000Z").read_bytes() == data[:p]
        for f in tmp_path.glob("*.bak.*"):
            f.unlink()


@pytest.mark.parametrize("limit", [1, 1795741034, 1795741035, 1795741036, 2 ** 40])
def test_truncate_to_timestamp_like_redis_check_aof(limit: int, tmp_path: Path) -> None:
    fx = pick("7.0.15/aof-multipart-preamble-no-timestamps-writes")
    a = copy_tree(fx.path, tmp_path / "a")
    b = copy_tree(fx.path, tmp_path / "b")
    theirs = rca("--truncate-to-timestamp", str(limit), str(a / "appendonly.aof.manifest"))
    try:
        report = aof_fix(str(b), truncate_to_timestamp=limit, now=0)
        mine_rc = 0
    except Exception as err:  # noqa: BLE001 - compared with the other tool's verdict
        mine_rc, report = 1, None
        assert "timestamp" in str(err)
    assert theirs.rc == mine_rc, theirs.output
    for name in os.listdir(a):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    if report is not None and report.file is not None:
        assert Path(report.backup or "").is_file()


def test_simple_parser_sanity() -> None:
    assert REDIS_CHECK_AOF.endswith("redis-check-aof")
    assert len(simple_parse(small_aof())) == 16
