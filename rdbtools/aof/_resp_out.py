"""Writing RESP commands (FORMAT.md §8.1), shared by the AOF writers."""

from __future__ import annotations

from collections.abc import Callable

from rdbtools._accel import speedups
from rdbtools.events import StreamId

ITEMS_PER_COMMAND = 64
"""Elements per RPUSH / SADD / ZADD / HMSET, as Redis's ``AOF_REWRITE_ITEMS_PER_CMD``."""

ADD_COMMANDS = {"list": b"RPUSH", "set": b"SADD", "zset": b"ZADD", "hash": b"HMSET"}
"""The command that adds elements to a key of each collection type."""


def _resp_command(*args: bytes) -> bytes:
    """``*<argc>\\r\\n`` then ``$<len>\\r\\n<bytes>\\r\\n`` per argument."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


resp_command: Callable[..., bytes] = speedups.resp if speedups else _resp_command
"""One RESP command from its arguments (the C extension's when it is built)."""


def sid(value: StreamId) -> bytes:
    """A stream id as ``rioWriteBulkStreamID`` writes it: ``<ms>-<seq>``."""
    return b"%d-%d" % value
