"""``check``, ``info`` and ``dump`` as library functions over hand-built events."""

from __future__ import annotations

import io

import pytest
from cli_support import file_events, key_events

from rdbtools.events import (
    Aux,
    End,
    Function,
    HashFields,
    Header,
    ListItems,
    ModuleAux,
    ModuleValue,
    SetMembers,
    StreamEntries,
    StreamEntry,
    StringValue,
)
from rdbtools.histogram import Histogram, bucket
from rdbtools.ops.check import check
from rdbtools.ops.dump import FORMATS, dump
from rdbtools.ops.info import info


def sample() -> list[object]:
    events = list(
        file_events(
            key_events(b"s", "string", StringValue(b"abc"), expire_ms=50, size=20),
            key_events(
                b"l",
                "list",
                ListItems((b"1", b"2")),
                ListItems((b"3",)),
                size=300,
                encoding="quicklist",
            ),
            key_events(
                b"h",
                "hash",
                HashFields(((b"f", b"v", 10), (b"g", b"w", None))),
                size=40,
                encoding="listpackex",
                expire_ms=5000,
            ),
            key_events(
                b"x",
                "stream",
                StreamEntries((StreamEntry((1, 0), ((b"a", b"b"),)),)),
                size=90,
                encoding="stream",
                db=1,
            ),
            key_events(
                b"m",
                "module",
                ModuleValue(1, "m-abcdefg", 1, b"\x00"),
                size=7,
                encoding="module",
                db=1,
            ),
        )
    )
    events[2:2] = [Function(b"#!lua name=a\n"), ModuleAux(1, "m-abcdefg", 1, 1, b"\x00")]
    return events


def test_check_summary() -> None:
    s = check(sample())  # type: ignore[arg-type]
    assert (s.magic, s.version) == ("REDIS", 11)
    assert s.aux == [(b"redis-ver", b"7.2.6")]
    assert s.dbs == {0: 3, 1: 2} and s.keys == 5 and s.expires == 2
    assert s.types == {"string": 1, "list": 1, "hash": 1, "stream": 1, "module": 1}
    assert (s.functions, s.module_aux) == (1, 1)
    assert (s.checksum_state, s.checksum) == ("ok", 0x1234)


def test_check_of_nothing() -> None:
    s = check([])
    assert s.version is None and s.keys == 0 and s.checksum_state is None


def test_info_report() -> None:
    r = info(sample(), top=3, now_ms=1000)  # type: ignore[arg-type]
    assert (r.magic, r.version, r.now_ms) == ("REDIS", 11, 1000)
    assert r.keys == 5 and r.bytes == 20 + 300 + 40 + 90 + 7
    assert {db: (s.keys, s.expires) for db, s in r.dbs.items()} == {0: (3, 2), 1: (2, 0)}
    assert list(r.types) == ["list", "stream", "hash", "string", "module"]  # by bytes
    assert r.types["hash"].encodings["listpackex"].bytes == 40
    assert (r.ttl.keys_with_ttl, r.ttl.expired, r.ttl.earliest_ms, r.ttl.latest_ms) == (
        2,
        1,
        50,
        5000,
    )
    assert (r.ttl.fields_with_ttl, r.ttl.hashes_with_field_ttl) == (1, 1)
    assert [(b.key, b.size, b.elements) for b in r.top] == [
        (b"l", 300, 3),
        (b"x", 90, 1),
        (b"h", 40, 2),
    ]
    assert r.elements["string"].max == 3 and r.elements["list"].percentiles == {50: 3, 90: 3, 99: 3}
    assert "module" not in r.elements
    assert (r.functions, r.module_aux, r.checksum_state) == (1, 1, "ok")


def test_info_top_ties_keep_file_order() -> None:
    keys = [key_events(b"k%d" % i, "set", SetMembers((b"x",)), size=10) for i in range(5)]
    r = info(file_events(*keys), top=2)
    assert [b.key for b in r.top] == [b"k0", b"k1"]
    assert info(file_events(*keys), top=0).top == []


def test_histogram() -> None:
    h = Histogram()
    for v in range(1, 101):
        h.add(v)
    assert (h.count, h.min, h.max) == (100, 1, 100)
    assert [h.percentile(q) for q in (1, 50, 90, 99, 100)] == [1, 50, 90, 99, 100]
    assert Histogram().percentile(50) is None
    assert bucket(1023) == 1023 and bucket(1024) == 1024
    big = 123_456_789
    assert big - bucket(big) < big / 512
    h = Histogram()
    for v in (5, big):
        h.add(v)
    assert h.percentile(99) == big  # the maximum is exact


def test_dump_formats() -> None:
    assert FORMATS == ("jsonl", "json", "resp", "keys")
    for fmt in FORMATS:
        out = io.BytesIO()
        summary = dump(sample(), out, format=fmt)  # type: ignore[arg-type]
        assert out.getvalue()
        assert summary.format == fmt
        assert summary.keys == (4 if fmt == "resp" else 5)
        assert summary.skipped == (
            {"module aux records": 1, "module keys": 1} if fmt == "resp" else {}
        )
    with pytest.raises(ValueError, match="unknown dump format 'xml'"):
        dump([], io.BytesIO(), format="xml")


def test_header_only_dump() -> None:
    out = io.BytesIO()
    dump([Header(9, "REDIS"), Aux(b"a", b"b"), End(None, None, "absent")], out)
    assert out.getvalue().count(b"\n") == 3
