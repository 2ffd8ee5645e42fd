"""Hostile counts and lengths, in process, on both decoder backends (the C extension and
pure Python): every lie of the corpus (``hostile_corpus``) is a ``ParseError`` located at
the key; decoding work stays proportional to the input (hypothesis fuzzing of the
stream-node, listpack and ziplist decoders)."""

from __future__ import annotations

import io
import os
import struct
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import helpers
import hostile_corpus as H
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rdbtools import ParseError
from rdbtools._accel import speedups
from rdbtools.errors import LimitExceeded
from rdbtools.events import HashFields, StreamEntries
from rdbtools.rdb import _encodings as E
from rdbtools.rdb import _values as V
from rdbtools.rdb.reader import read_rdb

BACKENDS = ["c", "pure"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with the C decoders, then with the pure-Python ones (as
    ``RDBTOOLS_PURE_PYTHON=1`` would, for the modules that decode)."""
    if request.param == "c":
        if speedups is None:
            pytest.skip("rdbtools._speedups is not built")
    else:
        helpers.use_pure_python_decoders(monkeypatch)
    return str(request.param)


def _read(data: bytes) -> helpers.ReadResult:
    with helpers.time_limit(60, "one parse"):
        return helpers.read_all(io.BytesIO(data))


def _traced(fn: Callable[[], Any]) -> tuple[Any, int]:
    """``fn()`` and the peak of memory allocated while it ran."""
    tracemalloc.start()
    try:
        return fn(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _streamed(data: bytes, cls: type, attr: str) -> tuple[int, int, int]:
    """Read ``data`` keeping nothing: (items in ``cls`` events, most in one event, peak
    memory)."""
    def count() -> tuple[int, int]:
        total = longest = 0
        for ev in read_rdb(io.BytesIO(data)):
            if isinstance(ev, cls):
                n = len(getattr(ev, attr))
                total += n
                longest = max(longest, n)
        return total, longest

    (total, longest), peak = _traced(count)
    return total, longest, peak


# --------------------------------------------------------------------------- the corpus


def test_the_good_stream_node_reads(backend: str) -> None:
    """The generator's valid node reads as the entries it holds (so the lies below are
    lies about a node the decoder otherwise accepts)."""
    got = _read(H.stream_rdb(H.GOOD_NODE))
    assert got.error is None, got.error
    entries = [e for ev in got.events if type(ev).__name__ == "StreamEntries" for e in ev.entries]
    assert [(e.id, e.fields) for e in entries] == [
        ((1, 0), ((b"f", b"v1"),)), ((3, 0), ((b"g", b"v3"),))]


@pytest.mark.parametrize("name", sorted(H.STREAM_NODES))
def test_stream_node_lie_is_a_located_parse_error(name: str, backend: str) -> None:
    data = H.stream_rdb(H.STREAM_NODES[name])
    got, peak = _traced(lambda: _read(data))
    err = got.error
    assert isinstance(err, ParseError), f"{name}: {err!r} after {len(got.events)} events"
    assert err.key == b"s" and err.offset is not None and 0 < err.offset < len(data)
    assert peak < 4 << 20, f"{name}: peak {peak >> 20} MiB"


@pytest.mark.parametrize("name", sorted(H.hostile_rdbs()))
def test_every_corpus_file_is_a_located_parse_error(name: str, backend: str) -> None:
    data = H.hostile_rdbs()[name]
    got, peak = _traced(lambda: _read(data))
    err = got.error
    assert isinstance(err, ParseError), f"{name}: {err!r} after {len(got.events)} events"
    assert err.offset is not None and err.key is not None, f"{name}: {err}"
    assert peak < 4 << 20, f"{name}: peak {peak >> 20} MiB"


def test_lzf_string_over_512_mib_is_refused_before_inflating(backend: str) -> None:
    """~1.9 GB of zeros from 7 MB of LZF: refused from its stated length."""
    data = H.lzf_zero_bomb(7)
    got, peak = _traced(lambda: _read(data))
    assert isinstance(got.error, LimitExceeded), got.error
    assert got.error.key == b"z" and "536870912" in str(got.error)
    assert peak < 2 * len(data) + (4 << 20)


def test_listpack_of_millions_is_decoded_in_runs(backend: str) -> None:
    """600 000 entries (a 1.2 MB listpack, 14 KB of LZF): no event holds more than one run
    and the decoded elements never exist all at once."""
    total, longest, peak = _streamed(H.lzf_listpack_bomb(600_000), HashFields, "fields")
    assert total == 300_000 and longest <= E.RUN // 2
    # the 1.2 MB blob and a few runs, not 600 000 objects (~30 MB)
    assert peak < 12 << 20, f"peak {peak >> 20} MiB"


# --------------------------------------------------------------------------- work counting


class Work:
    """Counts the Python and C function calls made while active: the decoders' work,
    independent of the clock."""

    def __init__(self) -> None:
        self.calls = 0

    def _hook(self, frame: FrameType, event: str, arg: Any) -> None:
        if event in ("call", "c_call"):
            self.calls += 1

    def run(self, fn: Callable[[], Any]) -> Any:
        sys.setprofile(self._hook)
        try:
            return fn()
        finally:
            sys.setprofile(None)


def _decode_node(blob: bytes) -> list[Any]:
    return V._stream_node(H.NODE_KEY, E.listpack(blob, ints=True))


def _decode_runs(blob: bytes, runs: Callable[[bytes], tuple[int, Iterator[list[Any]]]]
                 ) -> int:
    count, it = runs(blob)
    got = sum(len(r) for r in it)
    assert got == count
    return got


HYP = settings(max_examples=int(os.environ.get("RDBTOOLS_FUZZ_EXAMPLES", "150")), deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_ints = st.one_of(st.integers(-8, 130), st.integers(-2**63, 2**63 - 1),
                  st.sampled_from([-1, -4, 2**62, 2**63 - 1, 2**32, 65535]))
_items = st.lists(st.one_of(_ints, st.binary(max_size=6)), max_size=60)


def _mutated_node(draw: st.DrawFn) -> list[H.Item]:
    items = list(H.GOOD_NODE)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(items) - 1))
        items[i] = draw(_ints)
    return items


@st.composite
def _nodes(draw: st.DrawFn) -> list[H.Item]:
    return _mutated_node(draw) if draw(st.booleans()) else draw(_items)


@HYP
@given(_nodes())
def test_fuzz_stream_node(items: list[H.Item]) -> None:
    blob = H.listpack(items)
    work = Work()
    try:
        entries = work.run(lambda: _decode_node(blob))
    except ParseError:
        entries = []
    assert len(entries) <= len(items) // 4 + 1
    assert work.calls <= 40 * (len(items) + 4), (work.calls, len(items))


def _blob_mutations(base: bytes) -> st.SearchStrategy[bytes]:
    def mutate(edits: list[tuple[int, int]]) -> bytes:
        b = bytearray(base)
        for pos, val in edits:
            b[pos % len(b)] = val
        return bytes(b)

    return st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)),
                    min_size=1, max_size=4).map(mutate)


_LP_BASE = H.listpack([b"a", 5, -300, b"x" * 70, 2**40, b"", 127, -1])
_ZL_BASE = H.ziplist([b"a", b"bc", b"", b"x" * 60, b"12"])


@st.composite
def _listpacks(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return draw(_blob_mutations(_LP_BASE))
    body = draw(st.binary(max_size=200))
    total = len(body) + 7 if kind == 1 else draw(st.integers(0, 2**32 - 1))
    return struct.pack("<IH", total, draw(st.integers(0, 65535))) + body + b"\xff"


@st.composite
def _ziplists(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        return draw(_blob_mutations(_ZL_BASE))
    body = draw(st.binary(max_size=200))
    return struct.pack("<IIH", len(body) + 11, draw(st.integers(10, 300)),
                       draw(st.integers(0, 65535))) + body + b"\xff"


def _only_parse_errors_and_bounded_work(blob: bytes, decode: Callable[[], Any]) -> None:
    work = Work()
    try:
        n = work.run(decode)
    except ParseError:
        n = 0
    count = n if isinstance(n, int) else len(n)
    assert count <= len(blob)
    assert work.calls <= 20 * len(blob) + 50, (work.calls, len(blob))


@HYP
@given(_listpacks(), st.booleans())
def test_fuzz_listpack(blob: bytes, ints: bool) -> None:
    _only_parse_errors_and_bounded_work(blob, lambda: E.listpack_py(blob, ints))
    _only_parse_errors_and_bounded_work(blob, lambda: _decode_runs(blob, E.listpack_runs))
    if speedups is not None:
        _only_parse_errors_and_bounded_work(blob, lambda: E.listpack(blob, ints))


@HYP
@given(_ziplists())
def test_fuzz_ziplist(blob: bytes) -> None:
    _only_parse_errors_and_bounded_work(blob, lambda: E.ziplist_py(blob))
    _only_parse_errors_and_bounded_work(blob, lambda: _decode_runs(blob, E.ziplist_runs))
    if speedups is not None:
        _only_parse_errors_and_bounded_work(blob, lambda: E.ziplist(blob))


def test_runs_match_whole_decoding_on_both_backends() -> None:
    """``listpack_runs`` / ``ziplist_runs`` give the elements of ``listpack`` /
    ``ziplist`` in order, whatever the run size, in C and in Python, for blobs decoded
    whole (small) and counted then sliced (larger than ``WHOLE``)."""
    for n in (2500, 25_000):
        lp = H.listpack([b"k%d" % i if i % 3 else i - 500 for i in range(n)])
        zl = H.ziplist([b"e%d" % i for i in range(n)], 0xFFFF)
        assert (len(lp) > E.WHOLE) == (len(zl) > E.WHOLE) == (n > 10_000)
        whole_lp, whole_zl = E.listpack_py(lp), E.ziplist_py(zl)
        assert len(whole_lp) == len(whole_zl) == n
        for run in (1, 7, 1024, 50_000):
            got_n, it = E.listpack_runs(lp, run=run)
            assert got_n == n and [x for r in it for x in r] == whole_lp
            got_n, it = E.ziplist_runs(zl, run=run)
            assert got_n == n and [x for r in it for x in r] == whole_zl
            assert E._lp_all(lp, False, None) == n
            assert [x for r in E._lp_runs(lp, False, n, run, E._lp_slice_py) for x in r] == whole_lp
            assert [x for r in E._zl_runs(zl, run, E._zl_slice_py) for x in r] == whole_zl


@HYP
@given(_nodes(), st.integers(1, 9))
def test_stream_node_in_runs_decodes_as_whole(items: list[H.Item], run: int) -> None:
    """The node decoder fed runs of any size gives what it gives on the whole list
    (the same entries, or an error)."""
    blob = H.listpack(items)
    try:
        whole: Any = _decode_node(blob)
    except ParseError as exc:
        whole = type(exc)
    count, runs = E.listpack_runs(blob, ints=True, run=run)
    try:
        got: Any = [e for r in V._stream_node_runs(H.NODE_KEY, count, runs) for e in r]
    except ParseError as exc:
        got = type(exc)
    assert got == whole


def test_big_stream_node_is_decoded_in_batches(backend: str) -> None:
    """A node of 100 000 entries: events of at most ``BATCH`` entries, and never all the
    node's items as objects at once."""
    n = 100_000
    items: list[H.Item] = [n, 0, 1, b"f", 0]
    for j in range(n):
        items += [2, j, 0, b"v", 4]
    total, longest, peak = _streamed(H.stream_rdb(items), StreamEntries, "entries")
    assert total == n and longest <= V.BATCH
    # the ~1 MB listpack, one run of items and one batch of entries (whole: ~60 MB)
    assert peak < 12 << 20, f"peak {peak >> 20} MiB"
