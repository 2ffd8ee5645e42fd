"""Each key's bytes in the file are exactly where the events say they are.

For every key of every fixture that loads:
- ``file[start.offset : start.offset + end.size]`` begins with the key's attribute opcodes
  (EXPIRETIME_MS / EXPIRETIME / IDLE / FREQ, exactly those the KeyStart reports) and then
  its type byte and key; the value starts at ``end.value_offset``, right after the key;
  the next record of the file starts right where this one ends;
- ``KeyStart.length``, where given, is the value's element count (byte length for strings);
- the value bytes ``file[value_offset : start.offset + size]`` decode standalone to the
  same value: a one-key RDB is built in memory (header, SELECTDB 0, type byte, key, those
  bytes, EOF, zero CRC) and read with ``read_rdb``.
The listpack / ziplist / intset / zipmap encodings must be among the keys checked.
"""

from __future__ import annotations

import io
from typing import Any

import helpers
import pytest
from helpers import RdbCase

CASES = [c for c in helpers.all_cases() if not c.expected_fail]
PARAMS = helpers.case_params(CASES)
BLOB_ENCODINGS = {"listpack", "ziplist", "intset", "zipmap"}
ATTRS = {0xFC: "expire", 0xFD: "expire", 0xF8: "idle", 0xF9: "freq"}


def key_spans(events: list[Any]) -> list[tuple[int, Any, Any]]:
    """(index of KeyEnd, KeyStart, KeyEnd) for every key, in file order."""
    from rdbtools.events import KeyEnd, KeyStart

    out = []
    start = None
    for i, ev in enumerate(events):
        if isinstance(ev, KeyStart):
            start = ev
        elif isinstance(ev, KeyEnd):
            assert start is not None, f"KeyEnd without KeyStart at event {i}"
            out.append((i, start, ev))
            start = None
    return out


def check_key_bytes(data: bytes, start: Any, end: Any) -> list[str]:
    problems: list[str] = []
    stop = start.offset + end.size
    if not (0 <= start.offset < end.value_offset <= stop <= len(data)):
        return [
            f"offsets out of order: start {start.offset}, value {end.value_offset}, "
            f"end {stop}, file {len(data)}"
        ]
    pos = start.offset
    seen: set[str] = set()
    while data[pos] in ATTRS:
        op = data[pos]
        seen.add(ATTRS[op])
        if op == 0xFC:
            pos += 9
        elif op == 0xFD:
            pos += 5
        elif op == 0xF9:
            pos += 2
        else:
            _, _, pos = helpers.read_len(data, pos + 1)
    if data[pos] == 0xF3 and start.rdb_type != 0xF3:
        return []  # KEY_META prefix (Redis 8.6+): layout not checked here
    want = {
        n
        for n, v in (("expire", start.expire_ms), ("idle", start.idle), ("freq", start.freq))
        if v is not None
    }
    if seen != want:
        problems.append(
            f"attribute opcodes in the file {sorted(seen)}, KeyStart reports {sorted(want)}"
        )
    if data[pos] != start.rdb_type:
        problems.append(f"byte at {pos} is {data[pos]:#x}, not the type byte {start.rdb_type:#x}")
        return problems
    key, pos = helpers.skip_rdb_string(data, pos + 1)
    if key is not None and key != start.key:
        problems.append(f"key in the file {key!r} != KeyStart.key {start.key!r}")
    if pos != end.value_offset:
        problems.append(
            f"value starts at {pos} (after the key), KeyEnd.value_offset is {end.value_offset}"
        )
    return problems


def redecode(header: bytes, start: Any, value: bytes) -> tuple[Any | None, str | None]:
    tiny = helpers.tiny_rdb(header, start.rdb_type, start.key, value)
    res = helpers.read_all(io.BytesIO(tiny))
    if res.error is not None:
        return None, f"standalone value does not decode: {type(res.error).__name__}: {res.error}"
    recs = helpers.records_of(res.events)
    if len(recs) != 1:
        return None, f"standalone RDB gave {len(recs)} records"
    return recs[0], None


@pytest.mark.parametrize("case", PARAMS)
def test_key_bytes_and_standalone_values(case: RdbCase) -> None:
    res = helpers.read_case(case.path)
    if res.error is not None:
        pytest.skip(f"does not load: {res.error}")  # reported by test_fixtures
    data = case.data
    header = data[:9]
    records = helpers.records_of(res.events)
    spans = key_spans(res.events)
    assert len(spans) == len(records)
    problems: list[str] = []
    for (i, start, end), rec in zip(spans, records):
        label = f"db={start.db} key={start.key!r} ({start.encoding}, type {start.rdb_type})"
        kp = check_key_bytes(data, start, end)
        if start.length is not None and rec.type not in ("stream", "module"):
            if len(rec.value) != start.length:
                kp.append(f"KeyStart.length {start.length}, the value has {len(rec.value)}")
        nxt = helpers._next_offset(res.events, i)
        if nxt is not None and nxt != start.offset + end.size:
            kp.append(f"record ends at {start.offset + end.size}, the next record starts at {nxt}")
        if not kp:
            value = data[end.value_offset : start.offset + end.size]
            again, err = redecode(header, start, value)
            if err:
                kp.append(err)
            else:
                a, b = helpers.canon_record(rec), helpers.canon_record(again)
                a["expire_ms"] = None
                helpers.compare(a, b, "standalone", kp)
                for attr in ("type", "encoding", "rdb_type"):
                    if getattr(again, attr) != getattr(rec, attr):
                        kp.append(
                            f"standalone {attr} {getattr(again, attr)!r} != {getattr(rec, attr)!r}"
                        )
                if again.size != end.size - (end.value_offset - start.offset) + 1 + len(
                    helpers.rdb_string(start.key)
                ):
                    kp.append(
                        f"standalone record size {again.size} does not match the value's bytes"
                    )
        problems += [f"{label}: {p}" for p in kp]
    assert not problems, f"{case.id}: {len(problems)} problem(s)\n" + "\n".join(problems[:40])


def test_blob_encodings_are_covered() -> None:
    seen: set[str] = set()
    for case in CASES:
        res = helpers.read_case(case.path)
        seen.update(r.encoding for r in helpers.records_of(res.events))
    want = set(BLOB_ENCODINGS)
    if not helpers.EXTERNAL.is_dir():
        want.discard("zipmap")  # only Redis 2.4 wrote zipmaps: external fixtures only
    assert want <= seen, f"no key with encoding {sorted(want - seen)} among the fixtures"
