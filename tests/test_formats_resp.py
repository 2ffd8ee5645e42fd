"""RESP writer: the commands for every type, batching, TTLs, streams, skips."""

from __future__ import annotations

import hashlib
import io
import math
from pathlib import Path

import pytest
from cli_support import file_events, key_events, parse_resp
from click.testing import CliRunner
from helpers import RESP_DIGESTS, aof_path, pinned_fixture

from rdbtools.aof.commands import score_text as shortest_text
from rdbtools.cli import rdbtool
from rdbtools.errors import WriteError
from rdbtools.events import (
    Event,
    Function,
    HashFields,
    ListItems,
    ModuleAux,
    ModuleValue,
    SetMembers,
    StreamConsumer,
    StreamEntries,
    StreamEntry,
    StreamGroup,
    StreamIdmp,
    StreamMeta,
    StreamPending,
    StringValue,
    ZSetMembers,
)
from rdbtools.formats.resp import RespWriter, command


def resp(events: list[Event] | object) -> tuple[list[list[bytes]], RespWriter]:
    out = io.BytesIO()
    w = RespWriter(out)
    for ev in events:  # type: ignore[attr-defined]
        w.write(ev)
    w.close()
    return parse_resp(out.getvalue()), w


def test_command_encoding() -> None:
    assert command(b"SET", b"k", b"a\r\nb") == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n"
    assert parse_resp(command(b"SET", b"", b"")) == [[b"SET", b"", b""]]


def score_text(score: float, key: bytes) -> bytes:
    return shortest_text(score, True, key)


def test_scores() -> None:
    assert score_text(1.0, b"k") == b"1.0"
    assert score_text(0.1, b"k") == b"0.1"
    assert score_text(-0.0, b"k") == b"-0.0"
    assert score_text(5e-324, b"k") == b"5e-324"
    assert score_text(1.7976931348623157e308, b"k") == b"1.7976931348623157e+308"
    assert score_text(math.inf, b"k") == b"inf" and score_text(-math.inf, b"k") == b"-inf"
    for x in (0.1, 1 / 3, 2.5, 1e-300, 123456789.123):
        assert float(score_text(x, b"k")) == x
    with pytest.raises(WriteError, match="NaN"):
        score_text(math.nan, b"z")


def test_select_set_ttl_and_functions() -> None:
    events = list(
        file_events(
            key_events(b"a", "string", StringValue(b"1"), expire_ms=1234),
            key_events(b"b", "string"),
            key_events(b"c", "string", StringValue(b"x"), StringValue(b"y"), db=3),
        )
    )
    events.insert(2, Function(b"#!lua name=l\n"))
    cmds, w = resp(events)
    assert cmds == [
        [b"FUNCTION", b"LOAD", b"REPLACE", b"#!lua name=l\n"],
        [b"SELECT", b"0"],
        [b"SET", b"a", b"1"],
        [b"PEXPIREAT", b"a", b"1234"],
        [b"SET", b"b", b""],
        [b"SELECT", b"3"],
        [b"SET", b"c", b"x"],
        [b"APPEND", b"c", b"y"],
    ]
    assert w.keys == 3 and w.skipped == {}


def test_batches_of_64() -> None:
    items = tuple(b"%d" % i for i in range(150))
    cmds, _ = resp(key_events(b"l", "list", ListItems(items[:10]), ListItems(items[10:])))
    assert [len(c) - 2 for c in cmds[1:]] == [64, 64, 22]
    assert [c[0] for c in cmds[1:]] == [b"RPUSH"] * 3
    assert [x for c in cmds[1:] for x in c[2:]] == list(items)
    cmds, _ = resp(key_events(b"s", "set", SetMembers(items[:70])))
    assert [(c[0], len(c) - 2) for c in cmds[1:]] == [(b"SADD", 64), (b"SADD", 6)]
    members = tuple((b"m%d" % i, float(i)) for i in range(65))
    cmds, _ = resp(key_events(b"z", "zset", ZSetMembers(members)))
    assert [(c[0], len(c) - 2) for c in cmds[1:]] == [(b"ZADD", 128), (b"ZADD", 2)]
    assert cmds[1][2:6] == [b"0.0", b"m0", b"1.0", b"m1"]


def test_hash_and_field_ttls() -> None:
    fields = tuple((b"f%d" % i, b"v%d" % i, 99 if i in (1, 70) else None) for i in range(72))
    cmds, _ = resp(key_events(b"h", "hash", HashFields(fields), expire_ms=5))
    assert [c[0] for c in cmds] == [
        b"SELECT",
        b"HMSET",
        b"HPEXPIREAT",
        b"HMSET",
        b"HPEXPIREAT",
        b"PEXPIREAT",
    ]
    assert len(cmds[1]) == 2 + 128 and cmds[2] == [
        b"HPEXPIREAT",
        b"h",
        b"99",
        b"FIELDS",
        b"1",
        b"f1",
    ]
    assert cmds[4][-1] == b"f70" and cmds[5] == [b"PEXPIREAT", b"h", b"5"]


def test_stream() -> None:
    group = StreamGroup(
        name=b"g",
        last_delivered_id=(2, 0),
        entries_read=2,
        pending=(StreamPending((1, 0), b"c1", 1000, 3), StreamPending((2, 0), None, 7, 1)),
        consumers=(StreamConsumer(b"c1", 900, 950, ((1, 0),)), StreamConsumer(b"c2", 1, None, ())),
    )
    events = key_events(
        b"s",
        "stream",
        StreamEntries((StreamEntry((1, 0), ((b"a", b"1"), (b"b", b"2"))),)),
        StreamEntries((StreamEntry((2, 0), ((b"a", b"3"),)),)),
        StreamMeta(2, (5, 0), (1, 0), (0, 0), 9),
        group,
        StreamGroup(b"old", (0, 0), None, (), ()),
        StreamIdmp(1, 1, (), 0, 0),
        encoding="stream",
    )
    cmds, w = resp(events)
    assert cmds[1:] == [
        [b"XADD", b"s", b"1-0", b"a", b"1", b"b", b"2"],
        [b"XADD", b"s", b"2-0", b"a", b"3"],
        [b"XSETID", b"s", b"5-0", b"ENTRIESADDED", b"9", b"MAXDELETEDID", b"0-0"],
        [b"XGROUP", b"CREATE", b"s", b"g", b"2-0", b"ENTRIESREAD", b"2"],
        [
            b"XCLAIM",
            b"s",
            b"g",
            b"c1",
            b"0",
            b"1-0",
            b"TIME",
            b"1000",
            b"RETRYCOUNT",
            b"3",
            b"JUSTID",
            b"FORCE",
        ],
        [b"XGROUP", b"CREATECONSUMER", b"s", b"g", b"c2"],
        [b"XGROUP", b"CREATE", b"s", b"old", b"0-0"],
    ]
    assert w.skipped == {"pending entries no consumer owns": 1, "stream idempotency states": 1}


def test_empty_stream_and_old_stream_meta() -> None:
    cmds, _ = resp(key_events(b"s", "stream", StreamMeta(0, (7, 1)), encoding="stream"))
    assert cmds[1:] == [
        [b"XADD", b"s", b"MAXLEN", b"0", b"0-1", b"x", b"y"],
        [b"XSETID", b"s", b"7-1"],
    ]
    cmds, _ = resp(key_events(b"s", "stream", encoding="stream"))
    assert cmds[1:] == [[b"XADD", b"s", b"MAXLEN", b"0", b"0-1", b"x", b"y"]]


def test_modules_are_skipped_and_counted() -> None:
    events: list[Event] = [ModuleAux(1, "m-abcdefg", 1, 2, b"\x00")]
    events += key_events(b"m", "module", ModuleValue(1, "m-abcdefg", 1, b"\x00"), expire_ms=3)
    events += key_events(b"k", "string", StringValue(b"v"))
    events.append(Function(b"x", name=b"l", engine=b"LUA", pre_ga=True))
    cmds, w = resp(events)
    assert cmds == [[b"SELECT", b"0"], [b"SET", b"k", b"v"]]
    assert w.keys == 1
    assert w.skipped == {"module aux records": 1, "module keys": 1, "pre-GA function libraries": 1}


def test_nan_score_is_a_write_error() -> None:
    with pytest.raises(WriteError, match="b'z'"):
        resp(key_events(b"z", "zset", ZSetMembers(((b"a", math.nan),))))


@pytest.mark.parametrize("rel", sorted(RESP_DIGESTS["dump --resp"]))
def test_fixture_bytes_are_pinned(rel: str, tmp_path: Path) -> None:
    """``rdbtool dump --resp`` of every fixture (RDB files, AOFs replayed) writes the
    same bytes as ever (``tests/resp_digests.json``)."""
    path = pinned_fixture(rel)
    if path.is_dir():
        path = aof_path(path)
    out = tmp_path / "out.resp"
    result = CliRunner().invoke(rdbtool.main, ["dump", "--resp", "-q", str(path),
                                               "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert hashlib.sha256(out.read_bytes()).hexdigest() == RESP_DIGESTS["dump --resp"][rel]
