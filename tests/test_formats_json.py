"""The one-document JSON writer: structure, streaming, records before and after keys."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from cli_support import file_events, key_events

from rdbtools.errors import WriteError
from rdbtools.events import Aux, End, Event, Header, ListItems, SlotInfo, StringValue
from rdbtools.formats.json_document import JsonDocumentWriter


def document(events: Any) -> dict[str, Any]:
    out = io.BytesIO()
    w = JsonDocumentWriter(out)
    for ev in events:
        w.write(ev)
    w.close()
    doc: dict[str, Any] = json.loads(out.getvalue())
    return doc


def test_structure() -> None:
    doc = document(
        file_events(
            key_events(b"a", "string", StringValue(b"1")),
            key_events(b"b", "list", ListItems((b"x", b"y")), db=0),
            key_events(b"c", "string", StringValue(b"\xff"), db=5),
        )
    )
    assert list(doc) == ["header", "records", "dbs", "records_after_keys", "end"]
    assert doc["header"] == {"magic": "REDIS", "version": 11}
    assert doc["records"] == [{"record": "aux", "name": "redis-ver", "value": "7.2.6"}]
    assert [k["key"] for k in doc["dbs"]["0"]] == ["a", "b"]
    assert doc["dbs"]["5"][0]["value"] == {"b64": "/w=="}
    assert doc["records_after_keys"] == []
    assert doc["end"]["checksum_state"] == "ok"


def test_records_after_the_first_key() -> None:
    events: list[Event] = [Header(12, "REDIS"), SlotInfo(1, 1, 0)]
    events += key_events(b"a", "string", StringValue(b"1"))
    events += [SlotInfo(2, 1, 0), Aux(b"lua", b"return 1")]
    events += key_events(b"b", "string", StringValue(b"2"))
    events.append(End(None, None, "absent"))
    doc = document(events)
    assert doc["records"] == [{"record": "slot_info", "slot": 1, "keys": 1, "expires": 0}]
    assert doc["records_after_keys"] == [
        {"record": "slot_info", "slot": 2, "keys": 1, "expires": 0},
        {"record": "aux", "name": "lua", "value": "return 1"},
    ]
    assert doc["end"] == {"checksum": None, "computed": None, "checksum_state": "absent"}


def test_empty_inputs() -> None:
    assert document([]) == {
        "header": None,
        "records": [],
        "dbs": {},
        "records_after_keys": [],
        "end": None,
    }
    doc = document([Header(9, "REDIS"), End(0, 0, "zero")])
    assert doc["dbs"] == {} and doc["end"]["checksum_state"] == "zero"


def test_a_database_met_twice_is_a_write_error() -> None:
    events = [
        *key_events(b"a", "string", db=0),
        *key_events(b"b", "string", db=1),
        *key_events(b"c", "string", db=0),
    ]
    with pytest.raises(WriteError, match="not contiguous"):
        document(events)
