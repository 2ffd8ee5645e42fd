"""``memory``: what each key costs in a running server, and where the memory goes.

``memory_rows`` turns the events of one input into one ``MemoryRow`` per key (the
estimate is ``rdbtools.memory.estimate``: ``MEMORY USAGE key SAMPLES 0`` as FORMAT.md §10
describes it, for the server version the file names or the one asked for).
``memory_summary`` aggregates the rows of one or more inputs (cluster nodes, say) in one
pass and bounded memory (``rdbtools.memory.aggregate``). TTLs are bucketed against
``now_ms`` when given, else against each file's ``ctime`` AUX field (the moment it was
written), else the clock. ``server_facts`` asks a running server which model fits it
(``--model-from``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

from rdbtools.events import Aux, Event, KeyStart, SlotInfo
from rdbtools.memory.aggregate import DEFAULT_MAX_PREFIXES, MemoryAggregator, MemorySummary
from rdbtools.memory.model import ModelChoice, explain_model
from rdbtools.memory.rows import MemoryRow
from rdbtools.memory.server import ServerFacts, facts_from_info
from rdbtools.ops.connection import connect, redact, server_errors

SERVER_TIMEOUT = 10.0
"""Seconds to wait for the server ``server_facts`` asks (connect and each reply)."""


def server_facts(url: str, *, timeout: float = SERVER_TIMEOUT) -> ServerFacts:
    """Ask the server at ``url`` (``redis://``, ``rediss://``, ``unix://``) for its
    version, pointer size, allocator, jemalloc quantum and cluster mode (``INFO server``,
    ``INFO memory``, ``INFO cluster``, ``MEMORY MALLOC-STATS``). The connection and its
    failures are ``rdbtools.ops.connection``'s: one line naming the URL without its
    password (exit 2 for a bad URL, 9 for a server that cannot be asked)."""
    from redis.exceptions import ResponseError

    client = connect(url, timeout=timeout, cluster=False)
    source = redact(url)
    with server_errors(url, timeout):
        try:
            server: dict[str, Any] = client.info("server")
            memory: dict[str, Any] = client.info("memory")
            cluster: dict[str, Any] = client.info("cluster")
            try:
                stats = client.execute_command("MEMORY", "MALLOC-STATS")
            except ResponseError:
                stats = b""  # renamed or refused: the quantum stays unknown
        finally:
            client.close()
    text = stats.decode("utf-8", "replace") if isinstance(stats, bytes) else str(stats)
    return facts_from_info(server, memory, cluster, text, source=source)


@dataclass(frozen=True, slots=True)
class Head:
    """What an input says before its first key: the model chosen for it and its
    ``ctime`` AUX field in ms (``None`` when it has none)."""

    choice: ModelChoice
    ctime_ms: int | None


class _HeadReader:
    """What the events before the first key say: AUX fields, a SLOT_INFO record."""

    __slots__ = ("aux", "slot_info", "on")

    def __init__(self) -> None:
        self.aux: dict[bytes, bytes] = {}
        self.slot_info = False
        self.on: dict[type, Callable[[Any], None]] = {Aux: self._aux, SlotInfo: self._slot}

    def _aux(self, ev: Aux) -> None:
        self.aux[bytes(ev.name)] = bytes(ev.value)

    def _slot(self, ev: SlotInfo) -> None:
        self.slot_info = True


def read_head(
    events: Iterable[Event],
    *,
    version: str | None = None,
    allocator: str | None = None,
    state: str = "live",
    server: ServerFacts | None = None,
) -> tuple[Head, Iterator[Event]]:
    """Read ``events`` up to the first key (the AUX fields, a Redis 7.4 SLOT_INFO
    record), choose the model (``explain_model``) and return it with the events again,
    whole. The events after the first key pass untouched."""
    it = iter(events)
    head: list[Event] = []
    seen = _HeadReader()
    for ev in it:
        head.append(ev)
        if type(ev) is KeyStart:
            break
        handle = seen.on.get(type(ev))
        if handle is not None:
            handle(ev)
    ctime = seen.aux.get(b"ctime", b"")
    choice = explain_model(seen.aux, version=version, allocator=allocator, state=state,
                           server=server, cluster=True if seen.slot_info else None)
    return Head(choice, int(ctime) * 1000 if ctime.isdigit() else None), chain(head, it)


def memory_rows(
    events: Iterable[Event],
    *,
    file: str = "-",
    version: str | None = None,
    allocator: str | None = None,
    state: str = "live",
    server: ServerFacts | None = None,
    seen: Callable[[Head], None] | None = None,
) -> Iterator[MemoryRow]:
    """One row per key of ``events`` (which came from ``file``). ``version``: the server
    version whose memory layout to assume (``"7.0"``; default: the one the file names);
    ``allocator``: ``"jemalloc"``, ``"jemalloc-q16"`` or ``"libc"``; ``state``:
    ``live`` or ``loaded``; ``server``: what ``server_facts`` said (``explain_model``
    decides). ``seen`` is called with the input's ``Head`` before the first row."""
    from rdbtools.memory.estimate import rows_from_events

    head, events = read_head(events, version=version, allocator=allocator, state=state,
                             server=server)
    if seen is not None:
        seen(head)
    yield from rows_from_events(events, file=file, model=head.choice.model)


def memory_summary(
    inputs: Iterable[tuple[str, Iterable[Event]]],
    *,
    top: int = 10,
    separator: bytes = b":",
    depth: int = 2,
    now_ms: int | None = None,
    version: str | None = None,
    allocator: str | None = None,
    state: str = "live",
    server: ServerFacts | None = None,
    max_prefixes: int = DEFAULT_MAX_PREFIXES,
    patterns: bool = True,
    seen: Callable[[str, Head], None] | None = None,
) -> MemorySummary:
    """Aggregate the rows of every ``(file, events)`` input: totals per file, database,
    type and encoding, the ``top`` biggest keys, prefixes split on ``separator`` for
    depths 1..``depth`` (at most ``2 × max_prefixes`` kept per depth; ``patterns``: id
    segments folded, ``MemoryAggregator``), TTL, idle and frequency buckets, per-type
    percentiles, and each file's model. One key at a time is held. ``seen(file, head)``
    is called as each input's model is chosen."""
    agg = MemoryAggregator(
        top=top, separator=separator, depth=depth, now_ms=now_ms, max_prefixes=max_prefixes,
        patterns=patterns,
    )
    for file, events in inputs:

        def noted(head: Head, file: str = file) -> None:
            agg.set_now(file, head.ctime_ms)
            agg.set_model(file, head.choice)
            if seen is not None:
                seen(file, head)

        agg.add_all(memory_rows(events, file=file, version=version, allocator=allocator,
                                state=state, server=server, seen=noted))
    return agg.summary()
