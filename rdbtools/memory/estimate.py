"""Per-key memory rows from an event stream (an RDB, or an AOF's replayed keyspace)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from rdbtools._make import maker
from rdbtools.events import (
    Aux,
    Event,
    HashFields,
    KeyEnd,
    KeyStart,
    ListItems,
    ModuleValue,
    SetMembers,
    SlotInfo,
    StreamEntries,
    StreamGroup,
    StreamIdmp,
    StreamMeta,
    StringValue,
    ZSetMembers,
)
from rdbtools.memory._batch import is_int
from rdbtools.memory._estimator import Accumulator, new_acc
from rdbtools.memory._key_costs import KeyCosts
from rdbtools.memory.model import MemoryModel, choose_model, key_costs
from rdbtools.memory.module_costs import ModuleAcc
from rdbtools.memory.rows import MemoryRow

__all__ = ["rows_from_events"]

_VALUE_EVENTS = frozenset((ListItems, SetMembers, ZSetMembers, HashFields, StreamEntries,
                           StreamMeta, StreamGroup, StreamIdmp, ModuleValue))

_make_row = maker(MemoryRow)
"""``MemoryRow`` from its twelve fields in order (with the C extension, without the
frozen ``__init__``'s per-field ``object.__setattr__``)."""


def rows_from_events(
    events: Iterable[Event],
    *,
    file: str,
    model: MemoryModel | None = None,
    version: str | None = None,
    allocator: str | None = None,
    cluster: bool | None = None,
) -> Iterator[MemoryRow]:
    """One ``MemoryRow`` per key of ``events``, in stream order, holding one key's
    accumulator at a time.

    Without ``model`` the model is chosen (``choose_model``) from the AUX fields seen
    before the first key, with ``version`` / ``allocator`` / ``cluster`` overriding what
    they say (a SLOT_INFO record before the first key means cluster mode); a given
    ``model`` is used as is. Replayed AOF events carry no AUX fields: pass ``version``.
    ``size`` is ``KeyEnd.size``: the bytes of the key's record in an RDB; events replayed
    from an AOF (``rdbtools.replay.replay``) carry ``KeyEnd.size == 0``, so their rows
    have ``size`` 0 (an AOF has no per-key record to measure).

    The same estimate as ``MemoryModel.estimator`` (``KeyEstimator``) gives key by key;
    strings, most keys of a typical file, are costed here from their length and first
    bytes without an accumulator.
    """
    aux: dict[bytes, bytes] = {}
    slot_info = False
    value_events = _VALUE_EVENTS
    make_row = _make_row
    kc = key_costs(model) if model is not None else None
    table = KeyCosts.TABLE
    robj = embstr_max = 0
    embstr: list[int] = []
    share: list[int] = []
    raws: dict[int, int] = {}
    if kc is not None:
        robj, embstr_max, embstr, share = kc.robj, kc.embstr_max, kc.embstr, kc.share
        raws = kc.raws
    start: KeyStart | None = None
    acc: Accumulator | ModuleAcc | None = None
    is_string = False
    length = 0
    head = b""
    untyped: Iterable[Any] = events  # dispatched on the exact type below
    for ev in untyped:
        tp = type(ev)
        if tp is StringValue:
            if is_string:
                data = ev.data
                if not length:
                    head = data  # the whole string when it may be an integer
                elif length < 21:
                    head = (head + data)[:21]
                length += len(data)
        elif tp is KeyStart:
            if kc is None:
                if cluster is None and slot_info:
                    cluster = True
                model = choose_model(aux, version=version, allocator=allocator,
                                     cluster=cluster)
                kc = key_costs(model)
                robj, embstr_max, embstr, share = kc.robj, kc.embstr_max, kc.embstr, kc.share
                raws = kc.raws
            start = ev
            if ev.type == "string":
                is_string = True
                length = 0
                head = b""
                acc = None
            else:
                is_string = False
                acc = new_acc(kc.c, ev)
        elif tp is KeyEnd:
            s = start
            if s is None or kc is None:
                continue
            start = None
            row_type = s.type
            key = s.key
            expires = s.expire_ms is not None
            if is_string:
                is_string = False
                elements = largest = length  # a string's "elements" are its bytes, as in `info`
                klen = len(key)
                if not kc.apart or klen >= table:
                    encoding, memory = kc.string(klen, expires, length, head)
                # the common case of KeyCosts.string, inline: a key apart from its value
                elif length <= 20 and is_int(head):
                    encoding, memory = "int", robj + share[klen]
                elif length <= embstr_max:
                    encoding, memory = "embstr", embstr[length] + share[klen]
                else:
                    raw = raws.get(length)
                    encoding, memory = "raw", (kc.raw(length) if raw is None else raw) + share[klen]
            elif acc is not None:
                encoding, value = acc.result()
                memory = kc.total(len(key), expires, value, encoding, 0)
                elements, largest = acc.elements, acc.largest
                row_type = acc.row_type
                acc = None
            else:
                continue
            yield make_row(file, s.db, key, row_type, encoding, memory, ev.size, elements,
                           largest, s.expire_ms, s.idle, s.freq)
        elif tp in value_events:
            if acc is not None:
                acc.feed(ev)
        elif tp is Aux:
            aux[bytes(ev.name)] = bytes(ev.value)
        elif tp is SlotInfo:
            slot_info = True
