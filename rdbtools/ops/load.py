"""``load``: read a ``dump --jsonl`` file back into events (the inverse of the JSON Lines
format, ``docs/jsonl-schema.md``), so that it can be written as an RDB of any version.

A malformed line raises ``WriteError`` naming the source, the line, the key and the
field. One line is held at a time: a key is as big in memory as its JSON line.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from rdbtools import _spec as S
from rdbtools.errors import WriteError
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

BATCH = 1024

# a logical type and stored encoding -> the RDB type byte the key came from
_TYPE_BYTES: dict[tuple[str, str], int] = {
    (t, e): b for b, (t, e) in S.TYPE_NAMES.items() if b not in (3, 6, 22, 23, 24)
}
_TYPE_BYTES[("string", "int")] = _TYPE_BYTES[("string", "lzf")] = S.TYPE_STRING


class _Bad(Exception):
    """A field that does not follow the schema (caught and located by ``load_events``)."""


def module_id(name: str, version: int) -> int:
    """The 64-bit module type id of a name and an encoding version (FORMAT.md §5.1)."""
    try:
        return S.module_type_id(name, version)
    except ValueError as exc:
        raise _Bad(str(exc)) from None


def _bytes(v: Any, field: str) -> bytes:
    if isinstance(v, str):
        try:
            return v.encode("utf-8")
        except UnicodeEncodeError:
            raise _Bad(f"{field}: string is not valid Unicode text") from None
    if isinstance(v, dict) and set(v) == {"b64"} and isinstance(v["b64"], str):
        try:
            return base64.b64decode(v["b64"], validate=True)
        except (binascii.Error, ValueError):
            raise _Bad(f"{field}: bad base64") from None
    raise _Bad(f"{field}: expected a string or {{\"b64\": ...}}, got {type(v).__name__}")


def _int(v: Any, field: str, *, optional: bool = False, low: int = 0) -> Any:
    if v is None and optional:
        return None
    if not isinstance(v, int) or isinstance(v, bool) or v < low:
        raise _Bad(f"{field}: expected an integer >= {low}, got {v!r}")
    return v


def _score(v: Any, field: str) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if v in ("inf", "+inf"):
        return math.inf
    if v == "-inf":
        return -math.inf
    if v == "nan":
        return math.nan
    raise _Bad(f"{field}: expected a number, \"inf\", \"-inf\" or \"nan\", got {v!r}")


def _id(v: Any, field: str) -> StreamId:
    if isinstance(v, str):
        ms, sep, seq = v.partition("-")
        if sep and ms.isdigit() and seq.isdigit():
            a, b = int(ms), int(seq)
            if a < 1 << 64 and b < 1 << 64:
                return a, b
    raise _Bad(f"{field}: expected a stream id \"ms-seq\", got {v!r}")


def _opt_id(v: Any, field: str) -> StreamId | None:
    return None if v is None else _id(v, field)


def _opt_bytes(v: Any, field: str) -> bytes | None:
    return None if v is None else _bytes(v, field)


def _list(v: Any, field: str) -> list[Any]:
    if not isinstance(v, list):
        raise _Bad(f"{field}: expected an array, got {type(v).__name__}")
    return v


def _pairs(v: Any, field: str) -> list[tuple[bytes, Any]]:
    """An object ``{name: x}`` or an array of ``[B, x]`` pairs."""
    if isinstance(v, dict):
        return [(k.encode("utf-8"), x) for k, x in v.items()]
    out = []
    for i, p in enumerate(_list(v, field)):
        if not isinstance(p, list) or len(p) != 2:
            raise _Bad(f"{field}[{i}]: expected a pair")
        out.append((_bytes(p[0], f"{field}[{i}][0]"), p[1]))
    return out


def _batches(items: list[Any], make: Any) -> Iterator[Event]:
    for i in range(0, len(items), BATCH):
        yield make(tuple(items[i : i + BATCH]))


def _value_events(tp: str, value: Any, obj: dict[str, Any]) -> Iterator[Event]:
    if tp == "string":
        yield StringValue(_bytes(value, "value"))
    elif tp == "list":
        yield from _batches([_bytes(x, f"value[{i}]") for i, x in
                             enumerate(_list(value, "value"))], ListItems)
    elif tp == "set":
        yield from _batches([_bytes(x, f"value[{i}]") for i, x in
                             enumerate(_list(value, "value"))], SetMembers)
    elif tp == "zset":
        members = []
        for i, p in enumerate(_list(value, "value")):
            if not isinstance(p, list) or len(p) != 2:
                raise _Bad(f"value[{i}]: expected [member, score]")
            members.append((_bytes(p[0], f"value[{i}][0]"), _score(p[1], f"value[{i}][1]")))
        yield from _batches(members, ZSetMembers)
    elif tp == "hash":
        expires = {f: _int(ms, f"field_expires[{f!r}]")
                   for f, ms in _pairs(obj.get("field_expires") or [], "field_expires")}
        fields = [(f, _bytes(v, f"value[{f!r}]"), expires.get(f))
                  for f, v in _pairs(value, "value")]
        yield from _batches(fields, HashFields)
    elif tp == "stream":
        yield from _stream_events(value)
    elif tp == "module":
        if not isinstance(value, dict):
            raise _Bad("value: expected a module object")
        name, version = value.get("module"), _int(value.get("module_version"),
                                                  "value.module_version")
        if not isinstance(name, str):
            raise _Bad("value.module: expected the module name")
        yield ModuleValue(module_id(name, version), name, version,
                          _bytes(value.get("payload"), "value.payload"))
    else:
        raise _Bad(f"type: unknown type {tp!r}")


def _stream_events(v: Any) -> Iterator[Event]:
    if not isinstance(v, dict):
        raise _Bad("value: expected a stream object")
    entries = []
    for i, e in enumerate(_list(v.get("entries", []), "value.entries")):
        if not isinstance(e, list) or len(e) != 2:
            raise _Bad(f"value.entries[{i}]: expected [id, [[field, value], ...]]")
        fields = tuple((f, _bytes(x, f"value.entries[{i}] value"))
                       for f, x in _pairs(e[1], f"value.entries[{i}][1]"))
        entries.append(StreamEntry(_id(e[0], f"value.entries[{i}][0]"), fields))
    yield from _batches(entries, StreamEntries)
    yield StreamMeta(
        len(entries),
        _id(v.get("last_id"), "value.last_id"),
        _opt_id(v.get("first_id"), "value.first_id"),
        _opt_id(v.get("max_deleted_id"), "value.max_deleted_id"),
        _int(v.get("entries_added"), "value.entries_added", optional=True),
    )
    for gi, g in enumerate(_list(v.get("groups") or [], "value.groups")):
        where = f"value.groups[{gi}]"
        if not isinstance(g, dict):
            raise _Bad(f"{where}: expected a group object")
        pending = []
        for pi, p in enumerate(_list(g.get("pending") or [], f"{where}.pending")):
            if not isinstance(p, list) or len(p) != 4:
                raise _Bad(f"{where}.pending[{pi}]: expected [id, consumer, time, count]")
            pending.append(StreamPending(
                _id(p[0], f"{where}.pending[{pi}][0]"),
                None if p[1] is None else _bytes(p[1], f"{where}.pending[{pi}][1]"),
                _int(p[2], f"{where}.pending[{pi}][2]", low=-(1 << 63)),
                _int(p[3], f"{where}.pending[{pi}][3]")))
        consumers = []
        for ci, c in enumerate(_list(g.get("consumers") or [], f"{where}.consumers")):
            cw = f"{where}.consumers[{ci}]"
            if not isinstance(c, dict):
                raise _Bad(f"{cw}: expected a consumer object")
            consumers.append(StreamConsumer(
                _bytes(c.get("name"), f"{cw}.name"),
                _int(c.get("seen_time_ms"), f"{cw}.seen_time_ms", low=-(1 << 63)),
                _int(c.get("active_time_ms"), f"{cw}.active_time_ms", optional=True,
                     low=-(1 << 63)),
                tuple(_id(x, f"{cw}.pending") for x in _list(c.get("pending") or [],
                                                             f"{cw}.pending"))))
        yield StreamGroup(
            _bytes(g.get("name"), f"{where}.name"),
            _id(g.get("last_delivered_id"), f"{where}.last_delivered_id"),
            _int(g.get("entries_read"), f"{where}.entries_read", optional=True, low=-1),
            tuple(pending), tuple(consumers))
    idmp = v.get("idmp")
    if idmp is not None:
        producers = tuple(
            (_bytes(p.get("name"), "value.idmp.producers.name"),
             tuple((_bytes(i[0], "value.idmp iid"), _id(i[1], "value.idmp id"))
                   for i in _list(p.get("iids") or [], "value.idmp.producers.iids")))
            for p in _list(idmp.get("producers") or [], "value.idmp.producers"))
        yield StreamIdmp(_int(idmp.get("duration"), "value.idmp.duration"),
                         _int(idmp.get("max_entries"), "value.idmp.max_entries"), producers,
                         _int(idmp.get("iids_added"), "value.idmp.iids_added"),
                         _int(idmp.get("iids_duplicates"), "value.idmp.iids_duplicates"))


def _record_event(obj: dict[str, Any]) -> Event | None:
    kind = obj.get("record")
    if kind == "header":
        return Header(_int(obj.get("version"), "version"), str(obj.get("magic", "REDIS")))
    if kind == "aux":
        return Aux(_bytes(obj.get("name"), "name"), _bytes(obj.get("value"), "value"))
    if kind == "function":
        return Function(_bytes(obj.get("code"), "code"), 0, _opt_bytes(obj.get("name"), "name"),
                        _opt_bytes(obj.get("engine"), "engine"),
                        _opt_bytes(obj.get("description"), "description"),
                        bool(obj.get("pre_ga", False)))
    if kind == "module_aux":
        name, version = obj.get("module"), _int(obj.get("module_version"), "module_version")
        if not isinstance(name, str):
            raise _Bad("module: expected the module name")
        return ModuleAux(module_id(name, version), name, version, _int(obj.get("when"), "when"),
                         _bytes(obj.get("payload"), "payload"))
    if kind == "slot_info":
        return SlotInfo(_int(obj.get("slot"), "slot"), _int(obj.get("keys"), "keys"),
                        _int(obj.get("expires"), "expires"))
    if kind == "slot_import":
        ranges = tuple((_int(r[0], "ranges"), _int(r[1], "ranges"))
                       for r in _list(obj.get("ranges") or [], "ranges"))
        return SlotImport(_bytes(obj.get("job_name"), "job_name"), ranges)
    if kind == "end":
        return None
    raise _Bad(f"record: unknown record kind {kind!r}")


def _key_events(obj: dict[str, Any]) -> Iterator[Event]:
    key = _bytes(obj.get("key"), "key")
    tp = obj.get("type")
    encoding = obj.get("encoding") or ""
    if not isinstance(tp, str) or tp not in S.LOGICAL_TYPES:
        raise _Bad(f"type: expected one of {', '.join(S.LOGICAL_TYPES)}, got {tp!r}")
    if "value" not in obj:
        raise _Bad("value: missing")
    rdb_type = _TYPE_BYTES.get((tp, str(encoding)), 0)
    if tp == "module" and isinstance(obj["value"], dict) and obj["value"].get("pre_ga"):
        rdb_type = S.TYPE_MODULE_PRE_GA
    start = KeyStart(
        _int(obj.get("db", 0), "db"), key, tp, str(encoding), rdb_type,
        _int(obj.get("expire_at_ms"), "expire_at_ms", optional=True, low=-(1 << 63)),
        _int(obj.get("idle"), "idle", optional=True),
        _int(obj.get("freq"), "freq", optional=True),
    )
    values = list(_value_events(tp, obj["value"], obj))
    yield start
    yield from values
    yield KeyEnd(key, 0, 0)


def load_events(lines: Iterable[bytes | str], source: str = "<jsonl>") -> Iterator[Event]:
    """Events for the lines of a ``dump --jsonl`` file. Empty lines are skipped."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        key: Any = None
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise _Bad("expected a JSON object")
            key = obj.get("key")
            if "key" in obj:
                yield from _key_events(obj)
            else:
                ev = _record_event(obj)
                if ev is not None:
                    yield ev
        except (_Bad, json.JSONDecodeError, UnicodeDecodeError) as exc:
            where = f" (key {key!r})" if key is not None else ""
            raise WriteError(f"{source}:{n}: {exc}{where}") from None


def load_jsonl(path: str) -> Iterator[Event]:
    """The events of a JSON Lines dump at ``path`` (``-``: standard input)."""
    if path == "-":
        yield from load_events(sys.stdin.buffer, "-")
        return
    with open(path, "rb") as fp:
        yield from load_events(fp, os.fspath(path))
