"""``load``: read a ``dump --jsonl`` file back into events (the inverse of the JSON Lines
format, ``docs/jsonl-schema.md``), so that it can be written as an RDB of any version.

A malformed line raises ``CorruptInput`` (an input error, exit 3) naming the source,
the line, the member's path and the key. One line is held at a time: a key is as big
in memory as its JSON line.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

from rdbtools import _spec as S
from rdbtools.errors import CorruptInput
from rdbtools.events import (
    Aux,
    Event,
    Function,
    HashFields,
    Header,
    KeyEnd,
    KeyStart,
    ListItems,
    ModuleAux,
    ModuleValue,
    SetMembers,
    SlotImport,
    SlotInfo,
    StreamConsumer,
    StreamEntries,
    StreamEntry,
    StreamGroup,
    StreamId,
    StreamIdmp,
    StreamMeta,
    StreamPending,
    StringValue,
    ZSetMembers,
)
from rdbtools.sources import open_binary

BATCH = 1024

# a logical type and stored encoding -> the RDB type byte the key came from
_TYPE_BYTES: dict[tuple[str, str], int] = {
    (t, e): b for b, (t, e) in S.TYPE_NAMES.items() if b not in (3, 6, 22, 23, 24)
}
_TYPE_BYTES[("string", "int")] = _TYPE_BYTES[("string", "lzf")] = S.TYPE_STRING


U64 = (0, (1 << 64) - 1)
"""A length-encoded field of the RDB format (FORMAT.md §2.1): 0 .. 2^64-1."""
I64 = (-(1 << 63), (1 << 63) - 1)
"""An 8-byte signed field (millisecond times): -2^63 .. 2^63-1."""
FREQ = (0, 255)
"""The LFU counter is one byte (RDB_OPCODE_FREQ)."""
_NAME_SHOWN = 40
"""Characters of a hash field name shown in a member path."""


class _Bad(Exception):
    """A member that does not follow the schema: ``path`` is its JSON path from the line's
    object (``$.value.entries[3][0]``); caught and located by ``load_events``."""

    def __init__(self, path: str, text: str) -> None:
        super().__init__(f"{path}: {text}")


def _at(path: str, name: str) -> str:
    """The path of the member ``name`` of the object at ``path``."""
    if name.isidentifier():
        return f"{path}.{name}"
    shown = name if len(name) <= _NAME_SHOWN else name[:_NAME_SHOWN] + "..."
    return f"{path}[{json.dumps(shown)}]"


def module_id(name: str, version: int, path: str = "$") -> int:
    """The 64-bit module type id of a name and an encoding version (FORMAT.md §5.1); a
    bad one is refused naming ``<path>.module``."""
    try:
        return S.module_type_id(name, version)
    except ValueError as exc:
        raise _Bad(f"{path}.module", str(exc)) from None


def _type_name(v: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number", type(None): "null"}.get(type(v), "?")


def _str_bytes(v: str, path: str) -> bytes:
    try:
        return v.encode("utf-8")
    except UnicodeEncodeError:
        raise _Bad(path, "string is not valid Unicode text (a lone surrogate)") from None


def _bytes(v: Any, path: str) -> bytes:
    if isinstance(v, str):
        return _str_bytes(v, path)
    if isinstance(v, dict) and set(v) == {"b64"} and isinstance(v["b64"], str):
        try:
            return base64.b64decode(v["b64"], validate=True)
        except (binascii.Error, ValueError):
            raise _Bad(path, "bad base64") from None
    raise _Bad(path, f'expected a string or {{"b64": ...}}, got {_type_name(v)}')


def _int(v: Any, path: str, bounds: tuple[int, int] = U64, *, optional: bool = False) -> Any:
    """An integer within ``bounds`` (inclusive), or ``None`` when ``optional``."""
    if v is None and optional:
        return None
    low, high = bounds
    if not isinstance(v, int) or isinstance(v, bool):
        raise _Bad(path, f"expected an integer in {low}..{high}, got {_type_name(v)}")
    if not low <= v <= high:
        shown = str(v) if v.bit_length() <= 128 else f"a {len(str(abs(v)))}-digit number"
        raise _Bad(path, f"{shown} is out of range {low}..{high}")
    return v


def _score(v: Any, path: str) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        try:
            return float(v)
        except OverflowError:
            raise _Bad(path, "score out of the range of a double") from None
    if v in ("inf", "+inf"):
        return math.inf
    if v == "-inf":
        return -math.inf
    if v == "nan":
        return math.nan
    raise _Bad(path, f'expected a number, "inf", "-inf" or "nan", got {_type_name(v)}')


def _id(v: Any, path: str) -> StreamId:
    if isinstance(v, str) and len(v) <= 41:
        ms, sep, seq = v.partition("-")
        if sep and ms.isascii() and ms.isdigit() and seq.isascii() and seq.isdigit():
            a, b = int(ms), int(seq)
            if a < 1 << 64 and b < 1 << 64:
                return a, b
    shown = repr(v) if isinstance(v, str) and len(v) <= 41 else _type_name(v)
    raise _Bad(path, f'expected a stream id "ms-seq" (each 0..2^64-1), got {shown}')


def _opt_id(v: Any, path: str) -> StreamId | None:
    return None if v is None else _id(v, path)


def _opt_bytes(v: Any, path: str) -> bytes | None:
    return None if v is None else _bytes(v, path)


def _list(v: Any, path: str) -> list[Any]:
    if not isinstance(v, list):
        raise _Bad(path, f"expected an array, got {_type_name(v)}")
    return v


def _obj(v: Any, path: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise _Bad(path, f"expected an object, got {_type_name(v)}")
    return v


def _tuple(v: Any, n: int, path: str, what: str) -> list[Any]:
    """An array of exactly ``n`` items."""
    if not isinstance(v, list) or len(v) != n:
        raise _Bad(path, f"expected {what}")
    return v


def _pairs(v: Any, path: str) -> list[tuple[bytes, Any, str]]:
    """An object ``{name: x}`` or an array of ``[B, x]`` pairs, as (name, x, path of x)."""
    if isinstance(v, dict):
        return [(_str_bytes(k, _at(path, k)), x, _at(path, k)) for k, x in v.items()]
    out = []
    for i, p in enumerate(_list(v, path)):
        where = f"{path}[{i}]"
        _tuple(p, 2, where, "a pair [name, value]")
        out.append((_bytes(p[0], f"{where}[0]"), p[1], f"{where}[1]"))
    return out


def _batches(items: list[Any], make: Any) -> Iterator[Event]:
    for i in range(0, len(items), BATCH):
        yield make(tuple(items[i : i + BATCH]))


def _members(value: Any) -> list[bytes]:
    return [_bytes(x, f"$.value[{i}]") for i, x in enumerate(_list(value, "$.value"))]


def _value_events(tp: str, value: Any, obj: dict[str, Any]) -> Iterator[Event]:
    if tp == "string":
        yield StringValue(_bytes(value, "$.value"))
    elif tp == "list":
        yield from _batches(_members(value), ListItems)
    elif tp == "set":
        yield from _batches(_members(value), SetMembers)
    elif tp == "zset":
        members = []
        for i, p in enumerate(_list(value, "$.value")):
            _tuple(p, 2, f"$.value[{i}]", "[member, score]")
            members.append((_bytes(p[0], f"$.value[{i}][0]"), _score(p[1], f"$.value[{i}][1]")))
        yield from _batches(members, ZSetMembers)
    elif tp == "hash":
        expires = {f: _int(ms, where, I64)
                   for f, ms, where in _pairs(obj.get("field_expires") or [], "$.field_expires")}
        fields = [(f, _bytes(v, where), expires.get(f)) for f, v, where in _pairs(value, "$.value")]
        yield from _batches(fields, HashFields)
    elif tp == "stream":
        yield from _stream_events(value)
    elif tp == "module":
        _obj(value, "$.value")
        name = value.get("module")
        version = _int(value.get("module_version"), "$.value.module_version", (0, 1023))
        if not isinstance(name, str):
            raise _Bad("$.value.module", "expected the module name")
        yield ModuleValue(module_id(name, version, "$.value"), name, version,
                          _bytes(value.get("payload"), "$.value.payload"))


def _group(g: Any, where: str) -> StreamGroup:
    _obj(g, where)
    pending = []
    for pi, p in enumerate(_list(g.get("pending") or [], f"{where}.pending")):
        pw = f"{where}.pending[{pi}]"
        _tuple(p, 4, pw, "[id, consumer, delivery_time_ms, delivery_count]")
        pending.append(StreamPending(
            _id(p[0], f"{pw}[0]"), _opt_bytes(p[1], f"{pw}[1]"),
            _int(p[2], f"{pw}[2]", I64), _int(p[3], f"{pw}[3]")))
    consumers = []
    for ci, c in enumerate(_list(g.get("consumers") or [], f"{where}.consumers")):
        cw = f"{where}.consumers[{ci}]"
        _obj(c, cw)
        consumers.append(StreamConsumer(
            _bytes(c.get("name"), f"{cw}.name"),
            _int(c.get("seen_time_ms"), f"{cw}.seen_time_ms", I64),
            _int(c.get("active_time_ms"), f"{cw}.active_time_ms", I64, optional=True),
            tuple(_id(x, f"{cw}.pending[{i}]")
                  for i, x in enumerate(_list(c.get("pending") or [], f"{cw}.pending")))))
    return StreamGroup(
        _bytes(g.get("name"), f"{where}.name"),
        _id(g.get("last_delivered_id"), f"{where}.last_delivered_id"),
        _int(g.get("entries_read"), f"{where}.entries_read", I64, optional=True),
        tuple(pending), tuple(consumers))


def _idmp(idmp: Any) -> StreamIdmp:
    where = "$.value.idmp"
    _obj(idmp, where)
    producers = []
    for pi, p in enumerate(_list(idmp.get("producers") or [], f"{where}.producers")):
        pw = f"{where}.producers[{pi}]"
        _obj(p, pw)
        iids = []
        for ii, i in enumerate(_list(p.get("iids") or [], f"{pw}.iids")):
            iw = f"{pw}.iids[{ii}]"
            _tuple(i, 2, iw, "[iid, id]")
            iids.append((_bytes(i[0], f"{iw}[0]"), _id(i[1], f"{iw}[1]")))
        producers.append((_bytes(p.get("name"), f"{pw}.name"), tuple(iids)))
    return StreamIdmp(_int(idmp.get("duration"), f"{where}.duration"),
                      _int(idmp.get("max_entries"), f"{where}.max_entries"), tuple(producers),
                      _int(idmp.get("iids_added"), f"{where}.iids_added"),
                      _int(idmp.get("iids_duplicates"), f"{where}.iids_duplicates"))


def _stream_events(v: Any) -> Iterator[Event]:
    _obj(v, "$.value")
    entries: list[StreamEntry] = []
    for i, e in enumerate(_list(v.get("entries", []), "$.value.entries")):
        where = f"$.value.entries[{i}]"
        _tuple(e, 2, where, "[id, [[field, value], ...]]")
        fields = tuple((f, _bytes(x, xw)) for f, x, xw in _pairs(e[1], f"{where}[1]"))
        sid = _id(e[0], f"{where}[0]")
        if entries and sid <= entries[-1].id:
            raise _Bad(f"{where}[0]", "stream ids must ascend (the entry before has "
                       f"{entries[-1].id[0]}-{entries[-1].id[1]})")
        entries.append(StreamEntry(sid, fields))
    last_id = _id(v.get("last_id"), "$.value.last_id")
    if entries and last_id < entries[-1].id:
        raise _Bad("$.value.last_id", "is before the last entry's id")
    yield from _batches(entries, StreamEntries)
    yield StreamMeta(
        len(entries),
        last_id,
        _opt_id(v.get("first_id"), "$.value.first_id"),
        _opt_id(v.get("max_deleted_id"), "$.value.max_deleted_id"),
        _int(v.get("entries_added"), "$.value.entries_added", optional=True),
    )
    for gi, g in enumerate(_list(v.get("groups") or [], "$.value.groups")):
        yield _group(g, f"$.value.groups[{gi}]")
    if v.get("idmp") is not None:
        yield _idmp(v["idmp"])


def _record_event(obj: dict[str, Any]) -> Event | None:
    kind = obj.get("record")
    if kind == "header":
        magic = obj.get("magic", "REDIS")
        if magic not in ("REDIS", "VALKEY"):
            raise _Bad("$.magic", 'expected "REDIS" or "VALKEY"')
        return Header(_int(obj.get("version"), "$.version"), magic)
    if kind == "aux":
        return Aux(_bytes(obj.get("name"), "$.name"), _bytes(obj.get("value"), "$.value"))
    if kind == "function":
        return Function(_bytes(obj.get("code"), "$.code"), 0,
                        _opt_bytes(obj.get("name"), "$.name"),
                        _opt_bytes(obj.get("engine"), "$.engine"),
                        _opt_bytes(obj.get("description"), "$.description"),
                        bool(obj.get("pre_ga", False)))
    if kind == "module_aux":
        name = obj.get("module")
        version = _int(obj.get("module_version"), "$.module_version", (0, 1023))
        if not isinstance(name, str):
            raise _Bad("$.module", "expected the module name")
        return ModuleAux(module_id(name, version), name, version,
                         _int(obj.get("when"), "$.when"), _bytes(obj.get("payload"), "$.payload"))
    if kind == "slot_info":
        return SlotInfo(_int(obj.get("slot"), "$.slot"), _int(obj.get("keys"), "$.keys"),
                        _int(obj.get("expires"), "$.expires"))
    if kind == "slot_import":
        ranges = []
        for i, r in enumerate(_list(obj.get("ranges") or [], "$.ranges")):
            _tuple(r, 2, f"$.ranges[{i}]", "[first, last]")
            ranges.append((_int(r[0], f"$.ranges[{i}][0]"), _int(r[1], f"$.ranges[{i}][1]")))
        return SlotImport(_bytes(obj.get("job_name"), "$.job_name"), tuple(ranges))
    if kind == "end":
        return None
    shown = repr(kind) if isinstance(kind, str) and len(kind) <= 40 else _type_name(kind)
    raise _Bad("$.record", f"unknown record kind {shown}")


def _key_events(obj: dict[str, Any]) -> Iterator[Event]:
    key = _bytes(obj.get("key"), "$.key")
    tp = obj.get("type")
    encoding = obj.get("encoding") or ""
    if not isinstance(tp, str) or tp not in S.LOGICAL_TYPES:
        raise _Bad("$.type", f"expected one of {', '.join(S.LOGICAL_TYPES)}")
    if not isinstance(encoding, str):
        raise _Bad("$.encoding", f"expected a string, got {_type_name(encoding)}")
    if "value" not in obj:
        raise _Bad("$.value", "missing")
    rdb_type = _TYPE_BYTES.get((tp, encoding), 0)
    if tp == "module" and isinstance(obj["value"], dict) and obj["value"].get("pre_ga"):
        rdb_type = S.TYPE_MODULE_PRE_GA
    start = KeyStart(
        _int(obj.get("db", 0), "$.db"), key, tp, encoding, rdb_type,
        _int(obj.get("expire_at_ms"), "$.expire_at_ms", I64, optional=True),
        _int(obj.get("idle"), "$.idle", optional=True),
        _int(obj.get("freq"), "$.freq", FREQ, optional=True),
    )
    values = list(_value_events(tp, obj["value"], obj))
    yield start
    yield from values
    yield KeyEnd(key, 0, 0)


def _key_of(obj: dict[str, Any]) -> bytes | None:
    """The key a line names, for the error message, when it can be read."""
    try:
        return _bytes(obj.get("key"), "$.key") if "key" in obj else None
    except _Bad:
        return None


def load_events(lines: Iterable[bytes | str], source: str = "<jsonl>") -> Iterator[Event]:
    """Events for the lines of a ``dump --jsonl`` file. Empty lines are skipped.

    A line that is not JSON, or a member that does not follow the schema (a wrong type,
    a number out of the range its RDB field can hold: ``freq`` 0..255, times -2^63..2^63-1,
    counts and ``db`` 0..2^64-1) raises ``CorruptInput`` located as
    ``<source>:<line>: $.member.path: what (key b'...')``. An input without any other
    line is refused too: empty is not a dump of nothing."""
    empty = True
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        empty = False
        obj: Any = None
        try:
            try:
                obj = json.loads(line)
            except RecursionError:
                raise _Bad("$", "nesting too deep") from None
            except (ValueError, UnicodeDecodeError) as err:  # JSONDecodeError is one
                raise _Bad("$", f"not JSON: {err}") from None
            _obj(obj, "$")
            if "key" in obj:
                yield from _key_events(obj)
            else:
                ev = _record_event(obj)
                if ev is not None:
                    yield ev
        except _Bad as exc:
            key = _key_of(obj) if isinstance(obj, dict) else None
            raise CorruptInput(str(exc), source=f"{source}:{n}", key=key) from None
    if empty:
        raise CorruptInput("empty input: no RDB header and no JSON Lines record",
                           source=source, offset=0)


def load_jsonl(path: str) -> Iterator[Event]:
    """The events of a JSON Lines dump at ``path`` (``-``: standard input; a URL;
    compressed or not: ``rdbtools.sources``)."""
    with open_binary(path) as src:
        yield from load_events(src.fp, src.name)
