"""Helpers for the CLI, format and op tests: a strict RESP parser and hand-built event
streams. (Fixture discovery, running ``rdbtool`` and live servers: ``helpers.py``,
``helpers_server.py``.)"""

from __future__ import annotations

from collections.abc import Iterator

from rdbtools.events import (
    Aux,
    End,
    Event,
    Header,
    KeyEnd,
    KeyStart,
    SelectDb,
)


def parse_resp(data: bytes) -> list[list[bytes]]:
    """Parse a stream of RESP arrays of bulk strings, strictly (what ``redis-cli --pipe``
    sends); raises ``ValueError`` on anything else."""
    commands: list[list[bytes]] = []
    pos = 0
    while pos < len(data):
        end = data.index(b"\r\n", pos)
        if data[pos : pos + 1] != b"*":
            raise ValueError(f"expected '*' at {pos}")
        argc = int(data[pos + 1 : end])
        if argc < 1:
            raise ValueError(f"empty command at {pos}")
        pos = end + 2
        args = []
        for _ in range(argc):
            end = data.index(b"\r\n", pos)
            if data[pos : pos + 1] != b"$":
                raise ValueError(f"expected '$' at {pos}")
            size = int(data[pos + 1 : end])
            start = end + 2
            if data[start + size : start + size + 2] != b"\r\n":
                raise ValueError(f"bulk string at {start} not followed by CRLF")
            args.append(data[start : start + size])
            pos = start + size + 2
        commands.append(args)
    return commands


def key_events(
    key: bytes,
    type_: str,
    *values: Event,
    db: int = 0,
    encoding: str = "raw",
    expire_ms: int | None = None,
    idle: int | None = None,
    freq: int | None = None,
    size: int = 10,
) -> list[Event]:
    """The events of one key: ``KeyStart``, ``values``, ``KeyEnd``."""
    start = KeyStart(
        db=db,
        key=key,
        type=type_,
        encoding=encoding,
        rdb_type=0,
        expire_ms=expire_ms,
        idle=idle,
        freq=freq,
    )
    return [start, *values, KeyEnd(key=key, size=size, value_offset=0)]


def file_events(*keys: list[Event], version: int = 11) -> Iterator[Event]:
    """A whole file: header, one aux field, the keys (with SELECTDB), the end."""
    yield Header(version=version, magic="REDIS")
    yield Aux(b"redis-ver", b"7.2.6")
    db = None
    for events in keys:
        start = events[0]
        assert isinstance(start, KeyStart)
        if start.db != db:
            db = start.db
            yield SelectDb(db)
        yield from events
    yield End(checksum=0x1234, computed=0x1234, checksum_state="ok")


def _len(n: int) -> bytes:
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    return b"\x80" + n.to_bytes(4, "big")


def strings_rdb(keys: int, value_size: int) -> bytes:
    """A valid RDB version 9 file of ``keys`` string keys ``k0``, ``k1`` ... with
    ``value_size``-byte values and a zero (not computed) checksum."""
    parts = [b"REDIS0009", b"\xfe\x00"]
    value = _len(value_size) + b"v" * value_size
    for i in range(keys):
        key = b"k%d" % i
        parts.append(b"\x00" + _len(len(key)) + key + value)
    parts.append(b"\xff" + b"\x00" * 8)
    return b"".join(parts)
