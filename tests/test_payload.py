"""DUMP / RESTORE payloads (FORMAT.md §7): ``encode_payload`` / ``decode_payload``.

- the verified examples of FORMAT.md (§7.1 strings, §4.12 list, §11.3 C hash) byte for byte;
- encode -> decode gives the key back (random keys, every version), minus exactly the
  losses reported;
- Redis 7.0.15 accepts ``RESTORE`` of our payloads for every fixture key it can hold,
  with ``sanitize-dump-payload yes`` (deep validation), at every payload version it reads
  (6..10), and then holds what the fixture's truth says;
- damaged payloads (wrong CRC, short, truncated, trailing bytes, unknown type, too new)
  raise ``ParseError``, and random corruption raises nothing else.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, compare
from test_writer_live import compare_with_truth, loss_keys, raw, server_with
from test_writer_roundtrip import (
    SETTINGS,
    VERSIONS,
    Key,
    expected_canon,
    got_canon,
    key_events,
    key_names,
    key_value,
    lossy,
)

from rdbtools import crc64, read_rdb, records
from rdbtools.errors import (
    ChecksumMismatch,
    CorruptInput,
    ParseError,
    UnsupportedVersion,
    WriteError,
)
from rdbtools.events import (
    HashFields,
    KeyEnd,
    KeyStart,
    ListItems,
    ModuleValue,
    StreamEntries,
    StreamEntry,
    StreamMeta,
    StringValue,
)
from rdbtools.rdb.payload import decode_payload, encode_payload, payload_version
from rdbtools.rdb.writer import Loss

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def string_key(key: bytes = b"k") -> KeyStart:
    return KeyStart(0, key, "string", "raw", 0)


def with_crc(body: bytes) -> bytes:
    return body + crc64.crc64(body).to_bytes(8, "little")


def decoded_record(payload: bytes, key: bytes = b"k") -> Any:
    events = list(decode_payload(payload, key))
    (rec,) = records([*events, KeyEnd(key, 0, 0)])
    return rec


# --------------------------------------------------------------------------- FORMAT.md


def test_format_7_1_string_hello() -> None:
    want = bytes.fromhex("00 05 68 65 6c 6c 6f 0a 00 63 72 df 76 65 34 20 0a")
    assert encode_payload(string_key(), [StringValue(b"hello")], 10) == want
    assert payload_version(want) == 10
    assert decoded_record(want).value == b"hello"


def test_format_7_1_integer_string() -> None:
    got = encode_payload(string_key(), [StringValue(b"12345")], 10)
    assert got[:6] == bytes.fromhex("00 c1 39 30 0a 00")
    assert got == with_crc(got[:6])
    assert decoded_record(got).value == b"12345"


def test_format_4_12_small_list() -> None:
    want = bytes.fromhex(
        "12 01 02 1c 1c 00 00 00 07 00 81 61 02 81 62 02 01 01 02 01 c1 2c 02 df fb 02"
        " f2 70 11 01 04 ff 0a 00 de 0e e6 6e 09 ff 6f ca"
    )
    items = (b"a", b"b", b"1", b"2", b"300", b"-5", b"70000")
    start = KeyStart(0, b"l:small", "list", "quicklist", 18)
    assert encode_payload(start, [ListItems(items)], 10) == want
    assert decoded_record(want, b"l:small").value == list(items)


def test_format_11_3_c_hash_listpack() -> None:
    want = bytes.fromhex(
        "10 16 16 00 00 00 04 00 81 61 02 01 01 81 62 02 85 68 65 6c 6c 6f 06 ff 0b 00"
        " 81 1a 43 ea 13 98 7c d4"
    )
    start = KeyStart(0, b"h", "hash", "listpack", 16)
    got = encode_payload(start, [HashFields(((b"a", b"1", None), (b"b", b"hello", None)))], 11)
    assert got == want
    assert decoded_record(want, b"h").value == [(b"a", b"1", None), (b"b", b"hello", None)]


def test_valkey_payload_version() -> None:
    got = encode_payload(string_key(), [StringValue(b"x")], "valkey")
    assert got[-10:-8] == b"\x50\x00"  # 80
    assert payload_version(got) == 80
    assert decoded_record(got).value == b"x"


# --------------------------------------------------------------------------- round trip


@SETTINGS
@given(st.data())
def test_encode_decode_roundtrip(data: Any) -> None:
    """Every key type at every version comes back as the RDB writer's round trip says,
    and the losses appended are exactly those of a lossy key."""
    name = data.draw(key_names)
    k: Key = data.draw(key_value(0, name))
    k.expire_ms = k.idle = k.freq = None  # not part of a payload
    events = key_events(k)
    start, values = events[0], events[1:-1]
    for version in VERSIONS:
        losses: list[Loss] = []
        level = 11 if version == "valkey" else int(version)
        if k.type in ("list", "set", "zset", "hash") and not k.value:
            with pytest.raises((WriteError, ParseError)):
                encode_payload(start, values, version, losses=losses)
            continue
        if (k.type == "stream" and level < 9) or (k.type == "module" and level < 8):
            # the version has no such type: no payload a server of that version reads
            with pytest.raises(WriteError):
                encode_payload(start, values, version, losses=losses)
            continue
        payload = encode_payload(start, values, version, losses=losses)
        assert payload_version(payload) == (80 if version == "valkey" else version)
        rec = decoded_record(payload, k.key)
        problems: list[str] = []
        want = expected_canon(k, version)
        want["idle"] = want["freq"] = None
        compare(want, got_canon(rec), f"v{version}", problems)
        assert not problems, problems
        assert bool(losses) == lossy(k, version), (version, losses)
        assert all(x.key == k.key for x in losses)


def test_payload_equals_the_rdb_record_value() -> None:
    """A payload's body is the key's value exactly as the RDB writer writes it."""
    from rdbtools.rdb.writer import RdbWriter

    start = KeyStart(0, b"k", "list", "", 0)
    values = [ListItems(tuple(b"item-%d" % i for i in range(2000)))]
    for version in (6, 7, 9, 10, 11, 12, "valkey"):
        out = io.BytesIO()
        RdbWriter(out, version).write_all([start, *values, KeyEnd(b"k", 0, 0)])
        data = out.getvalue()
        ev = [e for e in read_rdb(io.BytesIO(data)) if isinstance(e, (KeyStart, KeyEnd))]
        type_byte = data[ev[1].value_offset - 3]  # type byte, 01 'k'
        value = data[ev[1].value_offset : ev[0].offset + ev[1].size]
        payload = encode_payload(start, values, version)
        assert payload[:-10] == bytes((type_byte,)) + value, version


# --------------------------------------------------------------------------- damage


def test_wrong_crc_is_refused() -> None:
    good = encode_payload(string_key(), [StringValue(b"hello")], 10)
    for i in range(len(good)):
        bad = bytearray(good)
        bad[i] ^= 0x01
        with pytest.raises(ParseError):
            list(decode_payload(bytes(bad), b"k"))
    bad = good[:-8] + bytes(8)  # a zero CRC is not special in a payload
    with pytest.raises(ChecksumMismatch):
        list(decode_payload(bad, b"k"))


def test_short_payloads_are_refused() -> None:
    for n in range(10):
        with pytest.raises(ParseError):
            list(decode_payload(b"\x00" * n, b"k"))
        with pytest.raises(ParseError):
            payload_version(b"\x00" * n)


def test_truncated_value_with_a_valid_crc() -> None:
    good = encode_payload(KeyStart(0, b"l", "list", "", 0), [ListItems((b"a" * 100, b"b"))], 10)
    body = good[:-10]
    for cut in range(1, len(body)):
        with pytest.raises(ParseError):
            list(decode_payload(with_crc(body[:cut] + good[-10:-8]), b"l"))


def test_trailing_bytes_unknown_type_and_new_versions() -> None:
    good = encode_payload(string_key(), [StringValue(b"hello")], 10)
    with pytest.raises(CorruptInput):
        list(decode_payload(with_crc(good[:-10] + b"\x00" + b"\x0a\x00"), b"k"))
    with pytest.raises(ParseError):
        list(decode_payload(with_crc(b"\x08\x00" + b"\x0a\x00"), b"k"))  # type 8: never valid
    with pytest.raises(ParseError):
        list(decode_payload(with_crc(b"\x1f\x00" + b"\x0c\x00"), b"k"))  # type 31 at RDB 12
    with pytest.raises(UnsupportedVersion):
        list(decode_payload(with_crc(good[:-10] + b"\x32\x00"), b"k"))  # version 50
    # verify_checksum=False skips the CRC only
    assert list(decode_payload(good[:-8] + bytes(8), b"k", verify_checksum=False))


@SETTINGS
@given(st.binary(max_size=200), st.integers(0, 2**16 - 1), st.booleans())
def test_random_payloads_raise_only_parse_errors(body: bytes, version: int, crc: bool) -> None:
    payload = body + version.to_bytes(2, "little")
    payload = with_crc(payload) if crc else payload + bytes(8)
    try:
        list(decode_payload(payload, b"k"))
    except ParseError:
        pass


@SETTINGS
@given(st.integers(0, 10**6), st.integers(1, 3), st.data())
def test_mutated_payloads_raise_only_parse_errors(seed: int, flips: int, data: Any) -> None:
    import random

    rng = random.Random(seed)
    start = KeyStart(0, b"s", "stream", "", 0)
    values = [
        StreamEntries(tuple(StreamEntry((1, i), ((b"f", b"%d" % i),)) for i in range(20))),
        StreamMeta(20, (1, 19), (1, 0), (0, 0), 20),
    ]
    good = bytearray(encode_payload(start, values, data.draw(st.sampled_from([9, 10, 11]))))
    for _ in range(flips):
        good[rng.randrange(len(good) - 10)] = rng.randrange(256)
    try:
        list(decode_payload(with_crc(bytes(good[:-8])[:-2] + bytes(good[-10:-8])), b"s"))
    except ParseError:
        pass


# --------------------------------------------------------------------------- live


def _fixture_keys(rdb: Path) -> list[tuple[KeyStart, list[Any]]]:
    out = []
    start = None
    values: list[Any] = []
    for ev in read_rdb(str(rdb)):
        if isinstance(ev, KeyStart):
            start, values = ev, []
        elif isinstance(ev, KeyEnd):
            out.append((start, values))
            start = None
        elif start is not None:
            values.append(ev)
    return out


def _live_params() -> list[Any]:
    files = sorted(FIXTURES.glob("*/small-encodings.rdb"))
    return [pytest.param(f, v, id=f"{f.parent.name}->{v}") for f in files for v in (6, 9, 10)]


@pytest.mark.parametrize(("rdb", "version"), _live_params())
def test_server_restores_our_payloads(rdb: Path, version: int, tmp_path: Path) -> None:
    """Redis 7.0.15 with ``sanitize-dump-payload yes`` RESTOREs the payload (RDB
    ``version``) of every fixture key it can hold and then holds the fixture's truth,
    except the keys whose payload reported a loss."""
    from helpers import load_truth

    truth = load_truth(rdb.with_name("small-encodings.truth.json"))
    now = int(time.time() * 1000)
    from rdbtools.rdb.writer import LossReport

    report = LossReport()
    with server_with(tmp_path / "srv", None, "--sanitize-dump-payload", "yes") as server:
        client = server.client
        conn = client.connection_pool.get_connection()
        try:
            db = None
            for start, values in _fixture_keys(rdb):
                if start.expire_ms is not None and start.expire_ms <= now + 60_000:
                    continue
                losses: list[Loss] = []
                try:
                    payload = encode_payload(start, values, version, losses=losses)
                except WriteError:
                    assert start.type == "stream" and version < 9, start
                    report.losses.append(Loss("no payload", start.db, start.key))
                    continue
                report.losses += losses
                if start.db != db:
                    conn.send_command("SELECT", start.db)
                    assert conn.read_response() == b"OK"
                    db = start.db
                conn.send_command("RESTORE", start.key, start.expire_ms or 0, payload, "ABSTTL")
                reply = conn.read_response()
                assert reply == b"OK", (start.key, reply)
        finally:
            client.connection_pool.release(conn)
        diffs, _ = compare_with_truth(truth, client, now, version)
        lost = loss_keys(report)
        unexplained = {k: p for k, p in diffs.items() if k not in lost}
        assert not unexplained, unexplained


def test_restore_round_trip_with_dump(tmp_path: Path) -> None:
    """The server's own DUMP of a restored key decodes to the same value as our payload
    (and for a string, is byte-identical)."""
    with server_with(tmp_path / "srv", None) as server:
        c = server.client
        payload = encode_payload(string_key(b"s"), [StringValue(b"x" * 100)], 10)
        assert raw(c, "RESTORE", b"s", 0, payload) == b"OK"
        assert c.dump(b"s") == payload
        start = KeyStart(0, b"h", "hash", "", 0)
        values = [HashFields(tuple((b"f%d" % i, b"%d" % i, None) for i in range(600)))]
        payload = encode_payload(start, values, 10)
        assert raw(c, "RESTORE", b"h", 0, payload) == b"OK"
        back = decoded_record(c.dump(b"h"), b"h")
        assert sorted(back.value) == sorted(values[0].fields)


def test_every_type_restores_at_every_version(tmp_path: Path) -> None:
    """One key of each kind at payload versions 6..10 (what 7.0.15 accepts); version 11
    and 12 payloads are refused by 7.0.15 with its own error, never a crash."""
    keys = [
        (string_key(b"s"), [StringValue(b"v" * 30)]),
        (KeyStart(0, b"l", "list", "", 0), [ListItems((b"a", b"b" * 9000, b"1"))]),
        (KeyStart(0, b"h", "hash", "", 0), [HashFields(((b"f", b"v", None),))]),
    ]
    with server_with(tmp_path / "srv", None) as server:
        c = server.client
        for version in (6, 7, 8, 9, 10):
            for start, values in keys:
                payload = encode_payload(start, values, version)
                assert raw(c, "RESTORE", start.key, 0, payload, "REPLACE") == b"OK"
        assert c.lrange(b"l", 0, -1) == [b"a", b"b" * 9000, b"1"]
        for version in (11, 12):
            payload = encode_payload(keys[0][0], keys[0][1], version)
            with pytest.raises(Exception, match="version or checksum"):
                raw(c, "RESTORE", b"new", 0, payload)


def test_module_payload_needs_rdb8() -> None:
    start = KeyStart(0, b"m", "module", "module", 7)
    value = ModuleValue(123 << 10, "x", 0, b"\x02\x05\x00")
    assert encode_payload(start, [value], 8)[0] == 7
    with pytest.raises(WriteError):
        encode_payload(start, [value], 7)


def test_stream_payload_needs_rdb9() -> None:
    """No server before 5.0 (RDB 9) knows type 15: a payload claiming version 8 with a
    stream in it is refused by every server that would receive it."""
    start = KeyStart(0, b"s", "stream", "stream", 15)
    values = [StreamEntries((StreamEntry((1, 1), ((b"a", b"b"),)),)), StreamMeta(1, (1, 1))]
    assert encode_payload(start, values, 9)[0] == 15
    with pytest.raises(WriteError):
        encode_payload(start, values, 8)
