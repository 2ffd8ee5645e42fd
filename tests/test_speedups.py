"""The C blob decoders (``rdbtools._speedups``) give exactly what the Python decoders give:
the same elements for every blob of every fixture, and the same verdict (a value or
``CorruptInput``) for random and mutated blobs."""

from __future__ import annotations

import io
import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rdbtools
from rdbtools._buffer import Input
from rdbtools.errors import CorruptInput
from rdbtools.events import KeyEnd, KeyStart
from rdbtools.rdb import _encoders as C
from rdbtools.rdb import _encodings as E
from tests.helpers import all_cases

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
    import rdbtools._buffer as buffer_mod
    import rdbtools.rdb.reader as reader_mod

    with monkeypatch.context() as m:
        if pure:
            m.setattr(buffer_mod, "speedups", None)
            m.setattr(reader_mod, "speedups", None)
            m.setattr(E, "_speedups", None)
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


@given(st.lists(st.binary(max_size=300), max_size=80))
def test_resp_command_same(args: list[bytes]) -> None:
    from rdbtools.aof._resp_out import _resp_command

    fast = _speedups.resp
    assert fast(*args) == _resp_command(*args)
    assert fast(*map(memoryview, args)) == _resp_command(*args)
    assert fast(*map(bytearray, args)) == _resp_command(*args)
