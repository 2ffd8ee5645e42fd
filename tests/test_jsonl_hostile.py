"""Hostile JSON Lines input through ``load``, ``convert`` and ``restore``: every member out
of the range its RDB field holds, nesting deeper than the parser goes, numbers with
thousands of digits. Each is one line on stderr naming the line and the member path,
exit 3 (an input error), and no output file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rdbtools.cli.rdbtool import main
from rdbtools.errors import CorruptInput
from rdbtools.ops.load import load_events

GOOD = b'{"db":0,"key":"ok","type":"string","value":"x"}'


def _key(**members: Any) -> bytes:
    obj = {"db": 0, "key": "k", "type": "string", "value": "v", **members}
    return json.dumps(obj).encode()


def _stream(**members: Any) -> bytes:
    value = {"entries": [["1-1", [["f", "v"]]]], "last_id": "1-1", "groups": [], **members}
    return _key(key="s", type="stream", value=value)


def _group(**members: Any) -> dict[str, Any]:
    return {"name": "g", "last_delivered_id": "1-1", "entries_read": 1, "pending": [],
            "consumers": [], **members}


HOSTILE: dict[str, tuple[bytes, str]] = {
    "deep-array": (b'{"db":0,"key":"k","type":"list","value":' + b"[" * 100_000 + b"]" * 100_000
                   + b"}", "$: nesting too deep"),
    "deep-object": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "$: nesting too deep"),
    "expire-2^70": (_key(expire_at_ms=1 << 70), "$.expire_at_ms: 1180591620717411303424 is out "
                    "of range -9223372036854775808..9223372036854775807"),
    "expire-below-int64": (_key(expire_at_ms=-(1 << 63) - 1), "$.expire_at_ms:"),
    "db-2^64": (_key(db=1 << 64), "$.db: 18446744073709551616 is out of range"),
    "db-4300-digits": (b'{"db":' + b"9" * 5000 + b',"key":"k","type":"string","value":"v"}',
                       "$: not JSON"),
    "idle-2^64": (_key(idle=1 << 64), "$.idle:"),
    "freq-300": (_key(freq=300), "$.freq: 300 is out of range 0..255"),
    "freq-negative": (_key(freq=-1), "$.freq: -1 is out of range 0..255"),
    "freq-float": (_key(freq=1.5), "$.freq: expected an integer in 0..255, got a number"),
    "pending-time": (_stream(groups=[_group(pending=[["1-1", "c", 1 << 80, 1]])]),
                     "$.value.groups[0].pending[0][2]: "),
    "pending-count": (_stream(groups=[_group(pending=[["1-1", "c", 1, 1 << 64]])]),
                      "$.value.groups[0].pending[0][3]: "),
    "seen-time": (_stream(groups=[_group(consumers=[{"name": "c", "seen_time_ms": 1 << 63}])]),
                  "$.value.groups[0].consumers[0].seen_time_ms: "),
    "entries-read": (_stream(groups=[_group(entries_read=1 << 63)]),
                     "$.value.groups[0].entries_read: "),
    "entries-added": (_stream(entries_added=-1), "$.value.entries_added: -1 is out of range"),
    "stream-id-2^64": (_stream(last_id="18446744073709551616-0"), "$.value.last_id: expected"),
    "stream-id-digits": (_stream(last_id="1" * 5000 + "-0"), "$.value.last_id: expected"),
    "stream-not-ascending": (_key(key="s", type="stream", value={
        "entries": [["2-0", [["f", "v"]]], ["1-0", [["f", "v"]]]], "last_id": "2-0"}),
        "$.value.entries[1][0]: stream ids must ascend"),
    "consumer-not-object": (_stream(groups=[_group(consumers=[7])]),
                            "$.value.groups[0].consumers[0]: expected an object"),
    "idmp-not-object": (_stream(idmp=[1]), "$.value.idmp: expected an object"),
    "idmp-duration": (_stream(idmp={"duration": 1 << 64, "max_entries": 1, "producers": [],
                                    "iids_added": 0, "iids_duplicates": 0}),
                      "$.value.idmp.duration:"),
    "field-ttl": (_key(key="h", type="hash", value={"f": "v"}, field_expires={"f": 1 << 64}),
                  '$.field_expires.f: 18446744073709551616 is out of range'),
    "field-name-surrogate": (b'{"db":0,"key":"h","type":"hash","value":{"\\udc00":"v"}}',
                             '$.value["\\udc00"]: string is not valid Unicode text'),
    "score-huge-int": (_key(key="z", type="zset", value=[["m", 10**400]]),
                       "$.value[0][1]: score out of the range of a double"),
    "module-version": (_key(key="m", type="module", value={
        "module": "hellotype", "module_version": 1 << 64, "payload": {"b64": ""}}),
        "$.value.module_version:"),
    "slot-range-not-pair": (b'{"record":"slot_import","job_name":"j","ranges":[5]}',
                            "$.ranges[0]: expected [first, last]"),
    "slot-info-negative": (b'{"record":"slot_info","slot":-1,"keys":0,"expires":0}',
                           "$.slot: -1 is out of range"),
    "encoding-not-text": (_key(encoding=[1]), "$.encoding: expected a string"),
    "header-magic": (b'{"record":"header","magic":"FOO","version":9}', "$.magic"),
}


def _cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("command", ["load", "convert", "restore"])
def test_hostile_line_is_an_input_error(name: str, command: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    line, want = HOSTILE[name]
    (tmp_path / "in.jsonl").write_bytes(GOOD + b"\n" + line + b"\n")
    monkeypatch.chdir(tmp_path)
    if command == "load":
        r = _cli("load", "in.jsonl", "-o", "out.rdb")
    elif command == "convert":
        r = _cli("convert", "in.jsonl", "out.rdb")
    else:  # no server is contacted: the input fails before the first batch is sent
        r = _cli("restore", "in.jsonl", "--url", "redis://127.0.0.1:1", "--dry-run",
                 "--target-version", "11")
    err = r.stderr_bytes.decode()
    assert r.exit_code == 3, err
    assert err.count("\n") == 1 and err.startswith("rdbtool: in.jsonl:2: "), err
    assert want in err, err
    assert len(err) < 400, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_in_range_extremes_load(tmp_path: Path) -> None:
    """The ends of each range are accepted: the check is the field's range, no tighter."""
    lines = [
        _key(key="a", db=(1 << 32), expire_at_ms=(1 << 63) - 1, freq=255),
        _key(key="b", expire_at_ms=-(1 << 63), idle=(1 << 64) - 1),
        _stream(groups=[_group(entries_read=-1, pending=[["1-1", "c", -(1 << 63), (1 << 64) - 1]],
                               consumers=[{"name": "c", "seen_time_ms": (1 << 63) - 1,
                                           "pending": ["1-1"]}])]),
    ]
    events = list(load_events(lines, "x"))
    starts = [e for e in events if type(e).__name__ == "KeyStart"]
    assert [(s.db, s.expire_ms, s.freq, s.idle) for s in starts] == [
        (1 << 32, (1 << 63) - 1, 255, None), (0, -(1 << 63), None, (1 << 64) - 1),
        (0, None, None, None)]


def test_api_error_carries_line_and_key() -> None:
    with pytest.raises(CorruptInput) as info:
        list(load_events([GOOD, _key(key="bad", freq=300)], "src.jsonl"))
    assert str(info.value) == "src.jsonl:2: $.freq: 300 is out of range 0..255 (key b'bad')"
    assert info.value.exit_code == 3
