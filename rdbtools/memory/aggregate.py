"""Aggregation of ``MemoryRow`` s into the summary ``rdbtool memory`` prints, in one
streaming pass and bounded memory.

What is kept, whatever the number of keys:

- totals per file, database, type and type/encoding (keys, estimated memory, share of
  the whole): one counter per distinct (file, database, type, encoding);
- the ``top`` biggest keys by memory: a heap of ``top`` rows;
- per type, element counts and memory in a bounded histogram (``rdbtools/histogram.py``:
  exact below 1024, within 0.2% above; at most 1024 + 512 buckets per power of two), from
  which min, p50, p90, p99 and max are read (min and max exact);
- TTL buckets, idle-time and LFU-frequency buckets: fixed tables;
- per prefix depth 1..D, a ``PrefixTable`` of at most ``2 × max_prefixes`` entries plus
  one ``(other)`` row (the folding rule is on ``PrefixTable``).

Prefixes are patterns by default: the key is split into segments at the separator,
and a segment that is an id — a decimal number, a UUID, a hexadecimal string of 8 or
more characters with a digit — becomes ``{id}``, as does a number inside a segment
between ``-``, ``_`` or ``.`` (``email-250`` → ``email-{id}``). The pattern of depth ``d``
is the first ``d`` segments, followed by the separator when the key has more: with
``:``, ``bull:emails:1411`` is ``bull:`` (depth 1), ``bull:emails:`` (2) and
``bull:emails:{id}`` (3); ``bull:emails:1411:logs`` is ``bull:emails:{id}:`` at depth 3.
A key with fewer than ``d`` segments is counted in that depth's ``without`` total.

Raw prefixes (``patterns=False``): the prefix of depth ``d`` of a key is the key up to
and including its ``d``-th separator: ``user:42:name`` has ``user:`` (depth 1) and
``user:42:`` (depth 2). A key with fewer than ``d`` separators has no prefix of depth
``d``; it is counted in that depth's ``without`` total instead.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from rdbtools.clock import now_ms as clock_ms
from rdbtools.histogram import Histogram
from rdbtools.memory.model import ModelChoice
from rdbtools.memory.rows import MemoryRow

K = TypeVar("K")

DEFAULT_MAX_PREFIXES = 100_000
"""Prefixes kept per depth before the lightest are folded into ``(other)``."""
PERCENTILES = (50, 90, 99)
"""The percentiles reported for element counts and memory, per type."""

_HOUR = 3_600_000
TTL_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("<1h", _HOUR),
    ("<1d", 24 * _HOUR),
    ("<7d", 7 * 24 * _HOUR),
    ("<30d", 30 * 24 * _HOUR),
    (">=30d", None),
)
"""Buckets of the time left before expiry (upper bound exclusive, in ms), after the
``none`` (no TTL) and ``expired`` (expiry before now) buckets."""
TTL_NAMES = ("none", "expired") + tuple(name for name, _ in TTL_BUCKETS)

IDLE_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("<1m", 60),
    ("<1h", 3600),
    ("<1d", 86_400),
    ("<7d", 7 * 86_400),
    ("<30d", 30 * 86_400),
    (">=30d", None),
)
"""Buckets of the LRU idle time (seconds, upper bound exclusive)."""

FREQ_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("0", 1),
    ("1", 2),
    ("2-3", 4),
    ("4-7", 8),
    ("8-15", 16),
    ("16-31", 32),
    ("32-63", 64),
    ("64-127", 128),
    ("128-255", None),
)
"""Buckets of the LFU counter (0-255, logarithmic in the access count; upper bound
exclusive)."""


def _bucket(value: int, buckets: tuple[tuple[str, int | None], ...]) -> int:
    for i, (_, below) in enumerate(buckets):
        if below is None or value < below:
            return i
    return len(buckets) - 1


@dataclass(frozen=True, slots=True)
class Total:
    """Keys and estimated memory of one group, and its share of all the memory."""

    name: str
    keys: int
    memory: int
    share: float


@dataclass(frozen=True, slots=True)
class FileTotal:
    """Keys and memory of one input; ``now_ms`` is the time its TTLs were bucketed
    against and ``now_from`` where that time came from (``--now``, ``ctime``, ``clock``);
    ``model`` the memory model its rows were estimated with (``None`` when the rows
    were aggregated without saying)."""

    file: str
    keys: int
    memory: int
    size: int
    share: float
    now_ms: int
    now_from: str
    model: ModelChoice | None = None


@dataclass(frozen=True, slots=True)
class PrefixTotal:
    """Keys and memory under one key prefix (``prefix`` ends with the separator)."""

    prefix: bytes
    keys: int
    memory: int
    share: float


@dataclass(frozen=True, slots=True)
class PrefixLevel:
    """The prefixes of one depth, heaviest first.

    ``other`` holds the prefixes folded away (``PrefixTable``) and is ``None`` when none
    were; ``without`` the keys with fewer than ``depth`` separators. ``prefixes`` +
    ``other`` + ``without`` account for every key exactly once."""

    depth: int
    prefixes: tuple[PrefixTotal, ...]
    other: PrefixTotal | None
    without: PrefixTotal
    folds: int


@dataclass(frozen=True, slots=True)
class Spread:
    """Min, percentiles (``PERCENTILES``) and max of a bounded histogram."""

    min: int
    percentiles: tuple[tuple[int, int], ...]
    max: int


@dataclass(frozen=True, slots=True)
class TypeSpread:
    """Element counts and memory of the keys of one type."""

    type: str
    keys: int
    elements: Spread
    memory: Spread


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bucket of a distribution: its name, keys and their memory."""

    name: str
    keys: int
    memory: int


@dataclass(frozen=True, slots=True)
class MemorySummary:
    """The result of aggregating rows. Every tuple is sorted heaviest first, except the
    distributions (``ttl``, ``idle``, ``freq``), which are in bucket order; ``idle`` /
    ``freq`` are empty when no key had the attribute."""

    keys: int
    memory: int
    size: int
    files: tuple[FileTotal, ...]
    dbs: tuple[Total, ...]
    types: tuple[Total, ...]
    encodings: tuple[Total, ...]
    top: tuple[MemoryRow, ...]
    separator: bytes
    prefixes: tuple[PrefixLevel, ...]
    ttl: tuple[Bucket, ...]
    spreads: tuple[TypeSpread, ...]
    idle: tuple[Bucket, ...]
    freq: tuple[Bucket, ...]
    max_prefixes: int
    patterns: bool = True


ID_PLACEHOLDER = b"{id}"
_ID_SEGMENT = re.compile(
    rb"\A(?:\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    rb"|(?=[a-fA-F]*\d)[0-9a-fA-F]{8,})\Z")
_ID_PART = re.compile(rb"(?<=[-_.])\d+(?=[-_.]|\Z)")
_DIGIT = re.compile(rb"\d")
_FOLD_CACHE = 1 << 16


class SegmentFolder:
    """``fold(segment)``: the segment with ids replaced by ``{id}`` (the rule in the
    module docstring), remembered for the last ``_FOLD_CACHE`` distinct segments."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: dict[bytes, bytes] = {}

    def fold(self, segment: bytes) -> bytes:
        got = self.seen.get(segment)
        if got is None:
            if not _DIGIT.search(segment):
                got = segment  # every id rule needs a digit
            elif _ID_SEGMENT.match(segment):
                got = ID_PLACEHOLDER
            else:
                got = _ID_PART.sub(ID_PLACEHOLDER, segment)
            if len(self.seen) >= _FOLD_CACHE:
                self.seen.clear()
            self.seen[segment] = got
        return got


def _heaviest(item: tuple[bytes, list[int]]) -> tuple[int, int, bytes]:
    """The ranking of a prefix table's ``(prefix, [keys, memory])`` items: by memory,
    then keys (both descending), then prefix bytes."""
    prefix, (keys, memory) = item
    return -memory, -keys, prefix


class PrefixTable:
    """Keys and memory per prefix, in at most ``2 × budget`` entries.

    The folding rule: when a new prefix arrives and the table already holds
    ``2 × budget`` entries, the ``budget`` heaviest (by memory, then keys, then prefix
    bytes) are kept and all others are added to the ``(other)`` totals and forgotten.
    A folded prefix met again starts from zero, so after a fold a prefix's numbers are
    a lower bound, the rest of its keys being in ``(other)``; the table plus ``(other)``
    always account for every key added exactly once. Each fold costs
    O(budget log budget) and happens at most once per ``budget`` new prefixes.
    """

    __slots__ = ("budget", "entries", "other_keys", "other_memory", "folds")

    def __init__(self, budget: int = DEFAULT_MAX_PREFIXES) -> None:
        if budget < 1:
            raise ValueError("the prefix budget must be at least 1")
        self.budget = budget
        self.entries: dict[bytes, list[int]] = {}
        self.other_keys = 0
        self.other_memory = 0
        self.folds = 0

    def add(self, prefix: bytes, memory: int) -> None:
        """Count one key of ``memory`` bytes under ``prefix``."""
        entry = self.entries.get(prefix)
        if entry is not None:
            entry[0] += 1
            entry[1] += memory
            return
        if len(self.entries) >= 2 * self.budget:
            self._fold()
        self.entries[prefix] = [1, memory]

    def _fold(self) -> None:
        ranked = sorted(self.entries.items(), key=_heaviest)
        for _, (keys, memory) in ranked[self.budget :]:
            self.other_keys += keys
            self.other_memory += memory
        self.entries = dict(ranked[: self.budget])
        self.folds += 1


class _Tally:
    __slots__ = ("keys", "memory", "size")

    def __init__(self) -> None:
        self.keys = 0
        self.memory = 0
        self.size = 0


class MemoryAggregator:
    """Add rows one at a time (``add``), then read the ``summary()``.

    ``now_ms`` (when given) is the time every file's TTLs are bucketed against; else a
    file's ``ctime`` set with ``set_now``, else the clock when the aggregator was made.
    ``separator`` splits keys into prefixes for depths 1..``depth`` (``depth`` 0: no
    prefix tables); ``top`` rows are kept by memory; ``max_prefixes`` bounds each
    prefix table (``PrefixTable``).
    """

    def __init__(
        self,
        *,
        top: int = 10,
        separator: bytes = b":",
        depth: int = 2,
        now_ms: int | None = None,
        max_prefixes: int = DEFAULT_MAX_PREFIXES,
        patterns: bool = True,
    ) -> None:
        if not separator:
            raise ValueError("the prefix separator must not be empty")
        if depth < 0 or top < 0:
            raise ValueError("depth and top must not be negative")
        self.top = top
        self.separator = separator
        self.depth = depth
        self.max_prefixes = max_prefixes
        self.patterns = patterns
        self._folder = SegmentFolder()
        self._models: dict[str, ModelChoice] = {}
        self._fixed_now = now_ms
        self._clock = clock_ms()
        self._now: dict[str, tuple[int, str]] = {}
        self._files: dict[str, None] = {}
        """The files met, in order."""
        self._groups: dict[tuple[str, int, str, str], list[int]] = {}
        self._heap: list[tuple[int, int, MemoryRow]] = []
        self._seq = 0
        self._tables = [PrefixTable(max_prefixes) for _ in range(depth)]
        self._without = [[0, 0] for _ in range(depth)]
        self._ttl = [[0, 0] for _ in TTL_NAMES]
        self._idle = [[0, 0] for _ in IDLE_BUCKETS]
        self._freq = [[0, 0] for _ in FREQ_BUCKETS]
        self._has_idle = False
        self._has_freq = False
        self._hists: dict[str, tuple[Histogram, Histogram]] = {}
        self.keys = 0
        self.memory = 0
        self.size = 0

    def set_now(self, file: str, ctime_ms: int | None) -> None:
        """Record the time of ``file`` (its ``ctime`` AUX field, in ms) unless ``now_ms``
        was given; ``None``: the clock."""
        self._files.setdefault(file, None)
        if self._fixed_now is not None:
            self._now[file] = (self._fixed_now, "--now")
        elif ctime_ms is not None:
            self._now[file] = (ctime_ms, "ctime")
        else:
            self._now[file] = (self._clock, "clock")

    def set_model(self, file: str, choice: ModelChoice) -> None:
        """Record the model the rows of ``file`` are estimated with."""
        self._files.setdefault(file, None)
        self._models[file] = choice

    def _now_of(self, file: str) -> int:
        found = self._now.get(file)
        if found is None:
            self.set_now(file, None)
            found = self._now[file]
        return found[0]

    def add_all(self, rows: Iterable[MemoryRow]) -> None:
        """Count every row (the loop of ``add``, with the state in locals: it runs once
        per key of every input)."""
        groups, files, ttl_cells, hists = self._groups, self._files, self._ttl, self._hists
        heap, top, depth = self._heap, self.top, self.depth
        count_prefixes = self._count_patterns if self.patterns else self._count_prefixes
        no_ttl = ttl_cells[0]
        now_of: dict[str, int] = {}
        keys = memory = size = 0
        seq = self._seq
        try:
            for row in rows:
                mem = row.memory
                sz = row.size
                keys += 1
                memory += mem
                size += sz
                file = row.file
                # one counter per (file, db, type, encoding); the four totals are summed
                # from these in summary()
                group = (file, row.db, row.type, row.encoding)
                tally = groups.get(group)
                if tally is None:
                    files.setdefault(file, None)
                    tally = groups[group] = [0, 0, 0]
                tally[0] += 1
                tally[1] += mem
                tally[2] += sz
                exp = row.expire_at_ms
                if exp is None:
                    cell = no_ttl
                else:
                    now = now_of.get(file)
                    if now is None:
                        now = now_of[file] = self._now_of(file)
                    left = exp - now
                    cell = ttl_cells[1 if left < 0 else 2 + _bucket(left, TTL_BUCKETS)]
                cell[0] += 1
                cell[1] += mem
                if row.idle is not None:
                    self._has_idle = True
                    cell = self._idle[_bucket(row.idle, IDLE_BUCKETS)]
                    cell[0] += 1
                    cell[1] += mem
                if row.freq is not None:
                    self._has_freq = True
                    cell = self._freq[_bucket(row.freq, FREQ_BUCKETS)]
                    cell[0] += 1
                    cell[1] += mem
                pair = hists.get(row.type)
                if pair is None:
                    pair = hists[row.type] = (Histogram(), Histogram())
                pair[0].add(row.elements)
                pair[1].add(mem)
                if top:
                    seq += 1
                    if len(heap) < top:
                        heapq.heappush(heap, (mem, -seq, row))
                    elif mem > heap[0][0]:
                        heapq.heapreplace(heap, (mem, -seq, row))
                if depth:
                    count_prefixes(row.key, mem)
        finally:
            self.keys += keys
            self.memory += memory
            self.size += size
            self._seq = seq

    def add(self, row: MemoryRow) -> None:
        """Count one key."""
        self.add_all((row,))

    def _count_patterns(self, key: bytes, mem: int) -> None:
        sep = self.separator
        parts = key.split(sep, self.depth)
        fold = self._folder.fold
        pattern = b""
        for d, table in enumerate(self._tables):
            if d >= len(parts):
                for w in self._without[d:]:
                    w[0] += 1
                    w[1] += mem
                return
            pattern += fold(parts[d])
            name = pattern + sep if d + 1 < len(parts) else pattern
            entry = table.entries.get(name)
            if entry is None:
                table.add(name, mem)
            else:
                entry[0] += 1
                entry[1] += mem
            pattern += sep

    def _count_prefixes(self, key: bytes, mem: int) -> None:
        sep = self.separator
        step = len(sep)
        pos = -step
        for d, table in enumerate(self._tables):
            pos = key.find(sep, pos + step)
            if pos < 0:
                for w in self._without[d:]:
                    w[0] += 1
                    w[1] += mem
                return
            prefix = key[: pos + step]
            entry = table.entries.get(prefix)
            if entry is None:
                table.add(prefix, mem)
            else:  # PrefixTable.add of a prefix it holds, without the call
                entry[0] += 1
                entry[1] += mem

    def summary(self) -> MemorySummary:
        """The summary of the rows added so far."""
        whole = self.memory

        def share(memory: int) -> float:
            return memory / whole if whole else 0.0

        def totals(table: dict[str, _Tally]) -> tuple[Total, ...]:
            items = sorted(table.items(), key=lambda kv: (-kv[1].memory, kv[0]))
            return tuple(Total(n, t.keys, t.memory, share(t.memory)) for n, t in items)

        per_file: dict[str, _Tally] = {name: _Tally() for name in self._files}
        dbs: dict[int, _Tally] = {}
        types: dict[str, _Tally] = {}
        encodings: dict[str, _Tally] = {}
        for (file, db, tp, enc), (keys, memory, size) in self._groups.items():
            _count(per_file, file, keys, memory, size)
            _count(dbs, db, keys, memory, size)
            _count(types, tp, keys, memory, size)
            _count(encodings, f"{tp}/{enc}", keys, memory, size)
        files = []
        for name, t in per_file.items():
            now, source = self._now.get(name, (self._clock, "clock"))
            files.append(
                FileTotal(name, t.keys, t.memory, t.size, share(t.memory), now, source,
                          self._models.get(name))
            )
        levels = []
        for d, table in enumerate(self._tables):
            ranked = sorted(table.entries.items(), key=_heaviest)
            other = None
            if table.folds:
                other = PrefixTotal(
                    b"(other)", table.other_keys, table.other_memory, share(table.other_memory)
                )
            wk, wm = self._without[d]
            levels.append(
                PrefixLevel(
                    depth=d + 1,
                    prefixes=tuple(PrefixTotal(p, k, m, share(m)) for p, (k, m) in ranked),
                    other=other,
                    without=PrefixTotal(b"", wk, wm, share(wm)),
                    folds=table.folds,
                )
            )
        spreads = tuple(
            TypeSpread(tp, h.count, _spread(h), _spread(m))
            for tp, (h, m) in sorted(self._hists.items())
        )
        return MemorySummary(
            keys=self.keys,
            memory=whole,
            size=self.size,
            files=tuple(files),
            dbs=totals({str(db): t for db, t in sorted(dbs.items())}),
            types=totals(types),
            encodings=totals(encodings),
            top=tuple(row for _, _, row in sorted(self._heap, reverse=True)),
            separator=self.separator,
            prefixes=tuple(levels),
            ttl=_buckets(TTL_NAMES, self._ttl),
            spreads=spreads,
            idle=_buckets([n for n, _ in IDLE_BUCKETS], self._idle) if self._has_idle else (),
            freq=_buckets([n for n, _ in FREQ_BUCKETS], self._freq) if self._has_freq else (),
            max_prefixes=self.max_prefixes,
            patterns=self.patterns,
        )


def prefix_of(key: bytes, separator: bytes, depth: int) -> bytes | None:
    """The prefix of depth ``depth`` (>= 1) of ``key``: up to and including its
    ``depth``-th ``separator`` (found left to right, not overlapping); ``None`` when it
    has fewer."""
    step = len(separator)
    pos = -step
    for _ in range(depth):
        pos = key.find(separator, pos + step)
        if pos < 0:
            return None
    return key[: pos + step]


def _count(table: dict[K, _Tally], name: K, keys: int, memory: int, size: int) -> None:
    tally = table.get(name)
    if tally is None:
        tally = table[name] = _Tally()
    tally.keys += keys
    tally.memory += memory
    tally.size += size


def _buckets(names: Iterable[str], cells: list[list[int]]) -> tuple[Bucket, ...]:
    return tuple(Bucket(n, k, m) for n, (k, m) in zip(names, cells))


def _spread(hist: Histogram) -> Spread:
    pct = tuple((q, hist.percentile(q) or 0) for q in PERCENTILES)
    return Spread(hist.min or 0, pct, hist.max or 0)


def summarize_rows(
    rows: Iterable[MemoryRow],
    *,
    top: int = 10,
    separator: bytes = b":",
    depth: int = 2,
    now_ms: int | None = None,
    max_prefixes: int = DEFAULT_MAX_PREFIXES,
    patterns: bool = True,
) -> MemorySummary:
    """Aggregate ``rows`` in one pass (the options are those of ``MemoryAggregator``)."""
    agg = MemoryAggregator(
        top=top, separator=separator, depth=depth, now_ms=now_ms, max_prefixes=max_prefixes,
        patterns=patterns,
    )
    agg.add_all(rows)
    return agg.summary()
