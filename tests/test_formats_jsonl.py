"""JSON Lines writer on hand-built events: every type, the UTF-8 / base64 rule, hashes
as objects or pairs, field TTLs, streams, modules, records, and big values written
without holding them whole."""

from __future__ import annotations

import base64
import io
import json
import math
from typing import Any

import pytest
from cli_support import file_events, key_events
from hypothesis import given, settings
from hypothesis import strategies as st

from rdbtools import spool
from rdbtools.errors import WriteError
from rdbtools.events import (
    Aux,
    End,
    Event,
    Function,
    HashFields,
    Header,
    ListItems,
    ModuleAux,
    ModuleValue,
    SetMembers,
    SlotImport,
    SlotInfo,
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
from rdbtools.formats.jsonl import JsonlWriter


def write(events: list[Event] | Any) -> list[dict[str, Any]]:
    out = io.BytesIO()
    w = JsonlWriter(out)
    for ev in events:
        w.write(ev)
    w.close()
    text = out.getvalue().decode("utf-8")
    assert text.endswith("\n") or text == ""
    return [json.loads(line) for line in text.splitlines()]


def one(*events: Event) -> dict[str, Any]:
    (obj,) = write(list(events))
    return obj


def test_string_utf8_binary_and_attributes() -> None:
    obj = one(
        *key_events(
            b"k", "string", StringValue("héllo\n\x00".encode()), expire_ms=5, idle=7, encoding="raw"
        )
    )
    assert obj == {
        "db": 0,
        "key": "k",
        "type": "string",
        "encoding": "raw",
        "expire_at_ms": 5,
        "idle": 7,
        "value": "héllo\n\x00",
    }
    assert list(obj) == ["db", "key", "type", "encoding", "expire_at_ms", "idle", "value"]
    obj = one(*key_events(b"\xff\x00", "string", StringValue(b"\xfe\xff"), freq=3, db=2))
    assert obj["key"] == {"b64": base64.b64encode(b"\xff\x00").decode()}
    assert obj["value"] == {"b64": base64.b64encode(b"\xfe\xff").decode()}
    assert obj["freq"] == 3 and obj["db"] == 2 and "idle" not in obj


def test_empty_string_and_surrogate_bytes_are_binary() -> None:
    assert one(*key_events(b"k", "string"))["value"] == ""
    # UTF-8-encoded surrogates are not valid UTF-8
    assert one(*key_events(b"k", "string", StringValue(b"\xed\xa0\x80")))["value"] == {
        "b64": base64.b64encode(b"\xed\xa0\x80").decode()
    }


@pytest.mark.parametrize("limit", [None, 4])
def test_string_in_pieces(monkeypatch: pytest.MonkeyPatch, limit: int | None) -> None:
    if limit is not None:
        monkeypatch.setattr(spool, "MEMORY_LIMIT", limit)
    text = "€uro ".encode() * 50
    pieces = [StringValue(text[i : i + 7]) for i in range(0, len(text), 7)]  # splits '€'
    assert one(*key_events(b"k", "string", *pieces))["value"] == text.decode()
    binary = bytes(range(256)) * 3
    pieces = [StringValue(binary[i : i + 11]) for i in range(0, len(binary), 11)]
    value = one(*key_events(b"k", "string", *pieces))["value"]
    assert base64.b64decode(value["b64"]) == binary
    # valid until the last piece, which is cut in the middle of a character
    pieces = [StringValue(b"abc"), StringValue("é".encode()[:1])]
    assert base64.b64decode(one(*key_events(b"k", "string", *pieces))["value"]["b64"]) == b"abc\xc3"


def test_list_set_in_batches() -> None:
    obj = one(
        *key_events(
            b"l",
            "list",
            ListItems((b"a", b"\xff")),
            ListItems(()),
            ListItems((b"c",)),
            encoding="quicklist",
        )
    )
    assert obj["value"] == ["a", {"b64": "/w=="}, "c"]
    assert one(*key_events(b"s", "set", SetMembers((b"1", b"2"))))["value"] == ["1", "2"]
    assert one(*key_events(b"s", "set"))["value"] == []


def test_zset_scores() -> None:
    members = (
        (b"a", 1.0),
        (b"b", -0.0),
        (b"c", math.inf),
        (b"d", -math.inf),
        (b"e", 5e-324),
        (b"f", 0.1),
        (b"g", math.nan),
        (b"h", 1e300),
    )
    out = io.BytesIO()
    w = JsonlWriter(out)
    for ev in key_events(b"z", "zset", ZSetMembers(members)):
        w.write(ev)
    w.close()
    line = out.getvalue().decode()
    assert '["a",1.0],["b",-0.0],["c","inf"],["d","-inf"],["e",5e-324],["f",0.1]' in line
    assert '["g","nan"],["h",1e+300]' in line
    value = json.loads(line)["value"]
    assert [float(s) for _, s in value][:6] == [1.0, -0.0, math.inf, -math.inf, 5e-324, 0.1]


def test_hash_object_pairs_and_field_ttls() -> None:
    obj = one(*key_events(b"h", "hash", HashFields(((b"f", b"v", None), (b"g", b"\xff", None)))))
    assert obj["value"] == {"f": "v", "g": {"b64": "/w=="}} and "field_expires" not in obj
    obj = one(
        *key_events(
            b"h", "hash", HashFields(((b"f", b"v", 99),)), HashFields(((b"g", b"w", None),))
        )
    )
    assert obj["value"] == {"f": "v", "g": "w"} and obj["field_expires"] == {"f": 99}
    obj = one(*key_events(b"h", "hash", HashFields(((b"f", b"v", None), (b"\xff", b"x", 7)))))
    assert obj["value"] == [["f", "v"], [{"b64": "/w=="}, "x"]]
    assert obj["field_expires"] == [[{"b64": "/w=="}, 7]]


def test_hash_spilled_to_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spool, "MEMORY_LIMIT", 1000)
    fields = [(b"f%d" % i, b"v%d" % i, i if i % 3 == 0 else None) for i in range(2000)]
    batches = [HashFields(tuple(fields[i : i + 100])) for i in range(0, 2000, 100)]
    obj = one(*key_events(b"h", "hash", *batches))
    assert obj["value"] == {f.decode(): v.decode() for f, v, _ in fields}
    assert obj["field_expires"] == {f.decode(): t for f, _, t in fields if t is not None}
    assert list(obj["value"])[:3] == ["f0", "f1", "f2"]  # file order kept


def _stream(*extra: Event, meta: bool = True) -> list[Event]:
    entries = StreamEntries(
        (StreamEntry((1, 0), ((b"a", b"1"),)), StreamEntry((1, 1), ((b"a", b"2"), (b"\xff", b"x"))))
    )
    group = StreamGroup(
        name=b"g",
        last_delivered_id=(1, 1),
        entries_read=2,
        pending=(StreamPending((1, 0), b"c1", 1000, 2), StreamPending((1, 1), None, 5, 1)),
        consumers=(StreamConsumer(b"c1", 900, 950, ((1, 0),)), StreamConsumer(b"c2", 1, None, ())),
    )
    values: list[Event] = [entries]
    if meta:
        values.append(StreamMeta(2, (1, 1), (1, 0), (0, 0), 2))
    return key_events(b"s", "stream", *values, group, *extra, encoding="stream")


def test_stream_full() -> None:
    v = one(*_stream())["value"]
    assert v == {
        "entries": [["1-0", [["a", "1"]]], ["1-1", [["a", "2"], [{"b64": "/w=="}, "x"]]]],
        "last_id": "1-1",
        "first_id": "1-0",
        "max_deleted_id": "0-0",
        "entries_added": 2,
        "groups": [
            {
                "name": "g",
                "last_delivered_id": "1-1",
                "entries_read": 2,
                "pending": [["1-0", "c1", 1000, 2], ["1-1", None, 5, 1]],
                "consumers": [
                    {"name": "c1", "seen_time_ms": 900, "active_time_ms": 950, "pending": ["1-0"]},
                    {"name": "c2", "seen_time_ms": 1, "active_time_ms": None, "pending": []},
                ],
            }
        ],
    }


def test_stream_without_meta_or_groups_and_idmp() -> None:
    v = one(*key_events(b"s", "stream", encoding="stream"))["value"]
    assert v == {
        "entries": [],
        "last_id": None,
        "first_id": None,
        "max_deleted_id": None,
        "entries_added": None,
        "groups": [],
    }
    idmp = StreamIdmp(100, 10, ((b"p", ((b"i1", (5, 0)),)),), 3, 1)
    v = one(*_stream(idmp, meta=False))["value"]
    assert v["last_id"] is None and len(v["groups"]) == 1
    assert v["idmp"] == {
        "duration": 100,
        "max_entries": 10,
        "producers": [{"name": "p", "iids": [["i1", "5-0"]]}],
        "iids_added": 3,
        "iids_duplicates": 1,
    }


def test_stream_out_of_order_is_a_write_error() -> None:
    events = key_events(
        b"s",
        "stream",
        StreamMeta(0, (0, 0)),
        StreamEntries((StreamEntry((1, 0), ((b"a", b"1"),)),)),
    )
    with pytest.raises(WriteError, match="stream entries after stream metadata"):
        write(events)


def test_module_value() -> None:
    obj = one(
        *key_events(b"m", "module", ModuleValue(1, "mymod-dt", 3, b"\x02\x00"), encoding="module")
    )
    assert obj["value"] == {"module": "mymod-dt", "module_version": 3, "payload": {"b64": "AgA="}}


def test_value_of_the_wrong_type_is_a_write_error() -> None:
    with pytest.raises(WriteError, match="ListItems in a set key"):
        write(key_events(b"s", "set", ListItems((b"x",))))
    with pytest.raises(WriteError, match="unknown type"):
        write(key_events(b"s", "bitfield"))


def test_records() -> None:
    lines = write(
        [
            Header(11, "REDIS"),
            Aux(b"redis-ver", b"7.2.6"),
            Function(b"#!lua name=x\n"),
            Function(b"code", name=b"lib", engine=b"LUA", description=None, pre_ga=True),
            ModuleAux(7, "mod-abcd", 2, 2, b"\x00"),
            SlotInfo(5, 3, 1),
            SlotImport(b"job", ((1, 9),)),
            End(0xABC, 0xABC, "ok"),
        ]
    )
    assert lines == [
        {"record": "header", "magic": "REDIS", "version": 11},
        {"record": "aux", "name": "redis-ver", "value": "7.2.6"},
        {"record": "function", "code": "#!lua name=x\n"},
        {
            "record": "function",
            "code": "code",
            "name": "lib",
            "engine": "LUA",
            "description": None,
            "pre_ga": True,
        },
        {
            "record": "module_aux",
            "module": "mod-abcd",
            "module_version": 2,
            "when": 2,
            "payload": {"b64": "AA=="},
        },
        {"record": "slot_info", "slot": 5, "keys": 3, "expires": 1},
        {"record": "slot_import", "job_name": "job", "ranges": [[1, 9]]},
        {
            "record": "end",
            "checksum": "0000000000000abc",
            "computed": "0000000000000abc",
            "checksum_state": "ok",
        },
    ]


def test_whole_file_order() -> None:
    lines = write(
        file_events(
            key_events(b"a", "string", StringValue(b"1")),
            key_events(b"b", "string", StringValue(b"2"), db=3),
        )
    )
    assert [x.get("record") or x["key"] for x in lines] == ["header", "aux", "a", "b", "end"]
    assert [x["db"] for x in lines if "key" in x] == [0, 3]


def test_big_list_is_written_while_it_arrives() -> None:
    """The writer hands bytes to the file before the key ends (nothing held whole)."""
    out = io.BytesIO()
    w = JsonlWriter(out)
    events = key_events(b"l", "list", *[ListItems((b"x" * 1000,) * 100) for _ in range(20)])
    for ev in events[:-1]:
        w.write(ev)
    assert out.tell() > 1_000_000
    w.write(events[-1])
    w.close()
    assert len(json.loads(out.getvalue())["value"]) == 2000


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=12) | st.text(max_size=6).map(str.encode), max_size=12))
def test_decode_all_is_each_item_decoded(items: list[bytes]) -> None:
    """The one-go batch decoding gives exactly the per-item decoding (or None)."""
    from rdbtools.formats.jsontext import decode_all

    try:
        want: list[str] | None = [x.decode("utf-8") for x in items]
    except UnicodeDecodeError:
        want = None
    assert decode_all(items) == want
