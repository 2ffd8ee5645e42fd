"""Which arguments of an AOF command are key names (for ``aoftool stats``).

The table covers the commands servers write into an AOF (FORMAT.md §8.2) and the older
"as issued" forms; a command not in it is taken to have its key as first argument, which
is right for the single-key commands that make up almost every AOF. Commands without
keys (SELECT, MULTI, EXEC, FLUSHALL, FLUSHDB, SWAPDB, FUNCTION, SCRIPT, PING ...) give
none. This is a statistic, not replay: it only says which keys a command names.
"""

from __future__ import annotations

from rdbtools.aof._walk import SPECIAL

NOT_WRITES = frozenset(SPECIAL)
"""SELECT, MULTI and EXEC (upper case): they frame the commands around them and change
no key."""

_NONE = frozenset({
    b"SELECT", b"MULTI", b"EXEC", b"DISCARD", b"FLUSHALL", b"FLUSHDB", b"SWAPDB",
    b"FUNCTION", b"SCRIPT", b"PING", b"PUBLISH", b"SPUBLISH", b"READONLY", b"READWRITE",
    b"XREAD", b"XREADGROUP", b"MIGRATE", b"WAIT", b"DEBUG", b"CONFIG",
})
_ALL = frozenset({
    b"DEL", b"UNLINK", b"EXISTS", b"TOUCH", b"WATCH", b"PFMERGE", b"SUNIONSTORE",
    b"SINTERSTORE", b"SDIFFSTORE", b"MGET",
})
_PAIRS = frozenset({b"MSET", b"MSETNX"})
_TWO = frozenset({
    b"RENAME", b"RENAMENX", b"SMOVE", b"RPOPLPUSH", b"BRPOPLPUSH", b"LMOVE", b"BLMOVE",
    b"COPY", b"GEOSEARCHSTORE", b"ZRANGESTORE",
})
_NUMKEYS_AT_2 = frozenset({b"EVAL", b"EVALSHA", b"EVAL_RO", b"EVALSHA_RO", b"FCALL",
                           b"FCALL_RO"})
_DEST_NUMKEYS = frozenset({b"ZUNIONSTORE", b"ZINTERSTORE", b"ZDIFFSTORE"})
_NUMKEYS_AT_1 = frozenset({b"LMPOP", b"BLMPOP", b"ZMPOP", b"BZMPOP", b"SINTERCARD",
                           b"ZUNION", b"ZINTER", b"ZDIFF", b"ZINTERCARD"})


def _numkeys(args: tuple[bytes, ...], at: int) -> tuple[bytes, ...]:
    if len(args) <= at or not args[at].isdigit():
        return ()
    return args[at + 1:at + 1 + int(args[at])]


def command_keys(name: bytes, args: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """The key names in ``args`` (``name``: ``args[0]`` in upper case)."""
    if name in _NONE or len(args) < 2:
        return ()
    if name in _ALL:
        return args[1:]
    if name in _PAIRS:
        return args[1::2]
    if name in _TWO:
        return args[1:3]
    if name in _NUMKEYS_AT_2:
        return _numkeys(args, 2)
    if name in _DEST_NUMKEYS:
        return (args[1], *_numkeys(args, 2))
    if name in _NUMKEYS_AT_1:
        return _numkeys(args, 1)
    if name == b"BITOP":
        return args[2:]
    return (args[1],)
