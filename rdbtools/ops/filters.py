"""Key filters over an event stream.

``filter_events`` passes file-level events through and drops every key (its ``KeyStart``,
value events and ``KeyEnd``) that ``KeyFilter`` rejects. All given conditions must hold;
``dbs`` and ``types`` match any of their members.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rdbtools._spec import LOGICAL_TYPES
from rdbtools.clock import now_ms
from rdbtools.events import Event, KeyEnd, KeyStart
from rdbtools.ops._glob import compile_glob


@dataclass(frozen=True)
class KeyFilter:
    """Which keys to keep.

    ``dbs``: database numbers (``None``: all). ``key_glob``: a Redis-style glob the whole
    key must match. ``key_regex``: a bytes regular expression found anywhere in the key
    (``re.search``; anchor it with ``^``/``$`` or ``\\A``/``\\Z``). ``types``: logical
    types. ``no_expired``: drop keys whose TTL is before ``now_ms`` (a key expiring at
    exactly ``now_ms`` is still alive, as in Redis); ``now_ms`` ``None`` means the time
    when filtering starts. Hash field TTLs are not filtered.
    """

    dbs: frozenset[int] | None = None
    key_glob: bytes | None = None
    key_regex: bytes | None = None
    types: frozenset[str] | None = None
    no_expired: bool = False
    now_ms: int | None = None

    def __post_init__(self) -> None:
        if self.key_regex is not None:
            try:
                re.compile(self.key_regex)
            except (re.error, OverflowError, RecursionError) as err:
                # OverflowError: a repeat count beyond the engine's (a{99999999999});
                # RecursionError: nesting deeper than its parser goes
                shown = self.key_regex if len(self.key_regex) <= 80 else \
                    self.key_regex[:80] + b"..."
                reason = "nested too deeply" if isinstance(err, RecursionError) else err
                raise ValueError(f"bad key regex {shown!r}: {reason}") from None
        if self.types is not None:
            unknown = sorted(set(self.types) - set(LOGICAL_TYPES))
            if unknown:
                raise ValueError(f"unknown key type(s): {', '.join(unknown)}")

    @property
    def is_empty(self) -> bool:
        """Whether the filter keeps every key."""
        return (
            self.dbs is None
            and self.key_glob is None
            and self.key_regex is None
            and self.types is None
            and not self.no_expired
        )


def filter_events(events: Iterable[Event], key_filter: KeyFilter) -> Iterator[Event]:
    """``events`` without the keys ``key_filter`` rejects (the events themselves, with no
    extra layer, when the filter is empty)."""
    if key_filter.is_empty:
        return iter(events)
    return _filtered(events, key_filter)


def _filtered(events: Iterable[Event], key_filter: KeyFilter) -> Iterator[Event]:
    glob = compile_glob(key_filter.key_glob) if key_filter.key_glob is not None else None
    regex = re.compile(key_filter.key_regex) if key_filter.key_regex is not None else None
    dbs, types = key_filter.dbs, key_filter.types
    expired_before = key_filter.now_ms if key_filter.now_ms is not None else now_ms()
    no_expired = key_filter.no_expired
    dropping = False
    for ev in events:
        if dropping:
            if type(ev) is KeyEnd:
                dropping = False
            continue
        if type(ev) is KeyStart:
            assert isinstance(ev, KeyStart)
            dropping = not (
                (dbs is None or ev.db in dbs)
                and (types is None or ev.type in types)
                and (glob is None or glob.fullmatch(ev.key) is not None)
                and (regex is None or regex.search(ev.key) is not None)
                and not (no_expired and ev.expire_ms is not None and ev.expire_ms < expired_before)
            )
            if dropping:
                continue
        yield ev
