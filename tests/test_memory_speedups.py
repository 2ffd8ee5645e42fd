"""The C twins of the memory estimator's per-batch accounting (``rdbtools._speedups.mem_*``)
give exactly the state the Python reference (``rdbtools.memory._batch.*_py``) gives: for
random elements and parameters batch after batch, and for every key of every fixture
under every model (the rows of ``rows_from_events`` and ``KeyEstimator`` alike)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rdbtools import read_rdb
from rdbtools.events import Event, KeyEnd, KeyStart, SlotInfo
from rdbtools.memory import _batch as B
from rdbtools.memory import _estimator, _key_costs
from rdbtools.memory.estimate import rows_from_events
from rdbtools.memory.model import choose_model
from tests.helpers import FIXTURES, all_cases

try:
    from rdbtools import _speedups
except ImportError:  # pragma: no cover - depends on the install
    _speedups = None

if _speedups is None or not hasattr(_speedups, "mem_set"):
    if os.environ.get("CI") == "true":
        raise RuntimeError("rdbtools._speedups (with mem_*) is not built (pip install -e .)")
    pytest.skip("rdbtools._speedups is not built (no C compiler at install time)",
                allow_module_level=True)

C: Any = _speedups

# ------------------------------------------------------------------ random batches

_INT_TEXT = st.one_of(
    st.integers(-(1 << 64), 1 << 64).map(lambda v: b"%d" % v),
    st.sampled_from([b"0", b"-0", b"00", b"01", b"-", b"", b"+1", b" 1", b"1 ",
                     b"9223372036854775807", b"9223372036854775808",
                     b"-9223372036854775808", b"-9223372036854775809",
                     b"12345678901234567890", b"123456789012345678901", b"\xd9\xa3"]),
)
_ELEMENT = st.one_of(
    _INT_TEXT,
    st.binary(max_size=40),
    st.integers(0, 20000).map(lambda n: b"x" * n),  # around the 63 / 4095 / 16383 bounds
)
_ELEMENTS = st.lists(_ELEMENT, max_size=40).map(tuple)
_PARAMS = st.tuples(st.integers(0, 2), st.integers(0, 1), st.integers(0, 1),
                    st.sampled_from([12, 24]))
_SCORE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(1 << 60), 1 << 60).map(float),
    st.sampled_from([0.0, -0.0, 1e17, -1e17, 99999999999999999.0, 1.5, 0.1, 1e-300]),
)
_EXPIRE = st.one_of(st.none(), st.integers(-(1 << 70), 1 << 70),
                    st.sampled_from([0, 127, 128, 4096, -4097, 1 << 31, 1 << 63]))

_SLOW = settings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_SLOW
@given(st.lists(_ELEMENTS, min_size=1, max_size=4), _PARAMS, st.integers(0, 60), st.booleans())
def test_set_batches(batches: list[tuple[bytes, ...]], p: B.Params, lp_max: int,
                     valkey: bool) -> None:
    py: list[int] = [0, 0, 1, 2, 7, 0]
    c = list(py)
    hist_py: dict[int, int] | None = {} if valkey else None
    hist_c: dict[int, int] | None = {} if valkey else None
    for batch in batches:
        B.set_batch_py(batch, p, lp_max, hist_py, py)
        C.mem_set(batch, p, lp_max, hist_c, c)
        assert c == py
        assert hist_c == hist_py


@_SLOW
@given(st.lists(st.lists(st.tuples(_ELEMENT, _SCORE), max_size=30).map(tuple), min_size=1,
                max_size=4),
       _PARAMS, st.integers(0, 60), st.booleans(), st.booleans())
def test_zset_batches(batches: list[tuple[tuple[bytes, float], ...]], p: B.Params,
                      lp_max: int, ziplist: bool, shortest: bool) -> None:
    py = [0, 0, 11 if ziplist else 7, 0, 0]
    c = list(py)
    for batch in batches:
        B.zset_batch_py(batch, p, lp_max, ziplist, shortest, py)
        C.mem_zset(batch, p, lp_max, ziplist, shortest, c)
        assert c == py


@_SLOW
@given(st.lists(st.lists(st.tuples(_ELEMENT, _ELEMENT, _EXPIRE), max_size=30).map(tuple),
                min_size=1, max_size=4),
       _PARAMS, st.integers(0, 60), st.booleans(), st.booleans(), st.booleans())
def test_hash_batches(batches: list[tuple[tuple[bytes, bytes, int | None], ...]],
                      p: B.Params, lp_max: int, ziplist: bool, mstr: bool, ttl: bool) -> None:
    py = [0, 0, int(ttl), 11 if ziplist else 7, 0, 0]
    c = list(py)
    for batch in batches:
        B.hash_batch_py(batch, p, lp_max, ziplist, mstr, py)
        C.mem_hash(batch, p, lp_max, ziplist, mstr, c)
        assert c == py


@_SLOW
@given(st.lists(st.tuples(_ELEMENTS, st.booleans()), min_size=1, max_size=5), _PARAMS,
       st.tuples(st.integers(0, 1), st.integers(0, 1), st.sampled_from([30, 8192, 1 << 30]),
                 st.sampled_from([64, 300, 8192]), st.sampled_from([32, 40]),
                 st.integers(0, 1)))
def test_list_batches(batches: list[tuple[tuple[bytes, ...], bool]], p: B.Params,
                      cfg: B.ListCfg) -> None:
    py = [0, 0, 11 if cfg[0] else 7, 0, 0, 0, 0, 0, 0, 0]
    c = list(py)
    for batch, close in [*batches, ((), True)]:
        B.list_batch_py(batch, p, cfg, close, py)
        C.mem_list(batch, p, cfg, close, c)
        assert c == py


@_SLOW
@given(_ELEMENTS)
def test_lp_sum_and_is_int(items: tuple[bytes, ...]) -> None:
    assert C.mem_lp_sum(items) == B.lp_sum_py(items)
    for e in items:
        assert C.mem_int(e) is B.is_int_py(e)


def test_bad_arguments_raise_type_errors() -> None:
    p = (0, 0, 1, 24)
    with pytest.raises(TypeError):
        C.mem_set((b"a", 1), p, 10, None, [0, 0, 1, 2, 7, 0])
    with pytest.raises(TypeError):
        C.mem_set((b"a",), p, 10, None, [0, 0, 1])  # short state
    with pytest.raises(TypeError):
        C.mem_zset(((b"a",),), p, 10, False, True, [0, 0, 7, 0, 0])
    with pytest.raises(TypeError):
        C.mem_hash(((b"a", b"b"),), p, 10, False, True, [0, 0, 0, 7, 0, 0])
    with pytest.raises(TypeError):
        C.mem_list([b"a"], p, (0, 0, 1), False, [0] * 10)  # short cfg
    with pytest.raises(ValueError):
        C.mem_list([b"a"], (5, 0, 1, 24), (0, 0, 8192, 8192, 40, 1), False, [0] * 10)
    with pytest.raises(TypeError):
        C.mem_lp_sum([b"a", "b"])


# ------------------------------------------------------------------ whole fixtures

_MODELS = (None, "4.0", "5.0", "6.0", "7.0", "7.2", "7.4", "8.0", "valkey-8.0", "valkey-8.1")


def _pure(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the estimator use the Python reference for every batch."""
    monkeypatch.setattr(_estimator, "set_batch", B.set_batch_py)
    monkeypatch.setattr(_estimator, "zset_batch", B.zset_batch_py)
    monkeypatch.setattr(_estimator, "hash_batch", B.hash_batch_py)
    monkeypatch.setattr(_estimator, "list_batch", B.list_batch_py)
    monkeypatch.setattr(_key_costs, "is_int", B.is_int_py)
    monkeypatch.setattr("rdbtools.memory.estimate.is_int", B.is_int_py)
    monkeypatch.setattr("rdbtools.memory._streams.lp_sum", B.lp_sum_py)


def _rdb_inputs() -> list[Path]:
    return [c.path for c in all_cases() if c.path.suffix == ".rdb"]


def _by_key_estimator(events: list[Event], version: str | None) -> Iterator[Any]:
    """The rows ``KeyEstimator`` gives key by key (the same model as rows_from_events)."""
    aux = {bytes(e.name): bytes(e.value) for e in events if type(e).__name__ == "Aux"}
    m = choose_model(aux, version=version)
    est = None
    for e in events:
        if isinstance(e, KeyStart):
            est = m.estimator(e, file="f")
        elif isinstance(e, KeyEnd):
            if est is not None:
                yield est.finish(e)
            est = None
        elif est is not None and type(e).__name__ not in ("Aux", "SelectDb", "ResizeDb"):
            est.feed(e)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", _rdb_inputs(), ids=lambda p: str(p).split("fixtures/")[-1])
def test_every_fixture_same_rows(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        events = list(read_rdb(str(path), verify_checksum=False))
    except Exception as err:  # a deliberately corrupt external file
        pytest.skip(f"unreadable fixture: {err}")
    fast = {v: list(rows_from_events(iter(events), file="f", version=v)) for v in _MODELS}
    if not any(isinstance(e, SlotInfo) for e in events):  # else rows_from_events sets cluster
        for v in (None, "6.0", "8.0"):
            assert list(_by_key_estimator(events, v)) == fast[v], v
    _pure(monkeypatch)
    for v in _MODELS:
        assert list(rows_from_events(iter(events), file="f", version=v)) == fast[v], v


def test_fixture_folder_present() -> None:
    assert FIXTURES.is_dir() and _rdb_inputs()
