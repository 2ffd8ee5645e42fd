"""Bad input raises ParseError — quickly, without big allocations, never anything else.

- truncation: every fixture cut at many offsets (every offset below 4 KiB, else a seeded
  sample plus every key boundary) raises a ParseError (normally TruncatedInput) whose
  offset lies within what was read; cut after the RDB's end it reads as before;
- flipped bytes (seeded): with checksum verification, a flipped byte of a checksummed file
  gives an error; without verification, a ParseError or a clean read;
- hypothesis: random bytes, random record streams with hostile lengths, mutated fixtures;
- hostile lengths (2^62, 4 GiB, LZF sizes, counts) raise fast with a small tracemalloc peak,
  from a file and from a pipe;
- the CLI on damaged files: one line on stderr, the documented exit code, no traceback.
"""

from __future__ import annotations

import io
import os
import random
import struct
import time
import tracemalloc
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import helpers
import pytest
from helpers import RdbCase, len_enc, rdb_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CASES = helpers.all_cases()
PARAMS = helpers.case_params(CASES)
SMALL = 4096
SAMPLE = 300
PER_PARSE_LIMIT = 20.0  # seconds: a hang is a bug, not a slow test


def _read(data: bytes, **kw: Any) -> helpers.ReadResult:
    with helpers.time_limit(PER_PARSE_LIMIT, "one parse"):
        return helpers.read_all(io.BytesIO(data), **kw)


def _parse_error() -> type[BaseException]:
    from rdbtools import ParseError

    return ParseError


def _plain(case: RdbCase) -> tuple[helpers.ReadResult, int | None]:
    res = helpers.read_case(case.path)
    if res.error is not None:
        return res, None
    return res, helpers.rdb_end(res.events, helpers.header_version(case.data))


def truncation_points(case: RdbCase, end: int) -> list[int]:
    if end < SMALL:
        return list(range(end))
    from rdbtools.events import KeyEnd, KeyStart

    rng = random.Random(zlib.crc32(case.id.encode()))
    points = set(rng.sample(range(end), min(SAMPLE, end)))
    points.update({0, 1, 5, 8, 9, 10, end - 1, end - 8, end - 9})
    res = helpers.read_case(case.path)
    start = None
    for ev in res.events:
        if isinstance(ev, KeyStart):
            start = ev
            points.add(ev.offset)
        elif isinstance(ev, KeyEnd) and start is not None:
            points.update({ev.value_offset, start.offset + ev.size, start.offset + ev.size - 1})
    return sorted(p for p in points if 0 <= p < end)


@pytest.mark.parametrize("case", PARAMS)
def test_truncated_input_raises_parse_error(case: RdbCase) -> None:
    ParseError = _parse_error()
    res, end = _plain(case)
    data = case.data
    if end is None:
        end = len(data)  # a file that does not load: every cut must fail as well
    kinds: Counter[str] = Counter()
    problems: list[str] = []
    for n in truncation_points(case, end):
        got = _read(data[:n])
        if got.error is None:
            problems.append(f"cut at {n}: read without error ({len(got.events)} events)")
        elif not isinstance(got.error, ParseError):
            problems.append(f"cut at {n}: {type(got.error).__name__}: {got.error!r}")
        else:
            kinds[type(got.error).__name__] += 1
            off = got.error.offset
            if off is None or not 0 <= off <= n:
                problems.append(f"cut at {n}: error offset {off} not within the {n} bytes read")
        if len(problems) >= 20:
            break
    if res.error is None and end < len(data) + 1:
        whole = _read(data[:end])
        if whole.error is not None or whole.events != res.events:
            problems.append(
                f"cut right after the RDB end ({end}): {whole.error or 'different events'}"
            )
    if set(kinds) - {"TruncatedInput"}:
        helpers.NOTES.append(f"truncated {case.id}: {dict(kinds)}")
    assert not problems, f"{case.id}:\n" + "\n".join(problems)


@pytest.mark.parametrize("case", PARAMS)
def test_truncated_pipe_at_key_boundaries(case: RdbCase) -> None:
    """Cut at key boundaries and read through a pipe (no size known)."""
    from rdbtools.events import KeyEnd

    ParseError = _parse_error()
    res, end = _plain(case)
    if end is None:
        pytest.skip("does not load")
    cuts = sorted(
        {ev.offset for ev in res.events if not isinstance(ev, KeyEnd) and ev.offset < end}
    )
    if len(cuts) > 60:
        cuts = sorted(random.Random(7).sample(cuts, 60))
    problems = []
    for n in cuts:
        with helpers.time_limit(PER_PARSE_LIMIT, "one parse"):
            got = helpers.read_all(helpers.ChunkedReader(case.data[:n], seed=n, max_chunk=512))
        if not isinstance(got.error, ParseError):
            problems.append(f"cut at {n} (pipe): {got.error!r}")
        elif got.error.offset is None or got.error.offset > n:
            problems.append(f"cut at {n} (pipe): offset {got.error.offset}")
    assert not problems, f"{case.id}:\n" + "\n".join(problems[:20])


FLIPS = 16


@pytest.mark.parametrize("case", PARAMS)
def test_flipped_bytes(case: RdbCase) -> None:
    from rdbtools.events import End, Header

    ParseError = _parse_error()
    res, end = _plain(case)
    if end is None:
        pytest.skip("does not load")
    data = case.data
    ends = [e for e in res.events if isinstance(e, End)]
    state = ends[-1].checksum_state
    version = next(e for e in res.events if isinstance(e, Header)).version
    rng = random.Random(zlib.crc32(case.id.encode()) ^ 0xF11B)
    positions = rng.sample(range(end), min(FLIPS, end))
    problems: list[str] = []
    for pos in positions:
        mutated = bytearray(data[:end])
        mutated[pos] ^= rng.randint(1, 255)
        m = bytes(mutated)
        for verify in (True, False):
            got = _read(m, verify_checksum=verify)
            what = f"byte {pos} flipped ({data[pos]:#04x}->{m[pos]:#04x}), verify={verify}"
            if got.error is not None:
                if not isinstance(got.error, ParseError):
                    problems.append(f"{what}: {type(got.error).__name__}: {got.error!r}")
                continue
            if not verify:
                continue
            # success with verification on: only where the format allows it
            new_end = [e for e in got.events if isinstance(e, End)]
            allowed = (
                state != "ok"
                and not (state == "zero" and pos >= end - 8)
                or 5 <= pos < 9  # the version digits: an older version may have no checksum
                or (
                    new_end
                    and new_end[-1].checksum_state == "zero"
                    and new_end[-1].offset != ends[-1].offset
                )
                or (new_end and new_end[-1].checksum_state == "absent")
            )
            if not allowed:
                problems.append(
                    f"{what}: read without error (checksum state {state!r}, version {version})"
                )
    assert not problems, f"{case.id}:\n" + "\n".join(problems[:20])


# --------------------------------------------------------------------------- hostile lengths

H9 = b"REDIS0009"
H10 = b"REDIS0010"
H12 = b"REDIS0012"
DB0 = b"\xfe\x00"
HUGE = b"\x81" + (2**62).to_bytes(8, "big")
FOUR_G = b"\x80\xff\xff\xff\xff"
KEY = rdb_string(b"k")


def _key(rdb_type: int, value: bytes, header: bytes = H9) -> bytes:
    return header + DB0 + bytes([rdb_type]) + KEY + value


def _ziplist(zlbytes: int | None = None) -> bytes:
    """A one-entry ziplist ``[b"a"]`` (``zlbytes`` overrides its header's total size)."""
    body = b"\x00\x01a\xff"
    return struct.pack("<IIH", 10 + len(body) if zlbytes is None else zlbytes, 10, 1) + body


LISTPACK_A = struct.pack("<IH", 10, 1) + b"\x81a\x02\xff"  # a one-entry listpack [b"a"]


HOSTILE: dict[str, bytes] = {
    "string length 2^62": _key(0, HUGE + b"x" * 64),
    "string length 4 GiB": _key(0, FOUR_G + b"x" * 64),
    "lzf uncompressed length 2^62": _key(
        0, b"\xc3" + len_enc(4) + HUGE + b"\x01ab\x00" + b"\xff" + b"\0" * 8
    ),
    "lzf uncompressed length 4 GiB": _key(
        0, b"\xc3" + len_enc(4) + FOUR_G + b"\x01ab\x00" + b"\xff" + b"\0" * 8
    ),
    "lzf compressed length 2^62": _key(0, b"\xc3" + HUGE + len_enc(10) + b"\x01ab"),
    "key length 2^62": H9 + DB0 + b"\x00" + HUGE + b"k" * 32,
    "list count 2^62": _key(1, HUGE + rdb_string(b"a")),
    "set count 2^62": _key(2, HUGE + rdb_string(b"a")),
    "zset count 2^62": _key(3, HUGE + rdb_string(b"a") + b"\x011"),
    "zset2 count 2^62": _key(5, HUGE + rdb_string(b"a") + struct.pack("<d", 1.0)),
    "hash count 2^62": _key(4, HUGE + rdb_string(b"f") + rdb_string(b"v")),
    "quicklist nodes 2^62": _key(14, HUGE + rdb_string(_ziplist())),
    "quicklist2 nodes 2^62": _key(18, HUGE + len_enc(2) + rdb_string(LISTPACK_A), H10),
    "ziplist zlbytes 4 GiB": _key(10, rdb_string(_ziplist(0xFFFFFFFF))),
    "ziplist in quicklist zlbytes 4 GiB": _key(14, len_enc(1) + rdb_string(_ziplist(0xFFFFFFFF))),
    "intset length 2^31": _key(11, rdb_string(struct.pack("<II", 8, 0x7FFFFFFF) + b"\x01" * 8)),
    "intset bad width": _key(11, rdb_string(struct.pack("<II", 3, 2) + b"\x01" * 6)),
    "listpack total bytes 4 GiB": _key(
        16, rdb_string(struct.pack("<IH", 0xFFFFFFFF, 2) + b"\x81a\x02\x81b\x02\xff"), H10
    ),
    "listpack element length 2^32": _key(
        20,
        rdb_string(struct.pack("<IH", 20, 1) + b"\xf0\xff\xff\xff\xff" + b"x" * 8 + b"\xff"),
        H10,
    ),
    "zipmap length 2^32": _key(9, rdb_string(b"\x01\xfe\xff\xff\xff\xff" + b"x" * 8 + b"\xff")),
    "stream nodes 2^62": _key(15, HUGE + rdb_string(b"\0" * 16)),
    "stream groups 2^62": _key(
        15, len_enc(0) + len_enc(0) + len_enc(0) + len_enc(0) + HUGE + rdb_string(b"g")
    ),
    "stream pel 2^62": _key(
        15,
        len_enc(0) * 4
        + len_enc(1)
        + rdb_string(b"g")
        + len_enc(0)
        + len_enc(0)
        + HUGE
        + b"\0" * 24,
    ),
    "stream consumers 2^62": _key(
        15,
        len_enc(0) * 4
        + len_enc(1)
        + rdb_string(b"g")
        + len_enc(0) * 2
        + len_enc(0)
        + HUGE
        + rdb_string(b"c"),
    ),
    "hash metadata count 2^62": _key(
        24, b"\0" * 8 + HUGE + len_enc(0) + rdb_string(b"f") + rdb_string(b"v"), H12
    ),
    "module string 2^62": _key(7, len_enc(0x1234567890ABCD00) + len_enc(5) + HUGE + b"x" * 32),
    "aux name length 2^62": H9 + b"\xfa" + HUGE + b"x" * 32,
    "aux value length 4 GiB": H9 + b"\xfa" + rdb_string(b"redis-ver") + FOUR_G + b"x" * 32,
    "function length 2^62": H10 + b"\xf5" + HUGE + b"x" * 32,
    "module aux string 2^62": H9
    + b"\xf7"
    + len_enc(0x1234567890ABCD00)
    + len_enc(2)
    + len_enc(1)
    + len_enc(5)
    + HUGE,
    "length byte 0x82": _key(0, b"\x82" + b"\0" * 16),
    "string length 2^64-1": _key(0, b"\x81" + b"\xff" * 8 + b"x" * 8),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("source", ["bytes", "pipe"])
def test_hostile_length_raises_fast_without_allocating(name: str, source: str) -> None:
    ParseError = _parse_error()
    data = HOSTILE[name]
    src: Any = (
        io.BytesIO(data)
        if source == "bytes"
        else helpers.ChunkedReader(data, seed=3, max_chunk=4096)
    )
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        t0 = time.perf_counter()
        with helpers.time_limit(10, name):
            got = helpers.read_all(src)
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(got.error, ParseError), f"{name}: {got.error!r} ({len(got.events)} events)"
    assert elapsed < 2.0, f"{name}: took {elapsed:.2f} s"
    assert peak < 8 * 2**20, f"{name}: tracemalloc peak {peak / 2**20:.1f} MiB"


def test_real_file_with_hostile_length(tmp_path: Path) -> None:
    """By path too (the reader knows the file size there)."""
    ParseError = _parse_error()
    for name in ("string length 2^62", "lzf uncompressed length 2^62", "list count 2^62"):
        p = tmp_path / "hostile.rdb"
        p.write_bytes(HOSTILE[name])
        tracemalloc.start()
        try:
            got = helpers.read_all(str(p))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert isinstance(got.error, ParseError), f"{name}: {got.error!r}"
        assert got.error.source, f"{name}: error without .source"
        assert peak < 8 * 2**20, f"{name}: peak {peak / 2**20:.1f} MiB"


# --------------------------------------------------------------------------- hypothesis

HYP = settings(
    max_examples=int(os.environ.get("RDBTOOLS_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _only_parse_errors(data: bytes, **kw: Any) -> None:
    ParseError = _parse_error()
    got = _read(data, **kw)
    if got.error is not None and not isinstance(got.error, ParseError):
        raise AssertionError(
            f"{type(got.error).__name__} escaped the reader: {got.error!r} for {data[:80]!r}"
        )


@HYP
@given(st.binary(max_size=512))
def test_random_bytes(data: bytes) -> None:
    _only_parse_errors(data)


HEADERS = [f"REDIS{v:04d}".encode() for v in range(1, 14)] + [
    b"VALKEY080",
    b"REDIS0099",
    b"REDIS",
    b"REDIS00x1",
]


@HYP
@given(st.sampled_from(HEADERS), st.binary(max_size=512), st.booleans())
def test_header_then_random_bytes(header: bytes, body: bytes, verify: bool) -> None:
    _only_parse_errors(header + body, verify_checksum=verify)


def _lengths() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.integers(0, 63).map(len_enc),
        st.integers(0, 20000).map(len_enc),
        st.sampled_from(
            [HUGE, FOUR_G, b"\x81" + b"\xff" * 8, b"\x80\x00\x00\x00\x05", b"\xc0", b"\xc3"]
        ),
        st.binary(min_size=1, max_size=9),
    )


def _token() -> st.SearchStrategy[bytes]:
    op = st.sampled_from(
        list(range(0, 30))
        + [0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE]
    )
    return st.tuples(op, st.lists(st.one_of(_lengths(), st.binary(max_size=24)), max_size=6)).map(
        lambda t: bytes([t[0]]) + b"".join(t[1])
    )


@HYP
@given(
    st.sampled_from(HEADERS[:13] + [b"VALKEY080"]), st.lists(_token(), max_size=8), st.booleans()
)
def test_random_record_streams(header: bytes, tokens: list[bytes], eof: bool) -> None:
    data = header + b"".join(tokens) + (b"\xff" + b"\0" * 8 if eof else b"")
    _only_parse_errors(data)


def _small_fixtures() -> list[bytes]:
    out = []
    for case in CASES:
        if case.expected_fail or len(case.data) > 2048 or case.kind == "aof-preamble":
            continue
        out.append(case.data)
    return out or [H9 + b"\xff" + b"\0" * 8]


SMALL_FILES = _small_fixtures()


@HYP
@given(
    st.sampled_from(range(len(SMALL_FILES))),
    st.lists(
        st.tuples(
            st.sampled_from(["flip", "insert", "delete", "set"]),
            st.integers(0, 4095),
            st.integers(0, 255),
        ),
        min_size=1,
        max_size=6,
    ),
    st.booleans(),
)
def test_mutated_fixtures(index: int, mutations: list[tuple[str, int, int]], verify: bool) -> None:
    data = bytearray(SMALL_FILES[index])
    for op, pos, byte in mutations:
        if not data:
            break
        pos %= len(data)
        if op == "flip":
            data[pos] ^= byte or 1
        elif op == "insert":
            data.insert(pos, byte)
        elif op == "delete":
            del data[pos]
        else:
            data[pos] = byte
    _only_parse_errors(bytes(data), verify_checksum=verify)


# --------------------------------------------------------------------------- CLI


def _cli_case() -> RdbCase | None:
    for case in CASES:
        if case.kind == "rdb" and not case.expected_fail and 2000 < len(case.data) < 200_000:
            return case
    return None


CLI_CASE = _cli_case()


def _one_line_error(proc: Any, expected_code: int) -> None:
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err[-3000:]
    assert proc.returncode != 0
    assert len(err.strip().splitlines()) == 1, f"stderr is not one line: {err!r}"
    assert proc.returncode == expected_code, f"exit {proc.returncode}, want {expected_code}: {err}"


@pytest.mark.skipif(CLI_CASE is None, reason="no fixture for the CLI error tests")
@pytest.mark.parametrize("cut", [0.0, 0.001, 0.5, 0.999])
def test_cli_on_truncated_file(tmp_path: Path, cut: float) -> None:
    assert CLI_CASE is not None
    data = CLI_CASE.data[: int(len(CLI_CASE.data) * cut)]
    p = tmp_path / "truncated.rdb"
    p.write_bytes(data)
    lib = helpers.read_all(str(p))
    assert lib.error is not None
    proc = helpers.run_rdbtool("dump", str(p), "--jsonl")
    _one_line_error(proc, lib.error.exit_code)  # type: ignore[attr-defined]
    piped = helpers.run_rdbtool("dump", "-", "--jsonl", stdin=data)
    _one_line_error(piped, proc.returncode)


@pytest.mark.skipif(CLI_CASE is None, reason="no fixture for the CLI error tests")
def test_cli_on_checksum_mismatch_and_garbage(tmp_path: Path) -> None:
    from rdbtools import ChecksumMismatch

    assert CLI_CASE is not None
    data = bytearray(CLI_CASE.data)
    data[-1] ^= 0x01
    p = tmp_path / "badcrc.rdb"
    p.write_bytes(bytes(data))
    proc = helpers.run_rdbtool("dump", str(p), "--jsonl")
    _one_line_error(proc, ChecksumMismatch.exit_code)
    g = tmp_path / "garbage.rdb"
    g.write_bytes(b"this is not an RDB file at all\n" * 10)
    lib = helpers.read_all(str(g))
    assert lib.error is not None
    proc = helpers.run_rdbtool("dump", str(g), "--jsonl")
    _one_line_error(proc, lib.error.exit_code)  # type: ignore[attr-defined]
    missing = helpers.run_rdbtool("dump", str(tmp_path / "no-such-file.rdb"), "--jsonl")
    err = missing.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert missing.returncode == 8, (
        f"exit {missing.returncode} for a missing file, want 8 (docs): {err}"
    )
