"""``check``: read a whole stream (every value decoded) and summarize it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from rdbtools.events import (
    Aux,
    End,
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
    StreamEntries,
    StreamGroup,
    StreamIdmp,
    StreamMeta,
    StringValue,
    ZSetMembers,
)


@dataclass
class CheckSummary:
    """What ``check`` found.

    ``dbs`` maps a database to its key count, ``types`` a logical type to its key count.
    ``checksum_state`` is ``End.checksum_state`` (``ok``, ``zero``, ``absent``,
    ``skipped``), ``None`` when the stream had no ``End``.
    """

    version: int | None = None
    magic: str | None = None
    aux: list[tuple[bytes, bytes]] = field(default_factory=list)
    dbs: dict[int, int] = field(default_factory=dict)
    types: dict[str, int] = field(default_factory=dict)
    keys: int = 0
    expires: int = 0
    functions: int = 0
    module_aux: int = 0
    slot_info: int = 0
    slot_imports: int = 0
    checksum_state: str | None = None
    checksum: int | None = None


_PER_KEY = frozenset({
    KeyEnd, StringValue, ListItems, SetMembers, ZSetMembers, HashFields, StreamEntries,
    StreamMeta, StreamGroup, StreamIdmp, ModuleValue,
})


def check(events: Iterable[Event]) -> CheckSummary:
    """Consume ``events`` and return their summary. Damage in the input surfaces as the
    reader's ``ParseError``; a clean return means every byte was read and, when
    verification was on, the checksum matched or was not written."""
    summary = CheckSummary()
    dbs: Counter[int] = Counter()
    types: Counter[str] = Counter()
    for ev in events:
        tp = type(ev)
        if tp in _PER_KEY:  # most events: nothing to count
            continue
        if tp is KeyStart:
            assert isinstance(ev, KeyStart)
            dbs[ev.db] += 1
            types[ev.type] += 1
            if ev.expire_ms is not None:
                summary.expires += 1
        elif tp is Aux:
            assert isinstance(ev, Aux)
            summary.aux.append((ev.name, ev.value))
        elif tp is Header:
            assert isinstance(ev, Header)
            summary.version, summary.magic = ev.version, ev.magic
        elif tp is Function:
            summary.functions += 1
        elif tp is ModuleAux:
            summary.module_aux += 1
        elif tp is SlotInfo:
            summary.slot_info += 1
        elif tp is SlotImport:
            summary.slot_imports += 1
        elif tp is End:
            assert isinstance(ev, End)
            summary.checksum_state, summary.checksum = ev.checksum_state, ev.checksum
    summary.dbs = dict(sorted(dbs.items()))
    summary.types = dict(types.most_common())
    summary.keys = sum(dbs.values())
    return summary
