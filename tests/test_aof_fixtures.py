"""Every AOF fixture (written by real servers, 3.2 to 8.0 and Valkey 8) is read: the
commands equal those of an independent simple parser, with their offsets, databases and
timestamps; the RDB preamble or base gives the keys ``redis-check-aof`` counted; the
server's own checker accepted what we accept; the framing-only pass counts the same."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

import pytest
from helpers import ChunkedReader
from test_aof_support import AofFixture, aof_fixtures, rdb_end, simple_parse

from rdbtools._buffer import Input
from rdbtools.aof import iter_aof, open_aof, read_aof
from rdbtools.aof.resp import Batch, RespReader
from rdbtools.errors import ParseError
from rdbtools.events import AofPart, Command, KeyStart
from rdbtools.ops.aof_check import aof_check

ALL = aof_fixtures()
FIXTURES = [pytest.param(f, id=f.id) for f in ALL]
SINGLE = [pytest.param(f, id=f.id) for f in ALL if not f.multipart]
MULTI = [f for f in ALL if f.multipart]
pytestmark = pytest.mark.skipif(not FIXTURES, reason="no AOF fixtures found")


def expected(fx: AofFixture) -> list[tuple[str, int, tuple[bytes, ...], int, int | None]]:
    """(file name, offset, args, db, timestamp) by the simple parser, file by file."""
    out = []
    ts = None
    for f in fx.files:
        data = f.read_bytes()
        cmds = simple_parse(data, rdb_end(f), ts)
        if cmds:
            ts = cmds[-1].timestamp
        m = re.findall(rb"#TS:(\d+)\r\n", data[rdb_end(f):])
        if m:
            ts = int(m[-1])
        out += [(f.name, c.offset, c.args, c.db, c.timestamp) for c in cmds]
    return out


@pytest.mark.parametrize("fx", FIXTURES)
def test_commands_equal_simple_parser(fx: AofFixture) -> None:
    got = []
    parts = []
    name = ""
    for ev in read_aof(str(fx.path)):
        if isinstance(ev, AofPart):
            name = ev.path.rsplit("/", 1)[-1]
            parts.append((name, ev.kind))
        elif isinstance(ev, Command):
            got.append((name, ev.offset, ev.args, ev.db, ev.timestamp))
    want = expected(fx)
    assert len(got) == len(want)
    assert got == want
    if fx.multipart:
        assert [k for _, k in parts] == ["base"] + ["incr"] * (len(fx.files) - 1)
    else:
        assert parts == [("appendonly.aof", "single")]
    if fx.truth["aof"].get("timestamps"):
        assert any(t is not None for *_, t in got)
    else:
        assert all(t is None for *_, t in got)


@pytest.mark.parametrize("fx", FIXTURES)
def test_rdb_keys_and_checker_verdict(fx: AofFixture) -> None:
    truth = fx.truth
    keys = sum(isinstance(ev, KeyStart) for ev in read_aof(str(fx.path)))
    output = truth["check"]["output"]
    counted = sum(int(n) for n in re.findall(r"\[info\] (\d+) keys read", output))
    assert keys == counted
    assert truth["check"]["rc"] == 0
    report = aof_check(str(fx.path))
    assert report.ok, report.problem
    sizes = [int(n) for n in re.findall(r"AOF analyzed: .*?size=(\d+), ok_up_to=(\d+)",
                                        output) for n in n[:1]]
    assert sizes == [f.size for f in report.files if f.size] or not sizes


@pytest.mark.parametrize("fx", FIXTURES)
def test_framing_only_counts_the_same(fx: AofFixture) -> None:
    full = [it for it in iter_aof(str(fx.path)) if isinstance(it, Batch)]
    lean = [it for it in iter_aof(str(fx.path), framing_only=True) if isinstance(it, Batch)]
    assert sum(b.count for b in full) == sum(b.count for b in lean)
    assert {b.timestamp for b in full} == {b.timestamp for b in lean}
    report = aof_check(str(fx.path))
    assert report.commands == sum(b.count for b in full)


@pytest.mark.parametrize("window", [5, 64, 1000])
@pytest.mark.parametrize("fx", FIXTURES[:: max(1, len(FIXTURES) // 8)])
def test_small_windows(fx: AofFixture, window: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands that span windows, are larger than a window, or start a window."""
    from rdbtools.aof import resp

    want = [(c.offset, c.args, c.db, c.timestamp) for c in read_aof(str(fx.path))
            if isinstance(c, Command)]
    monkeypatch.setattr(resp, "WINDOW", window)
    got = [(c.offset, c.args, c.db, c.timestamp) for c in read_aof(str(fx.path))
           if isinstance(c, Command)]
    assert got == want
    lean = sum(b.count for b in iter_aof(str(fx.path), framing_only=True)
               if isinstance(b, Batch))
    assert lean == len(want)


@pytest.mark.parametrize("fx", SINGLE)
def test_pipe_in_small_chunks(fx: AofFixture) -> None:
    """A single AOF read from a pipe-like source (no size, short reads), the RDB
    preamble included."""
    data = fx.path.read_bytes()
    want = [(c.offset, c.args) for c in simple_parse(data, rdb_end(fx.path))]
    reader = ChunkedReader(data, seed=7, max_chunk=97)
    inp = Input(reader, "pipe", size=None, checksum=False)  # type: ignore[arg-type]
    got = [(c.offset, c.args) for c in RespReader(inp).commands()] if not \
        data.startswith(b"REDIS") else None
    if got is not None:
        assert got == want
    import sys
    saved = sys.stdin
    try:
        sys.stdin = io.TextIOWrapper(io.BufferedReader(ChunkedReader(data, 3, 50)))
        got = [(c.offset, c.args) for c in read_aof("-") if isinstance(c, Command)]
    finally:
        sys.stdin = saved
    assert got == want


@pytest.mark.skipif(not MULTI, reason="no multi-part fixture")
def test_layout_of_a_manifest_path() -> None:
    fx = MULTI[0]
    by_dir = open_aof(str(fx.path))
    by_manifest = open_aof(str(fx.path / "appendonly.aof.manifest"))
    assert by_dir.files == by_manifest.files
    assert by_dir.kind == "multi"


@pytest.mark.parametrize("name", ["6.2.14/aof-single-preamble-yes-rewritten",
                                  "4.0.14/aof-single-preamble-yes-rewritten"])
def test_damaged_preamble_files_raise_only_parse_errors(name: str, tmp_path: Path) -> None:
    """Truncated and mutated AOFs with an RDB preamble: the reader (RDB part included)
    raises nothing but ``ParseError``, located within the file."""
    fx = next((f for f in ALL if f.id == name), None)
    if fx is None:
        pytest.skip(f"{name} missing")
    data = fx.path.read_bytes()
    rnd = random.Random(21)
    target = tmp_path / "appendonly.aof"
    cases = [data[: rnd.randrange(len(data))] for _ in range(60)]
    for _ in range(120):
        b = bytearray(data)
        for _ in range(rnd.randint(1, 3)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        cases.append(bytes(b))
    for case in cases:
        target.write_bytes(case)
        try:
            for _ in read_aof(str(target)):
                pass
        except ParseError as err:
            assert err.offset is None or 0 <= err.offset <= len(case), err
        report = aof_check(str(target))
        assert report.problem is None or isinstance(report.problem, ParseError)
