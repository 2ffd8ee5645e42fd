"""Replay of the stream commands (``XADD``, ``XDEL``, ``XTRIM``, ``XSETID``,
``XGROUP``, ``XACK``, ``XCLAIM``, ``XAUTOCLAIM``, ``XREADGROUP``) on the stream model of
``rdbtools.replay.stream``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdbtools.replay.args import (
    CmdError,
)
from rdbtools.replay.keyspace import Obj
from rdbtools.replay.stream import (
    Stream,
    parse_strict_id,
    parse_trim_args,
    parse_xsetid,
    xack,
    xadd,
    xautoclaim,
    xclaim,
    xdel,
    xgroup,
    xreadgroup,
    xsetid,
    xtrim,
)

if TYPE_CHECKING:
    from rdbtools.replay.keyspace import Handler, Keyspace


def _stream(r: Keyspace, db: int, key: bytes) -> Stream | None:
    o = r.get(db, key, "stream")
    return None if o is None else o.value


def _xadd(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    s = _stream(r, db, a[0])
    new = xadd(s, a[1:], r.clock_ms)
    if s is None and new is not None:
        r.put(db, a[0], Obj("stream", new))


def _xdel(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    s = _stream(r, db, a[0])
    if s is not None:  # xdelCommand reads the ids once the key is there
        xdel(s, [parse_strict_id(x) for x in a[1:]])


def _xtrim(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    trim = parse_trim_args(a[1:], False)  # the server checks the options first
    s = _stream(r, db, a[0])
    if s is not None:
        xtrim(s, trim)


def _xsetid(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    args = parse_xsetid(a[1:])  # the server checks the arguments first
    s = _stream(r, db, a[0])
    if s is None:
        raise CmdError("no such key")
    xsetid(s, args)


def _xgroup(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    sub = a[0].upper()
    if sub == b"HELP":
        return
    s = _stream(r, db, a[1])
    new = xgroup(s, sub, a[2:], r.clock_ms)
    if s is None and new is not None:
        r.put(db, a[1], Obj("stream", new))


def _xack(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    s = _stream(r, db, a[0])
    if s is not None and a[1] in s.groups:  # xackCommand reads the ids after these
        xack(s, a[1], [parse_strict_id(x) for x in a[2:]])


def _xclaim(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    s = _stream(r, db, a[0])
    if s is None:
        raise CmdError("no such key")
    xclaim(s, a[1:], r.clock_ms, r.now_ms, keep_deleted=r.pel_keeps_deleted)


def _xautoclaim(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    xautoclaim(_stream(r, db, a[0]), a[1:], r.clock_ms)


def _xreadgroup(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    if a[0].upper() != b"GROUP":
        raise CmdError("Missing GROUP option for XREADGROUP")
    upper = [x.upper() for x in a]
    if b"STREAMS" not in upper:
        raise CmdError("syntax error")
    at = upper.index(b"STREAMS")
    rest = a[at + 1 :]
    if not rest or len(rest) % 2:
        raise CmdError("Unbalanced 'xreadgroup' list of streams")
    n = len(rest) // 2
    streams: list[tuple[Stream, bytes]] = []
    for k, id_arg in zip(rest[:n], rest[n:]):
        s = _stream(r, db, k)
        if s is None:
            raise CmdError("NOGROUP No such key or consumer group")
        streams.append((s, id_arg))
    xreadgroup(streams, a[1:at + 1], r.clock_ms)


COMMANDS: dict[bytes, Handler] = {
    b"XADD": _xadd,
    b"XDEL": _xdel,
    b"XTRIM": _xtrim,
    b"XSETID": _xsetid,
    b"XGROUP": _xgroup,
    b"XACK": _xack,
    b"XCLAIM": _xclaim,
    b"XAUTOCLAIM": _xautoclaim,
    b"XREADGROUP": _xreadgroup,
}
