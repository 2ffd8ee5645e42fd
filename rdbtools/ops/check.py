"""``check``: read a whole stream (every value decoded) and summarize it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rdbtools.events import End, Event, KeyStart, SlotImport, SlotInfo
from rdbtools.ops._file_level import file_level_handlers


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


def check(events: Iterable[Event]) -> CheckSummary:
    """Consume ``events`` and return their summary. Damage in the input surfaces as the
    reader's ``ParseError``; a clean return means every byte was read and, when
    verification was on, the checksum matched or was not written."""
    summary = CheckSummary()
    dbs: Counter[int] = Counter()
    types: Counter[str] = Counter()

    def key_start(ev: KeyStart) -> None:
        dbs[ev.db] += 1
        types[ev.type] += 1
        if ev.expire_ms is not None:
            summary.expires += 1

    def slot_info(ev: SlotInfo) -> None:
        summary.slot_info += 1

    def slot_import(ev: SlotImport) -> None:
        summary.slot_imports += 1

    def end(ev: End) -> None:
        summary.checksum_state, summary.checksum = ev.checksum_state, ev.checksum

    on: dict[type, Callable[[Any], None]] = {
        **file_level_handlers(summary),
        KeyStart: key_start, SlotInfo: slot_info, SlotImport: slot_import, End: end,
    }
    get = on.get
    for ev in events:
        handler = get(type(ev))  # None for most events: value batches, KeyEnd
        if handler is not None:
            handler(ev)
    summary.dbs = dict(sorted(dbs.items()))
    summary.types = dict(types.most_common())
    summary.keys = sum(dbs.values())
    return summary
