"""The C blob decoders (``rdbtools._speedups``) give exactly what the Python decoders give:
the same elements for every blob of every fixture, and the same verdict (a value or
``CorruptInput``) for random and mutated blobs. The C encoders of the writer give the
bytes of their Python twins, and the writer the same file with either."""

from __future__ import annotations

import ast
import io
import math
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rdbtools
from rdbtools._accel import Speedups
from rdbtools._buffer import Input
from rdbtools.errors import CorruptInput
from rdbtools.events import KeyEnd, KeyStart
from rdbtools.rdb import _encoders as C
from rdbtools.rdb import _encodings as E
from tests.helpers import all_cases, use_pure_python_decoders

try:
    from rdbtools import _speedups
except ImportError:  # pragma: no cover - depends on the install
    _speedups = None

if _speedups is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("rdbtools._speedups is not built (pip install -e . builds it)")
    pytest.skip("rdbtools._speedups is not built (no C compiler at install time)",
                allow_module_level=True)

LISTPACK_TYPES = {16, 17, 20, 25}
ZIPLIST_TYPES = {10, 12, 13}


def _verdict(fn, *args):  # type: ignore[no-untyped-def]
    try:
        return ("ok", fn(*args))
    except CorruptInput:
        return ("corrupt", None)


def _both_listpack(blob: bytes, ints: bool) -> None:
    py = _verdict(E.listpack_py, blob, ints)
    c = _verdict(E.listpack, blob, ints)
    assert c == py, blob.hex()


def _both_ziplist(blob: bytes) -> None:
    py = _verdict(E.ziplist_py, blob)
    c = _verdict(E.ziplist, blob)
    assert c == py, blob.hex()


def _fixture_blobs() -> list[tuple[str, int, bytes]]:
    """Every listpack and ziplist blob stored in a fixture (as the rdb-string holds it)."""
    out = []
    for case in all_cases():
        if case.kind != "rdb" or not case.path.exists():
            continue
        data = case.path.read_bytes()
        try:
            events = list(rdbtools.read_rdb(io.BytesIO(data)))
        except rdbtools.ParseError:
            continue
        start = None
        for ev in events:
            if isinstance(ev, KeyStart):
                start = ev
            elif isinstance(ev, KeyEnd) and start is not None:
                if start.rdb_type in LISTPACK_TYPES | ZIPLIST_TYPES:
                    inp = Input(io.BytesIO(data[ev.value_offset:]), "blob")
                    if start.rdb_type == 25:
                        inp.read(8)
                    out.append((case.path.name, start.rdb_type, inp.read_string()))
                start = None
    return out


BLOBS = _fixture_blobs()


def test_fixture_blobs_found() -> None:
    assert len([b for b in BLOBS if b[1] in LISTPACK_TYPES]) > 50
    assert len([b for b in BLOBS if b[1] in ZIPLIST_TYPES]) > 20


@pytest.mark.parametrize("name,rdb_type,blob", BLOBS, ids=lambda v: str(v)[:20])
def test_fixture_blob_same(name: str, rdb_type: int, blob: bytes) -> None:
    if rdb_type in LISTPACK_TYPES:
        assert E.listpack(blob) == E.listpack_py(blob)
        assert E.listpack(blob, True) == E.listpack_py(blob, True)
    else:
        assert E.ziplist(blob) == E.ziplist_py(blob)


def test_mutated_fixture_blobs_same_verdict() -> None:
    rng = random.Random(7)
    for _, rdb_type, blob in BLOBS:
        for _ in range(30):
            b = bytearray(blob)
            for _ in range(rng.randint(1, 3)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            if rng.random() < 0.3:
                del b[rng.randrange(len(b)) :]
            if rdb_type in LISTPACK_TYPES:
                _both_listpack(bytes(b), rng.random() < 0.5)
            else:
                _both_ziplist(bytes(b))


elements = st.lists(
    st.one_of(
        st.binary(max_size=80),
        st.binary(min_size=4000, max_size=5000),
        st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1).map(lambda i: b"%d" % i),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elements, st.booleans())
def test_encoded_blobs_same(items: list[bytes], ints: bool) -> None:
    lp = C.listpack(items)
    assert E.listpack(lp) == E.listpack_py(lp) == items
    _both_listpack(lp, ints)
    zl = C.ziplist(items)
    assert E.ziplist(zl) == E.ziplist_py(zl) == items


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.booleans())
def test_random_bytes_same_verdict(data: bytes, ints: bool) -> None:
    for blob in (data, len(data).to_bytes(4, "little") + data[4:]):
        _both_listpack(blob, ints)
        _both_ziplist(blob)


def _events_or_error(data: bytes, pure: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as m:
        if pure:
            use_pure_python_decoders(m)
        try:
            return list(rdbtools.read_rdb(io.BytesIO(data)))
        except rdbtools.ParseError as exc:
            return (type(exc).__name__, exc.offset, exc.key)


RDB_FILES = [c.path for c in all_cases() if c.kind == "rdb" and c.path.exists()]


@pytest.mark.parametrize("path", RDB_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_reader_same_with_and_without_c(path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The whole event stream (values, offsets, sizes) is the same on both paths, for the
    file and for mutated copies of it (same events or the same error at the same place)."""
    data = path.read_bytes()
    assert _events_or_error(data, False, monkeypatch) == _events_or_error(data, True, monkeypatch)
    rng = random.Random(len(data))
    for _ in range(20):
        b = bytearray(data)
        b[rng.randrange(9, len(b))] = rng.randrange(256)
        mutated = bytes(b[: rng.randrange(len(b) // 2, len(b) + 1)])
        assert _events_or_error(mutated, False, monkeypatch) == _events_or_error(
            mutated, True, monkeypatch
        )


def test_makers_build_ordinary_frozen_events() -> None:
    """A maker's instance equals the dataclass-built one, hashes the same, stays frozen,
    and survives garbage collection."""
    import dataclasses
    import gc

    from rdbtools import _make
    from rdbtools import events as ev

    args = (3, b"k", "string", "raw", 0, 1700000000000, None, 7, 5, 99)
    made = _make.KeyStart(*args)
    assert type(made) is ev.KeyStart
    assert made == ev.KeyStart(*args) and hash(made) == hash(ev.KeyStart(*args))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.db = 4  # type: ignore[misc]
    items = [_make.ListItems((b"x" * i,), i) for i in range(10000)]
    del made
    gc.collect()
    assert items[9999] == ev.ListItems((b"x" * 9999,), 9999)
    with pytest.raises(TypeError):
        _make.KeyEnd(b"k", 1)


def test_every_event_class_keeps_its_fields_in_slot_order() -> None:
    """The C constructor fills slots by position from the fields in order: every event
    dataclass (and MemoryRow) has its fields and __slots__ in one order."""
    import dataclasses

    from rdbtools import events as ev
    from rdbtools._make import slot_order
    from rdbtools.memory.rows import MemoryRow

    classes = [c for c in vars(ev).values() if isinstance(c, type)
               and dataclasses.is_dataclass(c) and c.__module__ == ev.__name__]
    assert len(classes) > 20
    for cls in [*classes, MemoryRow]:
        slot_order(cls)


def test_maker_refuses_slots_out_of_field_order() -> None:
    """A class whose __slots__ differ from its fields in order (by hand, or a slotted
    subclass holding only its own fields) gets no positional constructor."""
    import dataclasses

    from rdbtools._make import maker

    @dataclasses.dataclass(frozen=True)
    class Swapped:
        __slots__ = ("b", "a")
        a: int
        b: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Base:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Child(Base):
        b: int

    for cls in (Swapped, Child):
        with pytest.raises(TypeError, match="not its fields"):
            maker(cls)


@given(st.lists(st.binary(max_size=300), max_size=80))
def test_resp_command_same(args: list[bytes]) -> None:
    from rdbtools.aof.commands import _resp_command

    fast = _speedups.resp
    assert fast(*args) == _resp_command(*args)
    assert fast(*map(memoryview, args)) == _resp_command(*args)
    assert fast(*map(bytearray, args)) == _resp_command(*args)


# --------------------------------------------------------------------------- encoders
# The writer's C encoders (enc_len, enc_string, listpack and ziplist builders, key
# records) give the bytes of their pure-Python twins in rdbtools.rdb._encoders. They are
# called from the C module itself, so these tests compare the two under
# RDBTOOLS_PURE_PYTHON too.

FAST = {"enc_len": "enc_len", "canonical_int": "canonical_int", "enc_string": "enc_string",
        "enc_strings": "enc_strings", "lp_entry": "lp_entry", "lp_entries": "lp_entries",
        "listpack": "listpack_of", "ziplist": "ziplist_of", "key_record": "key_record",
        "enc_lens": "enc_lens", "lp_fill": "lp_fill"}
"""The writer's name of each encoder (in ``_encoders``) -> its C function."""
F = _speedups

_INT64 = st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1)
_EDGES = [0, 1, 12, 13, 63, 64, 127, 128, 4095, 4096, 8191, 16383, 16384, 32767, 32768,
          (1 << 23) - 1, 1 << 23, (1 << 31) - 1, 1 << 31, (1 << 63) - 1]
_EDGE_TEXTS = [b"%d" % v for e in _EDGES for v in (e, -e, -e - 1)] + [
    b"", b"-", b"-0", b"00", b"007", b"+1", b" 1", b"1 ", b"1e3", b"0x10", b"9223372036854775808",
    b"-9223372036854775809", b"99999999999999999999", b"123456789012345678901", b"\xd9\xa3"]


def _compressible(draw_len: int) -> st.SearchStrategy[bytes]:
    return st.lists(st.sampled_from([b"a", b"b", b"ab", b"abcabc", b"\x00"]),
                    max_size=draw_len).map(b"".join)


element = st.one_of(
    st.binary(max_size=80),
    _compressible(60),
    st.binary(min_size=4000, max_size=4200),
    _INT64.map(lambda i: b"%d" % i),
    st.sampled_from(_EDGE_TEXTS),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(element, max_size=30), st.booleans())
def test_string_and_blob_encoders_same(items: list[bytes], compress: bool) -> None:
    for s in items:
        assert F.enc_string(s, compress) == C.enc_string_py(s, compress), s
        assert F.lp_entry(s) == C.lp_entry_py(s), s
        assert F.canonical_int(s) == C.canonical_int_py(s), s
        for max_len in (11, 20, 31):
            assert F.canonical_int(s, max_len) == C.canonical_int_py(s, max_len), s
    assert F.enc_strings(items, compress) == C.enc_strings_py(items, compress)
    assert F.enc_strings(tuple(items)) == C.enc_strings_py(items)
    assert F.lp_entries(items) == C.lp_entries_py(items)
    assert F.listpack_of(items) == C.listpack_py(items)
    assert F.ziplist_of(items) == C.ziplist_py(items)
    assert E.listpack_py(F.listpack_of(items)) == items
    assert E.ziplist_py(F.ziplist_of(items)) == items


def test_lzf_boundary_lengths_same() -> None:
    """Around the 20-byte threshold and the ``len - 4`` budget, where compressing saves
    nothing, a little, or exactly enough."""
    rng = random.Random(3)
    for n in range(0, 120):
        for s in (b"a" * n, bytes(rng.randrange(256) for _ in range(n)),
                  (b"abcd" * 40)[:n], bytes(rng.randrange(256) for _ in range(n // 2)) * 2):
            for compress in (True, False):
                assert F.enc_string(s, compress) == C.enc_string_py(s, compress), (n, s)


@given(st.lists(st.one_of(st.integers(min_value=0, max_value=(1 << 64) - 1),
                          st.sampled_from(_EDGES + [(1 << 32) - 1, 1 << 32])), max_size=20))
def test_length_encoders_same(ns: list[int]) -> None:
    for n in ns:
        assert F.enc_len(n) == C.enc_len_py(n)
    assert F.enc_lens(ns) == C.enc_lens_py(ns)


@settings(max_examples=200, deadline=None)
@given(st.lists(element, max_size=30), st.data(), st.integers(min_value=0, max_value=40),
       st.integers(min_value=0, max_value=9000), st.sampled_from([64, 300, 8192]),
       st.sampled_from([0, 8]), st.sampled_from([None, 65, 301, 8193, 1 << 30]))
def test_node_fill_same(items: list[bytes], data: st.DataObject, count: int, size: int,
                        limit: int, overhead: int, plain_min: int | None) -> None:
    start = data.draw(st.integers(min_value=0, max_value=len(items)))
    args = (items, start, count, size, limit, overhead, plain_min)
    assert F.lp_fill(*args) == C.lp_fill_py(*args)
    for bad in (-1, len(items) + 1):
        with pytest.raises(ValueError):
            F.lp_fill(items, bad, count, size, limit, overhead, plain_min)
        with pytest.raises(ValueError):
            C.lp_fill_py(items, bad, count, size, limit, overhead, plain_min)


@given(st.none() | _INT64, st.integers(min_value=0, max_value=255), element, st.booleans(),
       st.binary(max_size=20), st.binary(max_size=50), st.binary(max_size=20))
def test_key_record_same(expire: int | None, tp: int, key: bytes, compress: bool, head: bytes,
                         body: bytes, tail: bytes) -> None:
    fast, slow = bytearray(b"prefix"), bytearray(b"prefix")
    F.key_record(fast, expire, tp, key, compress, head, bytearray(body), tail)
    C.key_record_py(slow, expire, tp, key, compress, head, bytearray(body), tail)
    assert fast == slow


def test_encoders_take_bytes_like() -> None:
    s = b"12345678901234567890123456789" * 2
    for view in (bytearray(s), memoryview(s)):
        assert F.enc_string(view) == C.enc_string_py(s)
        assert F.lp_entries([view, b"7"]) == C.lp_entries_py([s, b"7"])
        assert F.ziplist_of([view]) == C.ziplist_py([s])
    rng = random.Random(5)
    big = [b"q" * 20000, bytes(rng.randrange(256) for _ in range(70000)), b"-1" * 9000]
    assert F.ziplist_of(big) == C.ziplist_py(big)
    assert F.listpack_of(big) == C.listpack_py(big)
    assert F.enc_strings(big) == C.enc_strings_py(big)
    assert F.enc_strings(big, False) == C.enc_strings_py(big, False)
    with pytest.raises(TypeError):
        F.enc_strings([1])
    with pytest.raises(OverflowError):
        F.enc_len(-1)


def _use_encoders(m: pytest.MonkeyPatch, fast: bool) -> None:
    for name, c_name in FAST.items():
        m.setattr(C, name, getattr(F, c_name) if fast else getattr(C, name + "_py"))


def _convert(data: bytes, version: int | str, thresholds: object = None) -> bytes:
    from rdbtools.rdb.writer import RdbWriter

    out = io.BytesIO()
    events = rdbtools.read_rdb(io.BytesIO(data))
    RdbWriter(out, version, ctime=0, thresholds=thresholds).write_all(events)  # type: ignore[arg-type]
    return out.getvalue()


@pytest.mark.parametrize("path", RDB_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_writer_same_with_and_without_c(path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Every fixture converted to every target: the same bytes with the C encoders and
    with their Python twins."""
    data = path.read_bytes()
    try:
        list(rdbtools.read_rdb(io.BytesIO(data)))
    except rdbtools.ParseError:
        pytest.skip("not a readable RDB")
    targets: list[int | str] = [6, 8, 9, 10, 11, 12, "valkey"]
    with monkeypatch.context() as m:
        _use_encoders(m, True)
        fast = [_convert(data, v) for v in targets]
    with monkeypatch.context() as m:
        _use_encoders(m, False)
        slow = [_convert(data, v) for v in targets]
    assert fast == slow


list_items = st.lists(st.one_of(st.binary(max_size=40), _INT64.map(lambda i: b"%d" % i),
                                st.binary(min_size=90, max_size=300)), min_size=1, max_size=60)


@settings(max_examples=150, deadline=None)
@given(st.lists(list_items, min_size=1, max_size=4), st.sampled_from([7, 8, 9, 10, 11, 12]),
       st.sampled_from([64, 200, 1000, 8192]))
def test_list_runs_same_as_one_by_one(batches: list[list[bytes]], version: int,
                                      node_bytes: int) -> None:
    """Quicklist nodes filled a batch at a time split where nodes filled element by
    element do."""
    from rdbtools.events import ListItems
    from rdbtools.rdb import _keyenc
    from rdbtools.rdb.targets import Thresholds

    th = Thresholds(list_max_listpack_bytes=node_bytes)
    ks = KeyStart(0, b"l", "list", "quicklist", 18)
    events = [ks] + [ListItems(tuple(b)) for b in batches] + [KeyEnd(b"l", 0, 0)]
    runs = _convert_events(events, version, th)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(_keyenc.ListEncoder, "_add_listpack_run", _one_by_one)
        m.setattr(_keyenc.ListEncoder, "_add_ziplist_run", lambda self, items: False)
        one_by_one = _convert_events(events, version, th)
    assert runs == one_by_one


def test_list_runs_split_at_the_same_byte() -> None:
    """Around the node limit, after a batch that ends with a long (5-byte prevlen) entry
    and one that does not, for ziplist and listpack nodes."""
    from rdbtools.events import ListItems
    from rdbtools.rdb import _keyenc
    from rdbtools.rdb.targets import Thresholds

    for version in (8, 10, 12):
        for first in ([b"x" * 300], [b"x" * 300, b"7"], [b"a" * 20] * 12):
            for node_bytes in range(280, 360):
                th = Thresholds(list_max_listpack_bytes=node_bytes)
                batches = [first, [b"y" * 10] * 4, [b"z" * 3] * 3]
                events = ([KeyStart(0, b"l", "list", "quicklist", 18)]
                          + [ListItems(tuple(b)) for b in batches] + [KeyEnd(b"l", 0, 0)])
                runs = _convert_events(events, version, th)
                with pytest.MonkeyPatch.context() as m:
                    m.setattr(_keyenc.ListEncoder, "_add_listpack_run", _one_by_one)
                    m.setattr(_keyenc.ListEncoder, "_add_ziplist_run", lambda self, items: False)
                    assert runs == _convert_events(events, version, th), (version, node_bytes)


def _one_by_one(self, items: tuple[bytes, ...]) -> None:  # type: ignore[no-untyped-def]
    for item in items:
        self.count += 1
        self._add_listpack_node(item)


def _convert_events(events: list[object], version: int, th: object) -> bytes:
    from rdbtools.rdb.writer import RdbWriter

    out = io.BytesIO()
    RdbWriter(out, version, ctime=0, thresholds=th).write_all(events)  # type: ignore[arg-type]
    return out.getvalue()


def _fpconv_decimal(x: float) -> str:
    """``fpconv`` with the digits taken from ``Decimal(repr(x))``: the reference layout."""
    import math
    from decimal import Decimal

    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    sign, digit_tuple, exponent = Decimal(repr(x)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    k = int(exponent) + (len(digit_tuple) - len(digits))
    n = len(digits)
    neg = "-" if sign else ""
    e = abs(k + n - 1)
    if k >= 0 and e < n + 7:
        return neg + digits + "0" * k
    if k < 0 and (k > -7 or e < 4):
        offset = n + k
        if offset <= 0:
            return neg + "0." + "0" * (-offset) + digits
        return neg + digits[:offset] + "." + digits[offset:]
    n = min(n, 18 - (1 if sign else 0))
    mant = digits[0] + ("." + digits[1:n] if n > 1 else "")
    return f"{neg}{mant}e{'-' if k + len(digits) - 1 < 0 else '+'}{e}"


@settings(max_examples=500)
@given(st.floats(allow_nan=False, allow_infinity=False)
       | st.sampled_from([1e16, 1.5e16, 100.0, 0.1, 1e-7, 1.5e-7, 5e-324, 1e22, 1e21, -1e-5]))
def test_score_digits_from_repr_same_as_decimal(x: float) -> None:
    assert C.fpconv(x) == _fpconv_decimal(x)


@pytest.mark.parametrize("path", RDB_FILES[::3], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_write_all_same_as_event_by_event(path) -> None:  # type: ignore[no-untyped-def]
    """``write_all`` (with its inlined paths for one-piece strings) writes what ``write``
    called per event writes."""
    from rdbtools.rdb.writer import RdbWriter

    try:
        events = list(rdbtools.read_rdb(io.BytesIO(path.read_bytes())))
    except rdbtools.ParseError:
        pytest.skip("not a readable RDB")
    for version in (6, 10, 12):
        whole, single = io.BytesIO(), io.BytesIO()
        RdbWriter(whole, version, ctime=0).write_all(events)
        w = RdbWriter(single, version, ctime=0)
        for ev in events:
            w.write(ev)
        w.close()
        assert whole.getvalue() == single.getvalue()


def test_write_all_strings_in_pieces_empty_and_cut() -> None:
    from rdbtools.errors import WriteError
    from rdbtools.events import StringValue
    from rdbtools.rdb.writer import RdbWriter

    def start(key: bytes) -> KeyStart:
        return KeyStart(0, key, "string", "raw", 0, 1700000000000)

    events = [start(b"a"), StringValue(b"x" * 30), StringValue(b"12"), StringValue(b"y"),
              KeyEnd(b"a", 0, 0), start(b"b"), KeyEnd(b"b", 0, 0),
              start(b"c"), StringValue(b"-7"), KeyEnd(b"c", 0, 0)]
    whole, single = io.BytesIO(), io.BytesIO()
    RdbWriter(whole, 11, ctime=0).write_all(events)
    w = RdbWriter(single, 11, ctime=0)
    for ev in events:
        w.write(ev)
    w.close()
    assert whole.getvalue() == single.getvalue()
    assert (b"\x00" + C.enc_string_py(b"a") + C.enc_string_py(b"x" * 30 + b"12y")
            in whole.getvalue())
    from rdbtools.events import ListItems

    a_list = [KeyStart(0, b"l", "list", "quicklist", 18), ListItems((b"1", b"x"))]
    for cut in (events[:1], events[:2], events[:3], a_list[:1], a_list):
        with pytest.raises(WriteError, match="input ended inside key"):
            RdbWriter(io.BytesIO(), 11).write_all(cut)


_small_bytes = st.one_of(st.binary(max_size=12), st.binary(min_size=60, max_size=70),
                         st.integers(min_value=-5000, max_value=5000).map(lambda i: b"%d" % i))
_score = st.one_of(st.floats(allow_nan=False), st.integers(-3, 3).map(float),
                   st.just(-0.0), st.just(math.nan))
_one_batch = st.one_of(
    st.tuples(st.just("list"), st.lists(_small_bytes, max_size=12)),
    st.tuples(st.just("hash"), st.lists(st.tuples(_small_bytes, _small_bytes,
                                                  st.none() | st.just(1700000000000)),
                                        max_size=6, unique_by=lambda t: t[0])),
    st.tuples(st.just("zset"), st.lists(st.tuples(_small_bytes, _score), max_size=6,
                                        unique_by=lambda t: t[0])),
    st.tuples(st.just("string"), st.lists(_small_bytes, max_size=2)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_one_batch, st.sampled_from(["x", "listpackex"])), min_size=1,
                max_size=5),
       st.sampled_from([6, 7, 9, 10, 11, 12, "valkey"]),
       st.sampled_from([None, "small"]))
def test_one_batch_keys_same_as_encoders(keys: list[tuple[tuple[str, list[Any]], str]],
                                         version: int | str, th_name: str | None) -> None:
    """Keys whose value comes in one event, written at once by ``write_all``, give the
    bytes (or the error) of the encoders that ``write`` uses."""
    from rdbtools.errors import WriteError
    from rdbtools.events import HashFields, ListItems, StringValue, ZSetMembers
    from rdbtools.rdb.targets import Thresholds
    from rdbtools.rdb.writer import RdbWriter

    th = Thresholds(hash_max_listpack_entries=3, zset_max_listpack_entries=3,
                    list_max_listpack_bytes=60, hash_max_listpack_value=64,
                    zset_max_listpack_value=64) if th_name else Thresholds()
    make = {"list": lambda v: ListItems(tuple(v)), "hash": lambda v: HashFields(tuple(v)),
            "zset": lambda v: ZSetMembers(tuple(v)),
            "string": lambda v: StringValue(b"".join(v))}
    events: list[Any] = []
    for i, ((kind, value), encoding) in enumerate(keys):
        key = b"k%d" % i
        events.append(KeyStart(0, key, kind, encoding, 0, None))
        if value or kind == "string":
            events.append(make[kind](value))
        events.append(KeyEnd(key, 0, 0))

    def run(whole: bool) -> object:
        out = io.BytesIO()
        w = RdbWriter(out, version, ctime=0, thresholds=th)
        try:
            if whole:
                w.write_all(events)
            else:
                for ev in events:
                    w.write(ev)
                w.close()
        except WriteError as exc:
            return str(exc)
        return out.getvalue(), w.report.lines()

    assert run(True) == run(False)


def test_one_batch_lists_split_where_encoders_split() -> None:
    """Lists in one batch around the node limit: written at once only when the encoder
    too makes one node of them."""
    from rdbtools.events import ListItems
    from rdbtools.rdb.targets import Thresholds
    from rdbtools.rdb.writer import RdbWriter

    for version in (7, 9, 10, 11, 12):
        for limit in range(40, 101, 4):
            th = Thresholds(list_max_listpack_bytes=limit)
            for n in range(1, 13):
                for item in (b"abcdefgh", b"12345", b"x" * 45):
                    events = [KeyStart(0, b"k", "list", "x", 0), ListItems((item,) * n),
                              KeyEnd(b"k", 0, 0)]
                    whole = io.BytesIO()
                    RdbWriter(whole, version, ctime=0, thresholds=th).write_all(events)
                    single = io.BytesIO()
                    w = RdbWriter(single, version, ctime=0, thresholds=th)
                    for ev in events:
                        w.write(ev)
                    w.close()
                    assert whole.getvalue() == single.getvalue(), (version, limit, n, item)


def test_stub_and_protocol_describe_every_export() -> None:
    """_speedups.pyi and the ``Speedups`` protocol name exactly the functions the module
    exports (mypy holds their signatures to each other)."""
    stub = ast.parse(Path(rdbtools.__file__).with_name("_speedups.pyi").read_text())
    stubbed = {n.name for n in stub.body if isinstance(n, ast.FunctionDef)}
    exported = {n for n in dir(_speedups) if not n.startswith("_")}
    protocol = {n for n in vars(Speedups) if not n.startswith("_")}
    assert exported
    assert stubbed == exported
    assert protocol == exported


@pytest.mark.parametrize(("pure", "loaded"), [("", "True"), ("1", "False")])
def test_pure_python_switch(pure: str, loaded: str) -> None:
    """``RDBTOOLS_PURE_PYTHON`` set (non-empty) leaves the extension unused."""
    env = {**os.environ, "RDBTOOLS_PURE_PYTHON": pure}
    out = subprocess.run(
        [sys.executable, "-c",
         "from rdbtools._accel import speedups; print(speedups is not None)"],
        env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == loaded
