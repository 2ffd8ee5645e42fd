"""The ``read_rdb`` API: sources, error attributes, checksum states, streaming.

- sources: a path, ``"-"`` (standard input), an open file, a pipe-like object; ``source=``
  names the input in errors;
- errors carry ``source``, ``offset`` and ``key`` and read ``SRC@0xOFF: what (key ...)``;
- ``End.checksum_state``: ``ok`` / ``zero`` / ``absent`` / ``skipped``;
- streaming: the first key arrives before the input is read to the end, big values arrive
  in bounded batches, and reading a huge value or collection keeps memory small.
"""

from __future__ import annotations

import io
import re
import struct
import sys
import tracemalloc
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import helpers
import pytest
from helpers import len_enc, rdb_string

H9 = b"REDIS0009"
DB0 = b"\xfe\x00"
EOF_ZERO_CRC = b"\xff" + b"\0" * 8


def _case(pred: Any) -> helpers.RdbCase:
    for c in helpers.all_cases():
        if pred(c):
            return c
    pytest.skip("no fixture matches")


def _crc_fixture() -> helpers.RdbCase:
    return _case(lambda c: c.kind == "rdb" and not c.external and 1000 < len(c.data) < 200_000)


class LazyStream(io.RawIOBase):
    """A pipe-like stream generated on the fly (never held whole in memory)."""

    def __init__(self, parts: Iterable[bytes]) -> None:
        self._parts: Iterator[bytes] = iter(parts)
        self._cur = b""
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            n = 1 << 30
        out = []
        want = n
        while want > 0:
            if not self._cur:
                self._cur = next(self._parts, b"")
                if not self._cur:
                    break
            piece, self._cur = self._cur[:want], self._cur[want:]
            out.append(piece)
            want -= len(piece)
        data = b"".join(out)
        self.consumed += len(data)
        return data

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def _repeat(pattern: bytes, total: int, chunk: int = 1 << 16) -> Iterator[bytes]:
    block = pattern * (chunk // len(pattern) + 1)
    sent = 0
    while sent < total:
        k = min(chunk, total - sent)
        yield block[:k]
        sent += k


# --------------------------------------------------------------------------- sources


def test_path_open_file_and_stdin_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    case = _crc_fixture()
    plain = helpers.read_all(str(case.path))
    assert plain.error is None, plain.error
    with open(case.path, "rb") as fh:
        assert helpers.read_all(fh).events == plain.events
    assert helpers.read_all(case.path).events == plain.events  # a PathLike

    class FakeStdin:
        buffer = helpers.ChunkedReader(case.data, seed=11, max_chunk=100)

    monkeypatch.setattr(sys, "stdin", FakeStdin())
    assert helpers.read_all("-").events == plain.events


def test_error_names_its_source(monkeypatch: pytest.MonkeyPatch) -> None:
    from rdbtools import TruncatedInput

    case = _crc_fixture()
    cut = case.data[: len(case.data) // 2]
    got = helpers.read_all(io.BytesIO(cut), source="my-name.rdb")
    assert isinstance(got.error, TruncatedInput), got.error
    assert got.error.source == "my-name.rdb"
    assert str(got.error).startswith("my-name.rdb@0x")

    class FakeStdin:
        buffer = io.BytesIO(cut)

    monkeypatch.setattr(sys, "stdin", FakeStdin())
    got = helpers.read_all("-")
    assert isinstance(got.error, TruncatedInput) and got.error.source == "-", got.error


def test_error_attributes_of_a_corrupt_key() -> None:
    """``redis/corrupt_ziplist.rdb``: the damaged key is named, the offset lies inside it."""
    from rdbtools import CorruptInput, ParseError, TruncatedInput
    from rdbtools.events import KeyStart

    case = _case(lambda c: c.path.name == "corrupt_ziplist.rdb")
    got = helpers.read_all(str(case.path))
    assert isinstance(got.error, ParseError), got.error
    assert isinstance(got.error, (CorruptInput, TruncatedInput)), got.error
    assert got.error.key == b"key:000000000091", got.error
    from rdbtools.events import KeyEnd

    ends = [e for e in got.events if isinstance(e, KeyEnd)]
    assert ends, "no key read before the damaged one"
    assert ends[-1].offset <= got.error.offset <= len(case.data), (ends[-1], got.error.offset)
    assert all(e.key != b"key:000000000091" for e in got.events if isinstance(e, KeyStart))
    assert got.error.source == str(case.path)
    text = str(got.error)
    assert re.fullmatch(r".+@0x[0-9a-f]+: .+ \(key b'key:000000000091'\)", text), text


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", "TruncatedInput"),
        (b"REDIS", "TruncatedInput"),
        (H9, "TruncatedInput"),
        (H9 + DB0, "TruncatedInput"),
        (H9 + b"\xff" + b"\0" * 7, "TruncatedInput"),
        (b"NOTANRDBFILE\xff" + b"\0" * 8, "CorruptInput"),
        (b"REDIS0099" + EOF_ZERO_CRC, "UnsupportedVersion"),
        (b"REDIS0000" + EOF_ZERO_CRC, "UnsupportedVersion"),
        (b"VALKEY999" + EOF_ZERO_CRC, "UnsupportedVersion"),
        (
            H9 + DB0 + b"\x08" + rdb_string(b"k") + rdb_string(b"v") + EOF_ZERO_CRC,
            "UnsupportedType",
        ),
        (H9 + b"\xfc" + b"\0" * 8 + EOF_ZERO_CRC, "CorruptInput"),
        (H9 + b"\xfc" + b"\0" * 8 + DB0 + EOF_ZERO_CRC, "CorruptInput"),
    ],
    ids=lambda v: v if isinstance(v, str) else repr(v[:14]),
)
def test_small_bad_inputs(data: bytes, error: str) -> None:
    got = helpers.read_all(io.BytesIO(data))
    assert type(got.error).__name__ == error, f"{data!r}: {got.error!r}"
    assert got.error is not None and 0 <= got.error.offset <= len(data)  # type: ignore[attr-defined]


def test_minimal_files_read() -> None:
    from rdbtools.events import End, Header

    for data, state in (
        (b"REDIS0003\xff", "absent"),
        (H9 + EOF_ZERO_CRC, "zero"),
        (b"REDIS0011" + DB0 + b"\x00" + rdb_string(b"k") + rdb_string(b"v") + EOF_ZERO_CRC, "zero"),
    ):
        got = helpers.read_all(io.BytesIO(data))
        assert got.error is None, got.error
        assert isinstance(got.events[0], Header)
        assert isinstance(got.events[-1], End) and got.events[-1].checksum_state == state


def test_checksum_states() -> None:
    from rdbtools import ChecksumMismatch
    from rdbtools.events import End

    case = _crc_fixture()
    data = case.data
    assert helpers.read_all(io.BytesIO(data)).events[-1].checksum_state == "ok"
    skipped = helpers.read_all(io.BytesIO(data), verify_checksum=False).events[-1]
    assert isinstance(skipped, End) and skipped.checksum_state == "skipped"
    zero = data[:-8] + b"\0" * 8
    assert helpers.read_all(io.BytesIO(zero)).events[-1].checksum_state == "zero"
    bad = bytearray(data)
    bad[len(bad) // 2] ^= 0x20
    got = helpers.read_all(io.BytesIO(bytes(bad)))
    if got.error is not None:
        assert type(got.error).__name__ != "Exception"
    bad_crc = data[:-1] + bytes([data[-1] ^ 1])
    got = helpers.read_all(io.BytesIO(bad_crc))
    assert isinstance(got.error, ChecksumMismatch), got.error
    assert got.error.offset is not None and len(data) - 9 <= got.error.offset <= len(data)


def test_reading_stops_after_the_checksum() -> None:
    """What follows EOF + CRC (an AOF tail, a replication mark) is left alone."""
    case = _crc_fixture()
    plain = helpers.read_all(io.BytesIO(case.data))
    tail = helpers.read_all(io.BytesIO(case.data + b"*1\r\n$4\r\nPING\r\n" + b"\0garbage" * 100))
    assert tail.error is None and tail.events == plain.events


# --------------------------------------------------------------------------- streaming


def _string_key_stream(size: int) -> Iterator[bytes]:
    yield H9 + DB0 + b"\x00" + rdb_string(b"big") + len_enc(size)
    yield from _repeat(b"0123456789abcdef!", size)
    yield EOF_ZERO_CRC


def _traced(run: Any) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        out = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak


def test_big_string_streams_in_pieces() -> None:
    from rdbtools import read_rdb
    from rdbtools.events import KeyEnd, StringValue

    size = 40 << 20

    def run() -> tuple[int, int, int, int]:
        total = pieces = biggest = 0
        ends = 0
        for ev in read_rdb(LazyStream(_string_key_stream(size))):
            if isinstance(ev, StringValue):
                total += len(ev.data)
                pieces += 1
                biggest = max(biggest, len(ev.data))
            elif isinstance(ev, KeyEnd):
                ends += 1
        return total, pieces, biggest, ends

    (total, pieces, biggest, ends), peak = _traced(run)
    assert total == size and ends == 1
    assert pieces > 1 and biggest <= 8 << 20, (pieces, biggest)
    assert peak < 24 << 20, f"peak {peak / 2**20:.1f} MiB for a {size >> 20} MiB string"


def _collection_stream(rdb_type: int, count: int) -> Iterator[bytes]:
    yield H9 + DB0 + bytes([rdb_type]) + rdb_string(b"big") + len_enc(count)
    batch = []
    for i in range(count):
        m = b"member:%09d" % i
        if rdb_type == 1 or rdb_type == 2:
            batch.append(rdb_string(m))
        elif rdb_type == 4:
            batch.append(rdb_string(m) + rdb_string(b"value:%d" % i))
        elif rdb_type == 5:
            batch.append(rdb_string(m) + struct.pack("<d", i / 3))
        if len(batch) == 4096:
            yield b"".join(batch)
            batch = []
    yield b"".join(batch)
    yield EOF_ZERO_CRC


@pytest.mark.parametrize("rdb_type", [1, 2, 4, 5], ids=["list", "set", "hash", "zset2"])
def test_big_collection_in_bounded_batches(rdb_type: int) -> None:
    from rdbtools import read_rdb
    from rdbtools.events import HashFields, KeyEnd, ListItems, SetMembers, ZSetMembers

    count = 200_000

    def run() -> tuple[int, int, int]:
        total = biggest = ends = 0
        for ev in read_rdb(LazyStream(_collection_stream(rdb_type, count))):
            if isinstance(ev, (ListItems, SetMembers)):
                n = len(ev.items if isinstance(ev, ListItems) else ev.members)
            elif isinstance(ev, ZSetMembers):
                n = len(ev.members)
            elif isinstance(ev, HashFields):
                n = len(ev.fields)
            elif isinstance(ev, KeyEnd):
                ends += 1
                continue
            else:
                continue
            total += n
            biggest = max(biggest, n)
        return total, biggest, ends

    (total, biggest, ends), peak = _traced(run)
    assert total == count and ends == 1
    assert biggest <= 65536, f"a batch of {biggest} items"
    assert peak < 8 << 20, f"peak {peak / 2**20:.1f} MiB for {count} items"


def test_first_key_before_the_end_of_input() -> None:
    from rdbtools import read_rdb
    from rdbtools.events import KeyEnd

    def parts() -> Iterator[bytes]:
        yield H9 + DB0
        for i in range(20_000):
            yield b"\x00" + rdb_string(b"key:%d" % i) + rdb_string(b"v" * 300)
        yield EOF_ZERO_CRC

    stream = LazyStream(parts())
    events = read_rdb(stream)
    for ev in events:
        if isinstance(ev, KeyEnd):
            break
    consumed = stream.consumed
    total = sum(1 for _ in events)
    assert total > 0
    assert consumed <= 4 << 20 and consumed < stream.consumed, (consumed, stream.consumed)


# --------------------------------------------------------------------------- exact semantics


def _records(data: bytes) -> list[Any]:
    got = helpers.read_all(io.BytesIO(data))
    assert got.error is None, got.error
    return helpers.records_of(got.events)


def test_rdb1_expiretime_in_seconds() -> None:
    data = (
        b"REDIS0001"
        + DB0
        + b"\xfd"
        + struct.pack("<i", 1_700_000_000)
        + b"\x00"
        + rdb_string(b"k")
        + rdb_string(b"v")
        + b"\xff"
    )
    (rec,) = _records(data)
    assert (rec.key, rec.value, rec.expire_ms) == (b"k", b"v", 1_700_000_000_000)


def test_key_attributes_in_any_order() -> None:
    data = (
        H9
        + DB0
        + b"\xf9\x07"
        + b"\xfc"
        + struct.pack("<q", 4102444800123)
        + b"\xf8"
        + len_enc(100)
        + b"\x00"
        + rdb_string(b"k")
        + rdb_string(b"v")
        + b"\x00"
        + rdb_string(b"plain")
        + rdb_string(b"v")
        + EOF_ZERO_CRC
    )
    first, second = _records(data)
    assert (first.freq, first.expire_ms, first.idle) == (7, 4102444800123, 100)
    assert (second.freq, second.expire_ms, second.idle) == (None, None, None)


def test_integer_encoded_strings_read_as_decimal_text() -> None:
    data = (
        H9
        + DB0
        + b"\x00"
        + b"\xc0\x80"
        + b"\xc2"
        + struct.pack("<i", -(2**31))
        + b"\x00"
        + b"\xc1"
        + struct.pack("<h", -300)
        + b"\xc0\x7f"
        + b"\x00"
        + b"\xc2"
        + struct.pack("<i", 2**31 - 1)
        + b"\xc1"
        + struct.pack("<h", 0)
        + EOF_ZERO_CRC
    )
    got = [(r.key, r.value) for r in _records(data)]
    assert got == [(b"-128", b"-2147483648"), (b"-300", b"127"), (b"2147483647", b"0")]


def test_string_form_double_scores() -> None:
    data = (
        b"REDIS0006"
        + DB0
        + b"\x03"
        + rdb_string(b"z")
        + len_enc(5)
        + rdb_string(b"nan")
        + b"\xfd"
        + rdb_string(b"inf")
        + b"\xfe"
        + rdb_string(b"-inf")
        + b"\xff"
        + rdb_string(b"d")
        + b"\x043.25"
        + rdb_string(b"e")
        + b"\x171.0000000000000001e+300"
        + EOF_ZERO_CRC
    )
    (rec,) = _records(data)
    scores = dict(rec.value)
    assert scores[b"inf"] == float("inf") and scores[b"-inf"] == float("-inf")
    assert scores[b"nan"] != scores[b"nan"]  # NaN
    assert scores[b"d"] == 3.25 and scores[b"e"] == 1e300


def test_lzf_string_value() -> None:
    import lzf  # python-lzf (a dependency)

    text = b"abcabcabcabcabcabcabcabcabcabcabcabc-the-end"
    packed = lzf.compress(text)
    assert packed and len(packed) < len(text)
    data = (
        H9
        + DB0
        + b"\x00"
        + rdb_string(b"k")
        + b"\xc3"
        + len_enc(len(packed))
        + len_enc(len(text))
        + packed
        + EOF_ZERO_CRC
    )
    (rec,) = _records(data)
    assert rec.value == text and rec.encoding == "lzf"


def test_every_public_name_resolves() -> None:
    """``import rdbtools`` gives every operation as a plain function, the AOF, memory
    and diff ones loaded on first use."""
    import subprocess
    import sys

    import rdbtools

    for name in rdbtools.__all__:
        assert getattr(rdbtools, name) is not None, name
    assert callable(rdbtools.aof_rewrite) and callable(rdbtools.diff_files)
    with pytest.raises(AttributeError):
        rdbtools.no_such_name  # noqa: B018
    # reading an RDB does not load the AOF, memory or diff modules
    code = ("import sys, rdbtools; list(rdbtools.read_rdb('fixtures/7.0.15/lfu.rdb')); "
            "print(sorted(m for m in sys.modules if m.startswith(('rdbtools.memory', "
            "'rdbtools.ops.diff', 'rdbtools.replay'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parent.parent).stdout
    assert out.strip() == "[]"
