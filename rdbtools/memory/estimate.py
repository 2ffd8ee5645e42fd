"""Per-key memory rows from an event stream (an RDB, or an AOF's replayed keyspace)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

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
from rdbtools.memory._estimator import KeyEstimator
from rdbtools.memory.model import MemoryModel, choose_model
from rdbtools.memory.rows import MemoryRow

__all__ = ["rows_from_events"]

_VALUE_EVENTS = (StringValue, ListItems, SetMembers, ZSetMembers, HashFields, StreamEntries,
                 StreamMeta, StreamGroup, StreamIdmp, ModuleValue)


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
    """
    aux: dict[bytes, bytes] = {}
    est: KeyEstimator | None = None
    slot_info = False
    value_events = _VALUE_EVENTS
    for ev in events:
        if isinstance(ev, value_events):
            if est is not None:
                est.feed(ev)
        elif isinstance(ev, KeyStart):
            if model is None:
                if cluster is None and slot_info:
                    cluster = True
                model = choose_model(aux, version=version, allocator=allocator,
                                     cluster=cluster)
            est = model.estimator(ev, file=file)
        elif isinstance(ev, KeyEnd):
            if est is not None:
                yield est.finish(ev)
                est = None
        elif isinstance(ev, Aux):
            aux[bytes(ev.name)] = bytes(ev.value)
        elif isinstance(ev, SlotInfo):
            slot_info = True
