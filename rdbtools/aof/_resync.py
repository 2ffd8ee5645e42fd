"""Finding where a command starts without reading from the start of the file: used by
salvage (after damage) and by the two-process check (in the middle of a big file)."""

from __future__ import annotations

import re
from typing import BinaryIO

from rdbtools._buffer import Input
from rdbtools.aof import _exact

CANDIDATE = re.compile(rb"\*[1-9][0-9]{0,9}\r\n\$")
"""Where a command may start: a count line followed by a ``$`` line."""


def command_at(fp: BinaryIO, source: str, size: int,
               offset: int) -> tuple[tuple[bytes, ...], int] | None:
    """The command that starts at ``offset`` and where it ends, if one parses completely
    there and is followed by the end of the file, ``*`` or ``#``; else ``None``."""
    fp.seek(offset)
    inp = Input(fp, source, size=size, checksum=False, base=offset)
    if inp.peek_byte() != 0x2A:
        return None
    try:
        args = _exact.read_command(inp)
    except _exact.Damage:
        return None
    end = inp.tell()
    nxt = inp.peek_byte()
    if nxt is not None and nxt not in (0x2A, 0x23):
        return None
    return args, end
