"""``info``: what a file holds and what takes the space, in one streaming pass.

Sizes are serialized sizes (``KeyEnd.size``: the bytes of the key's record in the file,
attribute opcodes, type byte and key name included), not server memory. Element counts
are: string bytes, list items, set members, sorted-set members, hash fields, live
stream entries (module values have none). Percentiles come from a bounded histogram
(exact below 1024 elements, within 0.2% above; see ``rdbtools/histogram.py``).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import Any

from rdbtools.clock import now_ms as current_ms
from rdbtools.events import (
    Event,
    HashFields,
    KeyEnd,
    KeyStart,
    ListItems,
    ModuleValue,
    NotReplayed,
    SetMembers,
    StreamEntries,
    StringValue,
    ZSetMembers,
)
from rdbtools.histogram import Histogram
from rdbtools.ops._file_level import file_level_handlers

PERCENTILES = (50, 90, 99)
"""The element-count percentiles reported per type."""


@dataclass
class Tally:
    """A number of keys and their serialized bytes."""

    keys: int = 0
    bytes: int = 0


@dataclass
class TypeStats:
    """Keys and bytes of one logical type, and per encoding stored in the file."""

    keys: int = 0
    bytes: int = 0
    encodings: dict[str, Tally] = field(default_factory=dict)


@dataclass
class DbStats:
    """Keys of one database and how many of them have a TTL."""

    keys: int = 0
    expires: int = 0


@dataclass
class TtlStats:
    """TTL coverage. ``expired``: keys whose TTL is before ``InfoReport.now_ms``."""

    keys_with_ttl: int = 0
    expired: int = 0
    earliest_ms: int | None = None
    latest_ms: int | None = None
    fields_with_ttl: int = 0
    hashes_with_field_ttl: int = 0


@dataclass(frozen=True)
class BigKey:
    """One of the biggest keys by serialized size."""

    db: int
    key: bytes
    type: str
    encoding: str
    size: int
    elements: int | None
    expire_ms: int | None


@dataclass(frozen=True)
class ElementStats:
    """Element counts of the keys of one type: how many keys, min, percentiles, max."""

    keys: int
    min: int
    percentiles: dict[int, int]
    max: int


@dataclass
class InfoReport:
    """The result of ``info``; ``top`` is sorted biggest first."""

    now_ms: int
    version: int | None = None
    magic: str | None = None
    aux: list[tuple[bytes, bytes]] = field(default_factory=list)
    keys: int = 0
    bytes: int = 0
    dbs: dict[int, DbStats] = field(default_factory=dict)
    types: dict[str, TypeStats] = field(default_factory=dict)
    ttl: TtlStats = field(default_factory=TtlStats)
    top: list[BigKey] = field(default_factory=list)
    elements: dict[str, ElementStats] = field(default_factory=dict)
    functions: int = 0
    module_aux: int = 0
    checksum_state: str | None = None
    not_replayed: dict[str, int] = field(default_factory=dict)
    """The commands of keys an AOF replay did not model, by name."""


_ELEMENT_TYPES = frozenset({"string", "list", "set", "zset", "hash", "stream"})


def _elements(hists: dict[str, Histogram]) -> dict[str, ElementStats]:
    out: dict[str, ElementStats] = {}
    for tp, h in sorted(hists.items()):
        if h.count and h.min is not None and h.max is not None:
            pct = {q: h.percentile(q) or 0 for q in PERCENTILES}
            out[tp] = ElementStats(keys=h.count, min=h.min, percentiles=pct, max=h.max)
    return out


_ELEMENTS: dict[type, Callable[[Any], Sized]] = {
    StringValue: attrgetter("data"),
    ListItems: attrgetter("items"),
    SetMembers: attrgetter("members"),
    ZSetMembers: attrgetter("members"),
    StreamEntries: attrgetter("entries"),
}
"""What of a value batch counts as its elements (a hash's fields are counted apart)."""


class _Pass:
    """The state of one ``info`` pass: the key being read and its element count."""

    __slots__ = ("report", "top", "heap", "hists", "start", "count", "field_ttls", "seq", "on")

    def __init__(self, report: InfoReport, top: int) -> None:
        self.report = report
        self.top = top
        self.heap: list[tuple[int, int, BigKey]] = []
        self.hists: dict[str, Histogram] = {}
        self.start: KeyStart | None = None
        self.count = self.field_ttls = self.seq = 0
        self.on: dict[type, Callable[[Any], None]] = {
            **file_level_handlers(report),
            KeyStart: self._key_start,
            KeyEnd: self._key_end,
            HashFields: self._hash_fields,
            ModuleValue: self._module_value,
            NotReplayed: self._not_replayed,
        }

    def _key_start(self, ev: KeyStart) -> None:
        self.start, self.count, self.field_ttls = ev, 0, 0

    def _hash_fields(self, ev: HashFields) -> None:
        fields = ev.fields
        self.count += len(fields)
        self.field_ttls += sum(1 for f in fields if f[2] is not None)

    def _module_value(self, ev: ModuleValue) -> None:
        if ev.decoded is not None and self.start is not None:  # count it as json, bf ...
            self.start = replace(self.start, type=ev.decoded.type)

    def _not_replayed(self, ev: NotReplayed) -> None:
        counts = self.report.not_replayed
        for name, n in ev.names.items():
            counts[name] = counts.get(name, 0) + n

    def _key_end(self, ev: KeyEnd) -> None:
        start = self.start
        if start is None:
            return
        self.seq += 1
        _count_key(self.report, start, ev.size, self.field_ttls)
        elements = self.count if start.type in _ELEMENT_TYPES else None
        if elements is not None:
            hist = self.hists.get(start.type)
            if hist is None:
                hist = self.hists[start.type] = Histogram()
            hist.add(elements)
        heap, top = self.heap, self.top
        if top > 0 and (len(heap) < top or ev.size > heap[0][0]):
            big = BigKey(
                db=start.db,
                key=start.key,
                type=start.type,
                encoding=start.encoding,
                size=ev.size,
                elements=elements,
                expire_ms=start.expire_ms,
            )
            if len(heap) < top:
                heapq.heappush(heap, (ev.size, -self.seq, big))
            else:
                heapq.heapreplace(heap, (ev.size, -self.seq, big))
        self.start = None


def info(events: Iterable[Event], *, top: int = 10, now_ms: int | None = None) -> InfoReport:
    """Consume ``events`` and report on them. ``top``: how many of the biggest keys to
    keep; ``now_ms``: the time against which TTLs count as expired (default: now)."""
    report = InfoReport(now_ms=current_ms() if now_ms is None else now_ms)
    p = _Pass(report, top)
    elements_of, handler_of = _ELEMENTS.get, p.on.get
    for ev in events:
        tp = type(ev)
        elements = elements_of(tp)
        if elements is not None:
            p.count += len(elements(ev))
        else:
            handler = handler_of(tp)
            if handler is not None:
                handler(ev)
    report.top = [big for _, _, big in sorted(p.heap, reverse=True)]
    report.elements = _elements(p.hists)
    report.dbs = dict(sorted(report.dbs.items()))
    report.types = dict(sorted(report.types.items(), key=lambda kv: -kv[1].bytes))
    return report


def _count_key(report: InfoReport, ks: KeyStart, size: int, field_ttls: int) -> None:
    report.keys += 1
    report.bytes += size
    db = report.dbs.get(ks.db)
    if db is None:
        db = report.dbs[ks.db] = DbStats()
    db.keys += 1
    stats = report.types.get(ks.type)
    if stats is None:
        stats = report.types[ks.type] = TypeStats()
    stats.keys += 1
    stats.bytes += size
    enc = stats.encodings.get(ks.encoding)
    if enc is None:
        enc = stats.encodings[ks.encoding] = Tally()
    enc.keys += 1
    enc.bytes += size
    ttl = report.ttl
    if field_ttls:
        ttl.fields_with_ttl += field_ttls
        ttl.hashes_with_field_ttl += 1
    exp = ks.expire_ms
    if exp is not None:
        db.expires += 1
        ttl.keys_with_ttl += 1
        if exp < report.now_ms:
            ttl.expired += 1
        if ttl.earliest_ms is None or exp < ttl.earliest_ms:
            ttl.earliest_ms = exp
        if ttl.latest_ms is None or exp > ttl.latest_ms:
            ttl.latest_ms = exp
