"""Module commands in AOF replay, and the commands replay does not model.

RedisJSON commands whose effect is exact offline are modelled on the document: ``JSON.SET``
(``NX`` / ``XX``), ``JSON.DEL`` / ``JSON.FORGET``, ``JSON.MERGE``, ``JSON.ARRAPPEND``,
``JSON.NUMINCRBY``, ``JSON.TOGGLE``, ``JSON.CLEAR`` on a *definite* path: the root (``$``
or ``.``) then ``.name``, ``["name"]``, ``['name']`` or ``[index]`` steps (a legacy path
without ``$`` too). The key is a ``ReJSON-RL`` module value (``module_types.json_value``).

Any other command (another path form, another module's command, a command nobody knows)
is *carried*: appended to ``Replayer.carried`` as it was, and the keys it touches become
``not-replayed`` keys holding their commands (``NotReplayed``) and what they held before
(``Carried.base``). From then on every command that names such a key is carried too, so
no write is lost: ``aoftool rewrite`` writes each key's base, then the carried commands in
their order. ``FLUSHDB`` / ``FLUSHALL`` end what they clear. The keys of a module command
are its first argument, except ``JSON.MSET`` (every third from the first), ``CMS.MERGE``
and ``TDIGEST.MERGE`` (the destination and the ``numkeys`` sources); an unknown command's
key is taken to be its first argument; of a modelled command that names a carried key,
its first argument, or for a command that may name several keys (``DEL``, ``RENAME``,
``SUNIONSTORE`` ...) every argument that is a key or may become one.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rdbtools.errors import UnsupportedType
from rdbtools.events import Command, ModuleValue
from rdbtools.rdb.module_types import JSON_TYPE, json_text, json_value
from rdbtools.replay.args import INT64_MAX, INT64_MIN, CmdError
from rdbtools.replay.keyspace import Obj

if TYPE_CHECKING:
    from rdbtools.replay.keyspace import Handler, Keyspace


NOT_REPLAYED = "not-replayed"


@dataclass(slots=True)
class Carried:
    """A ``not-replayed`` key: what it held before the first carried command on it
    (``None``: nothing), and its commands since."""

    base: Any = None
    commands: list[Command] = field(default_factory=list)


class _Carry(Exception):
    """Raised by a JSON handler for a form it does not model: the command is carried."""


# --------------------------------------------------------------------------- carrying


def _multi_keys(args: tuple[bytes, ...], first: int) -> list[bytes]:
    """``dest numkeys src...``: the destination and the sources."""
    try:
        n = int(args[first + 1])
    except (IndexError, ValueError):
        return [args[first]] if len(args) > first else []
    return [args[first], *args[first + 2:first + 2 + max(n, 0)]]


_KEY_SPECS: dict[bytes, Callable[[tuple[bytes, ...]], list[bytes]]] = {
    b"JSON.MSET": lambda a: list(a[1::3]),
    b"CMS.MERGE": lambda a: _multi_keys(a, 1),
    b"TDIGEST.MERGE": lambda a: _multi_keys(a, 1),
}


def command_keys(args: tuple[bytes, ...]) -> list[bytes]:
    """The keys a command replay does not model touches (see the module docstring)."""
    spec = _KEY_SPECS.get(bytes(args[0]).upper())
    if spec is not None:
        return [bytes(k) for k in spec(args)]
    return [bytes(args[1])] if len(args) > 1 else []


def carry(r: Keyspace, cmd: Command, keys: list[bytes] | None = None) -> None:
    """Keep ``cmd`` verbatim and make the keys it touches ``not-replayed``."""
    if keys is None:
        keys = command_keys(cmd.args)
    r.carried.append(cmd)
    _taint(r, cmd, cmd.db, keys)


def _taint(r: Keyspace, cmd: Command, db: int, keys: list[bytes]) -> None:
    names = r.tainted.setdefault(db, set())
    d = r.db(db)
    for k in dict.fromkeys(keys):
        names.add(k)
        o = d.get(k)
        if o is None or o.type != NOT_REPLAYED:
            o = d[k] = Obj(NOT_REPLAYED, Carried(o))
        o.value.commands.append(cmd)


_MANY_KEYS = frozenset(x.encode() for x in (
    "DEL UNLINK TOUCH EXISTS MGET MSET MSETNX RENAME RENAMENX COPY MOVE SMOVE LMOVE "
    "BLMOVE RPOPLPUSH BRPOPLPUSH SUNIONSTORE SINTERSTORE SDIFFSTORE ZUNIONSTORE "
    "ZINTERSTORE ZDIFFSTORE ZRANGESTORE GEOSEARCHSTORE GEORADIUS GEORADIUSBYMEMBER SORT "
    "BITOP PFMERGE LMPOP ZMPOP BLMPOP BZMPOP EVAL EVALSHA FCALL").split())
"""Modelled commands that may name several keys: when one of them is a carried key, all
their arguments that are keys (or may become keys) are taken as touched."""


_TWO_KEYS = frozenset(x.encode() for x in (
    "RENAME RENAMENX COPY SMOVE LMOVE BLMOVE RPOPLPUSH BRPOPLPUSH ZRANGESTORE "
    "GEOSEARCHSTORE").split())
"""Of those, the ones whose first two arguments are keys."""


def carry_if_tainted(r: Keyspace, cmd: Command) -> bool:
    """Carry ``cmd`` when it names a key a carried command touched; ``True`` if so."""
    names = r.tainted.get(cmd.db)
    args = cmd.args
    if not names or not any(a in names for a in args[1:]):
        return False
    name = bytes(args[0]).upper()
    if name == b"SWAPDB":
        raise UnsupportedType("replay: SWAPDB of a database holding keys that replay "
                              "does not model", offset=cmd.offset)
    d = r.db(cmd.db)
    many = name in _MANY_KEYS
    if many:
        first = 3 if name in _TWO_KEYS else 2
        keys = [bytes(a) for a in args[1:first]]
        keys += [bytes(a) for a in args[first:] if a in d or a in names]
    elif name in r.commands:
        keys = [bytes(args[1])]
    else:
        keys = command_keys(args)
    r.carried.append(cmd)
    _taint(r, cmd, cmd.db, keys)
    if many:  # a destination it may create, wherever it names one
        names.update(bytes(a) for a in args[1:])
    if name in (b"MOVE", b"COPY"):
        target = _target_db(args)
        if target is not None:
            _taint(r, cmd, target, [bytes(args[2 if name == b"COPY" else 1])])
    return True


def _target_db(args: tuple[bytes, ...]) -> int | None:
    try:
        if bytes(args[0]).upper() == b"MOVE":
            return int(args[2])
        up = [bytes(a).upper() for a in args]
        return int(args[up.index(b"DB") + 1]) if b"DB" in up else None
    except (ValueError, IndexError):
        return None


def flushed(r: Keyspace, db: int, everything: bool) -> None:
    """``FLUSHALL`` / ``FLUSHDB`` cleared what the carried commands before it built."""
    if everything:
        r.carried.clear()
        r.tainted.clear()
    else:
        r.carried[:] = [c for c in r.carried if c.db != db]
        r.tainted.pop(db, None)


def not_replayed(r: Keyspace) -> dict[str, int]:
    """The carried commands by name (for reports)."""
    out: dict[str, int] = {}
    for c in r.carried:
        name = bytes(c.args[0]).upper().decode("utf-8", "replace")
        out[name] = out.get(name, 0) + 1
    return out


def rewrite_commands(key: bytes, o: Obj, version: int | str) -> list[tuple[bytes, ...]]:
    """The commands that rebuild a module key: ``JSON.SET key $ <text>`` for a JSON
    document, else ``RESTORE key 0 <payload>`` (the module's own serialized value, which
    only a server with the module loads; ``version``: its RDB version), then
    ``PEXPIREAT`` for a TTL."""
    from rdbtools.events import KeyStart
    from rdbtools.rdb.payload import encode_payload

    v = o.value
    assert isinstance(v, ModuleValue)
    out: list[tuple[bytes, ...]]
    if v.module_name == JSON_TYPE and v.decoded is not None:
        out = [(b"JSON.SET", key, b"$", json_text(v.decoded.document))]
    else:
        ks = KeyStart(0, key, "module", "module", 7)
        out = [(b"RESTORE", key, b"0", encode_payload(ks, [v], version))]
    if o.expire is not None:
        out.append((b"PEXPIREAT", key, b"%d" % o.expire))
    return out


# --------------------------------------------------------------------------- JSON paths

_STEP = re.compile(r"""\.([A-Za-z_][A-Za-z0-9_]*)|\[(-?\d+)\]"""
                   r"""|\[(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\]""")

Step = str | int


def parse_path(path: bytes) -> list[Step]:
    """A definite path as its steps (``[]`` for the root); ``_Carry`` for any other."""
    try:
        text = path.decode()
    except UnicodeDecodeError:
        raise _Carry from None
    if text in ("$", "."):
        return []
    if text.startswith("$"):
        rest = text[1:]
    elif text.startswith("."):
        rest = text
    else:
        rest = "." + text
    steps: list[Step] = []
    pos = 0
    while pos < len(rest):
        m = _STEP.match(rest, pos)
        if m is None:
            raise _Carry
        name, index, dq, sq = m.groups()
        if index is not None:
            steps.append(int(index))
        elif name is not None:
            steps.append(name)
        else:
            quoted = dq if dq is not None else sq
            if "\\" in quoted:
                raise _Carry
            steps.append(quoted)
        pos = m.end()
    return steps


def _resolve(doc: Any, steps: list[Step]) -> tuple[bool, Any]:
    """``(found, value)`` at ``steps``."""
    cur = doc
    for s in steps:
        if isinstance(s, str) and isinstance(cur, dict) and s in cur:
            cur = cur[s]
        elif isinstance(s, int) and isinstance(cur, list) and -len(cur) <= s < len(cur):
            cur = cur[s]
        else:
            return False, None
    return True, cur


def _parse_json(text: bytes) -> Any:
    """A JSON value the way the module reads it; numbers it would not keep exactly (beyond
    64 bits, or not finite) are not modelled."""
    def no_constant(_name: str) -> Any:
        raise _Carry

    try:
        value = json.loads(text, parse_constant=no_constant)
    except (ValueError, RecursionError):
        raise CmdError("ERR expected value") from None
    _check_exact(value)
    return value


def _check_exact(value: Any) -> None:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, bool):
            continue
        if isinstance(v, int) and not -(1 << 63) <= v < 1 << 64:
            raise _Carry
        if isinstance(v, float) and not math.isfinite(v):
            raise _Carry
        if isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())


# --------------------------------------------------------------------------- JSON keys


def _doc(r: Keyspace, db: int, key: bytes) -> tuple[bool, Any]:
    """``(exists, a private copy of the document)``; WRONGTYPE for another type."""
    o = r.get(db, key)
    if o is None:
        return False, None
    v = o.value
    if o.type != "module" or not isinstance(v, ModuleValue) or v.module_name != JSON_TYPE:
        raise CmdError("WRONGTYPE Operation against a key holding the wrong kind of value")
    if v.decoded is None:
        raise _Carry  # a document in an encoding not decoded here
    return True, copy.deepcopy(v.decoded.document)


def _store(r: Keyspace, db: int, key: bytes, doc: Any) -> None:
    o = r.get(db, key)
    expire = o.expire if o is not None else None
    r.put(db, key, Obj("module", json_value(doc), expire))


JsonHandler = Callable[["Keyspace", int, list[bytes]], None]


def _json(name: str, fn: JsonHandler) -> Handler:
    """The handler of a JSON command: a form ``fn`` does not model carries the command."""
    command = name.encode()

    def run(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
        try:
            fn(r, db, a)
        except _Carry:
            carry(r, Command(db, (command, *a), off))

    return run


def _existing(r: Keyspace, db: int, key: bytes) -> Any:
    """The document of a key that must exist (an error otherwise)."""
    exists, doc = _doc(r, db, key)
    if not exists:
        raise CmdError("no such key")
    return doc


def _parent(doc: Any, steps: list[Step], exists: bool) -> tuple[Any, Step] | None:
    """The container holding the last step of a non-root path, and that step (``None``
    when the container is missing); below the root a document must exist."""
    if not exists:
        raise CmdError("new objects must be created at the root")
    found, parent = _resolve(doc, steps[:-1])
    return (parent, steps[-1]) if found else None


def _in_list(parent: Any, last: Step) -> bool:
    return isinstance(parent, list) and isinstance(last, int) \
        and -len(parent) <= last < len(parent)


def _put_at(r: Keyspace, db: int, key: bytes, doc: Any, steps: list[Step], new: Any) -> None:
    """Store ``doc`` with ``new`` at ``steps`` (which exist); the root: ``new`` itself."""
    if not steps:
        doc = new
    else:
        _, parent = _resolve(doc, steps[:-1])
        parent[steps[-1]] = new
    _store(r, db, key, doc)


def _json_set(r: Keyspace, db: int, a: list[bytes]) -> None:
    """``JSON.SET key path value [NX|XX]``: the root creates or replaces the document;
    another path replaces a member or element that exists, or adds a member to an object
    that exists (``NX``: only a new one; ``XX``: only an existing one)."""
    key, steps, value = a[0], parse_path(a[1]), _parse_json(a[2])
    mode = a[3].upper() if len(a) > 3 else None
    if len(a) > 4 or mode not in (None, b"NX", b"XX"):
        raise CmdError("syntax error")
    exists, doc = _doc(r, db, key)
    if not steps:
        if (mode == b"NX" and exists) or (mode == b"XX" and not exists):
            return
        _store(r, db, key, value)
        return
    at = _parent(doc, steps, exists)
    if at is None:
        return
    parent, last = at
    if isinstance(parent, dict) and isinstance(last, str):
        present = last in parent
    elif _in_list(parent, last):
        present = True
    else:
        return
    if (mode == b"NX" and present) or (mode == b"XX" and not present):
        return
    parent[last] = value
    _store(r, db, key, doc)


def _json_del(r: Keyspace, db: int, a: list[bytes]) -> None:
    """``JSON.DEL key [path]``: the root (the default) deletes the key, another path the
    member or element there."""
    steps = parse_path(a[1]) if len(a) > 1 else []
    exists, doc = _doc(r, db, a[0])
    if not exists:
        return
    if not steps:
        r.delete(db, a[0])
        return
    at = _parent(doc, steps, exists)
    if at is None:
        return
    parent, last = at
    if (isinstance(parent, dict) and isinstance(last, str) and last in parent) \
            or _in_list(parent, last):
        del parent[last]
        _store(r, db, a[0], doc)


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7396 merge patch."""
    if not isinstance(patch, dict):
        return patch
    out = target if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _merge(out.get(k), v)
    return out


def _json_merge(r: Keyspace, db: int, a: list[bytes]) -> None:
    """``JSON.MERGE key path value``: RFC 7396 merge of ``value`` into what ``path``
    holds (the root of a missing key: the value, nulls removed)."""
    key, steps, patch = a[0], parse_path(a[1]), _parse_json(a[2])
    exists, doc = _doc(r, db, key)
    if not steps:
        if not exists and patch is None:
            return
        _store(r, db, key, _merge(doc if exists else None, patch))
        return
    at = _parent(doc, steps, exists)
    if at is None:
        return
    parent, last = at
    if isinstance(parent, dict) and isinstance(last, str):
        if last not in parent:
            raise _Carry  # whether a missing member is created differs by version
    elif not _in_list(parent, last):
        return
    if patch is None:
        if isinstance(parent, list):
            raise _Carry
        del parent[last]
    else:
        parent[last] = _merge(parent[last], patch)
    _store(r, db, key, doc)


def _json_arrappend(r: Keyspace, db: int, a: list[bytes]) -> None:
    """``JSON.ARRAPPEND key path value...``: appends to the array at ``path``."""
    key, steps = a[0], parse_path(a[1])
    values = [_parse_json(x) for x in a[2:]]
    if not values:
        raise CmdError("wrong number of arguments")
    doc = _existing(r, db, key)
    found, target = _resolve(doc, steps)
    if found and isinstance(target, list):
        target.extend(values)
        _store(r, db, key, doc)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _json_numincrby(r: Keyspace, db: int, a: list[bytes]) -> None:
    """``JSON.NUMINCRBY key path n``: integer + integer stays an integer (within 64
    bits), anything with a float is a float."""
    key, steps, by = a[0], parse_path(a[1]), _parse_json(a[2])
    if not _number(by):
        raise CmdError("expected a number")
    doc = _existing(r, db, key)
    found, target = _resolve(doc, steps)
    if not found or not _number(target):
        return
    result = target + by
    if isinstance(result, int) and not INT64_MIN <= result <= INT64_MAX:
        raise _Carry
    if isinstance(result, float) and not math.isfinite(result):
        return  # the module refuses an infinite result
    _put_at(r, db, key, doc, steps, result)


def _json_toggle(r: Keyspace, db: int, a: list[bytes]) -> None:
    """``JSON.TOGGLE key path``: flips the boolean at ``path``."""
    key, steps = a[0], parse_path(a[1])
    doc = _existing(r, db, key)
    found, target = _resolve(doc, steps)
    if found and isinstance(target, bool):
        _put_at(r, db, key, doc, steps, not target)


def _json_clear(r: Keyspace, db: int, a: list[bytes]) -> None:
    """``JSON.CLEAR key [path]``: an array or object at ``path`` emptied, a number set
    to 0."""
    key = a[0]
    steps = parse_path(a[1]) if len(a) > 1 else []
    exists, doc = _doc(r, db, key)
    if not exists:
        return
    found, target = _resolve(doc, steps)
    if found and isinstance(target, (list, dict)):
        _put_at(r, db, key, doc, steps, type(target)())
    elif found and _number(target):
        _put_at(r, db, key, doc, steps, 0)


COMMANDS: dict[bytes, Handler] = {
    b"JSON.SET": _json("JSON.SET", _json_set),
    b"JSON.DEL": _json("JSON.DEL", _json_del),
    b"JSON.FORGET": _json("JSON.FORGET", _json_del),
    b"JSON.MERGE": _json("JSON.MERGE", _json_merge),
    b"JSON.ARRAPPEND": _json("JSON.ARRAPPEND", _json_arrappend),
    b"JSON.NUMINCRBY": _json("JSON.NUMINCRBY", _json_numincrby),
    b"JSON.TOGGLE": _json("JSON.TOGGLE", _json_toggle),
    b"JSON.CLEAR": _json("JSON.CLEAR", _json_clear),
}

__all__ = ["Carried", "carry", "carry_if_tainted", "command_keys", "flushed",
           "not_replayed", "parse_path", "rewrite_commands"]
