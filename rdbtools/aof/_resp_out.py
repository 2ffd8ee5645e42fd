"""Writing RESP commands (FORMAT.md §8.1), shared by the AOF writers."""

from __future__ import annotations

from rdbtools.events import StreamId


def resp_command(*args: bytes) -> bytes:
    """``*<argc>\\r\\n`` then ``$<len>\\r\\n<bytes>\\r\\n`` per argument."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


def sid(value: StreamId) -> bytes:
    """A stream id as ``rioWriteBulkStreamID`` writes it: ``<ms>-<seq>``."""
    return b"%d-%d" % value
