"""The C walk of the AOF RESP parser (``aof_walk_full`` in ``rdbtools._speedups``) gives
exactly what the Python reference ``walk_full_py`` gives: the same ``Walk`` (start, stop,
why, verified, multis, and every slot of every ``Batch``) and the same ``State`` after it,
on the real-server fixtures, generated AOFs and damaged windows; and the reader built on
either walk yields the same batches and raises the same errors."""

from __future__ import annotations

import io
import os
from itertools import accumulate
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from test_aof_gen import generate
from test_aof_support import aof_fixtures, rdb_end, resp, small_aof

from rdbtools._buffer import Input
from rdbtools.aof import _lines, _walk
from rdbtools.aof._lines import Lines
from rdbtools.aof._walk import (
    ANNOTATION_FAST_MAX,
    MAX_FAST_ARGC,
    Batch,
    State,
    Walk,
    walk_full_py,
)
from rdbtools.aof.resp import RespReader
from rdbtools.errors import ParseError

try:
    from rdbtools import _speedups
except ImportError:  # pragma: no cover - depends on the install
    _speedups = None

if _speedups is None and os.environ.get("CI") == "true" \
        and not os.environ.get("RDBTOOLS_PURE_PYTHON"):
    raise RuntimeError("rdbtools._speedups is not built (pip install -e . builds it)")
needs_c = pytest.mark.skipif(
    _walk._c_walk_full is None,
    reason="the C walk is not in use (not built, or RDBTOOLS_PURE_PYTHON is set)")

EXTERNAL = Path("/work/shared/fixtures/external")
StateArgs = tuple[int, int | None, int | None, int]
"""db, timestamp, limit, multi_at of the state a walk starts with."""
STATES: list[StateArgs] = [(0, None, None, -1), (3, 1700000001, None, 40),
                           (0, 5, 1700000001, -1), (7, None, 0, 12)]


def batch_fields(b: Batch) -> tuple[Any, ...]:
    return tuple(getattr(b, s) for s in Batch.__slots__)


def walk_fields(w: Walk) -> tuple[Any, ...]:
    return (w.start, w.stop, w.why, w.verified, w.multis,
            [batch_fields(b) for b in w.batches])


def state_fields(st: State) -> tuple[Any, ...]:
    return tuple(getattr(st, s) for s in State.__slots__)


def new_state(args: StateArgs) -> State:
    db, ts, limit, multi_at = args
    st = State(db, ts, limit)
    st.multi_at = multi_at
    st.annotations = 2
    return st


def split(window: bytes, wbase: int) -> tuple[Lines, tuple[bytes, ...], list[int]]:
    """``window`` as lines, as the Python walk's tuple, and their ``cum`` in Python."""
    lines = Lines(window, wbase)
    cum = list(accumulate(map(len, lines.list), initial=0))
    assert list(lines.cum()) == cum
    return lines, tuple(lines.list), cum


def both(window: bytes, wbase: int, i: int, args: StateArgs) -> Walk:
    """The C and the Python walk from line ``i`` of ``window``; assert they agree."""
    return both_split(split(window, wbase), i, args)


def both_split(parts: tuple[Lines, tuple[bytes, ...], list[int]], i: int,
               args: StateArgs) -> Walk:
    lines, tup, cum = parts
    i = min(i, lines.nl)
    st_c, st_py = new_state(args), new_state(args)
    got = _walk.walk_full(lines, i, st_c)
    want = walk_full_py(tup, lines.nl, cum, lines.wbase, i, st_py)
    assert walk_fields(got) == walk_fields(want)
    assert state_fields(st_c) == state_fields(st_py)
    for b in got.batches:
        assert all(type(a) is tuple for a in b.args)
    return got


def chain(data: bytes, args: StateArgs = STATES[0], wbase: int = 0) -> int:
    """Walk ``data`` as the reader would, skipping the line each walk stops at; return how
    many commands the walks took."""
    parts = split(data, wbase)
    i, taken = 0, 0
    while i < parts[0].nl:
        walk = both_split(parts, i, args)
        taken += sum(b.count for b in walk.batches)
        i = max(walk.stop, i) + 1
    return taken


def read_all(data: bytes, **kw: Any) -> tuple[list[tuple[Any, ...]], str | None, int]:
    """Every batch the reader yields, and its error (type, message, offset, ok_up_to)."""
    r = RespReader(Input(io.BytesIO(data), "t.aof", size=len(data), checksum=False), **kw)
    out: list[tuple[Any, ...]] = []
    err = None
    try:
        out.extend(batch_fields(b) for b in r.batches())
    except ParseError as e:
        err = f"{type(e).__name__} {e} {e.offset} {getattr(e, 'ok_up_to', None)}"
    return out, err, r.annotations


def readers_agree(data: bytes, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> None:
    got = read_all(data, **kw)
    with monkeypatch.context() as m:
        m.setattr(_walk, "_c_walk_full", None)
        m.setattr(_lines, "_c_cum", None)
        want = read_all(data, **kw)
    assert got == want


# --------------------------------------------------------------------------- real files


def fixture_resp_files() -> list[Any]:
    paths = []
    for fx in aof_fixtures():
        paths += [p for p in fx.files if p.suffix == ".aof" or not fx.multipart]
    if EXTERNAL.is_dir():
        paths += sorted(p for p in EXTERNAL.rglob("*aof*") if p.is_file()
                        and not p.name.endswith((".json", ".manifest", ".rdb")))
    return [pytest.param(p, id=str(p)) for p in paths]


@needs_c
@pytest.mark.parametrize("path", fixture_resp_files())
def test_fixture_files(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = path.read_bytes()[rdb_end(path):]
    taken = [chain(data, args, wbase=1000) for args in STATES]
    assert taken[0] > 0 or b"*" not in data
    readers_agree(data, monkeypatch)


@needs_c
def test_generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "gen.aof"
    generate(path, 0.4, seed=3, binary_share=0.05)
    data = path.read_bytes()
    assert chain(data) > 1000
    for cut in (len(data) // 3, len(data) // 2 + 7):
        both(data[:cut], 0, 0, STATES[2])
    readers_agree(data, monkeypatch)
    readers_agree(data, monkeypatch, timestamp_limit=1700000003)


# --------------------------------------------------------------------------- damage


def damaged_aof() -> bytes:
    return small_aof() + b"".join([
        b"*3\r\n$3\r\nSET\r\n$03\r\nabc\r\n$1\r\nv\r\n",  # non-canonical $ line
        b"*03\r\n$3\r\nDEL\r\n$1\r\na\r\n$1\r\nb\r\n",  # non-canonical * line
        resp(b"select", b"x"), resp(b"SELECT"), resp(b"SELECT", b"1", b"2"),
        resp(b"SELECT", b"1" * 19), resp(b"Select", b"0" * 18),
        resp(b"EXEC"), resp(b"MULTI"), resp(b"MuLtI"), resp(b"exec", b"extra"),
        b"#TS:\r\n#TS:12a\r\n#TS:0001700000009\r\n#" + b"x" * ANNOTATION_FAST_MAX + b"\r\n",
        b"#a\nb\r\n", resp(b"SET", b"k", b"x\r\n#c"),
        resp(b"RPUSH", b"l", *[b"%d" % k for k in range(MAX_FAST_ARGC)]),
        resp(b"SET", b"after", b"big"),
    ])


@needs_c
def test_every_truncation(monkeypatch: pytest.MonkeyPatch) -> None:
    data = damaged_aof()
    small = data[:data.index(b"*4098")] + resp(b"SET", b"after", b"big")
    for cut in range(len(small) + 1):
        for args in STATES[:3]:
            both(small[:cut], 50, 0, args)
        readers_agree(small[:cut], monkeypatch)
    readers_agree(data, monkeypatch)
    readers_agree(data, monkeypatch, timestamp_limit=1700000001)


@needs_c
def test_every_start_line() -> None:
    data = damaged_aof()
    parts = split(data, 0)
    for i in range(0, parts[0].nl + 1):
        for args in STATES:
            both_split(parts, i, args)


def test_stops_at_first_unverified() -> None:
    bad = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\nx\r\n#c\r\n"
    data = resp(b"SET", b"a", b"1") + b"#TS:9\r\n" + bad + b"#TS:10\r\n" + resp(b"DEL", b"a")
    walk = both(data, 0, 0, STATES[0])
    assert walk.verified == 1 and walk.why == _walk.ANOMALY
    assert [b.count for b in walk.batches] == [1, 0]
    assert Lines(data, 0).offset(walk.stop) == data.index(bad)
    st = State(0, None, None)
    _walk.walk_full(Lines(data, 0), 0, st)
    assert (st.timestamp, st.annotations) == (9, 1)


@needs_c
def test_wrong_arguments() -> None:
    lines = Lines(resp(b"SET", b"a", b"1"), 0)
    with pytest.raises(TypeError):
        _speedups.aof_walk_full(lines.list, lines.nl, 0, 0, State(0, None, None), Walk, Walk,
                                MAX_FAST_ARGC, ANNOTATION_FAST_MAX)
    with pytest.raises(ValueError):
        _speedups.aof_walk_full(lines.list, lines.nl + 1, 0, 0, State(0, None, None), Batch,
                                Walk, MAX_FAST_ARGC, ANNOTATION_FAST_MAX)
    with pytest.raises(TypeError):
        _speedups.aof_walk_full([b"*1", 5, b"x", b""], 3, 0, 0, State(0, None, None), Batch,
                                Walk, MAX_FAST_ARGC, ANNOTATION_FAST_MAX)


# --------------------------------------------------------------------------- hypothesis

NAMES = [b"SET", b"DEL", b"SELECT", b"select", b"SeLeCt", b"MULTI", b"multi", b"EXEC",
         b"exec", b"Exec", b"PING", b"SELECTX", b"EXE", b""]
ARGS = hs.one_of(hs.sampled_from([b"0", b"3", b"12", b"x", b"", b"-1", b"007", b"1" * 19,
                                  b"a\r\nb", b"\r\n", b"x\r\n#TS:5", b"x\r\n*1",
                                  b"\r", b"\n"]),
                 hs.binary(max_size=12))
LINES = hs.sampled_from([b"#TS:1700000000", b"#TS:1700000001", b"#TS:1700000002",
                         b"#TS:99999999999999999999999", b"#TS:", b"#TS:1x", b"#TS:-1",
                         b"#note", b"#", b"#a\nb", b"#" + b"y" * ANNOTATION_FAST_MAX,
                         b"*0", b"*-1", b"*+1", b"*01", b"* 1", b"$3", b"", b"x", b"*2"])


@hs.composite
def pieces(draw: hs.DrawFn) -> bytes:
    kind = draw(hs.integers(0, 9))
    if kind < 6:
        name = draw(hs.sampled_from(NAMES))
        return resp(name, *draw(hs.lists(ARGS, max_size=3)))
    if kind < 8:
        return draw(LINES) + b"\r\n"
    if kind == 8:  # non-canonical $ line
        a = draw(ARGS)
        head = draw(hs.sampled_from([b"$0%d", b"$+%d", b"$%d ", b"$ %d", b"%d", b"$%dx"]))
        return b"*2\r\n$3\r\nSET\r\n" + head % len(a) + b"\r\n" + a + b"\r\n"
    n = draw(hs.sampled_from([MAX_FAST_ARGC, MAX_FAST_ARGC + 1]))
    return resp(b"DEL", *[b"k"] * (n - 1))


@needs_c
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(parts=hs.lists(pieces(), max_size=25), cut=hs.integers(0, 1 << 16),
       flips=hs.lists(hs.tuples(hs.integers(0, 1 << 16), hs.integers(0, 255)), max_size=3),
       start=hs.integers(0, 40), args=hs.sampled_from(STATES),
       wbase=hs.sampled_from([0, 1 << 20, 123456789]))
def test_damaged_windows(parts: list[bytes], cut: int, flips: list[tuple[int, int]],
                         start: int, args: StateArgs, wbase: int) -> None:
    data = bytearray(b"".join(parts))
    for at, value in flips:
        if data:
            data[at % len(data)] = value
    window = bytes(data[:cut % (len(data) + 1)]) if cut % 3 else bytes(data)
    both(window, wbase, start, args)
    chain(window, args, wbase)


@needs_c
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(parts=hs.lists(pieces(), max_size=20),
       limit=hs.sampled_from([None, 1700000001]),
       flip=hs.tuples(hs.integers(0, 1 << 16), hs.integers(0, 255)))
def test_damaged_reader(parts: list[bytes], limit: int | None,
                        flip: tuple[int, int]) -> None:
    data = bytearray(b"".join(parts))
    if data:
        data[flip[0] % len(data)] = flip[1]
    got = read_all(bytes(data), timestamp_limit=limit)
    saved = _walk._c_walk_full, _lines._c_cum
    try:
        _walk._c_walk_full, _lines._c_cum = None, None
        want = read_all(bytes(data), timestamp_limit=limit)
    finally:
        _walk._c_walk_full, _lines._c_cum = saved
    assert got == want


@pytest.mark.parametrize("framing_only", [False, True])
def test_annotations_counted_once(framing_only: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # an argument holding "\r\n#" looks like an annotation to the walk, which then goes
    # on past that command: nothing it counts there may stay counted
    data = (resp(b"SET", b"k", b"x\r\n#c") + b"#TS:5\r\n" + resp(b"SET", b"k", b"v")
            + b"#x\r\n" + resp(b"SET", b"k", b"q\r\n#r") + b"#y\r\n")
    batches, err, annotations = read_all(data, framing_only=framing_only)
    assert (sum(b[4] for b in batches), err, annotations) == (3, None, 3)
    readers_agree(data, monkeypatch, framing_only=framing_only)
