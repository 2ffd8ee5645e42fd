"""Replay of ``FUNCTION`` (``LOAD``, ``DELETE``, ``FLUSH``, ``RESTORE``), ``EVAL`` /
``EVALSHA`` of plain ``redis.call`` scripts, ``SCRIPT``; ``FCALL`` is not replayable."""

from __future__ import annotations

import hashlib
import io
import re
from typing import TYPE_CHECKING

from rdbtools import crc64
from rdbtools._buffer import Input
from rdbtools.errors import ParseError, UnsupportedType
from rdbtools.events import Command, library_name_in
from rdbtools.replay.args import (
    CmdError,
    parse_int,
)
from rdbtools.replay.keyspace import unreplayable

if TYPE_CHECKING:
    from rdbtools.replay.keyspace import Handler, Keyspace


def _library_name(code: bytes) -> bytes:
    """``FUNCTION LOAD``'s rule: the shebang's ``name=``, else an error."""
    name = library_name_in(code)
    if name is None:
        raise CmdError("Missing library metadata")
    return name


def _function(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    sub = a[0].upper()
    if sub == b"LOAD":
        replace = len(a) > 2 and a[1].upper() == b"REPLACE"
        code = a[-1]
        name = _library_name(code)
        if name in r.functions and not replace:
            raise CmdError(f"Library '{name!r}' already exists")
        r.functions[name] = code
        r.function_events.pop(name, None)
    elif sub == b"DELETE":
        if r.functions.pop(a[1], None) is None:
            raise CmdError("Library not found")
        r.function_events.pop(a[1], None)
    elif sub == b"FLUSH":
        r.functions.clear()
        r.function_events.clear()
    elif sub == b"RESTORE":
        function_restore(r, a[1:])
    elif sub in (b"LIST", b"DUMP", b"STATS", b"HELP", b"KILL"):
        return
    else:
        raise UnsupportedType(
            f"replay: unsupported command FUNCTION {sub.decode('utf-8', 'replace')}", offset=off)


def function_payload(payload: bytes) -> list[bytes]:
    """The library codes of a ``FUNCTION DUMP`` payload: ``FUNCTION2`` opcodes (245) each
    followed by the code as an rdb-string, then the u16 RDB version and the CRC-64 of
    everything before it, as ``verifyDumpPayload`` checks them."""
    if len(payload) < 10:
        raise CmdError("payload version or checksum are wrong")
    crc = int.from_bytes(payload[-8:], "little")
    if crc and crc != crc64.crc64(payload[:-8]):
        raise CmdError("payload version or checksum are wrong")
    body = payload[:-10]
    inp = Input(io.BytesIO(body), "FUNCTION RESTORE payload", size=len(body), checksum=False)
    codes: list[bytes] = []
    try:
        while inp.base + inp.pos < len(body):
            op = inp.read_byte()
            if op == 246:
                raise CmdError("Pre-GA function format not supported")
            if op != 245:
                raise CmdError("given type is not a function")
            codes.append(inp.read_string())
    except ParseError:
        raise CmdError("payload version or checksum are wrong") from None
    return codes


def function_restore(r: Keyspace, a: list[bytes]) -> None:
    """``FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]`` (``a`` after ``RESTORE``):
    ``APPEND`` (default) fails as a whole when a library exists, ``REPLACE`` overwrites
    libraries of the same name, ``FLUSH`` drops all libraries first."""
    policy = a[1].upper() if len(a) > 1 else b"APPEND"
    if len(a) > 2 or policy not in (b"FLUSH", b"APPEND", b"REPLACE"):
        raise CmdError("Wrong restore policy given")
    libs: dict[bytes, bytes] = {}
    for code in function_payload(a[0]):
        name = _library_name(code)
        if name in libs:
            raise CmdError(f"Library '{name!r}' already exists")
        libs[name] = code
    if policy == b"APPEND" and any(n in r.functions for n in libs):
        raise CmdError("Library already exists")
    if policy == b"FLUSH":
        r.functions.clear()
        r.function_events.clear()
    for name, code in libs.items():
        r.functions[name] = code
        r.function_events.pop(name, None)


_LUA_STMT = re.compile(
    r"""\s*(?:return\s+)?redis\.(?:p?call)\s*\((?P<args>[^()]*)\)\s*;?""")
_LUA_ARG = re.compile(r"""\s*(?:'(?P<s1>[^'\\]*)'|"(?P<s2>[^"\\]*)"|KEYS\[(?P<k>\d+)\]|"""
                      r"""ARGV\[(?P<v>\d+)\]|(?P<n>-?\d+))\s*(?:,|$)""")


def _plain_eval(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    """Scripts made only of ``redis.call(...)`` statements whose arguments are string or
    number literals, ``KEYS[i]`` or ``ARGV[i]`` (servers before 5.0 wrote scripts
    verbatim). Anything else is unsupported. Run by ``_eval`` and ``_evalsha``, which
    remember the script and count the unsupported ones skipped."""
    script = a[0].decode("utf-8", "replace")
    nkeys = parse_int(a[1])
    keys, argv = a[2 : 2 + nkeys], a[2 + nkeys :]
    calls: list[list[bytes]] = []
    pos = 0
    while pos < len(script.rstrip()):
        m = _LUA_STMT.match(script, pos)
        if not m:
            raise UnsupportedType("replay: unsupported command EVAL (script beyond "
                                  "plain redis.call statements)", offset=off)
        args: list[bytes] = []
        text = m.group("args")
        p = 0
        while p < len(text.strip()):
            am = _LUA_ARG.match(text, p)
            if not am or am.end() == p:
                raise UnsupportedType("replay: unsupported command EVAL (argument "
                                      "expression)", offset=off)
            if am.group("k"):
                args.append(keys[int(am.group("k")) - 1])
            elif am.group("v"):
                args.append(argv[int(am.group("v")) - 1])
            else:
                lit = am.group("s1") or am.group("s2") or am.group("n") or ""
                args.append(lit.encode())
            p = am.end()
        calls.append(args)
        pos = m.end()
    for c in calls:
        r.execute(Command(db, tuple(c), off))


def _fcall(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    """A function's effects depend on running its Lua code against the keyspace (and
    on the replies it reads), which replay does not do; servers write the commands it
    ran instead."""
    unreplayable(r, "FCALL", "script effects cannot be known offline: they depend on "
                  "running the function; servers write the commands it ran instead", off)


def _remember(r: Keyspace, script: bytes) -> None:
    r.scripts[hashlib.sha1(script).hexdigest().encode()] = script


def _eval(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    """``EVAL`` of plain ``redis.call`` statements (``_plain_eval``); any other script
    is counted and skipped with ``skip_unknown``. The script is remembered for
    ``EVALSHA``."""
    _remember(r, a[0])
    try:
        _plain_eval(r, db, a, off)
    except UnsupportedType:
        if not r.skip_unknown:
            raise
        r.skipped["EVAL"] += 1


def _evalsha(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    """``EVALSHA sha numkeys ...`` of a script this file loaded before (``EVAL`` or
    ``SCRIPT LOAD``: servers before 5.0 wrote ``EVALSHA`` only for those) runs as that
    ``EVAL``; another is not replayable: its effects cannot be known offline."""
    script = r.scripts.get(a[0].lower())
    if script is None:
        unreplayable(r, "EVALSHA", "script effects cannot be known offline: the script "
                      "was not loaded earlier in this file", off)
        return
    try:
        _plain_eval(r, db, [script, *a[1:]], off)
    except UnsupportedType:
        if not r.skip_unknown:
            raise
        r.skipped["EVALSHA"] += 1


def _script(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    """``SCRIPT LOAD`` remembers a script, ``SCRIPT FLUSH`` forgets them all."""
    sub = a[0].upper()
    if sub == b"LOAD":
        _remember(r, a[1])
    elif sub == b"FLUSH":
        r.scripts.clear()


COMMANDS: dict[bytes, Handler] = {
    b"FUNCTION": _function,
    b"FCALL": _fcall,
    b"EVAL": _eval,
    b"EVALSHA": _evalsha,
    b"SCRIPT": _script,
}
