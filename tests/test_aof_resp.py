"""The RESP parser on hand-made input: annotations, SELECT, MULTI/EXEC, arguments that
hold CR LF, every truncation point, mutations and hostile lengths (only ``ParseError``,
offsets within the input, no big allocation), window boundaries, error messages."""

from __future__ import annotations

import io
import random
import time
import tracemalloc

import pytest
from test_aof_support import resp, simple_parse, small_aof

from rdbtools._buffer import Input
from rdbtools.aof import AofCorrupt, AofTruncated
from rdbtools.aof.resp import Batch, RespReader, command_size
from rdbtools.errors import ParseError
from rdbtools.events import Command


def reader(data: bytes, **kw: object) -> RespReader:
    return RespReader(Input(io.BytesIO(data), "t.aof", size=len(data), checksum=False),
                      **kw)  # type: ignore[arg-type]


def commands(data: bytes) -> list[Command]:
    return list(reader(data).commands())


def error(data: bytes, **kw: object) -> ParseError:
    with pytest.raises(ParseError) as info:
        for _ in reader(data, **kw).batches():
            pass
    return info.value


def test_small_aof_equals_simple_parser() -> None:
    data = small_aof()
    got = [(c.offset, c.args, c.db, c.timestamp) for c in commands(data)]
    want = [(c.offset, c.args, c.db, c.timestamp) for c in simple_parse(data)]
    assert got == want
    assert {c.db for c in commands(data)} == {0, 3, 1}
    assert [c.timestamp for c in commands(data)][-1] == 1700000005


def test_command_db_is_where_it_runs() -> None:
    data = resp(b"SET", b"a", b"1") + resp(b"SELECT", b"5") + resp(b"SET", b"b", b"2")
    assert [(c.db, c.args[0]) for c in commands(data)] == [(0, b"SET"), (0, b"SELECT"),
                                                           (5, b"SET")]


@pytest.mark.parametrize("window", [1, 2, 3, 7, 16, 100, 1 << 20])
def test_windows(window: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from rdbtools.aof import resp as resp_module

    data = small_aof() * 3
    want = [(c.offset, c.args, c.db, c.timestamp) for c in commands(data)]
    monkeypatch.setattr(resp_module, "WINDOW", window)
    got = [(c.offset, c.args, c.db, c.timestamp) for c in commands(data)]
    assert got == want
    lean = reader(data, framing_only=True)
    assert sum(b.count for b in lean.batches()) == len(want)


def test_batches_sizes_and_ends() -> None:
    data = small_aof()
    for b in reader(data).batches():
        for args, size in zip(b.args, b.sizes()):
            assert size == command_size(args)


def test_every_truncation_point() -> None:
    """Every prefix: the commands before the damage come out (a prefix of the whole
    list), then only a framing error, with offsets and ok_up_to within the input."""
    data = small_aof()
    full = [(c.offset, c.args) for c in commands(data)]
    for n in range(len(data) + 1):
        cut = data[:n]
        got: list[tuple[int, tuple[bytes, ...]]] = []
        try:
            for c in reader(cut).commands():
                got.append((c.offset, c.args))
        except (AofTruncated, AofCorrupt) as err:
            assert err.offset is not None and 0 <= err.offset <= n
            assert 0 <= err.ok_up_to <= n
            assert all(off < err.ok_up_to or err.in_multi for off, _ in got)
        assert got == full[: len(got)]
        framing = reader(cut, framing_only=True)
        try:
            count = sum(b.count for b in framing.batches())
        except (AofTruncated, AofCorrupt):
            count = -1
        assert count in (len(got), -1)


def test_mutations_raise_only_parse_errors() -> None:
    data = small_aof()
    rnd = random.Random(11)
    for _ in range(1500):
        b = bytearray(data)
        for _ in range(rnd.randint(1, 4)):
            b[rnd.randrange(len(b))] = rnd.choice(b"*$#\r\n019aZ \x00\xff")
        for framing in (False, True):
            try:
                for _ in reader(bytes(b), framing_only=framing).batches():
                    pass
            except ParseError as err:
                assert err.offset is not None and 0 <= err.offset <= len(b)


def test_framing_and_full_agree_on_mutations() -> None:
    data = small_aof() * 2
    rnd = random.Random(5)
    for _ in range(400):
        b = bytearray(data)
        b[rnd.randrange(len(b))] = rnd.choice(b"*$#\r\n01")
        results: list[tuple[object, ...]] = []
        for framing in (False, True):
            r = reader(bytes(b), framing_only=framing)
            try:
                n = sum(x.count for x in r.batches())
                results.append(("ok", n, r.db, r.timestamp))
            except ParseError as err:
                results.append((type(err).__name__, err.offset, str(err)))
        assert results[0] == results[1]


def test_hostile_lengths_do_not_allocate() -> None:
    for data in (b"*1\r\n$99999999999999\r\nabc", b"*999999999\r\n$1\r\na\r\n",
                 b"*2\r\n$3\r\nSET\r\n$4294967296\r\n" + b"x" * 100):
        tracemalloc.start()
        t = time.monotonic()
        err = error(data)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert isinstance(err, AofTruncated)
        assert peak < 4 << 20
        assert time.monotonic() - t < 2


def test_hostile_length_on_a_pipe() -> None:
    data = b"*1\r\n$99999999999\r\n" + b"x" * 1000
    inp = Input(io.BytesIO(data), "pipe", size=None, checksum=False)
    with pytest.raises(AofTruncated) as info:
        list(RespReader(inp).batches())
    assert "Expected to read 100000000001 bytes, got 1000 bytes" in str(info.value)


@pytest.mark.parametrize(
    ("data", "cls", "message", "offset", "ok_up_to"),
    [
        (resp(b"SET", b"k", b"v")[:-2], AofTruncated, "Expected to read 3 bytes, got 1 bytes",
         24, 0),
        (resp(b"SET", b"k", b"v")[:-4], AofTruncated, "input ends inside the bulk length",
         20, 0),
        (resp(b"PING") + b"*3\r\n$3\r\nSET\r\n$1", AofTruncated, "input ends inside the bulk "
         "length line", 27, 14),
        (resp(b"PING") + b"+OK\r\n", AofCorrupt, "format error: expected '*' or '#'", 14, 14),
        (resp(b"PING") + b"*1\r\n:5\r\n", AofCorrupt, "Expected prefix '$', got: b':'", 18,
         14),
        (b"*x\r\n", AofCorrupt, "bad argument count line", 0, 0),
        (b"*0\r\n", AofCorrupt, "bad argument count 0", 0, 0),
        (b"*1\r\n$-2\r\n", AofCorrupt, "Expected to read string of -2 bytes", 4, 0),
        (b"*1\r\n$2\r\nabcd", AofCorrupt, "Expected \\r\\n after the 2-byte bulk string, "
         "got: 6364", 10, 0),
        (resp(b"MULTI") + resp(b"SET", b"a", b"b"), AofTruncated,
         "Reached EOF before reading EXEC for MULTI", 42, 0),
        (resp(b"SET", b"a", b"b") + resp(b"MULTI") + resp(b"MULTI"), AofCorrupt,
         "Unexpected MULTI", 42, 27),
        (resp(b"EXEC"), AofCorrupt, "Unexpected EXEC", 0, 0),
        (resp(b"SELECT", b"x"), AofCorrupt, "SELECT needs one database number", 0, 0),
        (resp(b"SELECT"), AofCorrupt, "SELECT needs one database number", 0, 0),
    ],
)
def test_messages(data: bytes, cls: type, message: str, offset: int, ok_up_to: int) -> None:
    for framing in (False, True):
        err = error(data, framing_only=framing)
        assert type(err) is cls
        assert message in err.message
        assert err.offset == offset
        assert err.ok_up_to == ok_up_to  # type: ignore[attr-defined]
        assert str(err).startswith(f"t.aof@{offset:#x}: ")


def test_annotations() -> None:
    data = (b"#TS:100\r\n" + resp(b"A") + b"#anything\n" + resp(b"B") + b"#TS:bad\r\n"
            + resp(b"C") + b"#" + b"x" * 2000 + b"\r\n")
    # the 2000-byte annotation is read as 1023 bytes, then the rest is a format error
    err = error(data)
    assert "format error" in err.message
    cmds = []
    r = reader(data[: data.index(b"#xxx")])
    cmds = [(c.args[0], c.timestamp) for c in r.commands()]
    assert cmds == [(b"A", 100), (b"B", 100), (b"C", 100)]
    assert r.annotations == 3
    # a last annotation without its newline is fine (fgets reads it)
    assert [c.args for c in commands(resp(b"A") + b"#TS:12")] == [(b"A",)]


def test_timestamp_limit() -> None:
    data = (b"#TS:100\r\n" + resp(b"A") + b"#TS:200\r\n" + resp(b"B") + b"#TS:300\r\n"
            + resp(b"C"))
    for framing in (False, True):
        r = reader(data, timestamp_limit=200, framing_only=framing)
        n = sum(b.count for b in r.batches())
        assert n == 2
        assert r.cut_at == data.index(b"#TS:300")
    r = reader(data, timestamp_limit=1000)
    assert sum(b.count for b in r.batches()) == 3 and r.cut_at is None
    # inside a MULTI the cut moves to the MULTI
    data2 = resp(b"A") + resp(b"MULTI") + b"#TS:500\r\n" + resp(b"B") + resp(b"EXEC")
    r = reader(data2, timestamp_limit=10)
    list(r.batches())
    assert r.cut_at == len(resp(b"A"))
    err = error(b"#TS:12x\r\n" + resp(b"A"), timestamp_limit=5)
    assert "Invalid timestamp annotation" in err.message


def test_big_command_and_crlf_args() -> None:
    big = b"x\r\n" * 500_000
    data = resp(b"SET", b"big", big) + resp(b"SET", b"a", b"b") * 3
    got = commands(data)
    assert [c.args for c in got] == [(b"SET", b"big", big)] + [(b"SET", b"a", b"b")] * 3
    assert sum(b.count for b in reader(data, framing_only=True).batches()) == 4


def test_many_args_command() -> None:
    args = [b"RPUSH", b"l"] + [b"%d" % i for i in range(10_000)]
    data = resp(*args) + resp(b"PING")
    got = commands(data)
    assert got[0].args == tuple(args) and got[1].offset == len(resp(*args))


def test_batch_type() -> None:
    data = small_aof()
    batches = list(reader(data).batches())
    assert all(isinstance(b, Batch) and b.count == len(b.args) for b in batches)
    lean = list(reader(data, framing_only=True).batches())
    # no arguments, except for the commands the exact parser read (one per batch)
    assert all(not b.args or len(b.args) == b.count == 1 for b in lean)
    assert any(not b.args for b in lean)
