"""``memory``: what each key costs in a running server, and where the memory goes.

``memory_rows`` turns the events of one input into one ``MemoryRow`` per key (the
estimate is ``rdbtools.memory.estimate``: ``MEMORY USAGE key SAMPLES 0`` as FORMAT.md §10
describes it, for the server version the file names or the one asked for).
``memory_summary`` aggregates the rows of one or more inputs (cluster nodes, say) in one
pass and bounded memory (``rdbtools.memory.aggregate``). TTLs are bucketed against
``now_ms`` when given, else against each file's ``ctime`` AUX field (the moment it was
written), else the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import chain

from rdbtools.events import Aux, Event, KeyStart
from rdbtools.memory.aggregate import DEFAULT_MAX_PREFIXES, MemoryAggregator, MemorySummary
from rdbtools.memory.rows import MemoryRow


def memory_rows(
    events: Iterable[Event],
    *,
    file: str = "-",
    version: str | None = None,
    allocator: str | None = None,
) -> Iterator[MemoryRow]:
    """One row per key of ``events`` (which came from ``file``). ``version``: the server
    version whose memory layout to assume (``"7.0"``; default: the one the file names);
    ``allocator``: ``"jemalloc"``, ``"jemalloc-q16"`` or ``"libc"`` (default: as
    ``rdbtools.memory.model.choose_model`` decides)."""
    from rdbtools.memory.estimate import rows_from_events

    return rows_from_events(events, file=file, version=version, allocator=allocator)


def watch_ctime(events: Iterable[Event], seen: Callable[[int], None]) -> Iterator[Event]:
    """``events`` again, after calling ``seen(ms)`` with the ``ctime`` AUX field (Unix
    seconds, as ``rdbSaveInfoAuxFields`` writes it) when one comes before the first key.
    The events up to the first key are read at once; the rest pass untouched."""
    it = iter(events)
    head: list[Event] = []
    for ev in it:
        head.append(ev)
        if type(ev) is Aux and ev.name == b"ctime":
            value = ev.value
            if value.isdigit():
                seen(int(value) * 1000)
        if type(ev) is KeyStart:
            break
    return chain(head, it)


def memory_summary(
    inputs: Iterable[tuple[str, Iterable[Event]]],
    *,
    top: int = 10,
    separator: bytes = b":",
    depth: int = 2,
    now_ms: int | None = None,
    version: str | None = None,
    allocator: str | None = None,
    max_prefixes: int = DEFAULT_MAX_PREFIXES,
) -> MemorySummary:
    """Aggregate the rows of every ``(file, events)`` input: totals per file, database,
    type and encoding, the ``top`` biggest keys, prefixes split on ``separator`` for
    depths 1..``depth`` (at most ``2 × max_prefixes`` kept per depth), TTL, idle and
    frequency buckets, per-type percentiles. One key at a time is held."""
    agg = MemoryAggregator(
        top=top, separator=separator, depth=depth, now_ms=now_ms, max_prefixes=max_prefixes
    )
    for file, events in inputs:
        agg.set_now(file, None)

        def seen(ms: int, file: str = file) -> None:
            agg.set_now(file, ms)

        rows = memory_rows(
            watch_ctime(events, seen), file=file, version=version, allocator=allocator
        )
        agg.add_all(rows)
    return agg.summary()
