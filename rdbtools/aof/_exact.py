"""The exact, one-item-at-a-time RESP parser: the reference the fast path of
``rdbtools.aof.resp`` falls back to, and what produces every error message.

It reads like ``redis-check-aof`` (FORMAT.md §8.1, §8.6):

* an item starting with ``#`` is an annotation: the line up to and including ``\\n``,
  at most 1023 bytes (``fgets`` into 1024 bytes), or up to the end of the input;
* an item starting with ``*`` is a command: ``*<argc>\\r\\n`` then ``argc`` times
  ``$<len>\\r\\n``, ``len`` bytes and a literal ``\\r\\n`` (checked). Count and length
  lines are read like ``fgets`` into 128 bytes (at most 127);
* anything else is a format error.

Differences from ``redis-check-aof``, on input no server writes: a count or length must
be plain decimal digits (``strtol`` would also take a sign, spaces or nothing at all), and
a count below 1 is an error (the server refuses it: "Bad file format").
"""

from __future__ import annotations

import re

from rdbtools._buffer import Input
from rdbtools.errors import TruncatedInput

ANNOTATION_MAX = 1023
"""Bytes of an annotation line read at once (``fgets`` into a 1024-byte buffer)."""
LINE_MAX = 127
"""Bytes of a ``*`` or ``$`` line read at once (``fgets`` into a 128-byte buffer)."""

_NUMBER = re.compile(rb"[*$](-?[0-9]+)\r\n\Z")


class Damage(Exception):
    """Raised by this module; ``rdbtools.aof.resp`` turns it into ``AofTruncated`` /
    ``AofCorrupt`` (it knows ``ok_up_to``)."""

    def __init__(self, message: str, offset: int, truncated: bool) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.truncated = truncated


def read_line(inp: Input, limit: int) -> bytes:
    """What ``fgets`` reads: up to and including ``\\n``, at most ``limit`` bytes, or
    up to the end of the input."""
    if len(inp.buf) - inp.pos < limit and not inp.eof:
        inp._fill(limit)  # noqa: SLF001 - the buffer's refill, shared on purpose
    buf, p = inp.buf, inp.pos
    e = buf.find(b"\n", p, p + limit)
    end = e + 1 if e >= 0 else min(p + limit, len(buf))
    inp.pos = end
    return buf[p:end]


def read_annotation(inp: Input) -> bytes:
    """An annotation line (``#`` ...), as the loaders skip it."""
    return read_line(inp, ANNOTATION_MAX)


def _number(inp: Input, line: bytes, at: int, what: str) -> int:
    m = _NUMBER.match(line)
    if m is not None:
        return int(m.group(1))
    if not line.endswith(b"\n") and len(line) < LINE_MAX and inp.eof and \
            inp.pos >= len(inp.buf):
        raise Damage(f"input ends inside the {what} line {line!r}", at, True)
    raise Damage(f"bad {what} line {line[:40]!r} (expected {line[:1].decode('latin-1')}"
                 f"<decimal>\\r\\n)", at, False)


def read_bulk(inp: Input, n: int, at: int) -> bytes:
    """``n`` bytes and the ``\\r\\n`` after them (``at``: where they start)."""
    left = None if inp.size is None else inp.size - at
    if left is not None and n + 2 > left:
        raise Damage(f"Expected to read {n + 2} bytes, got {max(left, 0)} bytes", at, True)
    try:
        if left is None and n > inp.max_string:
            # on a pipe a claimed length is not buffered: read past the limit (keeping
            # nothing) to tell a stream that ends inside it from a bulk too long to take
            inp.skip(inp.max_string + 1, "a bulk string")
            raise Damage(f"a bulk string of {n} bytes is longer than {inp.max_string} "
                         "(proto-max-bulk-len)", at, False)
        data = inp.read(n, "a bulk string")
        crlf = inp.read(2, "a bulk string")
    except TruncatedInput:
        got = inp.tell() - at + len(inp.buf) - inp.pos
        raise Damage(f"Expected to read {n + 2} bytes, got {got} bytes", at, True) from None
    if crlf != b"\r\n":
        raise Damage(f"Expected \\r\\n after the {n}-byte bulk string, got: "
                     f"{crlf.hex()}", at + n, False)
    return data


def read_command(inp: Input) -> tuple[bytes, ...]:
    """One command, from its ``*`` (the caller has seen it) to its last ``\\r\\n``."""
    at = inp.tell()
    argc = _number(inp, read_line(inp, LINE_MAX), at, "argument count")
    if argc < 1:
        raise Damage(f"bad argument count {argc} (a command has at least one argument)",
                     at, False)
    args = []
    for _ in range(argc):
        at = inp.tell()
        line = read_line(inp, LINE_MAX)
        if not line:
            raise Damage("input ends before a bulk string ('$' expected)", at, True)
        if line[:1] != b"$":
            raise Damage(f"Expected prefix '$', got: {line[:1]!r}", at, False)
        n = _number(inp, line, at, "bulk length")
        if n < 0:
            raise Damage(f"Expected to read string of {n} bytes, which is not in the "
                         "suitable range", at, False)
        args.append(read_bulk(inp, n, inp.tell()))
    return tuple(args)


def format_error(first: int, at: int) -> Damage:
    """Neither ``*`` nor ``#`` where an item starts."""
    shown = chr(first) if 0x20 <= first < 0x7F else "?"
    return Damage(f"format error: expected '*' or '#' at the start of a command, got "
                  f"0x{first:02x} ({shown!r})", at, False)
